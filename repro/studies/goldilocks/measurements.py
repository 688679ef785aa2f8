"""Curvature, confidence and gradient measurements at one initialisation.

Each function takes the flat initial parameters ``theta0`` (Kaiming init,
``alpha = 1``), a log10 scale ``alpha`` and a log10 softmax temperature
``T`` and measures the full-batch training loss ``L(alpha theta0; T)`` of a
``Problem``. All run in float64 under ``jax.enable_x64()`` (callers' job)
and are ``jit``/``lax.map`` friendly; the sweeps map them over grids.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from repro.ops import curvature as curv
from repro.ops import hessian as hess
from repro.ops.losses import mean_cross_entropy
from repro.studies.goldilocks.problems import Problem


def training_data(problem: Problem):
  """``(inputs float64, labels)``: pass it to the jitted measurements as an
  argument (not a constant baked into the program)."""
  return (
    jnp.asarray(problem.train_inputs, jnp.float64),
    jnp.asarray(problem.train_labels),
  )


def _objective(problem: Problem, data, log_temperature):
  """Returns ``(logits_fn, output_loss)`` of the tempered training loss."""
  inputs, labels = data
  temperature = 10.0**log_temperature

  def logits_fn(theta):
    return problem.apply_flat(theta, inputs) / temperature

  return logits_fn, lambda logits: mean_cross_entropy(logits, labels)


def _confidence_metrics(logits, labels, num_classes):
  probs = jax.nn.softmax(logits, axis=-1)
  return {
    "loss": mean_cross_entropy(logits, labels),
    "entropy": curv.softmax_entropy(logits),
    "normalized_entropy": curv.softmax_entropy(logits) / jnp.log(num_classes),
    "confidence": curv.mean_confidence(logits),
    "softmax_cov_norm": curv.softmax_covariance_norm(probs),
    "prior_mismatch": curv.prior_mismatch(logits, labels),
    "accuracy": jnp.mean(jnp.argmax(logits, -1) == labels),
  }


def subspace_point(
  problem: Problem,
  data,
  theta0,
  log_alpha,
  log_temperature,
  basis,
  chunk_size: int = 1,
):
  """Subspace curvature plus confidence metrics (claims G1, G2, G5).

  Returns a dict of scalars and ``subspace_hessian`` ``R^T H R`` (``[d, d]``,
  the paper's Sec. 3 measurement with an orthonormal ``R``).
  """
  logits_fn, output_loss = _objective(problem, data, log_temperature)
  theta = 10.0**log_alpha * theta0
  loss_fn = lambda flat: output_loss(logits_fn(flat))
  sub_hessian = hess.symmetrize(
    hess.subspace_hessian(loss_fn, theta, basis, chunk_size)
  )
  eigenvalues = jnp.linalg.eigvalsh(sub_hessian)
  logits = logits_fn(theta)
  labels = data[1]
  result = _confidence_metrics(logits, labels, problem.num_classes)
  result.update(
    curvature=curv.positive_curvature(eigenvalues),
    frac_positive=curv.fraction_positive(eigenvalues),
    grad_norm=jnp.linalg.norm(jax.grad(loss_fn)(theta)),
    subspace_hessian=sub_hessian,
  )
  return result


def sweep_point(
  problem: Problem,
  data,
  theta0,
  log_alpha,
  basis,
  key,
  lanczos_steps: int,
  chunk_size: int = 1,
):
  """Everything measured at one ``(alpha, seed)`` of the sweep (G1-G5).

  On top of ``subspace_point`` (at ``T = 1``): the Gauss-Newton part of the
  subspace Hessian and its curvature, the expected-G curvature of "Eq. 9"
  (``d`` = subspace dimension), and full-space spectral norms ``||G||_2``
  and ``||H_term||_2`` by Lanczos on matrix-free products.
  """
  result = subspace_point(
    problem, data, theta0, log_alpha, 0.0, basis, chunk_size
  )
  logits_fn, output_loss = _objective(problem, data, 0.0)
  theta = 10.0**log_alpha * theta0
  logits = logits_fn(theta)
  jacobian = hess.jacobian_in_basis(logits_fn, theta, basis, chunk_size)
  sub_gauss_newton = hess.symmetrize(
    hess.gauss_newton_from_jacobian(jacobian, logits, output_loss)
  )
  var_e, var_c = curv.logit_gradient_variances(
    jnp.transpose(jacobian, (1, 2, 0))
  )  # [S, K, d]
  gamma = curv.softmax_gamma(jax.nn.softmax(logits, axis=-1))
  dim = basis.shape[1]

  loss_fn = lambda flat: output_loss(logits_fn(flat))
  hessian_times, num_params = hess.flat_hvp(loss_fn, theta)
  gauss_newton_times, _ = hess.gauss_newton_vector_product(
    logits_fn, output_loss, theta
  )
  residual_times = lambda v: hessian_times(v) - gauss_newton_times(v)
  key_g, key_r = jax.random.split(key)
  ritz_g = hess.lanczos_eigenvalues(
    gauss_newton_times, key_g, num_params, lanczos_steps, jnp.float64
  )
  ritz_r = hess.lanczos_eigenvalues(
    residual_times, key_r, num_params, lanczos_steps, jnp.float64
  )
  result.update(
    g_curvature=curv.trace_over_frobenius(sub_gauss_newton),
    eg_curvature=curv.expected_gauss_newton_curvature(var_e, var_c, dim, gamma),
    gamma=gamma,
    g_norm=jnp.max(jnp.abs(ritz_g)),
    h_term_norm=jnp.max(jnp.abs(ritz_r)),
    sub_g_norm=hess.spectral_norm(sub_gauss_newton),
    sub_h_term_norm=hess.spectral_norm(
      result["subspace_hessian"] - sub_gauss_newton
    ),
  )
  return result


def full_point(
  problem: Problem, data, theta0, log_alpha, coordinates, chunk_size: int = 1
):
  """Exact Hessian and Gauss-Newton term in full space (G3, full curvature).

  ``coordinates`` is None for the whole ``D x D`` matrices, or a ``[D, c]``
  block of identity columns (a random coordinate subset) for the principal
  submatrices, whose traces are partial traces of ``H`` and ``G``.
  """
  logits_fn, output_loss = _objective(problem, data, 0.0)
  theta = 10.0**log_alpha * theta0
  hessian, gauss_newton, residual = hess.gauss_newton_split(
    logits_fn, output_loss, theta, coordinates, chunk_size
  )
  hessian = hess.symmetrize(hessian)
  eigenvalues = jnp.linalg.eigvalsh(hessian)
  tolerance = 1e-12 * jnp.max(jnp.abs(eigenvalues))
  logits = logits_fn(theta)
  return {
    "trace_h": jnp.trace(hessian),
    "trace_g": jnp.trace(gauss_newton),
    "trace_h_term": jnp.trace(residual),
    "curvature": curv.positive_curvature(eigenvalues),
    "frac_positive_tol": jnp.mean(eigenvalues > tolerance),
    "frac_negative_tol": jnp.mean(eigenvalues < -tolerance),
    "confidence": curv.mean_confidence(logits),
  }


def prior_point(problem: Problem, data, theta0, output_offset):
  """Gradient norm and prior mismatch at ``alpha = T = 1`` (claim G6).

  ``output_offset`` ``[K]`` is added to every logit (a fixed output bias,
  not a parameter): ``log Q`` puts the mean softmax ``p_bar`` near the
  label prior ``Q``; a permutation of it mismatches with equal entropy.
  """
  logits_fn, output_loss = _objective(problem, data, 0.0)
  shifted = lambda flat: logits_fn(flat) + output_offset
  loss_fn = lambda flat: output_loss(shifted(flat))
  labels = data[1]
  logits = shifted(theta0)
  return {
    "grad_norm": jnp.linalg.norm(jax.grad(loss_fn)(theta0)),
    "prior_mismatch": curv.prior_mismatch(logits, labels),
    "entropy": curv.softmax_entropy(logits),
  }
