"""sklearn's 8x8 handwritten digits as a TFDS builder stored in array_record.

The 1797 images ship inside scikit-learn (`sklearn.datasets.load_digits`), so
preparing needs no download. `Digits` is a `tfds.core.GeneratorBasedBuilder`
with Tensor features written in the array_record format; TFDS serializes,
writes and reads those without TensorFlow (checked with TFDS 4.9.10, with
`import tensorflow` failing).

Features: `image` float32 [8, 8, 1] (pixel counts 0..16 divided by 16, so in
[0, 1]), `label` int 0..9, `index` the example's row in `load_digits()`.

Split (version 1.0.0): stratified 70/30. For each class c = 0..9, in that
order, `np.random.RandomState(0).permutation` (a single generator, whose stream
numpy keeps frozen) of the class's rows; the first round(0.3 * n_c) go to
`test`, the rest to `train`: 1258 train and 539 test examples.

Preparation is atomic: TFDS writes into a temporary `incomplete.*` folder and
renames it to `<data_dir>/digits/1.0.0` only once complete, so a failed run
leaves nothing that looks prepared. If two processes prepare at once, the
loser's rename fails and it uses the winner's (identical) copy.
"""

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from repro.core.errors import UserError
from repro.data import sources

SPLITS = ("train", "test")
TEST_FRACTION = 0.3
SPLIT_SEED = 0
NUM_CLASSES = 10


def _load_sklearn_digits():
  """Returns sklearn's digits bunch; imported here as sklearn takes ~1 s."""
  import sklearn.datasets  # pylint: disable=g-import-not-at-top

  return sklearn.datasets.load_digits()


def split_indices() -> dict[str, np.ndarray]:
  """Returns the sorted `load_digits()` rows of each split (see docstring)."""
  return sources.stratified_split(
    _load_sklearn_digits().target,
    NUM_CLASSES,
    lambda size: int(round(TEST_FRACTION * size)),
    SPLIT_SEED,
  )


class Digits(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """UCI optical-recognition digits, 8x8, as bundled with scikit-learn."""

  name = "digits"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Stratified 70/30 train/test split, seed 0."}
  # TFDS 4.9.10 derives this with `importlib_resources`, which it does not
  # install on Python >= 3.9 (tensorflow/datasets#11212); it is this file.
  code_path = epath.Path(__file__)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
      builder=self,
      description="8x8 handwritten digits from sklearn.datasets.",
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Tensor(shape=(8, 8, 1), dtype=np.float32),
          "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),
          "index": tfds.features.Tensor(shape=(), dtype=np.int64),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://archive.ics.uci.edu/dataset/80",
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    bunch = _load_sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)[..., None]
    return {
      split: self._generate_examples(images, bunch.target, rows)
      for split, rows in split_indices().items()
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


def prepare(data_dir: str) -> Digits:
  """Writes the array_record files once; returns a builder that reads them."""
  return sources.prepare_once(Digits, data_dir)


def load(split: str, data_dir: str) -> dict[str, np.ndarray]:
  """Returns `split` ordered by `index`: image, label (int32) and index."""
  if split not in SPLITS:
    raise UserError(
      f"unknown split {split!r} for digits; use one of {', '.join(SPLITS)}"
    )
  arrays = sources.read_split(prepare(data_dir), split)
  order = np.argsort(arrays["index"])
  return {
    "image": arrays["image"][order].astype(np.float32),
    "label": arrays["label"][order].astype(np.int32),
    "index": arrays["index"][order].astype(np.int64),
  }
