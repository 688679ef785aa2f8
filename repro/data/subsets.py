"""Class subsets of a labelled dataset, e.g. digits 2 vs 7 for binary tasks."""

import numpy as np

from repro.core.errors import UserError


def binary_subset(
  data: dict[str, np.ndarray], class_pos: int, class_neg: int
) -> tuple[np.ndarray, np.ndarray]:
  """Keeps two classes; returns (x [n, d] flattened float32, y in {+1, -1}).

  Args:
    data: a dict from `repro.data.load` with "image" [n, ...] and "label" [n].
    class_pos: the label that becomes y = +1.
    class_neg: the label that becomes y = -1.

  Returns:
    x: the kept images flattened to [n, d], float32, in their original order.
    y: float32 [n], +1 for `class_pos` and -1 for `class_neg`.
  """
  labels = np.asarray(data["label"])
  if class_pos == class_neg:
    raise UserError(f"class_pos and class_neg are both {class_pos}; pick two")
  for label in (class_pos, class_neg):
    if not np.any(labels == label):
      raise UserError(
        f"class {label} has no examples; pick labels among"
        f" {sorted(set(labels.tolist()))}"
      )
  keep = (labels == class_pos) | (labels == class_neg)
  images = np.asarray(data["image"], dtype=np.float32)[keep]
  x = images.reshape(len(images), -1)
  y = np.where(labels[keep] == class_pos, 1.0, -1.0).astype(np.float32)
  return x, y
