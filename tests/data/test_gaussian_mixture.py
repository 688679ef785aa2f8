"""The synthetic Gaussian mixture of the data_pruning study."""

import jax
import numpy as np

from repro.data import gaussian_mixture


def test_mixture_shapes_difficulty_and_label_noise():
  arrays = gaussian_mixture.make_mixture(
    jax.random.key(0),
    num_classes=5,
    dim=8,
    train_per_class=2000,
    test_per_class=60,
    mean_distance=5.0,
    sigma_min=0.5,
    sigma_max=2.0,
    noisy_classes=2,
    label_noise=0.1,
  )
  assert arrays["train_x"].shape == (10_000, 8)
  assert arrays["test_x"].shape == (300, 8)
  np.testing.assert_array_equal(
    np.bincount(arrays["train_clean_y"]), [2000] * 5
  )
  np.testing.assert_array_equal(np.bincount(arrays["test_y"]), [60] * 5)
  sigmas = arrays["sigmas"]
  np.testing.assert_allclose(sigmas, [0.5, 0.875, 1.25, 1.625, 2.0], rtol=1e-6)
  means = arrays["means"].astype(np.float64)
  pairs = [
    np.linalg.norm(means[i] - means[j])
    for i in range(5)
    for j in range(i + 1, 5)
  ]
  np.testing.assert_allclose(np.median(pairs), 5.0, rtol=1e-5)
  # Empirical per-class spread matches sigma_k (clean labels).
  for k in range(5):
    points = arrays["train_x"][arrays["train_clean_y"] == k]
    np.testing.assert_allclose(points.std(0).mean(), sigmas[k], rtol=0.05)
    np.testing.assert_allclose(
      points.mean(0), means[k], atol=5 * sigmas[k] / np.sqrt(2000)
    )
  # Exactly 10% of each of the 2 hardest classes relabelled, never to
  # themselves; other classes untouched.
  flipped = arrays["train_y"] != arrays["train_clean_y"]
  np.testing.assert_array_equal(
    np.bincount(arrays["train_clean_y"][flipped], minlength=5),
    [0, 0, 0, 200, 200],
  )


def test_mixture_is_deterministic_in_its_key():
  first = gaussian_mixture.make_mixture(
    jax.random.key(1), train_per_class=5, test_per_class=4
  )
  second = gaussian_mixture.make_mixture(
    jax.random.key(1), train_per_class=5, test_per_class=4
  )
  third = gaussian_mixture.make_mixture(
    jax.random.key(2), train_per_class=5, test_per_class=4
  )
  for name in first:
    np.testing.assert_array_equal(first[name], second[name])
  assert not np.allclose(first["train_x"], third["train_x"])
