"""fashion_mnist: the four idx files -> TFDS array_record, found or fetched.

tests/data/conftest.py points `DEBIAN_DIR` and `CACHE_DIR` at fresh tmp
dirs and refuses the network, so these tests use only the small idx files
they write themselves; `test_real_files` reads the real ones where Debian's
package put them.
"""

import gzip
import hashlib
import os
import struct
import urllib.error

import chex
import numpy as np
import pytest

import repro.data
from repro.core.errors import UserError
from repro.data import fashion_mnist

REAL_DIR = fashion_mnist.DEBIAN_DIR  # Read before conftest patches it.
SIZES = {"train": 30, "test": 20}
# LeCun's idx magic numbers: 0x0000 0803 (ubyte, 3 dims), 0x0000 0801 (1 dim).
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def fake_split(split: str) -> tuple[np.ndarray, np.ndarray]:
  """Images uint8 [n, 28, 28] and labels [n] (each class equally often)."""
  n = SIZES[split]
  rng = np.random.RandomState(list(SIZES).index(split))
  images = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
  labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
  return images, labels


def idx_bytes(array: np.ndarray) -> bytes:
  """The idx encoding written by hand: magic, big-endian sizes, bytes."""
  magic = IMAGES_MAGIC if array.ndim == 3 else LABELS_MAGIC
  header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
  return header + array.astype(np.uint8).tobytes()


def fake_files() -> dict[str, bytes]:
  """File name -> uncompressed idx bytes of the four fake files."""
  files = {}
  for split, (images_name, labels_name) in fashion_mnist.FILES.items():
    images, labels = fake_split(split)
    files[images_name] = idx_bytes(images)
    files[labels_name] = idx_bytes(labels)
  return files


def gz(data: bytes) -> bytes:
  return gzip.compress(data, mtime=0)


def write_files(directory, names=None, change=None) -> str:
  """Writes the fake .gz files (all, or `names`); `change` edits bytes."""
  os.makedirs(directory, exist_ok=True)
  for name, data in fake_files().items():
    if names is None or name in names:
      data = change(name, data) if change else data
      with open(os.path.join(directory, name), "wb") as handle:
        handle.write(gz(data))
  return str(directory)


@pytest.fixture
def fake_checksums(monkeypatch):
  """The fake files are 'official': their checksums replace the real ones."""
  files = fake_files()
  monkeypatch.setattr(
    fashion_mnist,
    "CONTENT_SHA256",
    {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
  )
  monkeypatch.setattr(
    fashion_mnist,
    "OFFICIAL_MD5",
    {name: hashlib.md5(gz(data)).hexdigest() for name, data in files.items()},
  )


@pytest.fixture
def places(tmp_path) -> dict[str, str]:
  """The three places looked in, in order (all absent at first)."""
  data_dir = str(tmp_path / "data")
  return {
    "data_dir": data_dir,
    "manual": fashion_mnist.default_manual_dir(data_dir),
    "debian": fashion_mnist.DEBIAN_DIR,
    "cache": os.path.expanduser(fashion_mnist.CACHE_DIR),
  }


def fetch_from(files: dict[str, bytes], calls: list[str]):
  """A stand-in for `fashion_mnist.fetch` serving .gz bytes by URL."""

  def fetch(url):
    calls.append(url)
    return files[url.removeprefix(fashion_mnist.URL)]

  return fetch


def test_parse_idx_reads_hand_written_files():
  images, labels = fake_split("test")
  parsed = fashion_mnist.parse_idx(idx_bytes(images), "images")
  chex.assert_shape(parsed, (20, 28, 28))
  chex.assert_type(parsed, np.uint8)
  np.testing.assert_array_equal(parsed, images)
  np.testing.assert_array_equal(
    fashion_mnist.parse_idx(idx_bytes(labels), "labels"), labels
  )


@pytest.mark.parametrize(
  "corrupt, message",
  [
    (lambda b: b[:-1], "not the"),  # One value short of the header's shape.
    (lambda b: b + b"\0", "not the"),
    (lambda b: b[:6], "ends inside its idx header"),
    (lambda b: b"\0\0\x0d" + b[3:], "not an idx file of bytes"),  # float32
    (lambda b: b"\x1f\x8b" + b[2:], "not an idx file of bytes"),
  ],
)
def test_malformed_idx_is_a_user_error(corrupt, message):
  data = idx_bytes(fake_split("test")[0])
  with pytest.raises(UserError, match=message):
    fashion_mnist.parse_idx(corrupt(data), "file")


def test_load_from_the_manual_dir(places, fake_checksums):
  write_files(places["manual"])
  for split in fashion_mnist.SPLITS:
    data = repro.data.load("fashion_mnist", split, data_dir=places["data_dir"])
    images, labels = fake_split(split)
    n = SIZES[split]
    chex.assert_shape(data["image"], (n, 28, 28, 1))
    chex.assert_type(
      [data["image"], data["label"], data["index"]],
      [np.float32, np.int32, np.int64],
    )
    assert data["image"].min() >= 0.0 and data["image"].max() <= 1.0
    np.testing.assert_array_equal(data["index"], np.arange(n))
    np.testing.assert_allclose(data["image"][..., 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data["label"], labels)
    np.testing.assert_array_equal(np.bincount(data["label"]), [n // 10] * 10)
  assert not os.path.exists(places["cache"])  # Nothing downloaded.


def test_search_order_manual_then_debian_then_cache(places, tmp_path):
  data_dir = places["data_dir"]
  for place in ("manual", "debian", "cache"):
    write_files(places[place])
  assert fashion_mnist.locate(data_dir) == places["manual"]
  own = write_files(tmp_path / "own")
  assert fashion_mnist.locate(data_dir, manual_dir=own) == own
  os.remove(os.path.join(places["manual"], "t10k-labels-idx1-ubyte.gz"))
  assert fashion_mnist.locate(data_dir) == places["debian"]  # Needs all 4.
  os.remove(os.path.join(places["debian"], "train-images-idx3-ubyte.gz"))
  assert fashion_mnist.locate(data_dir) == places["cache"]


def test_download_into_the_cache_checked_by_md5(
  places, fake_checksums, monkeypatch
):
  calls = []
  files = {name: gz(data) for name, data in fake_files().items()}
  monkeypatch.setattr(fashion_mnist, "fetch", fetch_from(files, calls))
  data = repro.data.load("fashion_mnist", "train", data_dir=places["data_dir"])
  assert len(data["label"]) == SIZES["train"]
  assert sorted(calls) == sorted(
    fashion_mnist.URL + name for name in fashion_mnist.FILE_NAMES
  )
  assert sorted(os.listdir(places["cache"])) == sorted(files)  # No temps.
  calls.clear()  # Prepared: the test split needs no file at all.
  assert (
    len(
      repro.data.load("fashion_mnist", "test", data_dir=places["data_dir"])[
        "label"
      ]
    )
    == 20
  )
  assert not calls


def test_download_fetches_only_the_missing_files(
  places, fake_checksums, monkeypatch
):
  write_files(places["cache"], names=("train-images-idx3-ubyte.gz",))
  calls = []
  files = {name: gz(data) for name, data in fake_files().items()}
  monkeypatch.setattr(fashion_mnist, "fetch", fetch_from(files, calls))
  assert fashion_mnist.locate(places["data_dir"]) == places["cache"]
  assert len(calls) == 3
  assert fashion_mnist.URL + "train-images-idx3-ubyte.gz" not in calls


def test_download_with_a_wrong_md5_is_rejected_and_not_kept(
  places, fake_checksums, monkeypatch
):
  files = {name: gz(data) for name, data in fake_files().items()}
  bad = "train-labels-idx1-ubyte.gz"
  files[bad] = gz(fake_files()[bad][:-1] + b"\x09")  # One label changed.
  monkeypatch.setattr(fashion_mnist, "fetch", fetch_from(files, []))
  with pytest.raises(UserError, match=f"{bad} has MD5 .* not the official"):
    repro.data.load("fashion_mnist", "train", data_dir=places["data_dir"])
  assert bad not in os.listdir(places["cache"])
  assert all(not name.startswith(".") for name in os.listdir(places["cache"]))
  assert not os.path.exists(
    os.path.join(places["data_dir"], "fashion_mnist", "1.0.0")
  )


def test_local_file_with_other_content_is_rejected(places, fake_checksums):
  def change(name, data):
    return data[:-1] + b"\x01" if name.startswith("t10k-images") else data

  write_files(places["debian"], change=change)
  with pytest.raises(UserError, match="t10k-images.*is not the official"):
    repro.data.load("fashion_mnist", "test", data_dir=places["data_dir"])
  assert not os.path.exists(
    os.path.join(places["data_dir"], "fashion_mnist", "1.0.0")
  )


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
  def fail(source, target):
    raise OSError("disk full")

  monkeypatch.setattr(fashion_mnist.os, "replace", fail)
  with pytest.raises(OSError, match="disk full"):
    fashion_mnist.write_atomically(str(tmp_path / "f.gz"), b"data")
  assert os.listdir(tmp_path) == []


def test_missing_files_and_no_network_say_how_to_get_them(places, monkeypatch):
  def unreachable(url):
    raise urllib.error.URLError("Name or service not known")

  monkeypatch.setattr(fashion_mnist, "fetch", unreachable)
  write_files(places["manual"], names=fashion_mnist.FILE_NAMES[:3])
  with pytest.raises(UserError) as error:
    repro.data.load("fashion_mnist", "train", data_dir=places["data_dir"])
  message = str(error.value)
  assert "\n" not in message
  assert "apt-get install dataset-fashion-mnist" in message
  assert fashion_mnist.URL in message and places["manual"] in message
  assert "Name or service not known" in message
  assert not os.path.exists(places["cache"])
  assert not os.path.exists(os.path.join(places["data_dir"], "fashion_mnist"))


def test_missing_files_exit_2_through_the_launcher(places, monkeypatch, capsys):
  from repro import launch  # pylint: disable=g-import-not-at-top

  def unreachable(url):
    raise urllib.error.URLError("no route to host")

  monkeypatch.setattr(fashion_mnist, "fetch", unreachable)
  monkeypatch.setattr(
    launch,
    "main",
    lambda argv: repro.data.load(
      "fashion_mnist", "train", data_dir=places["data_dir"]
    ),
  )
  with pytest.raises(SystemExit) as exit_info:
    launch.run_main(["repro.launch"])
  assert exit_info.value.code == 2
  err = capsys.readouterr().err
  assert err.startswith("error: fashion_mnist needs")
  assert len(err.strip().splitlines()) == 1


def test_unknown_split_is_a_user_error(places):
  with pytest.raises(UserError, match="use one of train, test"):
    repro.data.load("fashion_mnist", "valid", data_dir=places["data_dir"])


def test_real_files():
  """The real idx files: official content, 60k/10k, 10 balanced classes."""
  missing = [
    name
    for name in fashion_mnist.FILE_NAMES
    if not os.path.isfile(os.path.join(REAL_DIR, name))
  ]
  if missing:
    pytest.skip(
      f"{', '.join(missing)} not in {REAL_DIR}; apt-get install"
      " dataset-fashion-mnist to run this test"
    )
  for split, n in (("train", 60000), ("test", 10000)):
    images, labels = fashion_mnist.read_files(REAL_DIR, split)
    chex.assert_shape(images, (n, 28, 28, 1))
    chex.assert_type([images, labels], [np.uint8, np.uint8])
    np.testing.assert_array_equal(np.bincount(labels), [n // 10] * 10)
    assert images.min() == 0 and images.max() == 255
    assert labels[0] == 9  # Both files start with an ankle boot.
  np.testing.assert_array_equal(labels[:10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])


@pytest.mark.slow
def test_real_files_through_tfds(tmp_path, monkeypatch):
  """All 70,000 real images prepared and read back (~30 s; pytest -m slow)."""
  if not all(
    os.path.isfile(os.path.join(REAL_DIR, name))
    for name in fashion_mnist.FILE_NAMES
  ):
    pytest.skip(
      f"the idx files are not in {REAL_DIR}; apt-get install"
      " dataset-fashion-mnist to run this test"
    )
  monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", REAL_DIR)
  for split in fashion_mnist.SPLITS:
    data = repro.data.load("fashion_mnist", split, data_dir=str(tmp_path))
    images, labels = fashion_mnist.read_files(REAL_DIR, split)
    np.testing.assert_array_equal(data["label"], labels)
    np.testing.assert_array_equal(np.round(data["image"] * 255), images)
