"""The data_pruning study: splits, selection, training masks, smoke run."""

import json

import jax
import numpy as np
import pytest

from repro import launch
from repro.core import checkpoint
from repro.ops import drop_quotas, pruning_scores
from repro.studies import data_pruning
from repro.studies.data_pruning import config as config_lib
from repro.studies.data_pruning import data, grid, scoring, training
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "data_pruning"


def test_stratified_halves_are_disjoint_and_balanced():
  labels = np.repeat(np.arange(4), [10, 11, 6, 8])
  first, second = data.stratified_halves(jax.random.key(0), labels)
  assert not set(first) & set(second)
  assert len(first) + len(second) == len(labels)
  np.testing.assert_array_equal(np.bincount(labels[first]), [5, 5, 3, 4])


def test_augmentation_flips_and_shifts_by_at_most_four_pixels():
  images = np.zeros((64, 16, 16, 1), np.float32)
  images[:, 7, 6, 0] = 1.0
  out = np.asarray(jax.jit(data.augment_images)(images, jax.random.key(0)))
  columns = set()
  for image in out:
    rows, cols = np.nonzero(image[..., 0])
    assert len(rows) == 1  # shifted by <= 4: never pushed out
    assert abs(rows[0] - 7) <= 4
    assert min(abs(cols[0] - 6), abs(cols[0] - 9)) <= 4  # 9 = mirrored 6
    columns.add(int(cols[0]))
  assert len(columns) > 4


def test_epoch_correction_matches_the_official_formula():
  assert training.epochs_for_density(40, 1.0) == 40
  assert training.epochs_for_density(40, 0.5) == 60  # 40 x 0.75 / 0.5
  assert training.epochs_for_density(160, 0.3) == round(160 * 0.65 / 0.3)


def _scored(num=60, num_classes=3, seed=0):
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, num_classes, num).astype(np.int32)
  scores = {
    name: rng.uniform(size=num)
    for name in (
      "el2n",
      "grand",
      "forgetting",
      "dynamic_uncertainty",
      "coreset",
    )
  }
  return labels, {"scores": scores, "val_recall": np.array([0.9, 0.6, 0.8])}


def test_every_method_keeps_the_same_number_of_points():
  labels, scored = _scored()
  key = jax.random.key(1)
  for quotas in ("official", "paper"):
    scored["conventions"] = {"quotas": quotas}
    for method in grid.METHODS:
      kept = grid.select(method, 0.4, scored, labels, 3, 0.0, key)
      assert len(kept) == 24 and len(np.unique(kept)) == 24, method
  sizes = np.bincount(labels)
  recalls = [0.9, 0.6, 0.8]
  el2n = pruning_scores.keep_hardest(scored["scores"]["el2n"], 24)
  el2n_counts = np.bincount(labels[el2n], minlength=3)
  # Paper convention: exact quotas.
  scored["conventions"] = {"quotas": "paper"}
  counts = drop_quotas.drop_counts(sizes, recalls, 0.4, convention="paper")
  kept = grid.select("random_drop", 0.4, scored, labels, 3, 0.0, key)
  np.testing.assert_array_equal(np.bincount(labels[kept], minlength=3), counts)
  quota = grid.select("random_el2n_quota", 0.4, scored, labels, 3, 0.0, key)
  np.testing.assert_array_equal(
    np.bincount(labels[quota], minlength=3), el2n_counts
  )
  # Within the DRoP quotas, EL2N keeps the hardest of every class.
  kept = grid.select("el2n_drop", 0.4, scored, labels, 3, 0.0, key)
  for k in range(3):
    members = np.flatnonzero(labels == k)
    top = members[np.argsort(-scored["scores"]["el2n"][members])][: counts[k]]
    np.testing.assert_array_equal(np.sort(top), kept[labels[kept] == k])
  # Official convention (the default): the official counts plus points
  # filled at random, so every class keeps at least its count.
  del scored["conventions"]
  counts = drop_quotas.drop_counts(sizes, recalls, 0.4)
  assert counts.sum() <= 24
  kept = grid.select("el2n_drop", 0.4, scored, labels, 3, 0.0, key)
  assert np.all(np.bincount(labels[kept], minlength=3) >= counts)
  for k in range(3):
    members = np.flatnonzero(labels == k)
    top = members[np.argsort(-scored["scores"]["el2n"][members])][: counts[k]]
    assert set(top) <= set(kept[labels[kept] == k])
  quota = grid.select("random_el2n_quota", 0.4, scored, labels, 3, 0.0, key)
  assert np.all(
    np.bincount(labels[quota], minlength=3)
    >= drop_quotas.selection_sizes(el2n_counts, 24)
  )


def test_drop_recalls_by_convention():
  # Two query models x 3 epochs x 2 classes; validation sizes 10 and 30
  # (hand values in tests/ops/test_drop_quotas.py).
  recalls = np.array(
    [
      [[0.5, 0.5], [1.0, 0.3], [0.2, 0.7]],
      [[0.6, 0.6], [0.9, 0.5], [0.1, 0.9]],
    ],
    np.float32,
  )
  sizes = np.array([10, 30])
  config = config_lib.get_config("cpu").scores
  assert config.drop_recall == "official" and config.drop_query_models == 5
  full = recalls[1]
  with pytest.raises(ValueError, match="drop_query_models"):
    scoring._drop_recalls(config, recalls, full, sizes)  # 5 > 2 models
  config.drop_query_models = 1
  got, best, source = scoring._drop_recalls(config, recalls, full, sizes)
  assert "1 EL2N query models" in source and best.tolist() == [2]
  np.testing.assert_allclose(got, [0.2, 0.7], rtol=1e-6)
  config.drop_recall = "full_run"
  got, best, _ = scoring._drop_recalls(config, recalls, full, sizes)
  assert best == 1
  np.testing.assert_allclose(got, [0.9, 0.5], rtol=1e-6)


def test_a_replica_stops_at_its_step_budget():
  config = config_lib.get_config("smoke")
  group = config.data.mixture
  arrays = data.load_dataset("mixture", group, jax.random.key(0), "")
  model = training.make_model(group, arrays["num_classes"])
  subset = np.arange(96, dtype=np.int32)
  plan = training.make_plan(
    [subset, subset], [2, 3], group.batch_size, group.lr_drops, constant_lr=True
  )
  keys = jax.random.split(jax.random.key(2), 2)
  same = keys[np.array([0, 0])]
  long_vars, long_history = training.train_replicas(
    model, group, arrays, same, same, plan, 1, 9
  )
  short_plan = training.make_plan(
    [subset], [2], group.batch_size, group.lr_drops, constant_lr=True
  )
  short_vars, _ = training.train_replicas(
    model, group, arrays, same[:1], same[:1], short_plan, 1, 6
  )
  # Replica 0 (2 epochs = 6 steps) in a 9-step scan equals a 6-step scan.
  jax.tree.map(
    lambda a, b: np.testing.assert_allclose(a[0], b[0], rtol=1e-6),
    long_vars,
    short_vars,
  )
  # Replica 1 took 3 more steps and differs.
  assert not np.allclose(
    jax.tree.leaves(long_vars)[0][0], jax.tree.leaves(long_vars)[0][1]
  )
  assert long_history["test_recall"].shape == (2, arrays["num_classes"])


class _Interrupted(Exception):
  """Stands for a signal that stops a run right after a checkpoint."""


def test_interrupted_replica_training_resumes_identically(
  tmp_path, monkeypatch
):
  """Issue 12 part 4: chunked training resumes from its checkpoint.

  Three replicas (two subset sizes) trained one at a time (replica
  chunks, as on the paper preset), recording the training-pass history
  (the query-model path): the interruption falls in the second replica
  chunk, after the first one finished.
  """
  config = config_lib.get_config("smoke")
  group = config.data.mixture
  group.hidden_sizes = (4,)
  arrays = data.load_dataset("mixture", group, jax.random.key(0), "")
  model = training.make_model(group, arrays["num_classes"])
  full = np.arange(len(arrays["train_y"]), dtype=np.int32)
  plan = training.make_plan(
    [full, full[:200], full],
    [2, 4, 3],
    group.batch_size,
    group.lr_drops,
    pad_to=len(full),
  )
  block_steps = len(full) // group.batch_size
  keys = jax.random.split(jax.random.key(2), 3)

  def train(directory):
    return training.train_replicas(
      model,
      group,
      arrays,
      keys,
      keys[::-1],
      plan,
      4,
      block_steps,
      record=True,
      replica_chunk=1,
      checkpoints=checkpoint.RunCheckpoints(directory, every),
    )

  every = 2 * block_steps
  # Uninterrupted, in chunks of the same size (one compilation serves all;
  # chunked equals unchunked is checked on the cpu preset, README).
  reference = train(str(tmp_path / "plain"))
  real_save = checkpoint.save
  saved_steps = []

  def save_then_interrupt(directory, step, items):
    real_save(directory, step, items)
    saved_steps.append(step)
    if len(saved_steps) == 3:
      raise _Interrupted

  monkeypatch.setattr(checkpoint, "save", save_then_interrupt)
  with pytest.raises(_Interrupted):
    train(str(tmp_path / "run"))
  # One loop per replica chunk, each counting its own steps.
  assert saved_steps == [every, 2 * every, every]
  resumed = train(str(tmp_path / "run"))
  assert saved_steps == [every, 2 * every] * 3  # resumed, not restarted
  assert resumed[1].keys() == reference[1].keys()
  assert resumed[1]["correct"].shape == (3, 4, len(full))
  jax.tree.map(np.testing.assert_array_equal, resumed, reference)


def test_paper_path_trains_a_vgg_with_batchnorm_and_augmentation(monkeypatch):
  # A 5-conv VGG-BN keeps the compile short; same code path as VGG-16.
  monkeypatch.setitem(
    training.VGG_LAYERS, "tiny", (4, "M", 4, "M", 4, "M", 4, "M", 4)
  )
  config = config_lib.get_config("paper")
  group = config.data.cifar10
  group.vgg_layers = "tiny"
  group.batch_size = 8
  group.eval_batch = 8
  rng = np.random.default_rng(0)
  arrays = {
    "train_x": rng.uniform(size=(24, 32, 32, 3)).astype(np.float32),
    "train_y": rng.integers(0, 10, 24).astype(np.int32),
    "num_classes": 10,
    "name": "fake",
  }
  for split in ("val", "test"):
    arrays[f"{split}_x"] = arrays["train_x"][:8]
    arrays[f"{split}_y"] = arrays["train_y"][:8]
  model = training.make_model(group, 10)
  plan = training.make_plan([np.arange(24)], [1], 8, group.lr_drops)
  keys = jax.random.split(jax.random.key(0), 1)
  final, history = training.train_replicas(
    model, group, arrays, keys, keys, plan, 1, 3, augment=True
  )
  assert "batch_stats" in final
  assert history["test_recall"].shape == (1, 10)
  assert np.all(np.isfinite(history["loss"]))
  features = jax.jit(model.features)(
    jax.tree.map(lambda a: a[0], final), arrays["train_x"]
  )
  assert features.shape[0] == 24 and features.ndim == 2


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)  # shared with tests/test_scaling.py
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in data_pruning.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}
  metrics = record["metrics"]
  for name, value in metrics.items():
    assert np.isfinite(value), name
    if name.startswith(("avg_acc/", "worst_acc/")):
      assert 0.0 <= value <= 100.0, name
  # The toy analysis is exact at any size (README, claim C7b).
  assert metrics["c7_worst_risk_balanced"] == pytest.approx(0.0668, abs=1e-3)
  run_dir = run.run_dir
  for figure in (
    "mixture_accuracy_vs_density.png",
    "mixture_class_density_vs_accuracy.png",
    "mog_priors.png",
  ):
    assert (run_dir / figure).stat().st_size > 1000
  rows = [
    json.loads(line)
    for line in (run_dir / "metrics.jsonl").read_text().splitlines()
  ]
  assert {row["method"] for row in rows} == set(grid.METHODS) | {"full"}


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)
