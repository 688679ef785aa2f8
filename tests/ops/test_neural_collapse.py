"""NC metrics against closed forms and brute-force numpy."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from repro.ops import neural_collapse as nc

# Jitted once per module (and per x64 mode): eager ops compile one by one.
_collapse_metrics = jax.jit(nc.collapse_metrics, static_argnums=2)
_nc1 = jax.jit(nc.nc1, static_argnums=2, static_argnames=("divide_by_classes",))
_equiangularity = jax.jit(nc.equiangularity)
_nc2_equinorm = jax.jit(nc.nc2_equinorm, static_argnums=2)
_nc3_self_duality = jax.jit(nc.nc3_self_duality)
_ncc_predict = jax.jit(nc.ncc_predict)
_nc4_mismatch = jax.jit(nc.nc4_mismatch)
_mean_alignment = jax.jit(
  nc.mean_alignment, static_argnames=("convention", "units")
)
_simplex_alignment = jax.jit(
  nc.simplex_alignment, static_argnames=("convention", "units")
)


def simplex_etf(num_classes: int, dim: int, seed: int = 0) -> np.ndarray:
  """C unit vectors in R^d (d >= C-1), pairwise cosine -1/(C-1), rotated."""
  centred = np.eye(num_classes) - 1.0 / num_classes
  left, singular, _ = np.linalg.svd(centred)
  coordinates = left[:, : num_classes - 1] * singular[: num_classes - 1]
  coordinates /= np.linalg.norm(coordinates, axis=1, keepdims=True)
  rotation, _ = np.linalg.qr(
    np.random.default_rng(seed).normal(size=(dim, dim))
  )
  return coordinates @ rotation[: num_classes - 1]


def brute_force_nc1(features, labels, num_classes, rcond=1e-8):
  """Papyan's NC1 with d x d covariances and numpy's pinv."""
  means = np.stack([features[labels == c].mean(0) for c in range(num_classes)])
  counts = np.bincount(labels, minlength=num_classes)
  global_mean = counts @ means / counts.sum()
  centred = features - means[labels]
  within = centred.T @ centred / len(features)
  between = (means - global_mean).T @ (means - global_mean) / num_classes
  pinv = np.linalg.pinv(between, rcond=rcond, hermitian=True)
  return np.trace(within @ pinv) / num_classes


def noisy_simplex(
  num_classes=5, dim=12, per_class=(30, 20, 40, 25, 35), noise=0.1, seed=0
):
  rng = np.random.default_rng(seed)
  vertices = 3.0 * simplex_etf(num_classes, dim, seed) + rng.normal(size=dim)
  labels = np.repeat(np.arange(num_classes), per_class)
  features = vertices[labels] + noise * rng.normal(size=(len(labels), dim))
  return features, labels, vertices


def test_exact_simplex_is_fully_collapsed():
  num_classes, dim = 6, 10
  vertices = 2.5 * simplex_etf(num_classes, dim) + 1.0  # shifted
  labels = np.repeat(np.arange(num_classes), 7)
  features = vertices[labels]
  classifier = 0.7 * (vertices - vertices.mean(0))
  with jax.enable_x64(True):
    metrics = _collapse_metrics(
      jnp.asarray(features),
      jnp.asarray(labels),
      num_classes,
      jnp.asarray(classifier),
      jnp.asarray(labels),
    )
    for name in (
      "nc1",
      "nc2_equinorm",
      "nc2_equiangular",
      "nc2_w_equinorm",
      "nc2_w_equiangular",
      "nc3",
      "nc4",
    ):
      assert abs(float(metrics[name])) < 1e-10, name


def test_nc1_matches_pinv_brute_force_on_unbalanced_noisy_simplex():
  features, labels, _ = noisy_simplex()
  expected = brute_force_nc1(features, labels, 5)
  with jax.enable_x64(True):
    got = _nc1(jnp.asarray(features), jnp.asarray(labels), 5)
    got_official = _nc1(
      jnp.asarray(features), jnp.asarray(labels), 5, divide_by_classes=False
    )
  np.testing.assert_allclose(float(got), expected, rtol=1e-10)
  np.testing.assert_allclose(float(got_official), 5 * expected, rtol=1e-10)
  assert float(got) > 1e-4  # a perturbed simplex is not collapsed


def test_nc1_grows_quadratically_with_noise():
  """Sigma_W scales with noise^2 while Sigma_B barely moves."""
  values = []
  for noise in (0.01, 0.02):
    features, labels, _ = noisy_simplex(noise=noise)
    with jax.enable_x64(True):
      values.append(float(_nc1(jnp.asarray(features), jnp.asarray(labels), 5)))
  np.testing.assert_allclose(values[1] / values[0], 4.0, rtol=0.05)


def test_nc1_two_classes_in_one_dimension_by_hand():
  # Class 0: {0, 2} (mean 1, variance 1); class 1: {5, 7, 9} (mean 7,
  # variance 8/3). mu_G = (2*1 + 3*7)/5 = 4.6; Sigma_B = ((1-4.6)^2 +
  # (7-4.6)^2)/2 = 9.36; Sigma_W = (2 + 8)/5 = 2; NC1 = 2/9.36/2.
  features = np.array([[0.0], [2.0], [5.0], [7.0], [9.0]])
  labels = np.array([0, 0, 1, 1, 1])
  with jax.enable_x64(True):
    got = float(_nc1(jnp.asarray(features), jnp.asarray(labels), 2))
  np.testing.assert_allclose(got, 2.0 / 9.36 / 2.0, rtol=1e-12)


def test_nc1_with_fewer_dimensions_than_classes_uses_the_pinv():
  # d = 2 < C - 1 = 3: Sigma_B has full rank 2, pinv = inverse.
  rng = np.random.default_rng(1)
  labels = np.repeat(np.arange(4), 10)
  features = rng.normal(size=(4, 2))[labels] + 0.3 * rng.normal(size=(40, 2))
  with jax.enable_x64(True):
    got = float(_nc1(jnp.asarray(features), jnp.asarray(labels), 4))
  np.testing.assert_allclose(
    got, brute_force_nc1(features, labels, 4), rtol=1e-10
  )


def test_pinv_tolerance_drops_the_null_direction():
  # Three classes on a line: Sigma_B has rank 1 (plus round-off).
  labels = np.repeat(np.arange(3), 4)
  rng = np.random.default_rng(2)
  direction = rng.normal(size=5)
  features = np.array([-1.0, 0.5, 2.0])[
    labels, None
  ] * direction + 0.05 * rng.normal(size=(12, 5))
  with jax.enable_x64(True):
    got = float(_nc1(jnp.asarray(features), jnp.asarray(labels), 3))
  np.testing.assert_allclose(
    got, brute_force_nc1(features, labels, 3), rtol=1e-6
  )


def test_equiangularity_of_orthonormal_vectors():
  # cos = 0 for every pair, so |0 + 1/(C-1)| = 1/(C-1).
  with jax.enable_x64(True):
    got = float(_equiangularity(jnp.eye(5)))
  np.testing.assert_allclose(got, 0.25, rtol=1e-12)


def test_equinorm_is_the_coefficient_of_variation_in_both_conventions():
  means = np.diag([1.0, 2.0, 3.0])  # centred norms change with mu_G
  counts = np.array([1.0, 1.0, 1.0])
  centred = means - means.mean(0)
  norms = np.linalg.norm(centred, axis=1)
  mean = norms.sum() / 3
  squares = np.sum((norms - mean) ** 2)
  unbiased = np.sqrt(squares / 2) / mean  # official torch.std
  population = np.sqrt(squares / 3) / mean
  with jax.enable_x64(True):
    official = _nc2_equinorm(jnp.asarray(means), jnp.asarray(counts), 1)
    default = nc.nc2_equinorm(jnp.asarray(means), jnp.asarray(counts))
    plain = _nc2_equinorm(jnp.asarray(means), jnp.asarray(counts), 0)
    chex.assert_shape(official, ())
    chex.assert_type(official, jnp.float64)
    metrics = _collapse_metrics(
      jnp.asarray(means), jnp.arange(3), 3, jnp.asarray(means), jnp.arange(3)
    )
    population_metrics = jax.jit(
      nc.collapse_metrics, static_argnums=2, static_argnames="equinorm_ddof"
    )(
      jnp.asarray(means),
      jnp.arange(3),
      3,
      jnp.asarray(means),
      jnp.arange(3),
      equinorm_ddof=0,
    )
  np.testing.assert_allclose(float(official), unbiased, rtol=1e-12)
  np.testing.assert_allclose(float(default), unbiased, rtol=1e-12)
  np.testing.assert_allclose(float(plain), population, rtol=1e-12)
  # collapse_metrics defaults to the official std, for W's rows too.
  row_norms = np.array([1.0, 2.0, 3.0])
  np.testing.assert_allclose(
    float(metrics["nc2_equinorm"]), unbiased, rtol=1e-12
  )
  np.testing.assert_allclose(
    float(metrics["nc2_w_equinorm"]),
    np.std(row_norms, ddof=1) / 2.0,
    rtol=1e-12,
  )
  np.testing.assert_allclose(
    float(population_metrics["nc2_w_equinorm"]),
    np.sqrt(2 / 3) / 2.0,
    rtol=1e-12,
  )


def test_nc3_is_zero_for_scaled_means_and_two_for_opposite():
  _, labels, vertices = noisy_simplex()
  counts = np.bincount(labels).astype(float)
  centred = vertices - counts @ vertices / counts.sum()
  with jax.enable_x64(True):
    aligned = float(
      _nc3_self_duality(
        jnp.asarray(3.0 * centred), jnp.asarray(vertices), jnp.asarray(counts)
      )
    )
    opposite = float(
      _nc3_self_duality(
        jnp.asarray(-centred), jnp.asarray(vertices), jnp.asarray(counts)
      )
    )
  assert aligned < 1e-20
  np.testing.assert_allclose(opposite, 4.0, rtol=1e-12)


def test_ncc_and_nc4_match_brute_force():
  rng = np.random.default_rng(3)
  features = rng.normal(size=(50, 4))
  means = rng.normal(size=(6, 4))
  distances = np.linalg.norm(features[:, None] - means[None], axis=2)
  expected = distances.argmin(1)
  predictions = rng.integers(0, 6, 50)
  got = np.asarray(_ncc_predict(jnp.asarray(features), jnp.asarray(means)))
  np.testing.assert_array_equal(got, expected)
  mismatch = float(
    _nc4_mismatch(
      jnp.asarray(features), jnp.asarray(means), jnp.asarray(predictions)
    )
  )
  np.testing.assert_allclose(mismatch, np.mean(expected != predictions))


def test_mean_alignment_recovers_a_rotation_and_ignores_translation():
  rng = np.random.default_rng(4)
  means = simplex_etf(4, 3, seed=5)
  theta = np.radians(25.0)
  # Rotate by 25 degrees about a random axis (Rodrigues) and translate:
  # every vertex turns by at most 25 degrees.
  axis = rng.normal(size=3)
  axis /= np.linalg.norm(axis)
  cross = np.array(
    [[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]]
  )
  rotation = (
    np.eye(3) + np.sin(theta) * cross + (1 - np.cos(theta)) * cross @ cross
  )
  rotated = means @ rotation.T + np.array([5.0, -2.0, 1.0])
  cosine = np.sum(means * (rotated - rotated.mean(0)), axis=1) / (
    np.linalg.norm(means, axis=1)
    * np.linalg.norm(rotated - rotated.mean(0), axis=1)
  )
  with jax.enable_x64(True):
    angles, distances = _mean_alignment(
      jnp.asarray(means),
      jnp.asarray(rotated),
      convention="clipped",
      units="degrees",
    )
    same, zero = _mean_alignment(
      jnp.asarray(means),
      jnp.asarray(means + 7.0),
      convention="clipped",
      units="degrees",
    )
    official, _ = _mean_alignment(jnp.asarray(means), jnp.asarray(rotated))
  np.testing.assert_allclose(
    np.asarray(angles), np.degrees(np.arccos(cosine)), rtol=1e-9
  )
  assert np.all(np.asarray(angles) <= 25.0 + 1e-9)
  np.testing.assert_allclose(np.asarray(same), 0.0, atol=1e-6)
  np.testing.assert_allclose(np.asarray(zero), 0.0, atol=1e-12)
  assert np.all(np.asarray(distances) > 0)
  # The default is the official radians (1e-10 offset: ~1e-10 apart).
  np.testing.assert_allclose(np.asarray(official), np.arccos(cosine), atol=1e-9)


def test_angle_conventions_by_hand():
  a = np.array([[1.0, 0.0], [2.0, 2.0], [0.0, 0.0], [3.0, 0.0]])
  b = np.array([[0.0, 5.0], [1.0, 1.0], [1.0, 0.0], [3.0, 0.0]])
  with jax.enable_x64(True):
    official = nc.vector_angles(jnp.asarray(a), jnp.asarray(b))
    degrees = nc.vector_angles(jnp.asarray(a), jnp.asarray(b), units="degrees")
    clipped = nc.vector_angles(
      jnp.asarray(a), jnp.asarray(b), convention="clipped", units="degrees"
    )
  chex.assert_shape(official, (4,))
  chex.assert_type(official, jnp.float64)
  # Official: arccos(<a, b> / (|a||b| + 1e-10)); a zero vector: pi / 2.
  by_hand = [
    np.pi / 2,
    np.arccos(4.0 / (np.sqrt(8.0) * np.sqrt(2.0) + 1e-10)),
    np.pi / 2,
    np.arccos(9.0 / (9.0 + 1e-10)),
  ]
  np.testing.assert_allclose(np.asarray(official), by_hand, rtol=1e-12)
  assert float(official[1]) > 0.0  # the offset: not exactly 0
  np.testing.assert_allclose(
    np.asarray(degrees), np.degrees(by_hand), rtol=1e-12
  )
  # Clipped: 0 for parallel vectors (up to arccos' sqrt-of-rounding
  # sensitivity at 1: sqrt(8) sqrt(2) = 4 + 1 ulp), NaN for a zero vector.
  np.testing.assert_allclose(
    np.asarray(clipped)[[0, 1, 3]], [90.0, 0, 0], atol=1e-5
  )
  assert np.isnan(float(clipped[2]))


def test_simplex_alignment_by_hand():
  # Two classes in the plane; b is a shifted by (0, 1) with class 1
  # rotated: centres (1, 0) and (1, 1).
  means_a = np.array([[0.0, 0.0], [2.0, 0.0]])
  means_b = np.array([[0.0, 1.0], [2.0, 1.0]])
  with jax.enable_x64(True):
    got = _simplex_alignment(
      jnp.asarray(means_a),
      jnp.asarray(means_b),
      convention="clipped",
      units="degrees",
    )
    official = _simplex_alignment(jnp.asarray(means_a), jnp.asarray(means_b))
  for name in (
    "centred_angle",
    "centred_distance",
    "uncentred_angle",
    "uncentred_distance",
  ):
    chex.assert_shape(got[name], (2,))
    chex.assert_type(got[name], jnp.float64)
  chex.assert_shape([got["centre_angle"], got["centre_distance"]], ())
  # Centred: both sets are (-1, 0), (1, 0): aligned.
  np.testing.assert_allclose(got["centred_angle"], [0.0, 0.0], atol=1e-12)
  np.testing.assert_allclose(got["centred_distance"], [0.0, 0.0])
  # Un-centred: (0, 0) vs (0, 1) -> NaN when clipped, pi/2 officially;
  # (2, 0) vs (2, 1) -> atan(1/2); distances 1 and 1.
  assert np.isnan(float(got["uncentred_angle"][0]))
  np.testing.assert_allclose(
    float(got["uncentred_angle"][1]), np.degrees(np.arctan(0.5)), rtol=1e-12
  )
  np.testing.assert_allclose(
    official["uncentred_angle"],
    [np.pi / 2, np.arccos(4.0 / (2.0 * np.sqrt(5.0) + 1e-10))],
    rtol=1e-12,
  )
  np.testing.assert_allclose(got["uncentred_distance"], [1.0, 1.0])
  # Centres (1, 0) and (1, 1): 45 degrees, distance 1.
  np.testing.assert_allclose(float(got["centre_angle"]), 45.0, rtol=1e-12)
  np.testing.assert_allclose(
    float(official["centre_angle"]),
    np.arccos(1.0 / (np.sqrt(2.0) + 1e-10)),
    rtol=1e-12,
  )
  np.testing.assert_allclose(float(got["centre_distance"]), 1.0)


def test_float64_wrapper_vmaps_seeds_and_matches_single_calls():
  runs = [noisy_simplex(seed=s) for s in range(3)]
  labels = runs[0][1]
  features = np.stack([r[0] for r in runs]).astype(np.float32)
  rng = np.random.default_rng(6)
  classifier = rng.normal(size=(3, 5, 12))
  predictions = rng.integers(0, 5, size=(3, len(labels)))
  batched = nc.collapse_metrics_float64(
    features, labels, 5, classifier, predictions
  )
  assert batched["nc1"].shape == (3,)
  assert batched["nc1"].dtype == np.float64
  for seed in range(3):
    np.testing.assert_allclose(
      batched["nc1"][seed],
      brute_force_nc1(features[seed].astype(np.float64), labels, 5),
      rtol=1e-9,
    )
    single = nc.collapse_metrics_float64(
      features[seed], labels, 5, classifier[seed], predictions[seed]
    )
    for name, value in single.items():
      np.testing.assert_allclose(batched[name][seed], value, rtol=1e-12)


def test_nc1_jits_and_is_finite_in_float32():
  features, labels, _ = noisy_simplex()
  value = jax.jit(nc.nc1, static_argnums=2)(
    jnp.asarray(features, jnp.float32), jnp.asarray(labels), 5
  )
  assert np.isfinite(float(value))
  np.testing.assert_allclose(
    float(value), brute_force_nc1(features, labels, 5), rtol=1e-3
  )
