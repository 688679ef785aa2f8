"""The goldilocks study: presets, analysis helpers, smoke run, cpu claims."""

import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.core import checkpoint
from repro.core import config as core_config
from repro.core.errors import UserError
from repro.studies import goldilocks
from repro.studies.goldilocks import analysis, sweeps, training
from repro.studies.goldilocks import config as config_lib
from repro.studies.goldilocks.problems import load_problem
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "goldilocks"


def test_presets_differ_only_in_sizes():
  leaves = {
    p: dict(core_config.leaves(config_lib.get_config(p)))
    for p in ("smoke", "cpu", "paper")
  }
  assert leaves["paper"]["curvature.dataset"] == "fashion_mnist"


def test_zone_edges_and_crossings_interpolate():
  log_alphas = np.arange(-2.0, 2.01, 0.5)
  curve = np.array([0.0, 0.0, 0.5, 1.5, 2.0, 1.5, 1.0, 0.2, 0.0])
  peak, lo, hi = sweeps.zone_edges(log_alphas, curve, 0.5)
  assert peak == 4
  assert lo == pytest.approx(-1.0 + 0.5 * 0.5)  # 0.5 -> 1.5 crosses 1.0
  assert hi == pytest.approx(1.0)  # exactly at 1.0 ...
  # ... the walk continues to the first point strictly below.
  assert sweeps.first_crossing(log_alphas, curve - 1.0, peak, +1) == (
    pytest.approx(1.0)
  )
  assert sweeps.first_crossing(log_alphas, curve + 1.0, peak, -1) is None
  assert sweeps.first_crossing(log_alphas, curve - 5.0, peak, -1) is None


def test_rank_correlations():
  x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
  assert analysis.spearman(x, x**3) == pytest.approx(1.0)
  assert analysis.spearman(x, -np.exp(x)) == pytest.approx(-1.0)
  assert analysis.pearson(x, 2 * x + 1) == pytest.approx(1.0)
  # Ties get average ranks: ranks of [1, 2, 2, 3] are [0, 1.5, 1.5, 3].
  assert analysis.spearman([1, 2, 2, 3], [0, 1.5, 1.5, 3]) == pytest.approx(1.0)


def test_matched_offset_puts_the_mean_softmax_on_the_target():
  logits = jax.random.normal(jax.random.key(0), (500, 3)) * 2.0
  target = jnp.asarray([0.2, 0.3, 0.5])
  offset = sweeps.matched_offset(logits, target)
  mean = jnp.mean(jax.nn.softmax(logits + offset), axis=0)
  np.testing.assert_allclose(mean, target, atol=1e-5)


def test_problem_is_bias_free_homogeneous_and_kaiming():
  config = config_lib.get_config("cpu")
  problem = load_problem(config.curvature, 0, "")
  assert problem.num_params == 1184 and problem.num_layers == 3
  assert problem.train_inputs.shape == (2400, 2)
  np.testing.assert_allclose(problem.label_prior().sum(), 1.0)
  inputs = jnp.asarray(problem.train_inputs[:50])

  @jax.jit
  def init_and_apply(key):
    theta = problem.init_flat(key)
    return (
      theta,
      problem.apply_flat(theta, inputs),
      problem.apply_flat(3.0 * theta, inputs),
    )

  theta, logits, scaled = map(np.asarray, init_and_apply(jax.random.key(0)))
  assert theta.shape == (1184,)
  # Second layer (32 x 32): std sqrt(2 / 32).
  assert theta[64:1088].std() == pytest.approx(0.25, rel=0.08)
  np.testing.assert_allclose(scaled, 27.0 * logits, rtol=1e-4, atol=1e-6)
  bad = config_lib.get_config("cpu").curvature
  bad.model = "resnet"
  with pytest.raises(UserError):
    load_problem(bad, 0, "")


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in goldilocks.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}
  metrics = record["metrics"]
  # Exact identities hold at any size (float64).
  assert metrics["temperature_curvature_max_abs_diff"] < 1e-6
  assert metrics["temperature_hessian_max_rel_diff"] < 1e-8
  assert metrics["trace_h_vs_g_max_rel_diff"] < 1e-8
  assert metrics["prior_matched_mismatch"] < 1e-6
  assert 0.0 <= metrics["train_zone_min_train_acc"] <= 1.0
  assert (
    metrics["zone_log_alpha_lo"]
    < metrics["peak_log_alpha"]
    < (metrics["zone_log_alpha_hi"])
  )
  run_dir = run.run_dir
  for figure in (
    "curvature_vs_alpha.png",
    "gauss_newton_vs_alpha.png",
    "curvature_vs_entropy.png",
    "gradient_vs_mismatch.png",
    "accuracy_vs_alpha.png",
  ):
    assert (run_dir / figure).stat().st_size > 1000
  rows = [
    json.loads(line)
    for line in (run_dir / "metrics.jsonl").read_text().splitlines()
  ]
  assert {row["phase"] for row in rows} == {
    "curvature_sweep",
    "training",
    "sharpness",
    "training_zone",
  }


class _Interrupted(Exception):
  """Stands for a signal that stops a run right after a checkpoint."""


def test_interrupted_gd_sweep_resumes_identically(tmp_path, monkeypatch):
  """Issue 12 part 4: the chunked GD scan resumes from its checkpoint.

  The sharpness (Lanczos, outside the resumed loop) is stubbed by a draw
  from its key, to keep the test's compilations cheap.
  """
  monkeypatch.setattr(
    training,
    "hess",
    types.SimpleNamespace(
      flat_hvp=lambda loss, theta: (None, theta.size),
      lanczos_eigenvalues=lambda matvec, key, dim, steps, dtype: (
        jax.random.normal(key, (1,), dtype)
      ),
    ),
  )
  config = config_lib.get_config("smoke")
  group = config.training
  group.num_steps, group.log_every, group.sharpness_steps = 40, 10, 3
  group.log_alphas, group.hidden = (-1.0, 0.0), (4, 4)
  problem = load_problem(group, 0, "")
  theta0 = problem.init_flat(jax.random.key(0))
  key = jax.random.key(1)
  reference = training.run_training(config, problem, theta0, key)
  real_save = checkpoint.save
  saved_steps = []

  def save_then_interrupt(directory, step, items):
    real_save(directory, step, items)
    saved_steps.append(step)
    raise _Interrupted

  monkeypatch.setattr(checkpoint, "save", save_then_interrupt)
  with pytest.raises(_Interrupted):
    training.run_training(
      config, problem, theta0, key, checkpoint.RunCheckpoints(str(tmp_path), 20)
    )
  assert saved_steps == [20]
  monkeypatch.setattr(
    checkpoint,
    "save",
    lambda *args: saved_steps.append(args[1]) or real_save(*args),
  )
  resumed = training.run_training(
    config, problem, theta0, key, checkpoint.RunCheckpoints(str(tmp_path), 20)
  )
  assert saved_steps == [20, 40]  # resumed, not restarted
  assert resumed.keys() == reference.keys()
  for name, values in reference.items():
    np.testing.assert_array_equal(resumed[name], values, err_msg=name)
  assert resumed["train_loss"].shape == (2, 5)


def test_a_measured_grid_is_restored_not_measured_again(tmp_path):
  calls = []

  def measure():
    calls.append(1)
    return {"curvature": np.arange(3.0) / 7, "count": jnp.arange(2)}

  for _ in range(2):
    result = sweeps.resumable(
      checkpoint.RunCheckpoints(str(tmp_path), 1), "grid", measure
    )
    np.testing.assert_array_equal(result["curvature"], np.arange(3.0) / 7)
    assert result["count"].dtype == jnp.arange(2).dtype
  assert len(calls) == 1
  assert sweeps.resumable(None, "grid", measure)["count"].shape == (2,)
  assert len(calls) == 2  # outside a run: measured


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)
