"""Fixtures for data tests: no network, tmp data dirs, prepared datasets."""

import contextlib
import io
import socket

import numpy as np
import pytest
import tensorflow_datasets as tfds
from etils import epath
from PIL import Image
from tensorflow_datasets.image_classification import mnist

from repro.data import digits, fashion_mnist


@contextlib.contextmanager
def refused_network():
  """Fails any socket connection; yields the list of attempted addresses."""
  attempts = []

  def refuse(*args, **kwargs):
    attempts.append((args, kwargs))
    raise OSError("network access is not allowed in data tests")

  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(socket.socket, "connect", refuse)
    patch.setattr(socket.socket, "connect_ex", refuse)
    patch.setattr(socket, "create_connection", refuse)
    yield attempts


@pytest.fixture(autouse=True)
def no_network_and_tmp_cache(tmp_path, monkeypatch):
  """Every test: no network, the default caches are fresh tmp dirs."""
  monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path / "default_cache"))
  # Fashion-MNIST's system-wide places: none, unless a test puts files there.
  monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path / "debian"))
  monkeypatch.setattr(fashion_mnist, "CACHE_DIR", str(tmp_path / "fm_cache"))
  with refused_network() as attempts:
    yield
  assert not attempts, f"a data test tried the network: {attempts}"


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> str:
  """A data dir with digits prepared once for the session."""
  data_dir = str(tmp_path_factory.mktemp("digits_data"))
  with refused_network() as attempts:
    digits.prepare(data_dir)
  assert not attempts, f"preparing digits tried the network: {attempts}"
  return data_dir


def png_bytes(image: np.ndarray) -> bytes:
  """Encodes a [H, W, 1] uint8 image as PNG with PIL (no TensorFlow)."""
  buffer = io.BytesIO()
  Image.fromarray(image[..., 0], mode="L").save(buffer, format="PNG")
  return buffer.getvalue()


FAKE_MNIST_SIZES = {"train": 20, "test": 10}


def fake_mnist_images(split: str) -> np.ndarray:
  """Deterministic random uint8 images standing in for one MNIST split."""
  seed = list(FAKE_MNIST_SIZES).index(split)
  rng = np.random.RandomState(seed)
  shape = (FAKE_MNIST_SIZES[split], 28, 28, 1)
  return rng.randint(0, 256, size=shape).astype(np.uint8)


class FakeMnist(mnist.MNIST, skip_registration=True):
  """TFDS's own MNIST builder with tiny random data instead of a download."""

  name = "mnist"
  code_path = epath.Path(__file__)  # See repro/data/digits.py.

  def _split_generators(self, dl_manager):
    del dl_manager
    return {split: self._fake_examples(split) for split in FAKE_MNIST_SIZES}

  def _fake_examples(self, split):
    for i, image in enumerate(fake_mnist_images(split)):
      yield i, {"image": png_bytes(image), "label": i % 10}


@pytest.fixture(scope="session")
def fake_mnist(tmp_path_factory) -> dict[str, object]:
  """A tiny 'mnist' prepared as array_record: its data_dir and raw images."""
  data_dir = str(tmp_path_factory.mktemp("fake_mnist_data"))
  builder = FakeMnist(data_dir=data_dir, file_format="array_record")
  with refused_network():
    builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
  images = {split: fake_mnist_images(split) for split in FAKE_MNIST_SIZES}
  return {"data_dir": data_dir, "images": images}
