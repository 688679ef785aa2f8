"""Loss Hessians of full-batch objectives over pytrees of parameters.

Everything works on the parameter vector ``theta`` obtained with
``jax.flatten_util.ravel_pytree``, so a Hessian is a ``[D, D]`` matrix and a
subspace Hessian a ``[d, d]`` matrix, whatever the model's pytree looks like.

* ``hessian``: the exact ``D x D`` Hessian (``jax.hessian`` of the flattened
  loss, or chunks of Hessian-vector products when memory matters).
* ``subspace_hessian``: ``R^T H R`` for a ``[D, d]`` basis ``R``, i.e. the
  Hessian of ``u -> L(theta + R u)`` at ``u = 0`` (Fort & Scherlis 2018;
  Vysogorets et al. 2024, Sec. 3, with ``d = 50``).
* ``hvp`` / ``flat_hvp``: forward-over-reverse Hessian-vector products.
* ``hutchinson_trace`` / ``hutchinson_frobenius``: Rademacher estimators of
  ``Tr H = E[v^T H v]`` and ``||H||_F^2 = E[||H v||^2]``.
* ``lanczos_tridiagonal`` / ``lanczos_eigenvalues``: Lanczos with full
  reorthogonalisation for extreme eigenvalues (sharpness, spectral norms).
* ``jacobian_in_basis``, ``gauss_newton_in_basis``, ``gauss_newton_split``:
  the decomposition
  ``H = G + H_term`` with ``G = J^T (d^2 l / dz^2) J`` the Gauss-Newton
  term and ``H_term = sum_k (dl/dz_k) d^2 z_k / dtheta^2`` the residual.

All functions are pure and compose with ``jit`` and ``vmap``; run them in
float64 (``with jax.enable_x64():``) when the spectrum matters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jax.typing import DTypeLike

Params = Any
LossFn = Callable[[Params], jax.Array]
MatVec = Callable[[jax.Array], jax.Array]


def flatten_loss(
  loss_fn: LossFn, params: Params
) -> tuple[
  Callable[[jax.Array], jax.Array], jax.Array, Callable[[jax.Array], Params]
]:
  """Returns ``(flat_loss, theta, unravel)`` with ``flat_loss(theta) = L``.

  ``theta`` is the parameter pytree flattened by ``ravel_pytree``; every
  other function of this module differentiates ``flat_loss``.
  """
  theta, unravel = ravel_pytree(params)
  return (lambda flat: loss_fn(unravel(flat))), theta, unravel


def _map_columns(
  fn: MatVec, basis: jax.Array, chunk_size: int | None
) -> jax.Array:
  """``[fn(basis[:, j]) for j]`` stacked on axis 0, ``chunk_size`` at a time."""
  columns = basis.T
  if chunk_size is None:
    return jax.vmap(fn)(columns)
  return jax.lax.map(fn, columns, batch_size=chunk_size)


def flat_hvp(loss_fn: LossFn, params: Params) -> tuple[MatVec, int]:
  """Returns ``(matvec, D)``: ``matvec(v) = H v`` on flat vectors of size D.

  Forward-over-reverse (``jvp`` of ``grad``): one extra forward pass per
  product, never forming ``H``.
  """
  flat_loss, theta, _ = flatten_loss(loss_fn, params)
  grad = jax.grad(flat_loss)

  def matvec(vector):
    return jax.jvp(grad, (theta,), (vector.astype(theta.dtype),))[1]

  return matvec, theta.size


def hvp(loss_fn: LossFn, params: Params, tangent: Params) -> Params:
  """The Hessian-vector product ``H t`` with ``t`` a pytree like ``params``."""
  return jax.jvp(jax.grad(loss_fn), (params,), (tangent,))[1]


def hessian(
  loss_fn: LossFn, params: Params, chunk_size: int | None = None
) -> jax.Array:
  """The exact ``[D, D]`` Hessian of ``loss_fn`` at ``params``.

  Args:
    loss_fn: ``params -> scalar`` (the full-batch loss).
    params: a pytree of arrays.
    chunk_size: if None, ``jax.hessian`` of the flattened loss (all ``D``
      tangents at once); otherwise ``D`` Hessian-vector products computed
      ``chunk_size`` at a time, which bounds memory for large batches.
  """
  flat_loss, theta, _ = flatten_loss(loss_fn, params)
  if chunk_size is None:
    return jax.hessian(flat_loss)(theta)
  matvec, dim = flat_hvp(loss_fn, params)
  return _map_columns(matvec, jnp.eye(dim, dtype=theta.dtype), chunk_size)


def random_orthonormal_basis(
  key: jax.Array, dim: int, subspace_dim: int, dtype: DTypeLike | None = None
) -> jax.Array:
  """A ``[dim, subspace_dim]`` basis with orthonormal columns.

  The polar factor ``X (X^T X)^(-1/2)`` of a Gaussian ``X``, which is
  Haar-distributed on the Stiefel manifold; ``(X^T X)^(-1/2)`` comes from a
  small ``d x d`` eigendecomposition (much cheaper than a tall QR on CPU)
  and a second pass removes the round-off. The official code uses sparse
  +-1 columns that are only approximately orthonormal; see the goldilocks
  README for the consequences.
  """
  if subspace_dim > dim:
    raise ValueError(f"subspace_dim {subspace_dim} > dim {dim}")
  dtype = dtype or jnp.result_type(float)
  basis = jax.random.normal(key, (dim, subspace_dim), dtype)
  for _ in range(2):
    values, vectors = jnp.linalg.eigh(basis.T @ basis)
    basis = basis @ ((vectors / jnp.sqrt(values)) @ vectors.T)
  return basis


def subspace_hessian(
  loss_fn: LossFn,
  params: Params,
  basis: jax.Array,
  chunk_size: int | None = None,
) -> jax.Array:
  """``R^T H R``: the Hessian of ``u -> L(theta + R u)`` at ``u = 0``.

  Computed as ``d`` Hessian-vector products ``H R[:, j]`` followed by one
  projection, exactly the paper's subspace Hessian (Sec. 3) for any basis
  ``R`` of shape ``[D, d]`` (orthonormal or not).
  """
  matvec, _ = flat_hvp(loss_fn, params)
  basis = basis.astype(ravel_pytree(params)[0].dtype)
  hessian_times_basis = _map_columns(matvec, basis, chunk_size)  # [d, D]
  return hessian_times_basis @ basis


def rademacher_probes(
  key: jax.Array, num_probes: int, dim: int, dtype: DTypeLike | None = None
) -> jax.Array:
  """``[num_probes, dim]`` independent +-1 entries."""
  dtype = dtype or jnp.result_type(float)
  return jax.random.rademacher(key, (num_probes, dim), dtype)


def hutchinson_trace(
  matvec: MatVec,
  key: jax.Array,
  dim: int,
  num_probes: int = 100,
  dtype: DTypeLike | None = None,
) -> jax.Array:
  """Hutchinson's estimate ``mean_i v_i^T H v_i`` of ``Tr H`` (Rademacher).

  Unbiased; its variance is ``2 (||H||_F^2 - sum_i H_ii^2) / num_probes``.
  """
  probes = rademacher_probes(key, num_probes, dim, dtype)
  products = jax.lax.map(matvec, probes)
  return jnp.mean(jnp.sum(probes * products, axis=-1))


def hutchinson_frobenius(
  matvec: MatVec,
  key: jax.Array,
  dim: int,
  num_probes: int = 100,
  dtype: DTypeLike | None = None,
) -> jax.Array:
  """Estimate ``sqrt(mean_i ||H v_i||^2)`` of ``||H||_F`` (Rademacher).

  ``E ||H v||^2 = Tr(H^T H) = ||H||_F^2`` for ``E[v v^T] = I``.
  """
  probes = rademacher_probes(key, num_probes, dim, dtype)
  products = jax.lax.map(matvec, probes)
  return jnp.sqrt(jnp.mean(jnp.sum(products**2, axis=-1)))


def lanczos_tridiagonal(
  matvec: MatVec,
  key: jax.Array,
  dim: int,
  num_steps: int,
  dtype: DTypeLike | None = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
  """``num_steps`` Lanczos steps with full reorthogonalisation.

  Args:
    matvec: ``v -> H v`` for a symmetric ``H`` of size ``dim``.
    key: draws the random unit starting vector.
    dim: size of ``H``.
    num_steps: Krylov dimension ``m`` (``m <= dim``).
    dtype: float dtype of the vectors.

  Returns:
    ``(alphas [m], betas [m - 1], basis [m, dim])``: the tridiagonal
    ``T = Q^T H Q`` (diagonal, off-diagonal) and the orthonormal Krylov
    basis ``Q`` (rows). If the Krylov space is exhausted early (an
    invariant subspace, e.g. ``num_steps`` above the rank), the next
    ``beta`` is 0, ``T`` decouples and the remaining rows of ``Q`` are 0,
    adding Ritz values 0.
  """
  if num_steps > dim:
    raise ValueError(f"num_steps {num_steps} > dim {dim}")
  dtype = dtype or jnp.result_type(float)
  start = jax.random.normal(key, (dim,), dtype)
  start = start / jnp.linalg.norm(start)
  basis = jnp.zeros((num_steps, dim), dtype).at[0].set(start)
  round_off = 64 * jnp.finfo(dtype).eps

  def step(basis, index):
    current = basis[index]
    residual = matvec(current)
    scale = jnp.linalg.norm(residual)
    alpha = jnp.dot(current, residual)
    # Full reorthogonalisation against every stored vector (twice for
    # stability); rows beyond ``index`` are zero and contribute nothing.
    for _ in range(2):
      residual = residual - basis.T @ (basis @ residual)
    beta = jnp.linalg.norm(residual)
    safe = beta > round_off * scale
    next_vector = jnp.where(safe, residual / jnp.where(safe, beta, 1.0), 0.0)
    beta = jnp.where(safe, beta, 0.0)
    next_index = jnp.minimum(index + 1, num_steps - 1)
    basis = jnp.where(
      index + 1 < num_steps, basis.at[next_index].set(next_vector), basis
    )
    return basis, (alpha, beta)

  basis, (alphas, betas) = jax.lax.scan(step, basis, jnp.arange(num_steps))
  return alphas, betas[:-1], basis


def tridiagonal_eigenvalues(alphas: jax.Array, betas: jax.Array) -> jax.Array:
  """Ascending eigenvalues of the symmetric tridiagonal ``(alphas, betas)``."""
  matrix = jnp.diag(alphas) + jnp.diag(betas, 1) + jnp.diag(betas, -1)
  return jnp.linalg.eigvalsh(matrix)


def lanczos_eigenvalues(
  matvec: MatVec,
  key: jax.Array,
  dim: int,
  num_steps: int = 30,
  dtype: DTypeLike | None = None,
) -> jax.Array:
  """Ritz values (ascending) of ``num_steps`` Lanczos steps.

  The largest and smallest converge first: ``[-1]`` approximates
  ``lambda_max`` (the sharpness) and ``max(|[0]|, |[-1]|)`` the spectral
  norm ``||H||_2``.
  """
  alphas, betas, _ = lanczos_tridiagonal(matvec, key, dim, num_steps, dtype)
  return tridiagonal_eigenvalues(alphas, betas)


def spectral_norm(matrix: jax.Array) -> jax.Array:
  """``||A||_2 = max |lambda|`` of a symmetric matrix (exact)."""
  return jnp.max(jnp.abs(jnp.linalg.eigvalsh(symmetrize(matrix))))


def symmetrize(matrix: jax.Array) -> jax.Array:
  """``(A + A^T) / 2``: removes round-off asymmetry of autodiff Hessians."""
  return 0.5 * (matrix + matrix.T)


def gauss_newton_vector_product(
  outputs_fn: Callable[[Params], jax.Array],
  output_loss: Callable[[jax.Array], jax.Array],
  params: Params,
) -> tuple[MatVec, int]:
  """Returns ``(matvec, D)`` with ``matvec(v) = J^T (d^2 l/dz^2) J v``.

  ``outputs_fn(params)`` gives all outputs ``z`` (e.g. logits ``[S, K]``),
  ``output_loss(z)`` the scalar loss, ``J = dz/dtheta``. Matrix-free: one
  ``jvp`` through the network, an output-space Hessian-vector product and
  one ``vjp``.
  """
  theta, unravel = ravel_pytree(params)
  flat_outputs = lambda flat: outputs_fn(unravel(flat))
  outputs, pullback = jax.vjp(flat_outputs, theta)
  output_grad = jax.grad(output_loss)

  def matvec(vector):
    jv = jax.jvp(flat_outputs, (theta,), (vector.astype(theta.dtype),))[1]
    hjv = jax.jvp(output_grad, (outputs,), (jv,))[1]
    return pullback(hjv)[0]

  return matvec, theta.size


def jacobian_in_basis(
  outputs_fn: Callable[[Params], jax.Array],
  params: Params,
  basis: jax.Array | None = None,
  chunk_size: int | None = None,
) -> jax.Array:
  """``J R`` stacked as ``[d, *z.shape]``: output tangents along each column.

  ``J = dz/dtheta`` of ``outputs_fn``; ``basis`` ``[D, d]`` (None: the
  identity, i.e. the full Jacobian). One ``jvp`` per column.
  """
  theta, unravel = ravel_pytree(params)
  if basis is None:
    basis = jnp.eye(theta.size, dtype=theta.dtype)
  flat_outputs = lambda flat: outputs_fn(unravel(flat))
  jvp = lambda vector: jax.jvp(
    flat_outputs, (theta,), (vector.astype(theta.dtype),)
  )[1]
  return _map_columns(jvp, basis.astype(theta.dtype), chunk_size)


def gauss_newton_from_jacobian(
  jacobian: jax.Array,
  outputs: jax.Array,
  output_loss: Callable[[jax.Array], jax.Array],
) -> jax.Array:
  """``(J R)^T (d^2 l / dz^2) (J R)`` from ``jacobian_in_basis`` output.

  Args:
    jacobian: ``[d, *z.shape]``, the output tangents of the basis columns.
    outputs: ``z`` at which the output-space Hessian is taken.
    output_loss: ``z -> scalar``.
  """
  output_grad = jax.grad(output_loss)
  output_hessian_times = lambda tangent: jax.jvp(
    output_grad, (outputs,), (tangent,)
  )[1]
  curved = jax.vmap(output_hessian_times)(jacobian)
  num_columns = jacobian.shape[0]
  return jacobian.reshape(num_columns, -1) @ curved.reshape(num_columns, -1).T


def gauss_newton_in_basis(
  outputs_fn: Callable[[Params], jax.Array],
  output_loss: Callable[[jax.Array], jax.Array],
  params: Params,
  basis: jax.Array | None = None,
  chunk_size: int | None = None,
) -> jax.Array:
  """``R^T G R`` with ``G = J^T (d^2 l / dz^2) J`` (the Gauss-Newton term).

  For the mean cross-entropy over ``S`` samples this is the paper's
  ``G = (1/S) sum_s J_s^T (diag p_s - p_s p_s^T) J_s``.

  Args:
    outputs_fn: ``params -> z`` (any shape, e.g. full-batch logits).
    output_loss: ``z -> scalar``.
    params: pytree.
    basis: ``[D, d]``; None for the identity (the full ``D x D`` matrix).
    chunk_size: Jacobian-vector products computed this many at a time.
  """
  jacobian = jacobian_in_basis(outputs_fn, params, basis, chunk_size)
  return gauss_newton_from_jacobian(jacobian, outputs_fn(params), output_loss)


def gauss_newton_split(
  outputs_fn: Callable[[Params], jax.Array],
  output_loss: Callable[[jax.Array], jax.Array],
  params: Params,
  basis: jax.Array | None = None,
  chunk_size: int | None = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
  """Returns ``(H, G, H_term)`` in the basis, with ``H = G + H_term``.

  ``H`` is the Hessian of ``output_loss(outputs_fn(params))``; ``G`` the
  Gauss-Newton term (``gauss_newton_in_basis``); ``H_term = H - G`` the
  residual ``sum_k (dl/dz_k) d^2 z_k`` (Sec. 4 of the paper). ``basis``
  None gives the full matrices.
  """
  loss_fn = lambda p: output_loss(outputs_fn(p))
  if basis is None:
    full_hessian = hessian(loss_fn, params, chunk_size)
  else:
    full_hessian = subspace_hessian(loss_fn, params, basis, chunk_size)
  gauss_newton = gauss_newton_in_basis(
    outputs_fn, output_loss, params, basis, chunk_size
  )
  return full_hessian, gauss_newton, full_hessian - gauss_newton
