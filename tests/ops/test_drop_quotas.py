"""DRoP quotas: budgets, caps, proportionality; quota selection."""

import numpy as np
import pytest

from repro.ops import drop_quotas


def test_hand_case_with_and_without_the_cap():
  sizes, recalls = [100, 100], [0.9, 0.7]      # errors 0.1, 0.3
  np.testing.assert_allclose(drop_quotas.drop_densities(sizes, recalls, 0.5),
                             [0.25, 0.75])
  # d = 0.8: class 1 would get 1.2 -> capped at 1, 60 points left -> 0.6.
  np.testing.assert_allclose(drop_quotas.drop_densities(sizes, recalls, 0.8),
                             [0.6, 1.0])
  np.testing.assert_allclose(drop_quotas.drop_densities(sizes, recalls, 1.0),
                             [1.0, 1.0])


@pytest.mark.parametrize("seed", range(20))
def test_random_quotas_meet_the_budget_and_the_caps(seed):
  rng = np.random.default_rng(seed)
  num_classes = rng.integers(2, 12)
  sizes = rng.integers(5, 300, num_classes)
  recalls = rng.uniform(0.3, 1.0, num_classes)
  density = rng.uniform(0.05, 1.0)
  densities = drop_quotas.drop_densities(sizes, recalls, density)
  assert np.all((densities >= 0) & (densities <= 1 + 1e-12))
  np.testing.assert_allclose(np.sum(sizes * densities),
                             density * sizes.sum(), rtol=1e-9)
  # Unsaturated classes: density proportional to the error rate.
  free = densities < 1 - 1e-9
  if free.sum() >= 2:
    ratio = densities[free] / (1 - recalls[free])
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
  # Saturated classes have larger errors than every unsaturated one.
  if (~free).any() and free.any():
    assert (1 - recalls[~free]).min() >= (1 - recalls[free]).max() - 1e-12
  counts = drop_quotas.drop_counts(sizes, recalls, density)
  assert counts.sum() == round(density * sizes.sum())
  assert np.all(counts <= sizes) and np.all(counts >= 0)
  assert np.all(np.abs(counts - sizes * densities) < 1.0 + 1e-9)


def test_zero_error_classes_need_a_floor():
  with pytest.raises(ValueError, match="error_floor"):
    drop_quotas.drop_densities([10, 10], [1.0, 1.0], 0.5)
  # One perfect class gets nothing without a floor, something with one.
  plain = drop_quotas.drop_densities([10, 10], [1.0, 0.8], 0.3)
  np.testing.assert_allclose(plain, [0.0, 0.6])
  floored = drop_quotas.drop_densities([10, 10], [1.0, 0.8], 0.3,
                                       error_floor=0.1)
  np.testing.assert_allclose(floored, [0.2, 0.4])
  # Beyond what the error classes hold, zero-error classes are filled.
  np.testing.assert_allclose(
      drop_quotas.drop_densities([10, 10], [1.0, 0.8], 0.75), [0.5, 1.0])


def test_select_with_quotas_keeps_the_top_scores_of_each_class():
  labels = np.array([0, 1, 0, 1, 0, 1, 2])
  scores = np.array([0.3, 0.1, 0.9, 0.8, 0.5, 0.2, 0.0])
  kept = drop_quotas.select_with_quotas(scores, labels, [2, 1, 0])
  np.testing.assert_array_equal(kept, [2, 3, 4])
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 5, 500)
  counts = np.minimum(drop_quotas.class_counts(labels, 5), [3, 40, 0, 99, 7])
  kept = drop_quotas.select_with_quotas(rng.uniform(size=500), labels,
                                        counts)
  np.testing.assert_array_equal(drop_quotas.class_counts(labels[kept], 5),
                                counts)
  with pytest.raises(ValueError):
    drop_quotas.select_with_quotas(np.zeros(3), np.zeros(3, int), [4])
