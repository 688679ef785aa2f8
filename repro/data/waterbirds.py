"""Waterbirds (Sagawa et al. 2020) from a prepared data directory.

The paper preset of the group_priors study reads the standard
``waterbird_complete95_forest2water2`` folder of the group DRO release
(``metadata.csv`` with columns img_filename, y, split, place; split 0/1/2 =
train/val/test: 4795 / 1199 / 5794 images). Nothing is downloaded: put the
folder under ``<data_dir>/waterbirds/`` (the TFDS manual-dir convention).
Label y = bird type (1 = waterbird), attribute = place (1 = water).
Images are resized to a square ``image_size`` and cached as ``.npz`` next
to the metadata.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from repro.core.errors import UserError
from repro.data import sources

FOLDER = "waterbird_complete95_forest2water2"
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
URL = (
  "https://nlp.stanford.edu/data/dro/waterbird_complete95_forest2water2.tar.gz"
)


def root(data_dir: str | None) -> str:
  """``<data_dir>/waterbirds/waterbird_complete95_forest2water2``."""
  return os.path.join(sources.resolve_data_dir(data_dir), "waterbirds", FOLDER)


def load(
  split: str, data_dir: str | None = None, image_size: int = 64
) -> dict[str, np.ndarray]:
  """One split: {"image" float32 [n, s, s, 3] in [0, 1], "label",
  "attribute"} (int32 [n]).

  Raises:
    UserError: unknown split, or the folder is not prepared.
  """
  if split not in SPLIT_CODES:
    raise UserError(
      f"unknown waterbirds split {split!r}; use one of {', '.join(SPLIT_CODES)}"
    )
  folder = root(data_dir)
  metadata = os.path.join(folder, "metadata.csv")
  if not os.path.exists(metadata):
    raise UserError(
      f"Waterbirds not found at {folder}; download {URL} and extract it "
      f"into {os.path.dirname(folder)} (then pass --data_dir)"
    )
  cache = os.path.join(folder, f"repro_{split}_{image_size}.npz")
  if os.path.exists(cache):
    with np.load(cache) as stored:
      return {k: stored[k] for k in ("image", "label", "attribute")}
  from PIL import Image  # pylint: disable=g-import-not-at-top

  images, labels, places = [], [], []
  with open(metadata, newline="") as f:
    for row in csv.DictReader(f):
      if int(row["split"]) != SPLIT_CODES[split]:
        continue
      with Image.open(os.path.join(folder, row["img_filename"])) as image:
        image = image.convert("RGB").resize(
          (image_size, image_size), Image.BILINEAR
        )
        images.append(np.asarray(image, np.float32) / 255.0)
      labels.append(int(row["y"]))
      places.append(int(row["place"]))
  data = {
    "image": np.stack(images),
    "label": np.array(labels, np.int32),
    "attribute": np.array(places, np.int32),
  }
  try:
    np.savez(cache, **data)
  except OSError:
    pass  # a read-only data_dir: no cache.
  return data
