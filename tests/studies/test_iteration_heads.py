"""The iteration-head study: smoke run end to end, helpers, cpu claims."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.core import checkpoint
from repro.core.errors import UserError
from repro.data import iterative_tasks
from repro.studies import iteration_heads
from repro.studies.iteration_heads import analysis, experiment, training
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "iteration_heads"


@pytest.fixture(scope="module")
def smoke_record():
  run = smoke_runs.smoke_run(STUDY)
  return run.record, run.run_dir


def test_smoke_summary_shape(smoke_record):
  record, run_dir = smoke_record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in iteration_heads.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}, record["claims"]
  metrics = record["metrics"]
  for name in experiment.RUNS:
    assert 0 <= metrics[f"{name}/test_acc"] <= 1
  assert metrics["transfer/steps_ratio"] > 0
  files = set(os.listdir(run_dir))
  assert {
    "summary.json",
    "report.md",
    "metrics.jsonl",
    "attention_maps.png",
    "emergence.png",
    "transfer.png",
    "accuracy_by_length.png",
  } <= files
  rows = [
    json.loads(line)
    for line in (run_dir / "metrics.jsonl").read_text().splitlines()
  ]
  config = iteration_heads.get_config("smoke")
  cot_rows = [r for r in rows if r["run"] == "cot"]
  assert [r["step"] for r in cot_rows] == list(
    range(0, config.steps.cot + 1, config.eval_every)
  )
  assert {r["run"] for r in rows} == set(experiment.RUNS)


def test_first_crossing_and_emergence_lag_by_hand():
  steps = np.array([0, 100, 200, 300, 400])
  values = np.array([[0.0, 0.2, 0.6, 0.9, 1.0], [0.0, 0.1, 0.1, 0.2, 0.3]])
  np.testing.assert_array_equal(
    analysis.first_crossing(steps, values, 0.5), [200, 500]
  )
  head = np.array([[0.0, 0.6, 0.9, 0.9, 0.9], [0.0, 0.0, 0.0, 0.0, 0.9]])
  accuracy = np.array([[0.0, 0.0, 0.0, 0.7, 1.0], [0.0, 0.6, 0.9, 1.0, 1.0]])
  # Seed 0: head at 100, accuracy at 300 -> -0.5; seed 1: 400 vs 100.
  np.testing.assert_allclose(
    analysis.emergence_lag(steps, head, accuracy, 0.5), [-0.5, 0.75]
  )
  # No accuracy jump: the claim cannot hold.
  np.testing.assert_allclose(
    analysis.emergence_lag(steps, head, np.zeros_like(head), 0.5), [1.0, 1.0]
  )


def test_length_ordered_batches_follow_the_official_loader():
  # 3 lengths x 4 rows, batch 2: steps 0..5 walk lengths 1,1,2,2,3,3.
  tokens = jnp.arange(3 * 4 * 5).reshape(3, 4, 5)
  masks = jnp.arange(3 * 5).reshape(3, 5) % 2 == 0
  seen = []
  for step in range(7):
    batch, mask = training.batch_at(step, tokens, masks, 2, "by_length", None)
    seen.append(int(batch[0, 0]) // 20)
    np.testing.assert_array_equal(mask[0], masks[seen[-1]])
  assert seen == [0, 0, 1, 1, 2, 2, 0]
  first, _ = training.batch_at(1, tokens, masks, 2, "by_length", None)
  np.testing.assert_array_equal(first, tokens[0, 2:4])


def test_shuffled_order_is_a_permutation_per_epoch_and_deterministic():
  order = training.ShuffledOrder(np.array([7, 8]), num_rows=12, batch_size=4)
  rows = order.rows(0, 6)  # two epochs of 3 steps
  assert rows.shape == (2, 6, 4)
  for replica in range(2):
    for epoch in range(2):
      block = rows[replica, 3 * epoch : 3 * epoch + 3].ravel()
      assert sorted(block) == list(range(12))
  assert not np.array_equal(rows[0], rows[1])
  again = training.ShuffledOrder(np.array([7, 8]), 12, 4).rows(2, 3)
  np.testing.assert_array_equal(again, rows[:, 2:5])
  tokens = jnp.arange(3 * 4).reshape(3, 4, 1)
  masks = jnp.eye(3, dtype=bool)
  batch, mask = training.batch_at(
    0, tokens, masks, 4, "shuffled", jnp.array([0, 5, 11, 4])
  )
  np.testing.assert_array_equal(batch[:, 0], [0, 5, 11, 4])
  np.testing.assert_array_equal(mask, masks[jnp.array([0, 1, 2, 1])])


def test_mlp2_mask_selects_only_the_last_mlp():
  model = experiment.make_model(iteration_heads.get_config("smoke"), 2)
  shapes = jax.eval_shape(
    model.init, jax.random.key(0), jnp.zeros((1, 13), jnp.int32)
  )
  mask = training.trainable_mask(shapes, "mlp2", 2)
  paths = {
    "/".join(str(getattr(k, "key", k)) for k in path): float(v)
    for path, v in jax.tree_util.tree_leaves_with_path(mask)
  }
  trained = sorted(p for p, v in paths.items() if v == 1.0)
  assert trained == [
    "params/block_1/mlp/fc1/kernel",
    "params/block_1/mlp/fc2/kernel",
  ]
  assert all(
    v == 1.0 for v in jax.tree.leaves(training.trainable_mask(shapes, "all", 2))
  )
  with pytest.raises(UserError, match="trainable"):
    training.trainable_mask(shapes, "mlp1", 2)


def test_one_layer_params_are_the_first_block_of_two():
  config = iteration_heads.get_config("smoke")
  one, two = (experiment.make_model(config, n) for n in (1, 2))
  dummy = jnp.zeros((1, 13), jnp.int32)
  shapes_two = jax.eval_shape(two.init, jax.random.key(0), dummy)
  shapes_one = jax.eval_shape(one.init, jax.random.key(0), dummy)
  dropped = experiment.drop_blocks(shapes_two, 1)
  assert jax.tree.structure(dropped) == jax.tree.structure(shapes_one)


def test_bad_transfer_step_is_a_user_error(tmp_path):
  with pytest.raises(UserError, match="transfer_from_step"):
    launch.run_study(
      STUDY, "smoke", workdir=str(tmp_path), overrides=["transfer_from_step=3"]
    )


def test_eval_set_keeps_only_held_out_lengths():
  data = iterative_tasks.make_dataset(
    "parity", 6, 64, 8, seed=0, min_test_len=4
  )
  eval_set = training.make_eval_set(data, 4)
  np.testing.assert_array_equal(eval_set.lengths, data.test_lengths)
  assert eval_set.test_tokens.shape == eval_set.train_tokens.shape
  with pytest.raises(UserError, match="held-out"):
    training.make_eval_set(data, 7)


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)


def test_interrupted_smoke_run_resumes_to_the_same_metrics(
  tmp_path, monkeypatch
):
  reference = smoke_runs.smoke_run(STUDY).record
  saves = []
  real_save = checkpoint.save

  def save_then_interrupt(directory, step, items):
    real_save(directory, step, items)
    saves.append((directory, step))
    if len(saves) == 3:  # Mid-way through a run, after its 2nd save.
      raise KeyboardInterrupt

  monkeypatch.setattr(checkpoint, "save", save_then_interrupt)
  workdir = str(tmp_path)
  every = iteration_heads.get_config("smoke").eval_every
  with pytest.raises(KeyboardInterrupt):
    launch.run_study(STUDY, "smoke", workdir=workdir, checkpoint_every=every)
  assert not (tmp_path / STUDY / "smoke").exists()
  monkeypatch.setattr(checkpoint, "save", real_save)
  resumed = launch.run_study(
    STUDY, "smoke", workdir=workdir, checkpoint_every=every
  )
  assert resumed["metrics"] == reference["metrics"]
  assert not (tmp_path / launch.CHECKPOINTS).exists()
