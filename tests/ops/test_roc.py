"""AUROC against brute-force pair counting; the ROC curve's area."""

import chex
import numpy as np
import pytest

from repro.ops import roc


def _pair_count_auroc(negative, positive):
  wins = sum(
    float(p > n) + 0.5 * float(p == n) for p in positive for n in negative
  )
  return wins / (len(positive) * len(negative))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_with_ties_equals_pair_counting(seed):
  generator = np.random.default_rng(seed)
  negative = generator.integers(0, 6, size=37).astype(np.float32)
  positive = generator.integers(2, 8, size=23).astype(np.float32)
  area = roc.auroc(negative, positive)
  chex.assert_rank(area, 0)
  chex.assert_type(area, float)
  assert float(area) == pytest.approx(
    _pair_count_auroc(negative, positive), abs=1e-6
  )


def test_auroc_extremes_are_not_flipped():
  assert float(roc.auroc([0.0, 1.0], [2.0, 3.0])) == 1.0
  assert float(roc.auroc([2.0, 3.0], [0.0, 1.0])) == 0.0
  assert float(roc.auroc([1.0, 1.0], [1.0])) == 0.5


def test_roc_curve_area_equals_auroc():
  generator = np.random.default_rng(3)
  negative = generator.integers(0, 5, size=40)
  positive = generator.integers(1, 6, size=30)
  fpr, tpr = roc.roc_curve(negative, positive)
  chex.assert_rank([fpr, tpr], 1)
  chex.assert_equal_shape([fpr, tpr])
  assert fpr[0] == tpr[0] == 0.0 and fpr[-1] == tpr[-1] == 1.0
  assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
  area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)
  assert area == pytest.approx(float(roc.auroc(negative, positive)), abs=1e-6)
