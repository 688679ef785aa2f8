"""Grouped data: exact skewed sizes, the Gaussian blocks, dominoes."""

import numpy as np
import pytest

from repro.data import groups


def test_skewed_group_counts_are_exact():
  assert groups.skewed_group_counts(4000, 0.95) == (1900, 100, 100, 1900)
  assert groups.skewed_group_counts(100, 0.5) == (25, 25, 25, 25)
  y, a, g = groups.group_labels((3, 1, 2, 4))
  np.testing.assert_array_equal(g, 2 * y + a)
  np.testing.assert_array_equal(np.bincount(g), [3, 1, 2, 4])


def test_gaussian_blocks_follow_label_and_attribute():
  counts = (3000, 3000, 3000, 3000)
  data = groups.gaussian_groups(
    np.random.default_rng(0),
    counts,
    core_dim=2,
    spurious_dim=3,
    noise_dim=4,
    core_mean=0.5,
    spurious_mean=1.0,
    spurious_std=0.5,
  )
  x, y, a = data["x"], data["label"], data["attribute"]
  assert x.shape == (12000, 9) and x.dtype == np.float32
  np.testing.assert_array_equal(data["group"], 2 * y + a)
  np.testing.assert_array_equal(np.bincount(data["group"]), counts)
  sign_y, sign_a = 2 * y - 1, 2 * a - 1
  assert np.mean(x[:, :2] * sign_y[:, None]) == pytest.approx(0.5, abs=0.03)
  assert np.mean(x[:, 2:5] * sign_a[:, None]) == pytest.approx(1.0, abs=0.02)
  assert np.std(x[:, 2:5] - sign_a[:, None]) == pytest.approx(0.5, abs=0.02)
  assert np.abs(np.mean(x[:, 5:])) < 0.03
  assert np.std(x[:, 5:]) == pytest.approx(1.0, abs=0.02)
  # Core independent of the attribute given the label.
  minority = y != a
  assert np.mean(x[minority, :2] * sign_y[minority, None]) == (
    pytest.approx(0.5, abs=0.05)
  )


def test_dominoes_stack_the_right_digits():
  images = np.concatenate([np.full((3, 8, 8, 1), float(c)) for c in range(4)])
  images += (
    np.arange(3).repeat(1)[np.tile(np.arange(3), 4)][:, None, None, None] * 0.01
  )
  labels = np.repeat(np.arange(4), 3)
  core = groups.digit_pools(images, labels, (2, 3))
  spurious = groups.digit_pools(images, labels, (0, 1))
  data = groups.dominoes(np.random.default_rng(0), (5, 2, 3, 4), core, spurious)
  x = data["x"]
  assert x.shape == (14, 16, 8, 1)
  np.testing.assert_array_equal(np.round(x[:, 0, 0, 0]), data["attribute"])
  np.testing.assert_array_equal(np.round(x[:, 8, 0, 0]), data["label"] + 2)
  np.testing.assert_array_equal(np.bincount(data["group"]), (5, 2, 3, 4))
