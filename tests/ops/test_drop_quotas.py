"""DRoP quotas: budgets, caps, proportionality; quota selection."""

import chex
import numpy as np
import pytest

from repro.ops import drop_quotas


def test_hand_case_with_and_without_the_cap():
  sizes, recalls = [100, 100], [0.9, 0.7]  # errors 0.1, 0.3
  np.testing.assert_allclose(
    drop_quotas.drop_densities(sizes, recalls, 0.5), [0.25, 0.75]
  )
  # d = 0.8: class 1 would get 1.2 -> capped at 1, 60 points left -> 0.6.
  np.testing.assert_allclose(
    drop_quotas.drop_densities(sizes, recalls, 0.8), [0.6, 1.0]
  )
  np.testing.assert_allclose(
    drop_quotas.drop_densities(sizes, recalls, 1.0), [1.0, 1.0]
  )


@pytest.mark.parametrize("seed", range(20))
def test_random_quotas_meet_the_budget_and_the_caps(seed):
  rng = np.random.default_rng(seed)
  num_classes = rng.integers(2, 12)
  sizes = rng.integers(5, 300, num_classes)
  recalls = rng.uniform(0.3, 1.0, num_classes)
  density = rng.uniform(0.05, 1.0)
  densities = drop_quotas.drop_densities(sizes, recalls, density)
  assert np.all((densities >= 0) & (densities <= 1 + 1e-12))
  np.testing.assert_allclose(
    np.sum(sizes * densities), density * sizes.sum(), rtol=1e-9
  )
  # Unsaturated classes: density proportional to the error rate.
  free = densities < 1 - 1e-9
  if free.sum() >= 2:
    ratio = densities[free] / (1 - recalls[free])
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
  # Saturated classes have larger errors than every unsaturated one.
  if (~free).any() and free.any():
    assert (1 - recalls[~free]).min() >= (1 - recalls[free]).max() - 1e-12
  counts = drop_quotas.drop_counts(sizes, recalls, density, convention="paper")
  assert counts.sum() == round(density * sizes.sum())
  assert np.all(counts <= sizes) and np.all(counts >= 0)
  assert np.all(np.abs(counts - sizes * densities) < 1.0 + 1e-9)


def test_zero_error_classes_need_a_floor():
  with pytest.raises(ValueError, match="error_floor"):
    drop_quotas.drop_densities([10, 10], [1.0, 1.0], 0.5)
  # One perfect class gets nothing without a floor, something with one.
  plain = drop_quotas.drop_densities([10, 10], [1.0, 0.8], 0.3)
  np.testing.assert_allclose(plain, [0.0, 0.6])
  floored = drop_quotas.drop_densities(
    [10, 10], [1.0, 0.8], 0.3, error_floor=0.1
  )
  np.testing.assert_allclose(floored, [0.2, 0.4])
  # Beyond what the error classes hold, zero-error classes are filled.
  np.testing.assert_allclose(
    drop_quotas.drop_densities([10, 10], [1.0, 0.8], 0.75), [0.5, 1.0]
  )


def test_select_with_quotas_keeps_the_top_scores_of_each_class():
  labels = np.array([0, 1, 0, 1, 0, 1, 2])
  scores = np.array([0.3, 0.1, 0.9, 0.8, 0.5, 0.2, 0.0])
  kept = drop_quotas.select_with_quotas(scores, labels, [2, 1, 0])
  np.testing.assert_array_equal(kept, [2, 3, 4])
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 5, 500)
  counts = np.minimum(drop_quotas.class_counts(labels, 5), [3, 40, 0, 99, 7])
  kept = drop_quotas.select_with_quotas(rng.uniform(size=500), labels, counts)
  np.testing.assert_array_equal(
    drop_quotas.class_counts(labels[kept], 5), counts
  )
  with pytest.raises(ValueError):
    drop_quotas.select_with_quotas(np.zeros(3), np.zeros(3, int), [4])


def _official_by_list_iteration(sizes, errors, total):
  """The official quota loop, written with Python's list iteration."""
  counts = [int(total * e / sum(errors)) for e in errors]
  excess, active = 0, []
  for k in range(len(sizes)):
    if counts[k] > sizes[k]:
      excess += counts[k] - sizes[k]
      counts[k] = sizes[k]
    else:
      active.append(k)
  done = False
  while excess > 0 and not done:
    norm = sum(errors[k] for k in active)
    extra = {k: int(excess * errors[k] / norm) for k in active}
    done = True
    for k in active:
      counts[k] += extra[k]
      excess -= extra[k]
      if counts[k] > sizes[k]:
        done = False
        excess += counts[k] - sizes[k]
        counts[k] = sizes[k]
        active.remove(k)
  return counts


def test_official_counts_by_hand_including_the_skipped_class():
  # Errors 0.5, 0.125, 0.125, 0.375 (exact in binary), Z = 1.125.
  sizes, recalls = [10, 20, 100, 100], [0.5, 0.875, 0.875, 0.625]
  # Truncated shares of 150: 66, 16, 16, 50; class 0 is capped at 10
  # (excess 56). Round 1 (Z = 0.625) adds 11, 11, 33: class 1 reaches 27,
  # is capped at 20 (excess 52) and removed, which skips class 2; class 3
  # gets 83 (excess 19). Round 2 (Z = 0.5) adds int(4.75) = 4 and
  # int(14.25) = 14 (excess 1) and saturates nothing: stop.
  counts = drop_quotas.official_counts(sizes, recalls, 150)
  chex.assert_shape(counts, (4,))
  chex.assert_type(counts, np.int64)
  np.testing.assert_array_equal(counts, [10, 20, 20, 97])
  # Iterating correctly would give class 2 its 11: [10, 20, 29, 89].
  assert counts.sum() == 147
  # The official quota round trip: int(97 / 150 * 150) = 96.
  np.testing.assert_array_equal(
    drop_quotas.drop_counts(sizes, recalls, 0.65), [10, 20, 20, 96]
  )
  # Class counts, not densities: equal errors give equal counts however
  # large the classes (the paper's densities would give 2:1).
  np.testing.assert_array_equal(
    drop_quotas.official_counts([200, 100], [0.5, 0.5], 90), [45, 45]
  )
  np.testing.assert_array_equal(
    drop_quotas.drop_counts([200, 100], [0.5, 0.5], 0.3, convention="paper"),
    [60, 30],
  )


@pytest.mark.parametrize("seed", range(20))
def test_official_counts_match_the_list_iteration(seed):
  rng = np.random.default_rng(seed)
  num_classes = int(rng.integers(2, 12))
  sizes = rng.integers(5, 300, num_classes)
  recalls = rng.uniform(0.3, 1.0, num_classes)
  total = int(rng.integers(0, sizes.sum() + 1))
  counts = drop_quotas.official_counts(sizes, recalls, total)
  np.testing.assert_array_equal(
    counts,
    _official_by_list_iteration(
      sizes.tolist(), (1.0 - recalls).tolist(), total
    ),
  )
  assert np.all(counts <= sizes) and np.all(counts >= 0)
  # Unallocated: the first truncation (< K) and the last round's (< K).
  assert total - 2 * num_classes < counts.sum() <= total
  selected = drop_quotas.selection_sizes(counts, total)
  assert np.all((selected == counts) | (selected == counts - 1))


def test_selection_sizes_round_trip_by_hand():
  # 15 / 22 * 22 = 14.999999999999998 in float64.
  np.testing.assert_array_equal(
    drop_quotas.selection_sizes([15, 7], 22), [14, 7]
  )
  chex.assert_type(drop_quotas.selection_sizes([15, 7], 22), np.int64)


def test_fill_at_random_adds_the_best_random_scores_of_the_rest():
  random_scores = np.array([0.9, 0.1, 0.8, 0.3, 0.7])
  filled = drop_quotas.fill_at_random([0, 3], 4, random_scores)
  chex.assert_shape(filled, (4,))
  chex.assert_type(filled, np.int32)
  np.testing.assert_array_equal(filled, [0, 2, 3, 4])
  np.testing.assert_array_equal(
    drop_quotas.fill_at_random([3, 0], 2, random_scores), [0, 3]
  )
  with pytest.raises(ValueError):
    drop_quotas.fill_at_random([0, 1, 2], 2, random_scores)


def test_select_with_quotas_breaks_ties_as_the_official_selection():
  labels = np.array([0, 0, 1, 0, 1, 0])
  scores = np.array([1.0, 2.0, 5.0, 1.0, 5.0, 1.0])
  # Class 0 keeps 2: index 1 (score 2), then the highest index among the
  # 1.0s at 0, 3, 5: 5. Class 1 keeps 1 of the tied 2 and 4: 4.
  kept = drop_quotas.select_with_quotas(scores, labels, [2, 1])
  chex.assert_shape(kept, (3,))
  np.testing.assert_array_equal(kept, [1, 4, 5])
  np.testing.assert_array_equal(
    drop_quotas.select_with_quotas(scores, labels, [2, 1], ties="lower_index"),
    [0, 1, 2],
  )


def test_best_epoch_recalls_by_accuracy_and_by_mean_recall():
  # Two query models x 3 epochs x 2 classes; validation sizes 10 and 30.
  recalls = np.array(
    [
      [[0.5, 0.5], [1.0, 0.3], [0.2, 0.7]],
      [[0.6, 0.6], [0.9, 0.5], [0.1, 0.9]],
    ],
    np.float32,
  )
  sizes = np.array([10, 30])
  # Correct counts: model 0: 20, 19, 23 -> epoch 2; model 1: 24, 24, 28
  # -> epoch 2. Mean of [0.2, 0.7] and [0.1, 0.9].
  got, best = drop_quotas.best_epoch_recalls(recalls, sizes)
  chex.assert_shape(got, (2,))
  chex.assert_type(got, np.float64)
  chex.assert_shape(best, (2,))
  np.testing.assert_array_equal(best, [2, 2])
  np.testing.assert_allclose(got, [0.15, 0.8], rtol=1e-6)
  # Mean recall: model 0's epochs give 0.5, 0.65, 0.45 -> epoch 1.
  got, best = drop_quotas.best_epoch_recalls(recalls[:1], sizes, "mean_recall")
  np.testing.assert_array_equal(best, [1])
  np.testing.assert_allclose(got, [1.0, 0.3], rtol=1e-6)
  # Ties: the first epoch (model 1's epochs 0 and 1 both have 24 correct
  # when epoch 2 is dropped).
  _, best = drop_quotas.best_epoch_recalls(recalls[1:, :2], sizes)
  np.testing.assert_array_equal(best, [0])
  with pytest.raises(ValueError):
    drop_quotas.best_epoch_recalls(recalls, sizes, "loss")
