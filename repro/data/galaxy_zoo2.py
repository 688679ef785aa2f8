"""Galaxy Zoo 2, curated as in arXiv 2311.17967, as TFDS.

Manual download (nothing is fetched): put into ``manual_dir``

* ``gz2_table.csv``: the GZ2 vote table (``zoo2MainSpecz``, "Table 5" of
  data.galaxyzoo.org) with an integer ``dr7objid`` column and the raw
  ``*_fraction`` columns of ``FRACTION_COLUMNS``;
* ``images/<dr7objid>.jpg``: the SDSS cutouts (424 x 424 in the release).

Curation (inferred from the official ``get_classes``): the
confidence of each of the 9 classes is the product of the vote fractions
along its path of the simplified decision tree (``class_confidences``);
a galaxy's label is the argmax and its confidence the max. For every class
the ``top_n`` most confident galaxies with an image are kept (600 in the
paper); each class's selection, sorted by id, is shuffled with
``np.random.RandomState(1)`` and its first ``num_test`` (100) go to test.
Images: central half (H/4:3H/4, W/4:3W/4), area-averaging resize to
``image_size`` (PIL BOX = OpenCV INTER_AREA), RGB in [0, 1]. The reference
also swaps H and W (``img.T``); we keep the image upright (HWC), a
transpose that a rotation-invariant classifier does not notice.
``GZ2_MEAN`` / ``GZ2_STD`` are the reference's channel statistics.
"""

from __future__ import annotations

import csv
import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds
from etils import epath
from PIL import Image

from repro.core.errors import UserError
from repro.data import sources

NUM_CLASSES = 9
CLASS_NAMES = (
  "smooth_round",
  "smooth_in_between",
  "smooth_cigar",
  "edge_on_bulge",
  "edge_on_no_bulge",
  "barred_spiral",
  "barred_no_spiral",
  "unbarred_spiral",
  "unbarred_no_spiral",
)
_T = "t{:02d}_{}_a{:02d}_{}_fraction"
SMOOTH = _T.format(1, "smooth_or_features", 1, "smooth")
FEATURES = _T.format(1, "smooth_or_features", 2, "features_or_disk")
EDGE_ON = _T.format(2, "edgeon", 4, "yes")
NOT_EDGE_ON = _T.format(2, "edgeon", 5, "no")
BAR = _T.format(3, "bar", 6, "bar")
NO_BAR = _T.format(3, "bar", 7, "no_bar")
SPIRAL = _T.format(4, "spiral", 8, "spiral")
NO_SPIRAL = _T.format(4, "spiral", 9, "no_spiral")
ROUND = _T.format(7, "rounded", 16, "completely_round")
IN_BETWEEN = _T.format(7, "rounded", 17, "in_between")
CIGAR = _T.format(7, "rounded", 18, "cigar_shaped")
BULGE_ROUND = _T.format(9, "bulge_shape", 25, "rounded")
BULGE_BOXY = _T.format(9, "bulge_shape", 26, "boxy")
NO_BULGE = _T.format(9, "bulge_shape", 27, "no_bulge")
FRACTION_COLUMNS = (
  SMOOTH,
  FEATURES,
  EDGE_ON,
  NOT_EDGE_ON,
  BAR,
  NO_BAR,
  SPIRAL,
  NO_SPIRAL,
  ROUND,
  IN_BETWEEN,
  CIGAR,
  BULGE_ROUND,
  BULGE_BOXY,
  NO_BULGE,
)
ID_COLUMN = "dr7objid"
TABLE_FILE = "gz2_table.csv"
IMAGE_DIR = "images"
SPLIT_SEED = 1
GZ2_MEAN = (0.0635, 0.0561, 0.0446)
GZ2_STD = (0.1120, 0.0948, 0.0833)


def class_confidences(f: dict[str, np.ndarray]) -> np.ndarray:
  """[n, 9] products of vote fractions along each class's tree path."""
  smooth, disk = f[SMOOTH], f[FEATURES]
  edge = disk * f[EDGE_ON]
  face = disk * f[NOT_EDGE_ON]
  return np.stack(
    [
      smooth * f[ROUND],
      smooth * f[IN_BETWEEN],
      smooth * f[CIGAR],
      edge * (f[BULGE_ROUND] + f[BULGE_BOXY]),
      edge * f[NO_BULGE],
      face * f[BAR] * f[SPIRAL],
      face * f[BAR] * f[NO_SPIRAL],
      face * f[NO_BAR] * f[SPIRAL],
      face * f[NO_BAR] * f[NO_SPIRAL],
    ],
    axis=1,
  )


def read_table(path: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
  """Ids (strings) and the fraction columns of the vote table."""
  with open(path, newline="") as handle:
    rows = list(csv.DictReader(handle))
  if not rows:
    raise UserError(f"{path} has no rows")
  missing = [c for c in (ID_COLUMN,) + FRACTION_COLUMNS if c not in rows[0]]
  if missing:
    raise UserError(f"{path} lacks the columns {missing}")
  ids = np.array([row[ID_COLUMN] for row in rows])
  fractions = {
    c: np.array([float(row[c]) for row in rows]) for c in FRACTION_COLUMNS
  }
  return ids, fractions


def curate(
  ids: np.ndarray,
  fractions: dict[str, np.ndarray],
  available: set[str],
  top_n: int,
  num_test: int,
) -> dict[str, list[tuple[str, int, float]]]:
  """Top-``top_n`` per class, split; {split: [(id, label, confidence)]}."""
  confidence = class_confidences(fractions)
  labels = confidence.argmax(axis=1)
  best = confidence.max(axis=1)
  splits = {"train": [], "test": []}
  for c in range(NUM_CLASSES):
    members = [i for i in np.flatnonzero(labels == c) if ids[i] in available]
    # Descending confidence; ties by id for determinism.
    members.sort(key=lambda i: (-best[i], ids[i]))
    chosen = sorted(members[:top_n], key=lambda i: ids[i])
    order = np.random.RandomState(SPLIT_SEED).permutation(len(chosen))
    for rank, position in enumerate(order):
      i = chosen[position]
      split = "test" if rank < num_test else "train"
      splits[split].append((str(ids[i]), c, float(best[i])))
  return splits


def preprocess(image: Image.Image, image_size: int) -> np.ndarray:
  """Central half crop, area resize, RGB uint8 [S, S, 3]."""
  image = image.convert("RGB")
  width, height = image.size
  image = image.crop((width // 4, height // 4, 3 * width // 4, 3 * height // 4))
  image = image.resize((image_size, image_size), Image.Resampling.BOX)
  return np.asarray(image, np.uint8)


def normalize(images: np.ndarray) -> np.ndarray:
  """The reference's per-channel standardisation of [0, 1] images."""
  return (images - np.array(GZ2_MEAN)) / np.array(GZ2_STD)


@dataclasses.dataclass
class GalaxyZoo2Config(tfds.core.BuilderConfig):
  image_size: int = 128
  top_n: int = 600
  num_test: int = 100


class GalaxyZoo2(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Curated 9-class Galaxy Zoo 2 (manual download; see module docstring)."""

  name = "galaxy_zoo2"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Top-N by product of vote fractions."}
  BUILDER_CONFIGS = [GalaxyZoo2Config(name="s128", image_size=128)]
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
    f"Put the GZ2 vote table as {TABLE_FILE} (columns {ID_COLUMN} and the "
    f"raw *_fraction columns) and the SDSS cutouts as "
    f"{IMAGE_DIR}/<{ID_COLUMN}>.jpg into the manual_dir."
  )
  code_path = epath.Path(__file__)  # See repro/data/digits.py.

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.image_size
    return tfds.core.DatasetInfo(
      builder=self,
      description="Galaxy Zoo 2, 9 classes, top-N confident per class.",
      features=tfds.features.FeaturesDict(
        {
          # uint8 Tensor, not Image: encoding PNGs would need TensorFlow.
          "image": tfds.features.Tensor(shape=(size, size, 3), dtype=np.uint8),
          "label": tfds.features.ClassLabel(names=CLASS_NAMES),
          "confidence": tfds.features.Tensor(shape=(), dtype=np.float32),
          "objid": tfds.features.Tensor(shape=(), dtype=np.int64),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://data.galaxyzoo.org",
    )

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    table = os.path.join(manual_dir, TABLE_FILE)
    image_dir = os.path.join(manual_dir, IMAGE_DIR)
    if not (os.path.isfile(table) and os.path.isdir(image_dir)):
      raise UserError(
        f"galaxy_zoo2: {table} or {image_dir}/ missing. "
        + self.MANUAL_DOWNLOAD_INSTRUCTIONS
      )
    ids, fractions = read_table(table)
    available = {
      name[:-4] for name in os.listdir(image_dir) if name.endswith(".jpg")
    }
    cfg = self.builder_config
    splits = curate(ids, fractions, available, cfg.top_n, cfg.num_test)
    return {
      split: self._generate_examples(image_dir, rows)
      for split, rows in splits.items()
    }

  def _generate_examples(self, image_dir, rows):
    for objid, label, confidence in rows:
      with Image.open(os.path.join(image_dir, f"{objid}.jpg")) as image:
        pixels = preprocess(image, self.builder_config.image_size)
      yield (
        objid,
        {
          "image": pixels,
          "label": label,
          "confidence": np.float32(confidence),
          "objid": int(objid),
        },
      )


def builder(
  data_dir: str,
  config: GalaxyZoo2Config | str = "s128",
  manual_dir: str | None = None,
) -> GalaxyZoo2:
  """Prepares (once) and returns the builder of ``config``."""
  probe = GalaxyZoo2(
    data_dir=data_dir, config=config, file_format="array_record"
  )
  if not probe.is_prepared():
    manual_dir = manual_dir or os.path.join(
      data_dir, "downloads", "manual", "galaxy_zoo2"
    )
    if not os.path.isfile(os.path.join(manual_dir, TABLE_FILE)):
      raise UserError(
        f"galaxy_zoo2: {manual_dir}/{TABLE_FILE} missing. "
        + GalaxyZoo2.MANUAL_DOWNLOAD_INSTRUCTIONS
      )
    probe.download_and_prepare(
      download_config=tfds.download.DownloadConfig(
        manual_dir=manual_dir, try_download_gcs=False
      )
    )
  return GalaxyZoo2(data_dir=data_dir, config=config)


def load(
  split: str,
  data_dir: str,
  image_size: int = 128,
  config: GalaxyZoo2Config | None = None,
  manual_dir: str | None = None,
) -> dict[str, np.ndarray]:
  """One split: image float32 [n, S, S, 3] in [0, 1], label, confidence,
  objid; ordered by objid."""
  if split not in ("train", "test"):
    raise UserError(f"unknown split {split!r} for galaxy_zoo2")
  if config is None:
    config = (
      "s128"
      if image_size == 128
      else GalaxyZoo2Config(name=f"s{image_size}", image_size=image_size)
    )
  arrays = sources.read_split(builder(data_dir, config, manual_dir), split)
  objid = np.array([str(v) for v in arrays["objid"]])
  order = np.argsort(objid)
  return {
    "image": arrays["image"][order].astype(np.float32) / 255.0,
    "label": arrays["label"][order].astype(np.int32),
    "confidence": arrays["confidence"][order].astype(np.float32),
    "objid": objid[order],
  }
