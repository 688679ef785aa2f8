"""Ridge, min-norm least squares and the Sigma-norm error, checked."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from repro.ops import ridge


def _problem(num_samples, dim, targets=1, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(num_samples, dim))
  y = (
    rng.normal(size=(num_samples, targets))
    if targets > 1
    else rng.normal(size=num_samples)
  )
  return x, y


@pytest.mark.parametrize("num_samples,dim", [(40, 10), (10, 40)])
def test_ridge_fit_matches_sklearn_with_alpha_t_lambda(num_samples, dim):
  x, y = _problem(num_samples, dim)
  lam = 0.3
  # argmin ||Xw - y||^2 / T + lam ||w||^2  ==  sklearn alpha = T lam.
  expected = (
    Ridge(alpha=num_samples * lam, fit_intercept=False, solver="cholesky")
    .fit(x, y)
    .coef_
  )
  with jax.enable_x64(True):
    got = jax.jit(ridge.ridge_fit)(jnp.asarray(x), jnp.asarray(y), lam)
  chex.assert_shape(got, (dim,))
  chex.assert_type(got, jnp.float64)
  np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("num_samples,dim", [(40, 10), (10, 40)])
def test_ridge_path_equals_normal_equations_per_lambda(num_samples, dim):
  x, y = _problem(num_samples, dim, targets=3)
  lambdas = np.array([1e-3, 0.1, 2.0])
  with jax.enable_x64(True):
    path = jax.jit(ridge.ridge_path)(jnp.asarray(x), jnp.asarray(y), lambdas)
  assert path.shape == (3, dim, 3)
  chex.assert_shape(path, (3, dim, 3))
  chex.assert_type(path, jnp.float64)
  for lam, weights in zip(lambdas, np.asarray(path), strict=True):
    expected = np.linalg.solve(
      x.T @ x / num_samples + lam * np.eye(dim), x.T @ y / num_samples
    )
    np.testing.assert_allclose(weights, expected, rtol=1e-8, atol=1e-10)


def test_ridge_path_at_zero_is_ols_and_min_norm_interpolation():
  path = jax.jit(ridge.ridge_path)
  with jax.enable_x64(True):
    x, y = _problem(30, 8)
    ols = path(jnp.asarray(x), jnp.asarray(y), np.zeros(1))[0]
    chex.assert_shape(ols, (8,))
    np.testing.assert_allclose(
      ols, np.linalg.lstsq(x, y, rcond=None)[0], rtol=1e-9
    )
    x, y = _problem(8, 30)
    interpolator = path(jnp.asarray(x), jnp.asarray(y), np.zeros(1))[0]
    chex.assert_shape(interpolator, (30,))
    np.testing.assert_allclose(interpolator, np.linalg.pinv(x) @ y, rtol=1e-8)


@pytest.mark.parametrize("dim", [5, 50])
def test_zero_padding_rows_changes_nothing(dim):
  x, y = _problem(12, dim)
  padded_x = np.concatenate([x, np.zeros((8, dim))])
  padded_y = np.concatenate([y, np.zeros(8)])
  lambdas = np.array([1e-10, 0.05, 1.0])
  path = jax.jit(ridge.ridge_path)
  with jax.enable_x64(True):
    plain = path(jnp.asarray(x), jnp.asarray(y), lambdas)
    padded = path(
      jnp.asarray(padded_x), jnp.asarray(padded_y), lambdas, num_samples=12.0
    )
  chex.assert_shape([padded, plain], (3, dim))
  np.testing.assert_allclose(padded, plain, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("num_samples,dim", [(25, 6), (6, 25)])
def test_min_norm_least_squares_is_pseudo_inverse(num_samples, dim):
  x, y = _problem(num_samples, dim, targets=2)
  with jax.enable_x64(True):
    got = jax.jit(ridge.min_norm_least_squares)(jnp.asarray(x), jnp.asarray(y))
  chex.assert_shape(got, (dim, 2))
  np.testing.assert_allclose(got, np.linalg.pinv(x) @ y, rtol=1e-9, atol=1e-12)


def test_sigma_norm_error_is_expected_squared_prediction_gap():
  rng = np.random.default_rng(1)
  eigenvalues = np.array([2.0, 0.5, 0.1])
  w, w_true = rng.normal(size=3), rng.normal(size=3)
  # Brute force: E (x^T w - x^T w_true)^2 over many x ~ N(0, diag).
  x = rng.normal(size=(400_000, 3)) * np.sqrt(eigenvalues)
  monte_carlo = np.mean((x @ (w - w_true)) ** 2)
  with jax.enable_x64(True):
    error = ridge.sigma_norm_error(
      jnp.asarray(w), jnp.asarray(w_true), jnp.asarray(eigenvalues)
    )
    chex.assert_rank(error, 0)
    chex.assert_type(error, jnp.float64)
    exact = float(error)
  assert exact == pytest.approx(
    float((w - w_true) @ np.diag(eigenvalues) @ (w - w_true)), rel=1e-12
  )
  assert monte_carlo == pytest.approx(exact, rel=0.01)
