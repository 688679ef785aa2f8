"""The robust_erm study: presets, the linear sweep, the splits, a smoke run."""

import json

import jax
import numpy as np
import pytest

from repro import launch
from repro.core import config as core_config
from repro.studies import robust_erm
from repro.studies.robust_erm import config as config_lib
from repro.studies.robust_erm import linear, neural
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "robust_erm"


def test_presets_differ_only_in_sizes():
  leaves = {
    p: dict(core_config.leaves(config_lib.get_config(p)))
    for p in ("smoke", "cpu", "paper")
  }
  assert leaves["paper"]["nn.dataset"] == "mnist"
  assert robust_erm.ARXIV == "2406.04981"


def test_linear_sweep_algorithms_on_a_tiny_grid():
  with jax.enable_x64(True):
    keys = jax.random.split(jax.random.key(0), 2)
    data = linear.make_data(
      keys, [2, 2], [0, 3], dim=6, rho=0.5, pool_size=8, num_test=50
    )
    grid = linear.make_grid(data, (4, 8), (0.0, 0.5))
    # eps* is the teacher's robust margin on the first m points.
    for d in range(2):
      for c, size in enumerate(grid.train_sizes):
        margins = data.y_train[d, :size] * (
          data.x_train[d, :size] @ data.teacher[d]
        )
        assert grid.eps_star[d, c] == pytest.approx(
          margins.min() / np.abs(data.teacher[d]).sum()
        )
    steps = np.array([1, 3, 40])
    for algorithm in linear.ALGORITHMS:
      weights, losses = linear.train(algorithm, data, grid, 40, steps)
      assert weights.shape == (3, 2, 4, 6) and losses.shape == (3, 2, 4)
      assert np.all(np.isfinite(weights))
      if algorithm == "cd":
        # One coordinate per step: at most 1 and 3 non-zeros.
        nonzeros = np.count_nonzero(weights, axis=-1)
        assert nonzeros[0].max() <= 1 and nonzeros[1].max() <= 3
      # The robust training loss goes down.
      assert np.all(losses[-1] < losses[0])
    accuracy = linear.robust_accuracies(
      data.teacher[:, None, :].repeat(4, 1), data.x_test, data.y_test, grid.eps
    )
    np.testing.assert_array_equal(accuracy[:, [0, 2]], 1.0)  # eps = 0


def test_network_splits_are_nested_disjoint_and_masked():
  x = np.arange(40, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
  y = np.where(np.arange(40) % 2 == 0, 1.0, -1.0).astype(np.float32)
  replicas = neural.make_replicas(
    x, y, (5, 10), (0.0, 0.2), 2, root_seed=0, max_test=20
  )
  assert len(replicas.eps) == 2 * 2 * 2
  for r in range(len(replicas.eps)):
    train = set(replicas.x_train[r, replicas.train_mask[r], 0])
    test = set(replicas.x_test[r, replicas.test_mask[r], 0])
    assert len(train) == replicas.train_sizes[r] and not train & test
    assert len(test) == 20
  # Same seed: m = 5 trains on a prefix of the m = 10 set, for every eps.
  small = replicas.x_train[0, :5, 0]
  large = replicas.x_train[4, :10, 0]
  assert replicas.seeds[0] == replicas.seeds[4]
  np.testing.assert_array_equal(small, large[:5])


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in robust_erm.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}
  metrics = record["metrics"]
  # Exact at any size: the closed form against PGD.
  assert metrics["linear/closed_form_max_abs_error"] < 1e-6
  for name, value in metrics.items():
    assert np.isfinite(value), name
    if "robust_test_acc" in name:
      assert 0.0 <= value <= 1.0, name
  run_dir = run.run_dir
  for figure in (
    "linear_robust_accuracy.png",
    "linear_gap_vs_m.png",
    "linear_cosines.png",
    "heatmap_cd_benefit.png",
    "nn_robust_accuracy.png",
  ):
    assert (run_dir / figure).stat().st_size > 1000
  rows = [
    json.loads(line)
    for line in (run_dir / "metrics.jsonl").read_text().splitlines()
  ]
  assert any("linear/cos_cd_l1ref/eps0.50" in row for row in rows)
  assert any("nn/sd/loss/eps0.20" in row for row in rows)


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)
