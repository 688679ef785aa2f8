"""The bnn_attacks study: attack objectives, predictors, a smoke run."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.bayes.network import flat_mlp
from repro.studies import bnn_attacks
from repro.studies.bnn_attacks import bma_attacks, posteriors
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "bnn_attacks"


def test_objective_terms_against_direct_formulas():
  logits = jax.random.normal(jax.random.key(0), (4, 3, 5)) * 2  # [K, n, C]
  labels = jnp.array([0, 3, 4])
  terms = np.asarray(bma_attacks.objective_terms(logits, labels))
  probs = np.asarray(jax.nn.softmax(logits, -1), np.float64).mean(0)
  rows = np.arange(3)
  np.testing.assert_allclose(terms[0], -np.log(probs[rows, labels]), rtol=1e-5)
  np.testing.assert_allclose(
    terms[1], -(probs * np.log(probs)).sum(-1), rtol=1e-5
  )
  # Double softmax: probabilities fed to a logits cross-entropy.
  double = np.exp(probs) / np.exp(probs).sum(-1, keepdims=True)
  np.testing.assert_allclose(terms[2], -np.log(double[rows, labels]), rtol=1e-5)
  mean_logits = np.asarray(logits, np.float64).mean(0)
  averaged = np.exp(mean_logits) / np.exp(mean_logits).sum(-1, keepdims=True)
  np.testing.assert_allclose(
    terms[3], -np.log(averaged[rows, labels]), rtol=1e-5
  )
  np.testing.assert_array_equal(
    bma_attacks.objective(bma_nll=1.0, entropy=-0.5), [1, -0.5, 0, 0]
  )
  with pytest.raises(ValueError):
    bma_attacks.objective(nll=1.0)


def test_label_attack_on_a_fixed_set_respects_the_ball_and_hurts():
  model = flat_mlp(6, (5,), 3)
  samples = model.init(jax.random.key(0), 4) * 3.0
  predictor = posteriors.fixed_set("toy", model, samples)
  x = jax.random.uniform(jax.random.key(1), (16, 6))
  labels = jnp.asarray(posteriors.predict(predictor, x, None, 0)["prediction"])
  x_adv = bma_attacks.pgd_on(
    predictor,
    x,
    labels,
    jax.random.key(2),
    eps=0.3,
    num_steps=20,
    step_size=0.04,
    draws=0,
  )
  assert float(jnp.abs(x_adv - x).max()) <= 0.3 + 1e-6
  assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
  before = posteriors.predict(predictor, x, None, 0)["log_probs"]
  after = posteriors.predict(predictor, x_adv, None, 0)["log_probs"]
  rows = np.arange(16)
  # The attack lowers log p_bar(y|x) of every example.
  assert np.all(after[rows, labels] < before[rows, labels])


def test_stochastic_predictors_draw_fresh_samples():
  model = flat_mlp(6, (5,), 3, dropout_rate=0.5)
  theta = model.init(jax.random.key(0))
  mcd = posteriors.Predictor("mcd", "dropout", model, theta)
  x = jax.random.uniform(jax.random.key(1), (4, 6))
  one = posteriors.sample_logits(
    model, "dropout", theta, x, jax.random.key(2), 3
  )
  two = posteriors.sample_logits(
    model, "dropout", theta, x, jax.random.key(3), 3
  )
  assert one.shape == (3, 4, 3) and mcd.stochastic
  assert not np.allclose(one, two)
  masked = posteriors.Predictor(
    "m", "dropout_one_mask", model, (theta, jax.random.key(4))
  )
  assert not masked.stochastic


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)  # shared with tests/test_scaling.py
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in bnn_attacks.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}
  metrics = record["metrics"]
  fractions = [
    name
    for name in metrics
    if name.split("/")[-1].startswith(
      ("clean_acc", "eps", "robust_acc", "success", "auroc")
    )
    and not name.endswith(("ratio", "max_increase_in_eps"))
  ]
  assert len(fractions) > 40
  for name in fractions:
    assert 0.0 <= metrics[name] <= 1.0, name
  assert 0.0 < metrics["hmc/acceptance_mean"] <= 1.0
  run_dir = run.run_dir
  for figure in ("robust_accuracy.png", "detection_roc.png", "ood_roc.png"):
    assert (run_dir / figure).stat().st_size > 1000


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)
