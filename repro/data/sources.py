"""Where prepared datasets live, and TFDS array_record splits -> numpy."""

import os
from collections.abc import Callable

import numpy as np
import tensorflow_datasets as tfds

from repro.core.errors import UserError

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
  return {
    key: np.stack([record[key] for record in records]) for key in records[0]
  }


def stratified_split(
  labels: np.ndarray,
  num_classes: int,
  num_test: Callable[[int], int],
  seed: int,
) -> dict[str, np.ndarray]:
  """The sorted rows of each split of a per-class train/test split.

  Class by class (in label order, one ``RandomState(seed)`` stream), the
  first ``num_test(class size)`` rows of a random permutation of the class
  are test rows; every other row is a training row.
  """
  rng = np.random.RandomState(seed)
  test = []
  for label in range(num_classes):
    members = np.flatnonzero(labels == label)
    test.append(rng.permutation(members)[: num_test(len(members))])
  test = np.sort(np.concatenate(test))
  train = np.setdiff1d(np.arange(len(labels)), test)
  return {"train": train, "test": test}


def _config_name(config: str | tfds.core.BuilderConfig | None) -> str:
  return getattr(config, "name", config) or ""


def is_prepared(
  builder_cls: type[tfds.core.DatasetBuilder],
  data_dir: str,
  config: str | tfds.core.BuilderConfig | None = None,
) -> bool:
  """Whether `builder_cls` (with builder `config`, if any) is under `data_dir`.

  TFDS renames the finished folder into place, so its existence is enough
  (the check `download_and_prepare` itself makes).
  """
  return os.path.isdir(
    os.path.join(
      data_dir, builder_cls.name, _config_name(config), str(builder_cls.VERSION)
    )
  )


def prepare_once(
  builder_cls: type[tfds.core.DatasetBuilder],
  data_dir: str,
  download_config: tfds.download.DownloadConfig | None = None,
  config: str | tfds.core.BuilderConfig | None = None,
) -> tfds.core.DatasetBuilder:
  """Writes `builder_cls`'s array_record files once; returns a reader.

  TFDS writes into a temporary `incomplete.*` folder and renames it into
  place when complete, so a failed run leaves nothing that looks prepared.
  If two processes prepare at once, the loser's rename fails with an
  OSError and it reads the winner's (identical) copy. `config` is the
  builder config (its name, for one of `BUILDER_CONFIGS`).
  """
  kwargs = {"config": config} if config is not None else {}
  if not is_prepared(builder_cls, data_dir, config):
    builder = builder_cls(
      data_dir=data_dir, file_format="array_record", **kwargs
    )
    download = download_config or tfds.download.DownloadConfig()
    download.try_download_gcs = False
    try:
      builder.download_and_prepare(download_config=download)
    except OSError as error:
      if not is_prepared(builder_cls, data_dir, config):
        raise UserError(
          f"cannot prepare {builder_cls.name} under {data_dir} ({error});"
          f" pass a writable --data_dir or set ${ENV_DATA_DIR}"
        ) from error
  # Reads the dataset info back from the prepared folder.
  return builder_cls(data_dir=data_dir, **kwargs)


def ordered_images(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """uint8 image/label/index records -> sorted by index, image / 255."""
  order = np.argsort(arrays["index"], kind="stable")
  return {
    "image": arrays["image"][order].astype(np.float32) / np.float32(255),
    "label": arrays["label"][order].astype(np.int32),
    "index": arrays["index"][order].astype(np.int64),
  }
