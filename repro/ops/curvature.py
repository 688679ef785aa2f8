"""Positive-curvature and softmax-confidence metrics of a loss Hessian.

Definitions follow Fort & Scherlis (arXiv 1807.02581) and Vysogorets,
Dawid & Kempe, "Deconstructing the Goldilocks Zone of Neural Network
Initialization" (arXiv 2402.03579):

* positive curvature ``Tr(H) / ||H||_F = sum_i l_i / sqrt(sum_i l_i^2)``,
  in ``[-sqrt(d), sqrt(d)]``; ``sqrt(d)`` for an isotropic PSD matrix;
* the fraction of strictly positive eigenvalues;
* ``Gamma(P) = Tr(M) / ||M||_F`` of the mean softmax covariance
  ``M = mean_s (diag p_s - p_s p_s^T)`` and the curvature of the expected
  Gauss-Newton term, "Eq. 9" of the official code (``EG_curvature``);
* softmax entropy, confidence and the prior mismatch ``||Q - p_bar||``
  behind the paper's vanishing cross-entropy gradient (Sec. 4).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def trace_over_frobenius(matrix: jax.Array) -> jax.Array:
  """``Tr(A) / ||A||_F`` of a square matrix; 0 where ``A = 0``.

  The official code returns ``inf`` for a zero Hessian; 0 ("no positive
  curvature") keeps sweeps finite. Equals
  ``positive_curvature(eigvalsh(A))`` for symmetric ``A``.
  """
  norm = jnp.linalg.norm(matrix)
  return jnp.where(
    norm > 0, jnp.trace(matrix) / jnp.where(norm > 0, norm, 1), 0.0
  )


def positive_curvature(eigenvalues: jax.Array) -> jax.Array:
  """``sum(l) / ||l||_2`` over the last axis; 0 where all ``l = 0``."""
  norm = jnp.linalg.norm(eigenvalues, axis=-1)
  safe = jnp.where(norm > 0, norm, 1)
  return jnp.where(norm > 0, jnp.sum(eigenvalues, axis=-1) / safe, 0.0)


def fraction_positive(eigenvalues: jax.Array) -> jax.Array:
  """``#{l_i > 0} / d`` over the last axis (strict, as the official code)."""
  eigenvalues = jnp.asarray(eigenvalues)
  return jnp.mean((eigenvalues > 0).astype(eigenvalues.dtype), axis=-1)


def softmax_entropy(logits: jax.Array) -> jax.Array:
  """Mean over samples of the softmax entropy ``-sum_k p_k log p_k``.

  Computed from ``log_softmax`` so saturated logits give 0, not NaN.
  ``logits`` is ``[..., S, K]``; the result has shape ``[...]``.
  """
  log_probs = jax.nn.log_softmax(logits, axis=-1)
  entropy = -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)
  return jnp.mean(entropy, axis=-1)


def mean_confidence(logits: jax.Array) -> jax.Array:
  """Mean over samples of ``max_k p_k``."""
  return jnp.mean(jnp.max(jax.nn.softmax(logits, axis=-1), axis=-1), axis=-1)


def softmax_covariance(probs: jax.Array) -> jax.Array:
  """``M = mean_s (diag p_s - p_s p_s^T)`` for ``probs [S, K]``.

  The output-space Hessian of the mean cross-entropy, averaged over
  samples; it vanishes when the softmax saturates.
  """
  outer = jnp.einsum("sk,sl->kl", probs, probs) / probs.shape[0]
  return jnp.diag(jnp.mean(probs, axis=0)) - outer


def softmax_covariance_norm(probs: jax.Array) -> jax.Array:
  """``mean_s ||diag p_s - p_s p_s^T||_F``: how far from saturation."""
  covariances = jax.vmap(lambda p: jnp.diag(p) - jnp.outer(p, p))(probs)
  return jnp.mean(jnp.linalg.norm(covariances, axis=(-2, -1)))


def softmax_gamma(probs: jax.Array) -> jax.Array:
  """``Gamma(P) = Tr(M) / ||M||_F`` (official ``Gamma``); 0 if ``M = 0``.

  ``sqrt(K - 1)`` for uniform outputs, close to 1 for confident ones.
  """
  return trace_over_frobenius(softmax_covariance(probs))


def logit_gradient_variances(
  jacobians: jax.Array,
) -> tuple[jax.Array, jax.Array]:
  """``(var_E, var_C)`` of logit gradients ``jacobians [S, K, d]``.

  The model of "Eq. 9": ``dz_k(x_s)/dtheta = c_k + e_sk`` with a
  class-common part ``c_k = mean_s J_sk`` and per-sample deviations
  ``e_sk``; ``var_C`` is the per-coordinate variance of the ``c_k`` and
  ``var_E`` that of the ``e_sk``. Use Jacobians projected on an
  orthonormal ``d``-dimensional basis so the variances are isotropic.
  """
  common = jnp.mean(jacobians, axis=0)
  deviations = jacobians - common[None]
  return jnp.var(deviations), jnp.var(common)


def expected_gauss_newton_curvature(
  var_e: jax.Array, var_c: jax.Array, dim: int, gamma: jax.Array
) -> jax.Array:
  """Positive curvature of ``E[G]`` in a ``dim``-dimensional subspace.

  ``sqrt(d)(s_E + s_C) / sqrt(s_E^2 + 2 s_E s_C + d s_C^2 / Gamma^2)`` with
  ``s = var``, official ``EG_curvature`` ("Eq. 9"); 0 when ``Gamma < 1``
  (only possible for a saturated softmax, where ``Gamma = 0``). Derivation:
  ``G ~ C^T M C + var_E Tr(M) I`` with ``C C^T ~ d var_C I``.
  """
  safe_gamma = jnp.where(gamma >= 1, gamma, 1.0)
  numerator = jnp.sqrt(dim) * (var_e + var_c)
  denominator = jnp.sqrt(
    var_e**2 + 2 * var_e * var_c + dim * var_c**2 / safe_gamma**2
  )
  return jnp.where(gamma >= 1, numerator / denominator, 0.0)


def label_prior(labels: jax.Array, num_classes: int) -> jax.Array:
  """Empirical class frequencies ``Q`` of integer labels."""
  return jnp.mean(jax.nn.one_hot(labels, num_classes), axis=0)


def prior_mismatch(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """``||Q - p_bar||_2``: label prior against the mean softmax output.

  When logit gradients share a large class-common part, the cross-entropy
  gradient is ``~ sum_k c_k (p_bar_k - Q_k)`` and vanishes as this does
  (paper Sec. 4, "Eq. 10" of the official notebook).
  """
  num_classes = logits.shape[-1]
  mean_probs = jnp.mean(jax.nn.softmax(logits, axis=-1), axis=0)
  return jnp.linalg.norm(label_prior(labels, num_classes) - mean_probs)
