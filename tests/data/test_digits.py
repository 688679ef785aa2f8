"""The embedded digits dataset: a TFDS array_record builder, no download."""

import glob
import importlib.util
import json
import os
import sys
import time

import numpy as np
import pytest
import sklearn.datasets

import repro.data
from repro.core.errors import UserError
from repro.data import digits, sources

NUM_EXAMPLES = 1797


def test_shapes_dtypes_and_range(digits_dir):
  train = repro.data.load("digits", "train", data_dir=digits_dir)
  test = repro.data.load("digits", "test", data_dir=digits_dir)
  assert train["image"].shape == (1258, 8, 8, 1)
  assert test["image"].shape == (539, 8, 8, 1)
  for split in (train, test):
    assert split["image"].dtype == np.float32
    assert split["label"].dtype == np.int32
    assert split["label"].shape == split["image"].shape[:1]
    assert split["image"].min() == 0.0 and split["image"].max() == 1.0
    assert set(split["label"].tolist()) == set(range(10))


def test_examples_equal_sklearn_pixels_over_16(digits_dir):
  bunch = sklearn.datasets.load_digits()
  for split in digits.SPLITS:
    data = repro.data.load("digits", split, data_dir=digits_dir)
    rows = data["index"]
    np.testing.assert_array_equal(
      data["image"][..., 0], (bunch.images[rows] / 16).astype(np.float32)
    )
    np.testing.assert_array_equal(data["label"], bunch.target[rows])


def test_split_is_disjoint_covering_and_stratified(digits_dir):
  train = repro.data.load("digits", "train", data_dir=digits_dir)["index"]
  test = repro.data.load("digits", "test", data_dir=digits_dir)["index"]
  assert not set(train.tolist()) & set(test.tolist())
  np.testing.assert_array_equal(
    np.sort(np.concatenate([train, test])), np.arange(NUM_EXAMPLES)
  )
  labels = sklearn.datasets.load_digits().target
  for label in range(10):
    num_class = np.sum(labels == label)
    num_test = np.sum(labels[test] == label)
    assert abs(num_test - 0.3 * num_class) <= 0.5


def test_split_is_deterministic_and_pinned(digits_dir):
  first, second = digits.split_indices(), digits.split_indices()
  for split in digits.SPLITS:
    np.testing.assert_array_equal(first[split], second[split])
    stored = repro.data.load("digits", split, data_dir=digits_dir)["index"]
    np.testing.assert_array_equal(stored, first[split])
  # Pinned: changing the split must come with a new builder VERSION.
  np.testing.assert_array_equal(
    first["test"][:10], [3, 5, 7, 13, 16, 19, 22, 26, 33, 36]
  )
  assert first["test"].sum() == 469715


def test_array_record_files_on_disk(digits_dir):
  variant = os.path.join(digits_dir, "digits", str(digits.Digits.VERSION))
  for split in digits.SPLITS:
    shards = glob.glob(os.path.join(variant, f"digits-{split}.array_record-*"))
    assert len(shards) == 1 and os.path.getsize(shards[0]) > 0
  with open(os.path.join(variant, "dataset_info.json")) as f:
    assert json.load(f)["fileFormat"] == "array_record"


def test_second_load_does_not_prepare_again(tmp_path, monkeypatch):
  data_dir = str(tmp_path)
  repro.data.load("digits", "test", data_dir=data_dir)
  files = glob.glob(os.path.join(data_dir, "digits", "*", "*"))
  mtimes = {path: os.path.getmtime(path) for path in files}

  def fail(*args, **kwargs):
    raise AssertionError("digits was prepared a second time")

  monkeypatch.setattr(digits.Digits, "_generate_examples", fail)
  monkeypatch.setattr(digits.Digits, "download_and_prepare", fail)
  data = repro.data.load("digits", "test", data_dir=data_dir)
  assert len(data["label"]) == 539
  assert {path: os.path.getmtime(path) for path in files} == mtimes


def test_failed_preparation_leaves_nothing_prepared(tmp_path, monkeypatch):
  data_dir = str(tmp_path)
  original = digits.Digits._generate_examples

  def fail_midway(self, images, labels, rows):
    yield from list(original(self, images, labels, rows))[:5]
    raise RuntimeError("preparation interrupted")

  with monkeypatch.context() as patch:
    patch.setattr(digits.Digits, "_generate_examples", fail_midway)
    with pytest.raises(RuntimeError, match="interrupted"):
      repro.data.load("digits", "train", data_dir=data_dir)
  assert os.listdir(os.path.join(data_dir, "digits")) == []
  data = repro.data.load("digits", "train", data_dir=data_dir)
  assert len(data["label"]) == 1258


def test_losing_a_preparation_race_uses_the_winners_copy(
  digits_dir, monkeypatch
):
  # The winner's copy is already in place; this process checked too early.
  real_is_prepared = sources.is_prepared
  checks = []

  def is_prepared_late(builder_cls, data_dir, config=None):
    checks.append(data_dir)
    return len(checks) > 1 and real_is_prepared(builder_cls, data_dir, config)

  def rename_fails(self, **kwargs):
    raise FileExistsError("destination already exists")

  monkeypatch.setattr(sources, "is_prepared", is_prepared_late)
  monkeypatch.setattr(digits.Digits, "download_and_prepare", rename_fails)
  builder = digits.prepare(digits_dir)
  assert len(checks) == 2  # Before preparing, then after the failed rename.
  assert len(builder.as_data_source("test")) == 539


def test_unwritable_data_dir_is_a_user_error(tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("not a directory")
  with pytest.raises(UserError, match="writable"):
    repro.data.load("digits", "train", data_dir=str(blocker / "data"))


def test_reading_prepared_digits_is_fast(digits_dir):
  repro.data.load("digits", "test", data_dir=digits_dir)  # Warm imports.
  start = time.perf_counter()
  for split in digits.SPLITS:
    repro.data.load("digits", split, data_dir=digits_dir)
  assert time.perf_counter() - start < 1.0


def test_reads_without_tensorflow(digits_dir):
  if importlib.util.find_spec("tensorflow") is not None:
    pytest.skip("tensorflow is installed; the no-TensorFlow path is untested")
  data = repro.data.load("digits", "train", data_dir=digits_dir)
  assert data["image"].shape == (1258, 8, 8, 1)
  assert "tensorflow" not in sys.modules
