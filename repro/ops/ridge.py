"""Ridge and minimum-norm least squares, primal or dual by shape.

Ridge is written with the sample-normalised Gram matrix, as in Dohmatob,
Feng and Kempe (arXiv 2402.07712, Section 3):

  w(lam) = argmin_w ||X w - y||^2 / T + lam ||w||^2
         = (X^T X / T + lam I)^{-1} X^T y / T            (primal, d x d)
         = X^T (X X^T / T + lam I)^{-1} y / T            (dual, T x T)

so sklearn's ``Ridge(alpha)`` is ``lam = alpha / T``. The solvers pick the
primal form when T >= d and the dual form when T < d (the shapes are
static, so the choice happens at trace time). Every function works on
float64 inside ``jax.enable_x64()`` and composes with ``jit``/``vmap``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jax.typing import ArrayLike


def ridge_fit(x: jax.Array, y: jax.Array, lam: ArrayLike) -> jax.Array:
  """Ridge weights for one ``lam`` > 0 by a Cholesky solve.

  Args:
    x: design [T, d].
    y: targets [T] or [T, k].
    lam: ridge parameter multiplying I against X^T X / T.

  Returns:
    Weights [d] or [d, k].
  """
  num_samples, dim = x.shape
  if num_samples >= dim:
    return _regularised_solve(x.T @ x / num_samples, lam, x.T @ y / num_samples)
  return x.T @ _regularised_solve(x @ x.T / num_samples, lam, y / num_samples)


def ridge_path(
  x: jax.Array,
  y: jax.Array,
  lambdas: jax.Array,
  num_samples: ArrayLike | None = None,
) -> jax.Array:
  """Ridge weights for every ``lam`` in ``lambdas`` from one Gram matrix.

  One Cholesky solve per ``lam`` (on CPU, batched small Cholesky solves are
  several times faster than one eigendecomposition). ``lam = 0`` is allowed
  where the Gram matrix is invertible: OLS for T > d, min-norm
  interpolation for T < d.

  Args:
    x: design [rows, d].
    y: targets [rows] or [rows, k].
    lambdas: ridge parameters [L] (> 0 when rows are padded).
    num_samples: T, the number of real rows (may be traced). Rows beyond
      the first T must be zero in ``x`` and ``y`` (padding, so one compiled
      function serves several T); they change nothing. Default: all rows.

  Returns:
    Weights [L, d] or [L, d, k].
  """
  rows, dim = x.shape
  num_samples = rows if num_samples is None else num_samples
  lambdas = jnp.asarray(lambdas, x.dtype)
  if rows >= dim:
    gram = x.T @ x / num_samples
    moment = x.T @ y / num_samples
    return jax.vmap(lambda lam: _regularised_solve(gram, lam, moment))(lambdas)
  kernel = x @ x.T / num_samples
  scaled_targets = y / num_samples
  dual = jax.vmap(lambda lam: _regularised_solve(kernel, lam, scaled_targets))(
    lambdas
  )
  return jnp.einsum("ti,lt...->li...", x, dual)


def _regularised_solve(matrix: jax.Array, lam, rhs: jax.Array) -> jax.Array:
  """(matrix + lam I)^{-1} rhs by Cholesky; matrix symmetric PSD."""
  eye = jnp.eye(matrix.shape[0], dtype=matrix.dtype)
  return jsl.cho_solve(jsl.cho_factor(matrix + lam * eye), rhs)


def min_norm_least_squares(x: jax.Array, y: jax.Array) -> jax.Array:
  """The minimum-norm least-squares solution X^+ y (the OLS generator).

  T >= d: (X^T X)^{-1} X^T y (X of full column rank); T < d:
  X^T (X X^T)^{-1} y, the interpolator of least norm (not ridge). Gaussian
  designs have full rank almost surely.

  Args:
    x: design [T, d].
    y: targets [T] or [T, k].

  Returns:
    Weights [d] or [d, k].
  """
  num_samples, dim = x.shape
  if num_samples >= dim:
    return _regularised_solve(x.T @ x, 0.0, x.T @ y)
  return x.T @ _regularised_solve(x @ x.T, 0.0, y)


def sigma_norm_error(
  w: jax.Array, w_true: jax.Array, eigenvalues: jax.Array
) -> jax.Array:
  """||w - w_true||_Sigma^2 = E_x (x^T w - x^T w_true)^2 for diagonal Sigma.

  This is the exact population test error for x ~ N(0, diag(eigenvalues)),
  so no test sample is drawn. Leading axes of ``w``
  broadcast.
  """
  return jnp.sum(eigenvalues * (w - w_true) ** 2, axis=-1)
