"""TFDS catalog datasets (mnist, cifar10, ...), read from a prepared data_dir.

Nothing is downloaded here: the user prepares a dataset once with TFDS, and
this module only reads it. Splits prepared in TFDS's default tfrecord format
are read with `as_dataset`, which needs TensorFlow (the `[paper]` extra).
Splits prepared with `file_format='array_record'` are read through the data
source API, which decodes the PNG images with PIL and needs no TensorFlow.
"""

import numpy as np
import tensorflow_datasets as tfds

from repro.core.errors import UserError
from repro.data import sources

# fashion_mnist is not here: repro.data.fashion_mnist prepares it from the
# idx files (Debian package or official download) with no TensorFlow.
CATALOG = ("mnist", "cifar10", "cifar100", "svhn_cropped")


def prepare_command(name: str, data_dir: str) -> str:
  """Returns the one-line shell instructions that prepare `name`."""
  return (
    "pip install -e '.[paper]' && python -c \"import tensorflow_datasets as"
    f" tfds; tfds.builder('{name}', data_dir='{data_dir}')"
    '.download_and_prepare()"'
  )


def _read_with_tensorflow(
  builder: tfds.core.DatasetBuilder, split: str, data_dir: str
) -> dict[str, np.ndarray]:
  """Reads a whole tfrecord split in one batch with tf.data."""
  try:
    import tensorflow  # noqa: F401  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise UserError(
      f"{builder.name} in {data_dir} is stored as"
      f" {builder.info.file_format.value}, which needs tensorflow to read:"
      " pip install -e '.[paper]' (or prepare it with"
      " file_format='array_record')"
    ) from None
  return tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))


def load(name: str, split: str, data_dir: str) -> dict[str, np.ndarray]:
  """Returns image (float32 in [0, 1], NHWC) and label (int32) of `split`."""
  if name not in CATALOG:
    raise UserError(
      f"unknown catalog dataset {name!r}; use one of {', '.join(CATALOG)}"
    )
  builder = tfds.builder(name, data_dir=data_dir)
  if not builder.is_prepared():
    raise UserError(
      f"{name} is not prepared in data_dir {data_dir}; prepare it with:"
      f" {prepare_command(name, data_dir)}; then pass --data_dir={data_dir}"
    )
  if split not in builder.info.splits:
    raise UserError(
      f"unknown split {split!r} for {name}; use one of"
      f" {', '.join(builder.info.splits)}"
    )
  if builder.info.file_format == tfds.core.FileFormat.ARRAY_RECORD:
    arrays = sources.read_split(builder, split)
  else:
    arrays = _read_with_tensorflow(builder, split, data_dir)
  image = np.asarray(arrays["image"])
  # Catalog images are uint8 pixels; 255 maps to 1.
  return {
    "image": image.astype(np.float32) / np.float32(255.0),
    "label": np.asarray(arrays["label"]).astype(np.int32),
  }
