"""`repro.data.load`: names, splits and where the cache goes."""

import os

import pytest

import repro.data
from repro.core.errors import UserError
from repro.data import sources


def test_dataset_names():
  assert repro.data.DATASETS == (
    "digits",
    "galaxies",
    "mnist_5k",
    "fashion_mnist",
    "mnist",
    "cifar10",
    "cifar100",
    "svhn_cropped",
  )


@pytest.mark.parametrize("name", ["", "digit", "MNIST", "imagenet2012"])
def test_unknown_name_is_a_user_error(name, tmp_path):
  with pytest.raises(UserError, match="unknown dataset.*use one of digits"):
    repro.data.load(name, "train", data_dir=str(tmp_path))
  assert not os.listdir(tmp_path)


@pytest.mark.parametrize("split", ["validation", "Train", "train[:10]"])
def test_unknown_digits_split_is_a_user_error(split, tmp_path):
  with pytest.raises(UserError, match="use one of train, test"):
    repro.data.load("digits", split, data_dir=str(tmp_path))


def test_data_dir_precedence(tmp_path, monkeypatch):
  monkeypatch.setenv(sources.ENV_DATA_DIR, str(tmp_path / "env"))
  assert sources.resolve_data_dir(str(tmp_path / "arg")) == str(
    tmp_path / "arg"
  )
  assert sources.resolve_data_dir() == str(tmp_path / "env")
  monkeypatch.delenv(sources.ENV_DATA_DIR)
  assert sources.resolve_data_dir() == os.path.expanduser(
    "~/.cache/repro/tensorflow_datasets"
  )


def test_default_cache_comes_from_the_environment(tmp_path, monkeypatch):
  monkeypatch.setenv(sources.ENV_DATA_DIR, str(tmp_path / "cache"))
  data = repro.data.load("digits", "test")
  assert len(data["label"]) == 539
  assert os.path.isdir(tmp_path / "cache" / "digits" / "1.0.0")
