"""The lax.scan training loop: closed form, replicas, NaN, resume."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from repro.core import checkpoint, rng, train
from repro.core.errors import UserError


def quadratic(params, key):
  del key
  return jnp.sum((params - 3.0) ** 2), {"norm": jnp.linalg.norm(params)}


def test_gd_on_quadratic_matches_closed_form():
  # GD with step lr on (w-3)^2: w_t = 3 (1 - (1 - 2 lr)^t) from w_0 = 0.
  lr, steps = 0.05, 40
  state, history = train.fit(
    quadratic,
    optax.sgd(lr),
    jnp.zeros(2),
    rng.stream(0, "train"),
    steps,
    chunk_steps=15,
  )
  expected = 3.0 * (1.0 - (1.0 - 2.0 * lr) ** steps)
  np.testing.assert_allclose(state.params, expected, rtol=1e-5)
  assert history["loss"].shape == (steps,) and history["norm"].shape == (steps,)
  w_prev = 3.0 * (1.0 - (1.0 - 2.0 * lr) ** np.arange(steps))
  np.testing.assert_allclose(
    history["loss"], 2 * (w_prev - 3.0) ** 2, rtol=1e-4
  )
  assert int(state.step) == steps


def noisy(params, key):
  target = 3.0 + jax.random.normal(key, params.shape)
  return jnp.sum((params - target) ** 2), {}


def test_replicas_equal_independent_runs():
  keys = rng.replica_keys(rng.stream(0, "train"), 3)
  params = jnp.stack([jnp.zeros(2), jnp.ones(2), -jnp.ones(2)])
  state, history = train.fit(
    noisy, optax.adam(0.1), params, keys, 30, replicated=True
  )
  assert history["loss"].shape == (3, 30)
  for r in range(3):
    single, single_history = train.fit(
      noisy, optax.adam(0.1), params[r], keys[r], 30
    )
    np.testing.assert_allclose(state.params[r], single.params, rtol=1e-6)
    np.testing.assert_allclose(
      history["loss"][r], single_history["loss"], rtol=1e-6
    )


def test_nan_loss_is_a_user_error():
  with pytest.raises(UserError, match="NaN/inf at step"):
    train.fit(
      quadratic,
      optax.sgd(10.0),
      jnp.zeros(2),
      rng.stream(0, "train"),
      200,
      chunk_steps=50,
    )


def test_one_compile_per_chunk_size():
  traced = chex.assert_max_traces(n=1)(quadratic)
  train.fit(
    traced,
    optax.sgd(0.1),
    jnp.zeros(2),
    rng.stream(0, "train"),
    40,
    chunk_steps=10,
  )


def test_resume_from_checkpoint_is_identical(tmp_path):
  key = rng.stream(1, "train")
  full, full_history = train.fit(
    noisy, optax.adam(0.05), jnp.zeros(3), key, 60, chunk_steps=20
  )
  directory = str(tmp_path / "ckpt")
  train.fit(
    noisy,
    optax.adam(0.05),
    jnp.zeros(3),
    key,
    40,
    chunk_steps=20,
    checkpoints=checkpoint.RunCheckpoints(directory, every_steps=1),
  )
  resumed, resumed_history = train.fit(
    noisy,
    optax.adam(0.05),
    jnp.zeros(3),
    key,
    60,
    chunk_steps=20,
    checkpoints=checkpoint.RunCheckpoints(directory, every_steps=1),
  )
  np.testing.assert_array_equal(full.params, resumed.params)
  np.testing.assert_array_equal(full_history["loss"], resumed_history["loss"])
  assert int(resumed.step) == 60


def shifted(params, key, target):
  del key
  return jnp.sum((params - target) ** 2), {}


def test_replicas_train_on_their_own_data():
  targets = jnp.array([[1.0, 1.0], [-2.0, 4.0]])
  state, _ = train.fit(
    shifted,
    optax.sgd(0.25),
    jnp.zeros((2, 2)),
    rng.replica_keys(rng.stream(0, "train"), 2),
    30,
    data=(targets,),
    replicated=True,
  )
  np.testing.assert_allclose(state.params, targets, rtol=1e-6)
