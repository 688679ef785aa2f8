"""B8: the Galaxy Zoo 2 builder on a fake manual directory.

Writes a tiny manual_dir (vote table + JPEG cutouts of rendered galaxies,
a few per class with decreasing confidence, plus distractors), prepares the
curated dataset with top_n = 2 and num_test = 1, and counts the checks
that fail against answers computed here by brute force: split sizes, image
shape and range, labels = argmax of the path products, the top-2 ids per
class, confidences, disjoint splits, and the reference's standardisation.
"""

from __future__ import annotations

import csv
import os
import tempfile

import numpy as np
from PIL import Image

from repro.data import galaxies
from repro.data import galaxy_zoo2 as gz2

_PATHS = (
  (gz2.SMOOTH, gz2.ROUND),
  (gz2.SMOOTH, gz2.IN_BETWEEN),
  (gz2.SMOOTH, gz2.CIGAR),
  (gz2.FEATURES, gz2.EDGE_ON, gz2.BULGE_ROUND),
  (gz2.FEATURES, gz2.EDGE_ON, gz2.NO_BULGE),
  (gz2.FEATURES, gz2.NOT_EDGE_ON, gz2.BAR, gz2.SPIRAL),
  (gz2.FEATURES, gz2.NOT_EDGE_ON, gz2.BAR, gz2.NO_SPIRAL),
  (gz2.FEATURES, gz2.NOT_EDGE_ON, gz2.NO_BAR, gz2.SPIRAL),
  (gz2.FEATURES, gz2.NOT_EDGE_ON, gz2.NO_BAR, gz2.NO_SPIRAL),
)
PER_CLASS = 3


def loader_errors(image_size: int = 8) -> int:
  """Number of failed checks (0 when the builder is correct)."""
  with tempfile.TemporaryDirectory() as root:
    manual = os.path.join(root, "manual")
    os.makedirs(os.path.join(manual, gz2.IMAGE_DIR))
    rows, strengths = [], {}
    for label, path in enumerate(_PATHS):
      for k in range(PER_CLASS):
        objid = 100 * (label + 1) + k
        strength = 0.95 - 0.2 * k
        row = {c: 0.0 for c in gz2.FRACTION_COLUMNS}
        row.update({c: strength for c in path})
        rows.append({gz2.ID_COLUMN: objid, **row})
        strengths[objid] = strength ** len(path)
        picture = galaxies.render(
          label, 32, galaxies.example_rng("test", objid)
        )
        Image.fromarray((picture * 255).astype(np.uint8)).resize((64, 64)).save(
          os.path.join(manual, gz2.IMAGE_DIR, f"{objid}.jpg")
        )
    with open(os.path.join(manual, gz2.TABLE_FILE), "w", newline="") as f:
      writer = csv.DictWriter(f, fieldnames=list(rows[0]))
      writer.writeheader()
      writer.writerows(rows)
    config = gz2.GalaxyZoo2Config(
      name="check", image_size=image_size, top_n=2, num_test=1
    )
    splits = {
      s: gz2.load(
        s, os.path.join(root, "data"), config=config, manual_dir=manual
      )
      for s in ("train", "test")
    }
  checks = []
  expected_ids = {str(100 * (c + 1) + k) for c in range(9) for k in (0, 1)}
  chosen = set()
  for split in splits.values():
    checks.append(split["image"].shape == (9, image_size, image_size, 3))
    checks.append(0.0 <= split["image"].min() <= split["image"].max() <= 1)
    checks.append(sorted(split["label"].tolist()) == list(range(9)))
    ids = split["objid"].astype(int)
    checks.append(bool(np.all(split["label"] == ids // 100 - 1)))
    checks.append(
      bool(
        np.allclose(split["confidence"], [strengths[i] for i in ids], rtol=1e-5)
      )
    )
    checks.append(not chosen & set(split["objid"]))
    chosen |= set(split["objid"])
  checks.append(chosen == expected_ids)
  standard = gz2.normalize(np.array(gz2.GZ2_MEAN) + np.array(gz2.GZ2_STD))
  checks.append(bool(np.allclose(standard, 1.0)))
  return int(len(checks) - sum(bool(c) for c in checks))
