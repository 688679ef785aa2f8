"""TFDS catalog datasets: read from a prepared data_dir, never downloaded."""

import importlib.util
import json
import os
import shutil
import sys

import numpy as np
import pytest

import repro.data
from repro.core.errors import UserError
from repro.data import catalog


@pytest.mark.parametrize("name", catalog.CATALOG)
def test_missing_dataset_says_how_to_prepare(name, tmp_path):
  data_dir = str(tmp_path / "empty")
  with pytest.raises(UserError) as error:
    repro.data.load(name, "train", data_dir=data_dir)
  message = str(error.value)
  assert "\n" not in message
  assert f"--data_dir={data_dir}" in message
  assert f"tfds.builder('{name}', data_dir='{data_dir}')" in message
  assert "download_and_prepare()" in message
  assert not os.path.exists(os.path.join(data_dir, name))  # Nothing fetched.


def test_missing_dataset_in_default_dir_names_that_dir(tmp_path):
  with pytest.raises(UserError, match="default_cache"):
    repro.data.load("cifar10", "test")


def test_array_record_catalog_reads_without_tensorflow(fake_mnist):
  for split, images in fake_mnist["images"].items():
    data = repro.data.load("mnist", split, data_dir=fake_mnist["data_dir"])
    assert data["image"].dtype == np.float32
    assert data["label"].dtype == np.int32
    assert data["image"].shape == images.shape
    assert data["image"].min() >= 0.0 and data["image"].max() <= 1.0
    # Records come back in TFDS's shuffled order; match them by content.
    label_of = {image.tobytes(): i % 10 for i, image in enumerate(images)}
    pixels = np.round(data["image"] * 255).astype(np.uint8)
    assert sorted(p.tobytes() for p in pixels) == sorted(label_of)
    for image, label in zip(pixels, data["label"], strict=True):
      assert label_of[image.tobytes()] == label
  if importlib.util.find_spec("tensorflow") is None:
    assert "tensorflow" not in sys.modules


def test_unknown_catalog_split(fake_mnist):
  with pytest.raises(UserError, match="use one of train, test"):
    repro.data.load("mnist", "validation", data_dir=fake_mnist["data_dir"])


def test_tfrecord_catalog_without_tensorflow_is_a_user_error(
  fake_mnist, tmp_path
):
  if importlib.util.find_spec("tensorflow") is not None:
    pytest.skip("tensorflow is installed")
  # The same dataset as TFDS's default preparation would describe it.
  data_dir = str(tmp_path / "tfrecord")
  shutil.copytree(fake_mnist["data_dir"], data_dir)
  info_path = os.path.join(data_dir, "mnist", "3.0.1", "dataset_info.json")
  with open(info_path) as f:
    info = json.load(f)
  info["fileFormat"] = "tfrecord"
  with open(info_path, "w") as f:
    json.dump(info, f)
  with pytest.raises(UserError, match="needs tensorflow"):
    repro.data.load("mnist", "train", data_dir=data_dir)
