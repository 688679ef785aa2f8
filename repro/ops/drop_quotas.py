"""DRoP class-wise pruning quotas and class-quota selection.

Vysogorets, Ahuja & Kempe, "DRoP: Distributionally Robust Data Pruning"
(ICLR 2025, arXiv 2404.05579), Algorithm 1: per-class density proportional
to the class's validation error rate 1 - r_k, capped at 1 with the excess
redistributed over the unsaturated classes; the kept points of each class
are then drawn uniformly at random ("Random+DRoP"). The same quota
selection with scores instead of random numbers gives "Strategy+DRoP",
and random selection at a strategy's own class counts "Random+StrategyQ"
(paper notes, Sec. 3).

Pure numpy: quotas are a handful of numbers computed once per density.
"""

from __future__ import annotations

import numpy as np


def drop_densities(class_sizes, recalls, density: float,
                   error_floor: float = 0.0) -> np.ndarray:
  """Per-class densities d_k of Algorithm 1 (paper's density form).

  d_k ∝ (1 - r_k) with sum_k N_k d_k = density * N, every d_k <= 1; classes
  that reach 1 are removed from the active set and their excess is
  redistributed (the loop runs at most K times). The notes' factor E in
  d'_k (missing in the quoted text) is included so the budget is met.

  Args:
    class_sizes: N_k, [K].
    recalls: validation recall r_k in [0, 1], [K].
    density: target fraction d of the whole dataset kept, in [0, 1].
    error_floor: errors below this are raised to it (notes pitfall 1: a
      zero-error class would otherwise get no quota at all).

  Returns:
    float64 [K] densities in [0, 1].
  """
  sizes = np.asarray(class_sizes, np.float64)
  errors = np.maximum(1.0 - np.asarray(recalls, np.float64), error_floor)
  if not 0.0 <= density <= 1.0:
    raise ValueError(f"density must be in [0, 1], got {density}")
  if np.all(errors <= 0):
    raise ValueError("every class has zero validation error; set an "
                     "error_floor > 0 (paper notes, pitfall 1)")
  densities = np.zeros_like(sizes)
  active = (sizes > 0) & (errors > 0)
  excess = density * sizes.sum()
  for _ in range(len(sizes) + 1):
    if excess <= 1e-9 * max(sizes.sum(), 1.0) or not active.any():
      break
    normaliser = np.sum(sizes[active] * errors[active])
    increment = np.where(active, excess * errors / normaliser, 0.0)
    densities += increment
    excess -= np.sum(sizes * increment)
    saturated = active & (densities > 1.0)
    excess += np.sum(sizes[saturated] * (densities[saturated] - 1.0))
    densities[saturated] = 1.0
    active &= ~saturated
  if excess > 1e-6 * max(sizes.sum(), 1.0):
    # Only zero-error classes are left below 1: fill them proportionally.
    rest = (sizes > 0) & (densities < 1.0)
    room = np.sum(sizes[rest] * (1.0 - densities[rest]))
    densities[rest] += (1.0 - densities[rest]) * min(excess / room, 1.0)
  return np.minimum(densities, 1.0)


def integer_quotas(class_sizes, densities, total: int) -> np.ndarray:
  """Integer counts from densities: floors, then largest remainders.

  The counts sum exactly to ``total`` (so every method keeps the same
  number of points) and never exceed the class sizes. Leftovers go to the
  largest fractional parts (the official code fills them at random).
  """
  sizes = np.asarray(class_sizes, np.int64)
  wanted = np.asarray(densities, np.float64) * sizes
  counts = np.minimum(np.floor(wanted + 1e-9).astype(np.int64), sizes)
  if not 0 <= total <= sizes.sum():
    raise ValueError(f"total {total} not in [0, {sizes.sum()}]")
  remainder = wanted - counts
  while counts.sum() != total:
    room = counts < sizes
    if counts.sum() < total:
      order = np.argsort(-np.where(room, remainder, -np.inf), kind="stable")
      counts[order[0]] += 1
      remainder[order[0]] -= 1.0
    else:
      order = np.argsort(np.where(counts > 0, remainder, np.inf),
                         kind="stable")
      counts[order[0]] -= 1
      remainder[order[0]] += 1.0
  return counts


def drop_counts(class_sizes, recalls, density: float,
                error_floor: float = 0.0) -> np.ndarray:
  """Integer DRoP quotas summing to round(density * N)."""
  sizes = np.asarray(class_sizes, np.int64)
  total = int(round(density * sizes.sum()))
  return integer_quotas(sizes, drop_densities(sizes, recalls, density,
                                              error_floor), total)


def class_counts(labels, num_classes: int, mask=None) -> np.ndarray:
  """Number of (kept, when ``mask`` is given) points in every class."""
  labels = np.asarray(labels)
  if mask is not None:
    labels = labels[np.asarray(mask, bool)]
  return np.bincount(labels, minlength=num_classes)


def select_with_quotas(scores, labels, counts) -> np.ndarray:
  """Indices keeping the ``counts[k]`` highest-scoring points of class k.

  With uniform random scores this is random selection within classes
  (Random+DRoP, Random+StrategyQ); with a pruning score it is keep-hardest
  within classes (Strategy+DRoP). Ties keep the lower index.

  Returns:
    Sorted int32 indices, ``sum(counts)`` of them.
  """
  scores = np.asarray(scores, np.float64)
  labels = np.asarray(labels)
  counts = np.asarray(counts, np.int64)
  # Sort by class, then by descending score; rank = position within class.
  order = np.lexsort((np.arange(len(scores)), -scores, labels))
  sorted_labels = labels[order]
  first = np.searchsorted(sorted_labels, sorted_labels, side="left")
  rank = np.arange(len(order)) - first
  keep = order[rank < counts[sorted_labels]]
  if len(keep) != counts.sum():
    raise ValueError("a quota exceeds its class size")
  return np.sort(keep).astype(np.int32)
