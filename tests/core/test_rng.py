"""Named key streams."""

import jax
import numpy as np

from repro.core import rng


def draw(key):
  return np.asarray(jax.random.normal(key, (4,)))


def test_streams_are_deterministic_and_distinct():
  a = rng.streams(0, "data", "init")
  b = rng.streams(0, "data", "init")
  np.testing.assert_array_equal(draw(a["data"]), draw(b["data"]))
  assert not np.allclose(draw(a["data"]), draw(a["init"]))
  assert not np.allclose(draw(rng.stream(1, "data")), draw(a["data"]))


def test_step_key_depends_only_on_step():
  key = rng.stream(0, "train")
  np.testing.assert_array_equal(
    draw(rng.step_key(key, 7)), draw(rng.step_key(key, 7))
  )
  assert not np.allclose(draw(rng.step_key(key, 7)), draw(rng.step_key(key, 8)))
