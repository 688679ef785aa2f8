"""Galaxy Zoo 2 curation on a tiny fake manual directory."""

import csv
import os

import numpy as np
import pytest
from PIL import Image

from repro.core.errors import UserError
from repro.data import galaxy_zoo2 as gz2

PATHS = {  # class -> fractions that put the galaxy on that tree path
  0: {gz2.SMOOTH: 1, gz2.ROUND: 1},
  1: {gz2.SMOOTH: 1, gz2.IN_BETWEEN: 1},
  2: {gz2.SMOOTH: 1, gz2.CIGAR: 1},
  3: {
    gz2.FEATURES: 1,
    gz2.EDGE_ON: 1,
    gz2.BULGE_ROUND: 0.5,
    gz2.BULGE_BOXY: 0.5,
  },
  4: {gz2.FEATURES: 1, gz2.EDGE_ON: 1, gz2.NO_BULGE: 1},
  5: {gz2.FEATURES: 1, gz2.NOT_EDGE_ON: 1, gz2.BAR: 1, gz2.SPIRAL: 1},
  6: {gz2.FEATURES: 1, gz2.NOT_EDGE_ON: 1, gz2.BAR: 1, gz2.NO_SPIRAL: 1},
  7: {gz2.FEATURES: 1, gz2.NOT_EDGE_ON: 1, gz2.NO_BAR: 1, gz2.SPIRAL: 1},
  8: {gz2.FEATURES: 1, gz2.NOT_EDGE_ON: 1, gz2.NO_BAR: 1, gz2.NO_SPIRAL: 1},
}
PER_CLASS = 3
SIZE = 64  # fake cutouts; the crop keeps 32x32, resized to 8x8 (4x4 boxes)


def galaxy_fractions(label: int, strength: float) -> dict[str, float]:
  """Fractions on `label`'s path scaled so its confidence is ~strength^k,
  the rest of the votes spread evenly."""
  row = {c: 0.0 for c in gz2.FRACTION_COLUMNS}
  for column, value in PATHS[label].items():
    row[column] = value * strength
  return row


def fake_image(objid: int) -> np.ndarray:
  """Piecewise-constant 8x8 blocks (JPEG-friendly) seeded by the id."""
  rng = np.random.RandomState(objid)
  blocks = rng.randint(0, 256, size=(SIZE // 8, SIZE // 8, 3))
  return np.kron(blocks, np.ones((8, 8, 1))).astype(np.uint8)


@pytest.fixture(scope="module")
def manual_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("gz2_manual")
  os.makedirs(root / gz2.IMAGE_DIR)
  rows = []
  for label in range(9):
    for k in range(PER_CLASS):
      objid = 1000 + 10 * label + k
      fractions = galaxy_fractions(label, 0.9 - 0.2 * k)
      rows.append({gz2.ID_COLUMN: str(objid), **fractions})
      Image.fromarray(fake_image(objid)).save(
        root / gz2.IMAGE_DIR / f"{objid}.jpg", quality=100
      )
  # A row without an image is skipped.
  rows.append({gz2.ID_COLUMN: "999", **galaxy_fractions(0, 1.0)})
  with open(root / gz2.TABLE_FILE, "w", newline="") as handle:
    writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  return str(root)


def test_confidences_are_path_products():
  fractions = {
    c: np.array([galaxy_fractions(k, 0.8)[c] for k in range(9)])
    for c in gz2.FRACTION_COLUMNS
  }
  confidence = gz2.class_confidences(fractions)
  np.testing.assert_array_equal(confidence.argmax(1), np.arange(9))
  depth = [2, 2, 2, 3, 3, 4, 4, 4, 4]  # fractions multiplied on each path
  expected = [0.8**d for d in depth]
  np.testing.assert_allclose(confidence.max(1), expected, rtol=1e-12)


def test_curation_on_fake_directory(manual_dir, tmp_path):  # noqa: C901
  config = gz2.GalaxyZoo2Config(name="tiny", image_size=8, top_n=2, num_test=1)
  train = gz2.load("train", str(tmp_path), config=config, manual_dir=manual_dir)
  test = gz2.load("test", str(tmp_path), config=config, manual_dir=manual_dir)
  assert train["image"].shape == (9, 8, 8, 3)
  assert test["image"].shape == (9, 8, 8, 3)
  np.testing.assert_array_equal(np.sort(train["label"]), np.arange(9))
  np.testing.assert_array_equal(np.sort(test["label"]), np.arange(9))
  chosen = set(train["objid"]) | set(test["objid"])
  # Top-2 by confidence: k = 0, 1 of every class; k = 2 and id 999 dropped.
  assert chosen == {str(1000 + 10 * c + k) for c in range(9) for k in (0, 1)}
  assert not set(train["objid"]) & set(test["objid"])
  # Seeded split: per class, RandomState(1).permutation(2)[0] -> test.
  first = np.random.RandomState(1).permutation(2)[0]
  assert set(test["objid"]) == {str(1000 + 10 * c + first) for c in range(9)}
  for split in (train, test):
    for objid, label, conf, image in zip(
      split["objid"],
      split["label"],
      split["confidence"],
      split["image"],
      strict=True,
    ):
      assert label == (int(objid) - 1000) // 10
      k = int(objid) % 10
      depth = {0: 2, 1: 2, 2: 2, 3: 3, 4: 3}.get(int(label), 4)
      assert conf == pytest.approx((0.9 - 0.2 * k) ** depth, rel=1e-5)
      # Central half then 4x4 box means of the decoded JPEG.
      with Image.open(
        os.path.join(manual_dir, gz2.IMAGE_DIR, f"{objid}.jpg")
      ) as decoded:
        pixels = np.asarray(decoded.convert("RGB"), np.float64)
      crop = pixels[16:48, 16:48]
      expected = crop.reshape(8, 4, 8, 4, 3).mean((1, 3)) / 255.0
      np.testing.assert_allclose(image, expected, atol=1.01 / 255)
  assert train["image"].min() >= 0.0 and train["image"].max() <= 1.0


def test_normalisation_constants():
  images = np.array(gz2.GZ2_MEAN)[None, None, None, :] * np.ones((1, 2, 2, 3))
  np.testing.assert_allclose(gz2.normalize(images), 0.0, atol=1e-12)
  ones = gz2.normalize(np.array(gz2.GZ2_MEAN) + np.array(gz2.GZ2_STD))
  np.testing.assert_allclose(ones, 1.0)


def test_missing_manual_files_is_a_user_error(tmp_path):
  config = gz2.GalaxyZoo2Config(name="tiny", image_size=8, top_n=2, num_test=1)
  with pytest.raises(UserError, match="gz2_table.csv"):
    gz2.load(
      "train",
      str(tmp_path / "data"),
      config=config,
      manual_dir=str(tmp_path / "empty"),
    )
