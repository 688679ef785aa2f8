"""The collapse_tails study: smoke run, config presets, the memoriser."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.core import config as core_config
from repro.studies import collapse_tails
from repro.studies.collapse_tails import config as config_lib
from repro.studies.collapse_tails import neural
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "collapse_tails"


def test_presets_differ_only_in_sizes():
  leaves = {
    p: dict(core_config.leaves(config_lib.get_config(p)))
    for p in ("smoke", "cpu", "paper")
  }
  assert not leaves["cpu"]["gcd.enabled"] and leaves["paper"]["gcd.enabled"]


def test_memoriser_fits_seen_items_and_leaves_unseen_at_init():
  num_items, width, num_labels = 40, 8, 5
  weights = np.zeros((1, num_items), np.float32)
  weights[0, :25] = np.linspace(1.0, 0.01, 25)
  weights /= weights.sum()
  labels = jax.random.randint(jax.random.key(3), (1, num_items), 0, num_labels)
  keys = jax.random.split(jax.random.key(4), 1)
  predictions, loss = neural.train_memorisers(
    keys,
    jnp.asarray(weights),
    labels,
    width=width,
    num_labels=num_labels,
    steps=100,
    learning_rate=0.05,
  )
  predictions, labels = np.asarray(predictions[0]), np.asarray(labels[0])
  np.testing.assert_array_equal(predictions[:25], labels[:25])
  assert float(loss[0]) < 1e-2
  # Unseen rows never get a gradient: their embedding is the initial one.
  initial = neural.init_memoriser(keys[0], num_items, width, num_labels)
  grads = jax.jit(jax.grad(neural.weighted_cross_entropy))(
    initial, jnp.asarray(weights[0]), jnp.asarray(labels)
  )
  assert float(jnp.abs(grads.embedding[25:]).max()) == 0.0
  assert float(jnp.abs(grads.embedding[:25]).max()) > 0.0


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in collapse_tails.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}
  metrics = record["metrics"]
  for name in (
    "gcd/gen0_accuracy",
    "gcd/gen1_accuracy",
    "gcd/mix_accuracy",
    "gcd/ai_label_accuracy",
  ):
    assert 0.0 <= metrics[name] <= 1.0
  # Exact numbers that do not depend on the preset's sizes.
  assert metrics["cut/max_plateau_rel_dev"] < 1e-6
  assert metrics["generations/relabel_min_rel_increase"] > 0
  run_dir = run.run_dir
  for figure in (
    "scaling_laws.png",
    "mixing.png",
    "generations.png",
    "neural.png",
    "gcd.png",
  ):
    assert (run_dir / figure).stat().st_size > 1000
  assert (run_dir / "metrics.jsonl").read_text().count("\n") > 100


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)
