"""Adversarial robustness of linear classifiers in closed form.

For a linear score f(x) = <w, x>, a label y in {-1, +1} and perturbations
in the l_p ball of radius eps, the worst case of any decreasing loss is
attained in closed form (Tsilivis et al. 2024, arXiv 2406.04981, eq. (1) and
Section 3):

  max_{||delta||_p <= eps} loss(y <w, x + delta>) = loss(y <w, x> - eps ||w||_q)

with 1/p + 1/q = 1. The module also holds the synthetic data model of the
paper's linear experiments (teacher, dense or sparse inputs, margin
injection) and the largest admissible radius eps*.

Threat models are named ``"linf"`` (p = inf, dual norm l1) and ``"l2"``
(p = 2, dual norm l2).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jax.typing import ArrayLike

THREATS = ("linf", "l2")


def _check_threat(threat: str) -> None:
  if threat not in THREATS:
    raise ValueError(f"unknown threat {threat!r}; choose one of {THREATS}")


@jax.custom_jvp
def l1_norm(w: jax.Array) -> jax.Array:
  """||w||_1 whose derivative is sign(w), i.e. 0 at w_j = 0.

  ``jnp.abs`` differentiates to 1 at 0; at the zero initialisation that
  would push every coordinate by the same amount in the first step. The
  subgradient sign(w) is the minimum-norm one.
  """
  return jnp.sum(jnp.abs(w))


@l1_norm.defjvp
def _l1_norm_jvp(primals, tangents):
  (w,), (w_dot,) = primals, tangents
  return l1_norm(w), jnp.sum(jnp.sign(w) * w_dot)


@jax.custom_jvp
def l2_norm(w: jax.Array) -> jax.Array:
  """||w||_2 whose derivative is w / ||w||_2, and 0 at w = 0 (not NaN)."""
  return jnp.sqrt(jnp.sum(w * w))


@l2_norm.defjvp
def _l2_norm_jvp(primals, tangents):
  (w,), (w_dot,) = primals, tangents
  norm = l2_norm(w)
  safe = jnp.where(norm > 0, norm, 1.0)
  direction = jnp.where(norm > 0, w / safe, 0.0)
  return norm, jnp.sum(direction * w_dot)


def dual_norm(w: jax.Array, threat: str = "linf") -> jax.Array:
  """||w||_q, the dual of the threat's norm: l1 for linf, l2 for l2."""
  _check_threat(threat)
  return l1_norm(w) if threat == "linf" else l2_norm(w)


def robust_margin(
  w: jax.Array, x: jax.Array, y: jax.Array, eps: ArrayLike, threat: str = "linf"
) -> jax.Array:
  """y <w, x> - eps ||w||_q, the margin under the worst perturbation.

  Args:
    w: weights ``[d]``.
    x: inputs ``[n, d]``.
    y: labels in {-1, +1}, ``[n]``.
    eps: perturbation radius (scalar).
    threat: ``"linf"`` or ``"l2"``.

  Returns:
    ``[n]`` robust margins.
  """
  return y * (x @ w) - eps * dual_norm(w, threat)


def worst_case_perturbation(
  w: jax.Array, x: jax.Array, y: jax.Array, eps: ArrayLike, threat: str = "linf"
) -> jax.Array:
  """The delta* attaining the worst case; ``[n, d]`` (broadcast to x).

  linf: delta* = -eps y sign(w); l2: delta* = -eps y w / ||w||_2.
  """
  _check_threat(threat)
  if threat == "linf":
    direction = jnp.sign(w)
  else:
    norm = jnp.sqrt(jnp.sum(w * w))
    direction = jnp.where(norm > 0, w / jnp.where(norm > 0, norm, 1.0), 0.0)
  return jnp.broadcast_to(-eps * y[:, None] * direction[None, :], x.shape)


def robust_accuracy(
  w: jax.Array, x: jax.Array, y: jax.Array, eps: ArrayLike, threat: str = "linf"
) -> jax.Array:
  """Exact robust accuracy: mean of 1[y <w, x> - eps ||w||_q > 0]."""
  return jnp.mean(robust_margin(w, x, y, eps, threat) > 0)


def robust_logsumexp_loss(
  w: jax.Array,
  x: jax.Array,
  y: jax.Array,
  eps: ArrayLike,
  mask: jax.Array | None = None,
  threat: str = "linf",
) -> jax.Array:
  """log sum_i exp(-(y_i <w, x_i> - eps ||w||_q)) over the masked points.

  The logarithm of the summed exponential robust loss (arXiv 2406.04981, Section
  3); its gradient is the exponential loss's gradient divided by the loss, so
  plain steps on it are the normalised steps of Nacson et al. (2019).
  ``mask`` (``[n]`` bool) selects the training points of a padded batch.
  """
  negative_margins = -robust_margin(w, x, y, eps, threat)
  if mask is None:
    return jax.nn.logsumexp(negative_margins)
  return jax.nn.logsumexp(jnp.where(mask, negative_margins, -jnp.inf))


def l1_min_norm_subgradient(
  smooth_grad: jax.Array, w: jax.Array, l1_weight: ArrayLike
) -> jax.Array:
  """The minimum-norm element of smooth_grad + l1_weight * d||w||_1.

  Where w_j != 0 the subdifferential is the point g_j + l1_weight sign(w_j);
  at w_j = 0 it is the interval g_j + l1_weight [-1, 1], whose element
  nearest 0 is the soft-threshold S_{l1_weight}(g_j). Steepest descent on a
  nonsmooth convex function moves along this element (the direction of
  its subgradient flow), so a coordinate at 0 stays there while
  |g_j| <= l1_weight.
  """
  soft = jnp.sign(smooth_grad) * jnp.maximum(
    jnp.abs(smooth_grad) - l1_weight, 0.0
  )
  return jnp.where(w != 0, smooth_grad + l1_weight * jnp.sign(w), soft)


def robust_logsumexp_loss_and_subgradient(
  w: jax.Array,
  x: jax.Array,
  y: jax.Array,
  eps: ArrayLike,
  mask: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
  """The linf robust logsumexp loss and its minimum-norm subgradient.

  Under linf perturbations the eps ||w||_1 term is common to every point,
  so the loss splits into a smooth part and an l1 penalty,

    log sum_i exp(-y_i <w, x_i> + eps ||w||_1)
        = log sum_i exp(-y_i <w, x_i>) + eps ||w||_1,

  and the minimum-norm subgradient is ``l1_min_norm_subgradient`` of the
  smooth part's gradient.
  """

  def smooth_part(weights):
    return robust_logsumexp_loss(weights, x, y, 0.0, mask)

  smooth, smooth_grad = jax.value_and_grad(smooth_part)(w)
  loss = smooth + eps * jnp.sum(jnp.abs(w))
  return loss, l1_min_norm_subgradient(smooth_grad, w, eps)


def robust_exp_loss(
  w: jax.Array, x: jax.Array, y: jax.Array, eps: ArrayLike, threat: str = "linf"
) -> jax.Array:
  """sum_i exp(-(y_i <w, x_i> - eps ||w||_q)), the summed robust loss."""
  return jnp.sum(jnp.exp(-robust_margin(w, x, y, eps, threat)))


# ---------------------------------------------------------------- data model
#
# The generator is numpy (float64): it runs once per study, and numpy draws
# need no compilation. Seed it from a named JAX stream with
# ``numpy_generator(repro.core.rng.stream(seed, name))``.


def numpy_generator(key: jax.Array) -> np.random.Generator:
  """A numpy Generator seeded by the bits of a JAX key (deterministic)."""
  return np.random.default_rng(np.asarray(jax.random.key_data(key)))


def _sparse_signs(
  generator: np.random.Generator, shape, num_nonzero: float, dim: int
) -> np.ndarray:
  """i.i.d. entries in {-1, 0, +1} with P(+1) = P(-1) = num_nonzero/(2 dim)."""
  on = generator.random(shape) < num_nonzero / dim
  signs = np.where(generator.random(shape) < 0.5, 1.0, -1.0)
  return np.where(on, signs, 0.0)


def sample_teacher(
  generator: np.random.Generator,
  dim: int,
  num_nonzero: int | None = None,
  *,
  exact: bool = True,
) -> np.ndarray:
  """A teacher w* (the sparse-teacher data model of arXiv 2406.04981).

  Args:
    generator: numpy random generator.
    dim: input dimension d.
    num_nonzero: k_w. ``None`` gives a dense Gaussian teacher N(0, I_d).
    exact: with k_w given, exactly k_w entries in {-1, +1} at uniformly
      random positions; otherwise i.i.d. entries with P(+-1) = k_w/(2d)
      each, redrawn while all zero.

  Returns:
    ``[dim]`` float64 teacher weights.
  """
  if num_nonzero is None:
    return generator.standard_normal(dim)
  if not 1 <= num_nonzero <= dim:
    raise ValueError(f"need 1 <= k_w <= d, got k_w={num_nonzero}, d={dim}")
  if exact:
    teacher = np.zeros(dim)
    support = generator.choice(dim, size=num_nonzero, replace=False)
    teacher[support] = np.where(generator.random(num_nonzero) < 0.5, 1.0, -1.0)
    return teacher
  while True:
    teacher = _sparse_signs(generator, (dim,), num_nonzero, dim)
    if np.any(teacher != 0):
      return teacher


def sample_inputs(
  generator: np.random.Generator,
  num_points: int,
  dim: int,
  num_nonzero: float | None = None,
) -> np.ndarray:
  """Inputs x: dense N(0, I_d), or sparse with expected k_x non-zeros.

  Sparse rows have i.i.d. entries in {-1, 0, +1} with P(+-1) = k_x/(2d)
  each; an all-zero row is redrawn, so rows are
  distributed as the i.i.d. law conditioned on not being all zero.
  """
  if num_nonzero is None:
    return generator.standard_normal((num_points, dim))
  if num_nonzero <= 0:
    raise ValueError(f"k_x must be positive, got {num_nonzero}")
  x = _sparse_signs(generator, (num_points, dim), num_nonzero, dim)
  empty = np.flatnonzero(np.all(x == 0, axis=1))
  while empty.size:
    x[empty] = _sparse_signs(generator, (empty.size, dim), num_nonzero, dim)
    empty = empty[np.all(x[empty] == 0, axis=1)]
  return x


def teacher_labels(w_star: npt.ArrayLike, x: npt.ArrayLike) -> np.ndarray:
  """y = sign(<w*, x>) with ties at 0 labelled -1.

  Works on numpy and JAX arrays.
  """
  return np.where(np.asarray(x) @ np.asarray(w_star) > 0, 1.0, -1.0)


def inject_margin(
  x: npt.ArrayLike, y: npt.ArrayLike, w_star: npt.ArrayLike, rho: float
) -> np.ndarray:
  """x + rho y ||w*||_1 w* / ||w*||_2^2.

  Raises y <w*, x> by rho ||w*||_1, so the teacher classifies every point
  correctly under any linf perturbation of radius < rho (for rho > 0 a tie
  at 0, labelled -1, moves to the correct side too).
  """
  w_star = np.asarray(w_star)
  shift = rho * np.abs(w_star).sum() * w_star / (w_star @ w_star)
  return np.asarray(x) + np.asarray(y)[:, None] * shift[None, :]


def make_teacher_data(
  generator: np.random.Generator,
  w_star: np.ndarray,
  num_points: int,
  input_nonzero: float | None = None,
  rho: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
  """Draws ``(x, y)`` labelled by ``w_star``, with margin injection ``rho``."""
  x = sample_inputs(generator, num_points, w_star.shape[0], input_nonzero)
  y = teacher_labels(w_star, x)
  return inject_margin(x, y, w_star, rho), y


def eps_star(
  w_star: jax.Array, x: jax.Array, y: jax.Array, mask: jax.Array | None = None
) -> jax.Array:
  """min_i y_i <w*, x_i> / ||w*||_1: the teacher's linf-robust margin.

  The largest radius at which the teacher still robustly classifies every
  (masked) training point, hence at which robust ERM is realisable by the
  teacher (paper, Fig. 2: "the largest permissible value eps*").
  """
  margins = y * (x @ w_star) / jnp.sum(jnp.abs(w_star))
  if mask is not None:
    margins = jnp.where(mask, margins, jnp.inf)
  return jnp.min(margins)
