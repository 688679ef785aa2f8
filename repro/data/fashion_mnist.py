"""Fashion-MNIST from its four original idx files, as TFDS array_record.

Zalando's 70,000 28x28 grayscale article images in 10 classes (0 T-shirt/
top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker,
8 bag, 9 ankle boot), with the official split: 60,000 train and 10,000 test
images, 6,000 and 1,000 per class.

Where the files come from, the first that holds all four of `FILES`:

1. the manual dir, by default `<data_dir>/downloads/manual/fashion_mnist`
   (as for `galaxy_zoo2`);
2. `/usr/share/datasets/fashion-mnist`, where Debian's package
   `dataset-fashion-mnist` puts them;
3. `~/.cache/repro/fashion_mnist`.

If none does, the missing files are downloaded from the official location
(`URL`) into 3; each download is checked against the MD5 that the official
README lists and written to a temporary name that is renamed only once
verified, so a failed or corrupt download leaves no file. Where that fails
too (no network), preparing stops with one line saying how to get the files.
Every file used, from any of the places, must decompress to the official
content (`CONTENT_SHA256`, the SHA-256 of the uncompressed idx bytes): Debian
recompresses the official .gz files (its gzip headers carry no file name),
so its .gz bytes differ from the official MD5s while the content is the
same.

Stored features: `image` uint8 [28, 28, 1] (pixels 0..255, 0 the
background), `label` 0..9, `index` the example's position in its split's
idx file. `load` returns `image` as float32 pixel / 255, so in [0, 1]; the
raw pixels are `np.round(image * 255).astype(np.uint8)`.
"""

import gzip
import hashlib
import os
import tempfile
import urllib.request
import zlib

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from repro.core.errors import UserError
from repro.data import sources

SPLITS = ("train", "test")
CLASS_NAMES = (
  "t_shirt_top",
  "trouser",
  "pullover",
  "dress",
  "coat",
  "sandal",
  "shirt",
  "sneaker",
  "bag",
  "ankle_boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 28
# split -> (images file, labels file)
FILES = {
  "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
  "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FILE_NAMES = tuple(name for pair in FILES.values() for name in pair)
URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# MD5 of each .gz as listed in github.com/zalandoresearch/fashion-mnist's
# README ("Get the Data").
OFFICIAL_MD5 = {
  "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
  "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
  "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
  "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
# SHA-256 of each file's uncompressed idx bytes. Measured on Debian's
# dataset-fashion-mnist 0.0~git20200523.55506a9-1, whose .gz files are the
# official ones with a rewritten gzip header: restoring the header (file
# name, mtime) reproduces the official .gz SHA-256s of TFDS's
# url_checksums/fashion_mnist.txt, so the content is the official content.
# fmt: off
CONTENT_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz":
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz":
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz":
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# fmt: on
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
CACHE_DIR = "~/.cache/repro/fashion_mnist"
FETCH_TIMEOUT_S = 60
IDX_UNSIGNED_BYTE = 0x08


def default_manual_dir(data_dir: str) -> str:
  return os.path.join(data_dir, "downloads", "manual", "fashion_mnist")


def search_dirs(data_dir: str, manual_dir: str | None = None) -> list[str]:
  """The places looked in, in order (see the module docstring)."""
  return [
    manual_dir or default_manual_dir(data_dir),
    DEBIAN_DIR,
    os.path.expanduser(CACHE_DIR),
  ]


def how_to_get(data_dir: str, manual_dir: str | None = None) -> str:
  """One line: where the files are looked for and how to put them there."""
  return (
    f"fashion_mnist needs {', '.join(FILE_NAMES)} in one of"
    f" {', '.join(search_dirs(data_dir, manual_dir))}: apt-get install"
    f" {DEBIAN_PACKAGE}, or download them from {URL} into the first"
  )


def parse_idx(data: bytes, path: str) -> np.ndarray:
  """An idx array of unsigned bytes (LeCun's MNIST format) from its bytes.

  Header: two zero bytes, the type code 0x08 (unsigned byte), the number of
  dimensions d, then d big-endian uint32 sizes; then the values, row-major.
  """
  if len(data) < 4 or data[:2] != b"\0\0" or data[2] != IDX_UNSIGNED_BYTE:
    raise UserError(f"fashion_mnist: {path} is not an idx file of bytes")
  header = 4 + 4 * data[3]
  if len(data) < header:
    raise UserError(f"fashion_mnist: {path} ends inside its idx header")
  shape = tuple(
    int(size) for size in np.frombuffer(data[4:header], dtype=">u4")
  )
  if len(data) != header + int(np.prod(shape)):
    raise UserError(
      f"fashion_mnist: {path} holds {len(data) - header} values, not the"
      f" {shape} its header states"
    )
  return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_gz(path: str) -> np.ndarray:
  """Decompresses, checks against `CONTENT_SHA256` and parses one file."""
  name = os.path.basename(path)
  try:
    with gzip.open(path, "rb") as handle:
      data = handle.read()
  except (OSError, EOFError, zlib.error) as error:
    raise UserError(
      f"fashion_mnist: cannot read {path} ({error}); delete it and run again"
    ) from error
  digest = hashlib.sha256(data).hexdigest()
  if digest != CONTENT_SHA256[name]:
    raise UserError(
      f"fashion_mnist: {path} is not the official {name} (content SHA-256"
      f" {digest}, expected {CONTENT_SHA256[name]}); delete it and run again"
    )
  return parse_idx(data, path)


def read_files(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """Images uint8 [n, 28, 28, 1] and labels uint8 [n] of one split."""
  images_name, labels_name = FILES[split]
  images = read_idx_gz(os.path.join(directory, images_name))
  labels = read_idx_gz(os.path.join(directory, labels_name))
  if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or labels.ndim != 1:
    raise UserError(
      f"fashion_mnist: {directory} holds images {images.shape} and labels"
      f" {labels.shape}; expected [n, 28, 28] and [n]"
    )
  if len(images) != len(labels) or labels.max(initial=0) >= NUM_CLASSES:
    raise UserError(
      f"fashion_mnist: {labels_name} in {directory} does not hold"
      f" {len(images)} labels 0..9"
    )
  return images[..., None], labels


def fetch(url: str) -> bytes:
  """The body of `url`; raises OSError where the network does not answer."""
  with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
    return response.read()


def write_atomically(path: str, data: bytes) -> None:
  """Writes a temporary file beside `path` and renames it to `path`."""
  directory, name = os.path.split(path)
  handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
  try:
    with os.fdopen(handle, "wb") as file:
      file.write(data)
    os.replace(temporary, path)
  except BaseException:
    os.unlink(temporary)
    raise


def download(directory: str) -> None:
  """Fetches the files missing from `directory`, each checked by its MD5.

  Raises:
    OSError: the network or the file system failed.
    UserError: a download's MD5 differs from the official one (not kept).
  """
  for name in FILE_NAMES:
    path = os.path.join(directory, name)
    if os.path.isfile(path):
      continue
    data = fetch(URL + name)
    digest = hashlib.md5(data).hexdigest()
    if digest != OFFICIAL_MD5[name]:
      raise UserError(
        f"fashion_mnist: the download of {URL + name} has MD5 {digest}, not"
        f" the official {OFFICIAL_MD5[name]}; not kept, try again later"
      )
    os.makedirs(directory, exist_ok=True)
    write_atomically(path, data)


def locate(data_dir: str, manual_dir: str | None = None) -> str:
  """The first directory holding all four files, downloading if needed.

  Raises:
    UserError: the files are nowhere and could not be downloaded.
  """
  for directory in search_dirs(data_dir, manual_dir):
    if all(
      os.path.isfile(os.path.join(directory, name)) for name in FILE_NAMES
    ):
      return directory
  cache_dir = os.path.expanduser(CACHE_DIR)
  try:
    download(cache_dir)
  except OSError as error:
    raise UserError(
      f"{how_to_get(data_dir, manual_dir)} (downloading failed: {error})"
    ) from error
  return cache_dir


class FashionMnist(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Fashion-MNIST, official 60k/10k split, from the idx files."""

  name = "fashion_mnist"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "The official idx files, official split."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
    f"Put {', '.join(FILE_NAMES)} from {URL} into the manual_dir, or"
    f" apt-get install {DEBIAN_PACKAGE}."
  )
  code_path = epath.Path(__file__)  # See repro/data/digits.py.

  def _info(self) -> tfds.core.DatasetInfo:
    shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    return tfds.core.DatasetInfo(
      builder=self,
      description="Zalando's Fashion-MNIST, 28x28 grayscale, 10 classes.",
      features=tfds.features.FeaturesDict(
        {
          # uint8 Tensor, not Image: encoding PNGs would need TensorFlow.
          "image": tfds.features.Tensor(shape=shape, dtype=np.uint8),
          "label": tfds.features.ClassLabel(names=CLASS_NAMES),
          "index": tfds.features.Tensor(shape=(), dtype=np.int64),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://github.com/zalandoresearch/fashion-mnist",
    )

  def _split_generators(self, dl_manager):
    directory = os.fspath(dl_manager.manual_dir)
    return {
      split: self._generate_examples(*read_files(directory, split))
      for split in SPLITS
    }

  def _generate_examples(self, images, labels):
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
      yield index, {"image": image, "label": int(label), "index": index}


def prepare(data_dir: str, manual_dir: str | None = None) -> FashionMnist:
  """Writes the array_record files once (see the module docstring)."""
  if sources.is_prepared(FashionMnist, data_dir):
    return FashionMnist(data_dir=data_dir)
  directory = locate(data_dir, manual_dir)
  return sources.prepare_once(
    FashionMnist,
    data_dir,
    tfds.download.DownloadConfig(manual_dir=directory),
  )


def load(
  split: str, data_dir: str, manual_dir: str | None = None
) -> dict[str, np.ndarray]:
  """One split in idx order: image float32 [n, 28, 28, 1] in [0, 1]
  (pixel / 255), label int32, index int64."""
  if split not in SPLITS:
    raise UserError(
      f"unknown split {split!r} for fashion_mnist; use one of"
      f" {', '.join(SPLITS)}"
    )
  arrays = sources.read_split(prepare(data_dir, manual_dir), split)
  return sources.ordered_images(arrays)
