"""Where prepared datasets live, and TFDS array_record splits -> numpy."""

import os

import numpy as np
import tensorflow_datasets as tfds

ENV_DATA_DIR = "REPRO_DATA_DIR"
DEFAULT_DATA_DIR = "~/.cache/repro/tensorflow_datasets"


def resolve_data_dir(data_dir: str | None = None) -> str:
  """Returns `data_dir`, else $REPRO_DATA_DIR, else the default cache."""
  path = data_dir or os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR
  return os.path.abspath(os.path.expanduser(path))


def read_split(
    builder: tfds.core.DatasetBuilder, split: str
) -> dict[str, np.ndarray]:
  """Reads a whole array_record split, one array per feature.

  Goes through TFDS's random-access data source, which decodes records with
  numpy (and PIL for encoded images), so TensorFlow is not needed.
  """
  source = builder.as_data_source(split=split)
  records = source.__getitems__(range(len(source)))
  if not records:
    return {}
  return {key: np.stack([record[key] for record in records])
          for key in records[0]}
