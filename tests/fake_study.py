"""A tiny study used to test the framework without a paper's cost.

It fits a quadratic with SGD; ``lr`` large enough makes the loss NaN and
``fail_after_figure`` raises after writing a figure, to test that nothing
half-written is published.
"""

import os

import jax
import jax.numpy as jnp
import ml_collections
import optax

from repro.core import plan as compute_plan
from repro.core import rng, train
from repro.core.claims import Claim
from repro.core.summary import Figure, Summary

TITLE = "A fake study"
ARXIV = "0000.00000"

CLAIMS = [
  Claim(
    id="F1",
    text="SGD reaches the minimum",
    metric="final_distance",
    op="<=",
    threshold=1e-3,
    source="closed form",
    kind="paper",
  ),
  Claim(
    id="F2",
    text="a claim that fails",
    metric="final_distance",
    op=">=",
    threshold=1.0,
    source="test",
    kind="theory",
  ),
  Claim(
    id="F3",
    text="a metric never measured",
    metric="absent",
    op=">=",
    threshold=0.0,
    source="test",
    kind="sanity",
  ),
]


def get_config(preset):
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""
  config.lr = 0.1
  config.steps = {"smoke": 50, "cpu": 200, "paper": 1000}[preset]
  config.fail_after_figure = False
  config.plan_width = 256  # Width of the matmul step of the compute plan.
  return config


def plan(config):
  """One phase: a (width x width) matmul gradient step, 2 x 2 n^3 FLOPs."""
  width = config.plan_width

  def step(w, x):
    return jax.grad(lambda w: jnp.sum(x @ w))(w)

  struct = jax.ShapeDtypeStruct((width, width), jnp.float32)
  return [
    compute_plan.Phase(
      "matmul step",
      step,
      (struct, struct),
      steps=config.steps,
      params=width * width,
    )
  ]


def run(config, workdir, checkpoints=None):
  def loss_fn(params, key):
    del key
    return jnp.sum((params - 2.0) ** 2), {}

  state, history = train.fit(
    loss_fn,
    optax.sgd(config.lr),
    jnp.zeros(2),
    rng.stream(config.seed, "train"),
    config.steps,
    checkpoints=checkpoints,
  )
  with open(os.path.join(workdir, "curve.png"), "wb") as f:
    f.write(b"\x89PNG fake")
  if config.fail_after_figure or os.environ.get("REPRO_TEST_FAIL_SEED") == str(
    config.seed
  ):
    raise RuntimeError("simulated crash")
  distance = float(jnp.max(jnp.abs(state.params - 2.0)))
  curves = [
    {"step": i, "train/loss": float(v)} for i, v in enumerate(history["loss"])
  ]
  return Summary(
    metrics={"final_distance": distance},
    curves=curves,
    figures=[Figure("curve.png", "loss curve")],
    notes="A fake study.",
  )
