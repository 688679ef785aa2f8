"""A tiny study with two resumable loops, to test resume and faults.

Noisy SGD (the loss depends on the step key, so a resumed run that drew
different numbers would end elsewhere) through ``train.fit``, then a study's
own chunked loop through ``repro.core.loop.run``. With
``REPRO_TEST_SLOW_SAVES`` set (seconds), every checkpoint save sleeps that
long, so a test can signal the run between two saves.
"""

import os
import time

import jax
import jax.numpy as jnp
import ml_collections
import optax

from repro.core import checkpoint, loop, rng, train
from repro.core.claims import Claim
from repro.core.summary import Summary

TITLE = "A resumable fake study"
ARXIV = "0000.00001"

CLAIMS = [
  Claim(
    id="R1",
    text="noisy SGD gets near the target",
    metric="distance",
    op="<=",
    threshold=1.0,
    source="test",
    kind="paper",
  ),
]


def get_config(preset):
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""
  config.steps = {"smoke": 200, "cpu": 400, "paper": 1000}[preset]
  config.chunk_steps = 10
  config.lr = 0.05
  return config


def noisy(params, key):
  target = 2.0 + jax.random.normal(key, params.shape)
  return jnp.sum((params - target) ** 2), {}


@jax.jit
def walk_chunk(position, key, first_step):
  def step(position, t):
    position = position + 0.1 * jax.random.normal(rng.step_key(key, t))
    return position, {"path": position}

  return jax.lax.scan(step, position, first_step + jnp.arange(10))


def random_walk(config, checkpoints):
  """A study's own loop: 10-step chunks through ``loop.run``."""
  key = rng.stream(config.seed, "walk")
  result = loop.run(
    lambda position, start, size: walk_chunk(position, key, jnp.int32(start)),
    jnp.zeros(()),
    config.steps,
    chunk_steps=10,
    name="walk",
    checkpoints=checkpoints,
    finite=("path",),
  )
  return result.history["path"]


def run(config, workdir, checkpoints=None):
  del workdir
  state, history = train.fit(
    noisy,
    optax.sgd(config.lr),
    jnp.zeros(3),
    rng.stream(config.seed, "train"),
    config.steps,
    chunk_steps=config.chunk_steps,
    description="noisy sgd",
    checkpoints=checkpoints,
  )
  path = random_walk(config, checkpoints)
  curves = [
    {"step": i, "train/loss": float(v), "walk": float(w)}
    for i, (v, w) in enumerate(zip(history["loss"], path, strict=True))
  ]
  metrics = {
    "distance": float(jnp.max(jnp.abs(state.params - 2.0))),
    "param0": float(state.params[0]),
    "walk_end": float(path[-1]),
  }
  return Summary(metrics=metrics, curves=curves, figures=[], notes="")


_save = checkpoint.save


def _slow_save(*args, **kwargs):
  _save(*args, **kwargs)
  time.sleep(float(os.environ["REPRO_TEST_SLOW_SAVES"]))


if os.environ.get("REPRO_TEST_SLOW_SAVES"):
  checkpoint.save = _slow_save
