"""Datasets, all through TFDS builders; see `repro.data.load`."""

from repro.data.loader import DATASETS, EMBEDDED, load
from repro.data.sources import resolve_data_dir
from repro.data.subsets import binary_subset

__all__ = [
  "DATASETS",
  "EMBEDDED",
  "binary_subset",
  "load",
  "resolve_data_dir",
]
