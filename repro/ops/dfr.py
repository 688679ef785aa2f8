"""Deep feature reweighting (DFR; Kirichenko et al. 2023) on frozen features.

The baseline GAP must beat (arXiv 2403.09869 compares with it): an
l1-regularised logistic regression (``liblinear``) on standardised
last-layer features, trained on a group-balanced subsample (every group
subsampled to the smallest group's size) of a group-annotated set, with the
coefficients averaged over repeated subsamples; C is chosen by the
worst-group accuracy on a held-out annotated split. numpy / scikit-learn,
as in the official DFR code; the result is a linear head (weights, bias)
on the *raw* features, usable by jnp code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

# The official DFR grid of inverse regularisation strengths.
DFR_C_GRID = (1.0, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01)


class LinearHead(NamedTuple):
  """logits = features @ weights + bias, weights [d, k], bias [k]."""

  weights: np.ndarray
  bias: np.ndarray


def balanced_subsample(
  rng: np.random.Generator, groups: np.ndarray, num_groups: int
) -> np.ndarray:
  """Sorted indices with every non-empty group cut to the smallest size."""
  members = [np.flatnonzero(groups == g) for g in range(num_groups)]
  members = [m for m in members if len(m)]
  size = min(len(m) for m in members)
  return np.sort(
    np.concatenate([rng.choice(m, size, replace=False) for m in members])
  )


def _standardiser(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  mean = features.mean(0)
  std = features.std(0)
  return mean, np.where(std > 0, std, 1.0)


def fit_dfr_head(
  features: np.ndarray,
  labels: np.ndarray,
  groups: np.ndarray,
  num_groups: int,
  num_classes: int,
  inverse_reg: float,
  num_retrains: int,
  rng: np.random.Generator,
) -> LinearHead:
  """Average of ``num_retrains`` l1 logistic regressions on balanced draws.

  Features are standardised with the statistics of the whole annotated set
  (as DFR does); the averaged head is folded back onto raw features.
  """
  from sklearn.linear_model import LogisticRegression  # pylint: disable=g-import-not-at-top

  mean, std = _standardiser(features)
  scaled = (features - mean) / std
  coefs = np.zeros((num_classes, features.shape[1]))
  intercepts = np.zeros(num_classes)
  for _ in range(num_retrains):
    keep = balanced_subsample(rng, groups, num_groups)
    # l1_ratio=1 is the l1 penalty (``penalty="l1"`` is deprecated).
    model = LogisticRegression(
      l1_ratio=1.0, C=inverse_reg, solver="liblinear", random_state=0
    )
    model.fit(scaled[keep], labels[keep])
    coef, intercept = model.coef_, model.intercept_
    if num_classes == 2:  # sklearn's binary head scores class 1 only.
      coef = np.concatenate([np.zeros_like(coef), coef])
      intercept = np.concatenate([np.zeros_like(intercept), intercept])
    coefs += coef / num_retrains
    intercepts += intercept / num_retrains
  weights = (coefs / std).T
  bias = intercepts - (coefs / std) @ mean
  return LinearHead(weights.astype(np.float32), bias.astype(np.float32))


def head_group_accuracy(
  head: LinearHead,
  features: np.ndarray,
  labels: np.ndarray,
  groups: np.ndarray,
  num_groups: int,
) -> np.ndarray:
  """Per-group accuracy of a linear head, [num_groups] (NaN if empty)."""
  predictions = np.argmax(features @ head.weights + head.bias, axis=-1)
  correct = predictions == labels
  return np.array(
    [
      correct[groups == g].mean() if np.any(groups == g) else np.nan
      for g in range(num_groups)
    ]
  )


def select_dfr_head(
  fit: tuple,
  select: tuple,
  num_groups: int,
  num_classes: int,
  num_retrains: int,
  seed: int,
  c_grid: Sequence[float] = DFR_C_GRID,
) -> tuple[LinearHead, float, float]:
  """DFR with C tuned by worst-group accuracy on the ``select`` split.

  Args:
    fit, select: ``(features, labels, groups)`` numpy triples.
    num_groups, num_classes: sizes.
    num_retrains: balanced subsamples averaged per head (DFR: 20).
    seed: numpy seed of the subsampling.
    c_grid: candidate inverse regularisation strengths.

  Returns:
    The selected head, its C and its select-split worst-group accuracy.
  """
  best = None
  for inverse_reg in c_grid:
    rng = np.random.default_rng(seed)
    head = fit_dfr_head(
      *fit, num_groups, num_classes, inverse_reg, num_retrains, rng
    )
    wga = np.nanmin(head_group_accuracy(head, *select, num_groups))
    if best is None or wga > best[2]:
      best = (head, inverse_reg, float(wga))
  return best
