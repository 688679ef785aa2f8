"""Tests of the regenerated Circles dataset (repro.data.circles)."""

import os

import numpy as np
import pytest

from repro.core.errors import UserError
from repro.data import circles

ORACLE = os.path.join(
  os.path.dirname(__file__),
  "..",
  "..",
  "..",
  "shared",
  "oracles",
  "goldilocks_curvature.npz",
)


def test_splits_shapes_and_determinism():
  train = circles.load("train", seed=0)
  test = circles.load("test", seed=0)
  assert train["features"].shape == (2400, 2)
  assert test["features"].shape == (1364, 2)
  assert train["features"].dtype == np.float32
  assert train["label"].dtype == np.int32
  np.testing.assert_array_equal(
    train["features"], circles.load("train", 0)["features"]
  )
  assert not np.array_equal(
    train["features"][:100], circles.load("train", 1)["features"][:100]
  )
  assert not np.array_equal(train["features"][:100], test["features"][:100])
  assert circles.load("train", 0, num_points=10)["label"].shape == (10,)
  with pytest.raises(UserError):
    circles.load("validation")


def test_each_class_fills_its_annulus_uniformly():
  data = circles.load("train", seed=3, num_points=20000)
  radius = np.linalg.norm(data["features"], axis=1)
  labels = data["label"]
  for label, (inner, outer) in enumerate(circles.ANNULI):
    member = radius[labels == label]
    assert member.min() >= inner - 1e-6 and member.max() <= outer + 1e-6
    # Uniform in area: r^2 is uniform on [inner^2, outer^2].
    squared = (member**2 - inner**2) / (outer**2 - inner**2)
    assert np.mean(squared) == pytest.approx(0.5, abs=0.02)
  frequencies = np.bincount(labels) / len(labels)
  np.testing.assert_allclose(
    frequencies, circles.class_probabilities(), atol=0.01
  )
  # The shipped proportions: 654 / 739 / 1007 of 2400.
  np.testing.assert_allclose(
    circles.class_probabilities(),
    [654 / 2400, 739 / 2400, 1007 / 2400],
    atol=0.005,
  )


def test_bayes_accuracy_of_radius_thresholds():
  data = circles.load("train", seed=4, num_points=20000)
  radius = np.linalg.norm(data["features"], axis=1)
  predicted = np.digitize(radius, [0.475, 0.675])
  accuracy = np.mean(predicted == data["label"])
  assert circles.bayes_accuracy() == pytest.approx(0.8757, abs=1e-3)
  assert accuracy == pytest.approx(circles.bayes_accuracy(), abs=0.01)


@pytest.mark.skipif(
  not os.path.exists(ORACLE), reason="../shared/oracles/ not present"
)
def test_same_distribution_as_the_shipped_circles():
  scipy_stats = pytest.importorskip("scipy.stats")
  shipped = np.load(ORACLE)
  shipped_radius = np.linalg.norm(shipped["X"], axis=1)
  data = circles.load("train", seed=0)
  radius = np.linalg.norm(data["features"], axis=1)
  for label in range(circles.NUM_CLASSES):
    result = scipy_stats.ks_2samp(
      radius[data["label"] == label], shipped_radius[shipped["y"] == label]
    )
    assert result.pvalue > 1e-3, (label, result)
  counts = np.bincount(data["label"])
  shipped_counts = np.bincount(shipped["y"])
  np.testing.assert_allclose(counts, shipped_counts, rtol=0.12)
