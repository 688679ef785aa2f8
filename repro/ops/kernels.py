"""Kernels and kernel ridge regression (KRR).

KRR uses the same normalisation as ``repro.ops.ridge`` (arXiv 2402.07712,
Section 3, with the feature map of the kernel):

  f(x) = k(x, X) (K / T + lam I)^{-1} y / T = k(x, X) (K + T lam I)^{-1} y,

with K = k(X, X) of size T x T. With the linear kernel k(x, x') = x^T x'
this is ridge regression.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jax.typing import ArrayLike


def squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
  """||a_i - b_j||^2 for rows a [m, p], b [n, p] -> [m, n], clipped at 0."""
  cross = a @ b.T
  squared = (
    jnp.sum(a * a, axis=1)[:, None]
    + jnp.sum(b * b, axis=1)[None, :]
    - 2.0 * cross
  )
  return jnp.maximum(squared, 0.0)


def rbf_kernel(a: jax.Array, b: jax.Array, bandwidth: ArrayLike) -> jax.Array:
  """Gaussian kernel exp(-||a_i - b_j||^2 / (2 bandwidth^2)) -> [m, n]."""
  return jnp.exp(-squared_distances(a, b) / (2.0 * bandwidth**2))


def linear_kernel(a: jax.Array, b: jax.Array) -> jax.Array:
  """k(a, b) = a^T b -> [m, n]; KRR with it is ridge regression."""
  return a @ b.T


def median_bandwidth(x: jax.Array) -> jax.Array:
  """The median heuristic: median of ||x_i - x_j|| over pairs i < j."""
  num = x.shape[0]
  rows, cols = jnp.triu_indices(num, k=1)
  distances = jnp.sort(jnp.sqrt(squared_distances(x, x)[rows, cols]))
  middle = distances.shape[0] // 2
  if distances.shape[0] % 2:
    return distances[middle]
  return 0.5 * (distances[middle - 1] + distances[middle])


def kernel_ridge_fit(
  k_train: jax.Array, y: jax.Array, lam: ArrayLike
) -> jax.Array:
  """Dual coefficients alpha = (K + T lam I)^{-1} y, so f(x) = k(x, X) alpha.

  Args:
    k_train: kernel matrix K [T, T] of the training inputs.
    y: targets [T] or [T, k].
    lam: ridge parameter (> 0) multiplying I against K / T.
  """
  num_samples = k_train.shape[0]
  regularised = k_train + num_samples * lam * jnp.eye(
    num_samples, dtype=k_train.dtype
  )
  return jsl.cho_solve(jsl.cho_factor(regularised), y)


def kernel_ridge_path(
  k_train: jax.Array, y: jax.Array, lambdas: jax.Array, k_eval: jax.Array
) -> jax.Array:
  """KRR predictions at the evaluation inputs for every ``lam`` in ``lambdas``.

  One Cholesky solve per ``lam`` (faster on CPU than one eigendecomposition
  for a handful of ``lam``).

  Args:
    k_train: K [T, T] of the training inputs.
    y: targets [T] or [T, k].
    lambdas: ridge parameters [L] (> 0).
    k_eval: kernel k(X_eval, X) [m, T].

  Returns:
    Predictions [L, m] or [L, m, k].
  """
  lambdas = jnp.asarray(lambdas, k_train.dtype)
  coefficients = jax.vmap(lambda lam: kernel_ridge_fit(k_train, y, lam))(
    lambdas
  )
  return jnp.einsum("mt,lt...->lm...", k_eval, coefficients)
