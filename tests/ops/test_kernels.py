"""Kernels and kernel ridge regression vs scipy, sklearn and ridge."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist
from sklearn.kernel_ridge import KernelRidge

from repro.ops import kernels, ridge


def test_squared_distances_and_rbf_match_scipy():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(7, 4)), rng.normal(size=(5, 4))
  with jax.enable_x64(True):
    squared, rbf = jax.jit(
      lambda a, b: (
        kernels.squared_distances(a, b),
        kernels.rbf_kernel(a, b, 1.5),
      )
    )(jnp.asarray(a), jnp.asarray(b))
  chex.assert_shape([squared, rbf], (7, 5))
  chex.assert_type([squared, rbf], jnp.float64)
  np.testing.assert_allclose(squared, cdist(a, b, "sqeuclidean"), rtol=1e-10)
  np.testing.assert_allclose(
    rbf, np.exp(-cdist(a, b, "sqeuclidean") / 4.5), rtol=1e-10
  )


def test_rbf_kernel_hand_case():
  a = jnp.array([[0.0, 0.0]])
  b = jnp.array([[3.0, 4.0], [0.0, 0.0]])
  gram = jax.jit(kernels.rbf_kernel)(a, b, 5.0)
  chex.assert_shape(gram, (1, 2))
  chex.assert_type(gram, jnp.float32)
  np.testing.assert_allclose(gram, [[np.exp(-0.5), 1.0]], rtol=1e-6)


@pytest.mark.parametrize("num", [31, 32])  # odd and even pair counts.
def test_median_bandwidth_is_median_pairwise_distance(num):
  x = np.random.default_rng(1).normal(size=(num, 3))
  with jax.enable_x64(True):
    bandwidth = jax.jit(kernels.median_bandwidth)(jnp.asarray(x))
    chex.assert_rank(bandwidth, 0)
    got = float(bandwidth)
  assert got == pytest.approx(np.median(pdist(x)), rel=1e-10)


def test_kernel_ridge_with_linear_kernel_is_ridge():
  rng = np.random.default_rng(2)
  x, x_eval = rng.normal(size=(20, 30)), rng.normal(size=(6, 30))
  y = rng.normal(size=(20, 2))
  lambdas = np.array([1e-3, 0.2, 3.0])

  @jax.jit
  def both(x, y, x_eval):
    predictions = kernels.kernel_ridge_path(
      kernels.linear_kernel(x, x), y, lambdas, kernels.linear_kernel(x_eval, x)
    )
    return predictions, ridge.ridge_path(x, y, lambdas)

  with jax.enable_x64(True):
    predictions, weights = both(
      jnp.asarray(x), jnp.asarray(y), jnp.asarray(x_eval)
    )
  chex.assert_shape(predictions, (3, 6, 2))
  chex.assert_shape(weights, (3, 30, 2))
  expected = np.einsum("md,ldk->lmk", x_eval, np.asarray(weights))
  np.testing.assert_allclose(predictions, expected, rtol=1e-8, atol=1e-10)


def test_kernel_ridge_fit_matches_sklearn():
  rng = np.random.default_rng(3)
  x, x_eval = rng.normal(size=(25, 3)), rng.normal(size=(4, 3))
  y = rng.normal(size=25)
  bandwidth, lam = 1.3, 0.01
  model = KernelRidge(
    alpha=25 * lam, kernel="rbf", gamma=1.0 / (2 * bandwidth**2)
  ).fit(x, y)

  @jax.jit
  def predict(x, y, x_eval):
    alpha = kernels.kernel_ridge_fit(
      kernels.rbf_kernel(x, x, bandwidth), y, lam
    )
    return kernels.rbf_kernel(x_eval, x, bandwidth) @ alpha

  with jax.enable_x64(True):
    got = predict(jnp.asarray(x), jnp.asarray(y), jnp.asarray(x_eval))
  chex.assert_shape(got, (4,))
  chex.assert_type(got, jnp.float64)
  np.testing.assert_allclose(got, model.predict(x_eval), rtol=1e-8)
