"""Circles: three concentric, overlapping annuli in the plane (2-D, 3 classes).

Regenerates the toy dataset of the official Goldilocks-zone code
(``avysogorets/goldilocks-zone``, shipped as ``.pt`` files; 2400 train /
1364 dev points). Its published summary: class 0 has radius below 0.5,
class 1 between about 0.45 and 0.70, class 2 between about 0.65 and 0.90,
class counts 654 / 739 / 1007 (27 / 31 / 42 %).

Generator: every class fills its annulus uniformly with the same areal
density, so a point's class is drawn with probability proportional to the
annulus area (0.25, 0.2875, 0.3875 times pi: 27.0 / 31.1 / 41.9 %, the
shipped proportions), its squared radius uniformly between the annulus's
squared radii, and its angle uniformly. The annuli overlap on
``0.45 < r < 0.5`` and ``0.65 < r < 0.7`` ("jittered thresholds"), where
both classes are equally likely: the Bayes accuracy is
``1 - (0.0475 + 0.0675) / 0.925 = 0.876``.

Pure numpy, deterministic in ``(seed, split)``. Not registered in
``repro.data.load`` (not an image dataset); import this module directly.
"""

from __future__ import annotations

import numpy as np

from repro.core.errors import UserError

# (inner radius, outer radius) of each class's annulus.
ANNULI = ((0.0, 0.5), (0.45, 0.7), (0.65, 0.9))
NUM_CLASSES = len(ANNULI)
SPLIT_SIZES = {"train": 2400, "test": 1364}
_SPLIT_IDS = {"train": 0, "test": 1}


def class_probabilities() -> np.ndarray:
  """Class frequencies implied by a common areal density: ∝ annulus area."""
  areas = np.array([outer**2 - inner**2 for inner, outer in ANNULI])
  return areas / areas.sum()


def bayes_accuracy() -> float:
  """Accuracy of the Bayes classifier (radius thresholds in the overlaps).

  In an overlap both classes have the same density, so half of its points
  are misclassified by any rule; elsewhere the class is determined.
  """
  areas = np.array([outer**2 - inner**2 for inner, outer in ANNULI])
  overlaps = [
    max(0.0, ANNULI[k][1] ** 2 - ANNULI[k + 1][0] ** 2)
    for k in range(NUM_CLASSES - 1)
  ]
  return float(1.0 - sum(overlaps) / areas.sum())


def generate(
  num_points: int, seed: int, split_id: int = 0
) -> tuple[np.ndarray, np.ndarray]:
  """Returns ``(points float32 [n, 2], labels int32 [n])``.

  Deterministic in ``(seed, split_id)``; different split ids give
  independent draws.
  """
  rng = np.random.default_rng([seed, split_id])
  labels = rng.choice(NUM_CLASSES, size=num_points, p=class_probabilities())
  inner = np.array([a for a, _ in ANNULI])[labels]
  outer = np.array([b for _, b in ANNULI])[labels]
  radius = np.sqrt(rng.uniform(inner**2, outer**2))
  angle = rng.uniform(0.0, 2.0 * np.pi, size=num_points)
  points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
  return points.astype(np.float32), labels.astype(np.int32)


def load(
  split: str, seed: int = 0, num_points: int | None = None
) -> dict[str, np.ndarray]:
  """One split as ``{"features": [n, 2] float32, "label": [n] int32}``.

  Args:
    split: "train" (2400 points) or "test" (1364 points, the official
      "dev" split).
    seed: the data seed; each split draws from its own stream.
    num_points: overrides the split's size (smaller smoke-test sets).
  """
  if split not in SPLIT_SIZES:
    raise UserError(
      f"circles has splits {', '.join(SPLIT_SIZES)}, not {split!r}"
    )
  size = SPLIT_SIZES[split] if num_points is None else num_points
  points, labels = generate(size, seed, _SPLIT_IDS[split])
  return {"features": points, "label": labels}
