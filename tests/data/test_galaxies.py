"""The procedural galaxies: renderer, separability, TFDS builder."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import repro.data
from repro.core.errors import UserError
from repro.data import galaxies


def test_render_shapes_range_and_determinism():
  for label in range(galaxies.NUM_CLASSES):
    image = galaxies.render(label, 16, galaxies.example_rng("train", label))
    assert image.shape == (16, 16, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert image.max() > 0.3  # a galaxy, not just sky noise
    again = galaxies.render(label, 16, galaxies.example_rng("train", label))
    np.testing.assert_array_equal(image, again)
  big = galaxies.render(5, 32, galaxies.example_rng("test", 3))
  assert big.shape == (32, 32, 3)


def test_sersic_profile_is_one_at_effective_radius_and_falls():
  radius = np.array([0.5, 1.0, 2.0])
  for index in (0.5, 1.0, 4.0):
    values = galaxies.sersic(radius, 1.0, index)
    assert values[1] == pytest.approx(1.0)
    assert values[0] > values[1] > values[2]
  # b_n: half the light inside r_e; b_1 ~ 1.678 (exact 1.67835).
  assert galaxies.sersic_b(1.0) == pytest.approx(1.678, abs=2e-3)


def test_classes_are_separable_by_a_simple_classifier():
  train = galaxies.render_split("train", 16, num_per_class=40)
  test = galaxies.render_split("test", 16, num_per_class=20)
  assert train["image"].shape == (360, 16, 16, 3)
  np.testing.assert_array_equal(np.bincount(test["label"]), [20] * 9)
  forest = RandomForestClassifier(200, random_state=0)
  forest.fit(train["image"].reshape(360, -1), train["label"])
  accuracy = forest.score(test["image"].reshape(180, -1), test["label"])
  assert accuracy > 0.35, accuracy  # chance is 1/9


def test_tfds_builder_round_trip(tmp_path):
  data_dir = str(tmp_path)
  test = galaxies.load("test", data_dir, image_size=16)
  assert test["image"].shape == (450, 16, 16, 3)
  np.testing.assert_array_equal(test["label"], galaxies.split_labels("test"))
  np.testing.assert_array_equal(test["index"], np.arange(450))
  expected = galaxies.render(
    int(test["label"][7]), 16, galaxies.example_rng("test", 7)
  )
  np.testing.assert_array_equal(test["image"][7], expected)
  assert galaxies.is_prepared(data_dir, 16)
  with pytest.raises(UserError):
    galaxies.load("validation", data_dir, image_size=16)


def test_registered_in_load():
  assert "galaxies" in repro.data.DATASETS
  assert repro.data.EMBEDDED["galaxies"] is galaxies.load
