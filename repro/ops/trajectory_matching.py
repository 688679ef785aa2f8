"""Matching Training Trajectories (MTT; Cazenavette et al. 2022), in JAX.

The distillation objective of arXiv 2311.17967 (MTT's, as in the official
MTT and galaxy-distillation code): a student network starts from an
expert's parameters at epoch t, takes ``syn_steps`` SGD steps of size alpha
on (augmented) synthetic images, and is compared with the expert at epoch
t + M:

  L = ||theta_N - theta*_{t+M}||^2 / ||theta*_t - theta*_{t+M}||^2

(the official code divides both norms by the number of parameters in the
reference, which cancels). The gradient of L with respect to the images and
alpha flows through all N unrolled steps (the graph is kept, as in MTT).
The unroll is a ``lax.scan`` that stores only the N parameter vectors
(not every activation of the synthetic batch); by default its reverse pass
is a custom VJP with one forward-over-reverse Hessian-vector product per
step (``_hvp_unroll_bwd``), ~12% less CPU time on the bench's ConvNet
meta-step than letting JAX transpose a ``jax.checkpoint``-ed step
(``reverse="autodiff"``, kept and tested as the reference path).

Parameters are flat vectors (``jax.flatten_util.ravel_pytree``, the
reference's ``ReparamModule``); ``apply_flat(flat_params, images)`` returns
logits. Pure functions: compose with ``jit``, ``grad`` and ``vmap`` (the
default reverse pass is reverse-mode only; forward-mode needs
``reverse="autodiff"``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from repro.ops import losses

ApplyFlat = Callable[[jax.Array, jax.Array], jax.Array]
Augment = Callable[[jax.Array, jax.Array], jax.Array]


def cross_entropy(
  apply_flat: ApplyFlat, params: jax.Array, images: jax.Array, labels: jax.Array
) -> jax.Array:
  """Mean softmax cross-entropy of integer labels."""
  return losses.mean_cross_entropy(apply_flat(params, images), labels)


def syn_batch(
  images: jax.Array,
  labels: jax.Array,
  key: jax.Array,
  step: jax.Array,
  batch_syn: int,
) -> tuple[jax.Array, jax.Array]:
  """The step-th chunk of D_syn (as MTT's ``batch_syn``).

  D_syn is cut into ``n // batch_syn`` chunks of a random permutation that
  is redrawn every pass; with ``batch_syn == n`` (the default) every step
  sees all images.
  """
  num = images.shape[0]
  if batch_syn >= num:
    return images, labels
  num_chunks = num // batch_syn
  order = jax.random.permutation(
    jax.random.fold_in(key, step // num_chunks), num
  )
  chunk = jax.lax.dynamic_slice_in_dim(
    order, (step % num_chunks) * batch_syn, batch_syn
  )
  return images[chunk], labels[chunk]


def _step_batch(images, labels, key, index, batch_syn, augment):
  """The (augmented) chunk of step ``index`` (keys as in unroll_student)."""
  step_key = jax.random.fold_in(key, index)
  chunk_key, augment_key = jax.random.split(step_key)
  batch_x, batch_y = syn_batch(images, labels, chunk_key, index, batch_syn)
  if augment is not None:
    batch_x = augment(batch_x, augment_key)
  return batch_x, batch_y


def _autodiff_unroll(
  apply_flat,
  start,
  images,
  labels,
  step_size,
  key,
  *,
  syn_steps,
  batch_syn,
  augment,
  remat,
):
  """The unroll as one scan that JAX differentiates (reverse over reverse)."""
  grad_fn = jax.grad(lambda p, x, y: cross_entropy(apply_flat, p, x, y))

  def step(params, index):
    batch_x, batch_y = _step_batch(
      images, labels, key, index, batch_syn, augment
    )
    return params - step_size * grad_fn(params, batch_x, batch_y), None

  if remat:
    step = jax.checkpoint(step)
  final, _ = jax.lax.scan(step, start, jnp.arange(syn_steps))
  return final


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 6, 7, 8))
def _hvp_unroll(
  apply_flat,
  start,
  images,
  labels,
  step_size,
  key,
  syn_steps,
  batch_syn,
  augment,
):
  return _hvp_unroll_fwd(
    apply_flat,
    start,
    images,
    labels,
    step_size,
    key,
    syn_steps,
    batch_syn,
    augment,
  )[0]


def _hvp_unroll_fwd(
  apply_flat,
  start,
  images,
  labels,
  step_size,
  key,
  syn_steps,
  batch_syn,
  augment,
):
  grad_fn = jax.grad(lambda p, x, y: cross_entropy(apply_flat, p, x, y))

  def step(params, index):
    batch_x, batch_y = _step_batch(
      images, labels, key, index, batch_syn, augment
    )
    return params - step_size * grad_fn(params, batch_x, batch_y), params

  final, trajectory = jax.lax.scan(step, start, jnp.arange(syn_steps))
  return final, (trajectory, images, labels, step_size, key)


def _hvp_unroll_bwd(
  apply_flat, syn_steps, batch_syn, augment, residuals, cotangent
):
  """Reverse pass: one forward-over-reverse Hessian product per step.

  Step i maps theta -> theta - alpha g(theta, x) with g = grad_theta CE. For
  a cotangent v on its output, the cotangents are v - alpha H_thth v on
  theta, -alpha d/dx <g, v> = -alpha H_xth v on the images (through the
  chunk and augmentation) and -<v, g> on alpha. H_thth is symmetric and
  mixed partials commute, so both products are the tangent of
  grad_(theta, x) CE along (v, 0): one jvp of the gradient per step, which
  computes g alongside its tangent (no separate recompute pass, no stored
  activations: the N parameter vectors of the forward scan are all that is
  kept, as with remat). ``remat`` does not apply to this path.
  """
  trajectory, images, labels, step_size, key = residuals
  grad_both = jax.grad(
    lambda p, x, y: cross_entropy(apply_flat, p, x, y), argnums=(0, 1)
  )

  def back(carry, inputs):
    v, v_images, v_step = carry
    params, index = inputs
    batch_x, pull, batch_y = jax.vjp(
      lambda im: _step_batch(im, labels, key, index, batch_syn, augment),
      images,
      has_aux=True,
    )
    (grad, _), (hess_v, mixed_v) = jax.jvp(
      lambda p: grad_both(p, batch_x, batch_y), (params,), (v,)
    )
    (image_part,) = pull(-step_size * mixed_v)
    return (
      v - step_size * hess_v,
      v_images + image_part,
      v_step - jnp.vdot(v, grad),
    ), None

  init = (
    cotangent,
    jnp.zeros_like(images),
    jnp.zeros((), jnp.result_type(step_size)),
  )
  (v_start, v_images, v_step), _ = jax.lax.scan(
    back, init, (trajectory, jnp.arange(syn_steps)), reverse=True
  )
  return (
    v_start,
    v_images,
    None,
    jnp.reshape(v_step, jnp.shape(step_size)).astype(
      jnp.result_type(step_size)
    ),
    None,
  )


_hvp_unroll.defvjp(_hvp_unroll_fwd, _hvp_unroll_bwd)


def unroll_student(
  apply_flat: ApplyFlat,
  start: jax.Array,
  images: jax.Array,
  labels: jax.Array,
  step_size: jax.Array,
  key: jax.Array,
  *,
  syn_steps: int,
  batch_syn: int | None = None,
  augment: Augment | None = None,
  remat: bool = True,
  reverse: str = "hvp",
) -> jax.Array:
  """theta_N after N SGD steps theta <- theta - alpha grad CE (MTT's unroll).

  Step i uses the key ``fold_in(key, i)`` for its chunk and a fresh
  augmentation (DSA parameters re-sampled every step, as in MTT).
  ``reverse`` picks how the gradient through the unroll is taken (same
  math): "hvp" (default) is a custom VJP that stores the N parameter
  vectors and runs one forward-over-reverse Hessian-vector product per step
  backwards (see ``_hvp_unroll_bwd``); "autodiff" lets JAX transpose the
  scan (reverse over reverse; each step under ``jax.checkpoint`` when
  ``remat``). The "hvp" path supports reverse-mode (grad / vjp) only.
  """
  batch_syn = images.shape[0] if batch_syn is None else batch_syn
  if reverse == "hvp":
    return _hvp_unroll(
      apply_flat,
      start,
      images,
      labels,
      jnp.asarray(step_size),
      key,
      syn_steps,
      batch_syn,
      augment,
    )
  if reverse != "autodiff":
    raise ValueError(f"unknown reverse {reverse!r}")
  return _autodiff_unroll(
    apply_flat,
    start,
    images,
    labels,
    step_size,
    key,
    syn_steps=syn_steps,
    batch_syn=batch_syn,
    augment=augment,
    remat=remat,
  )


def normalized_distance(
  final: jax.Array, start: jax.Array, target: jax.Array
) -> jax.Array:
  """||final - target||^2 / ||start - target||^2 (the MTT loss)."""
  return jnp.sum((final - target) ** 2) / jnp.sum((start - target) ** 2)


def matching_loss(
  images: jax.Array,
  step_size: jax.Array,
  apply_flat: ApplyFlat,
  start: jax.Array,
  target: jax.Array,
  labels: jax.Array,
  key: jax.Array,
  *,
  syn_steps: int,
  batch_syn: int | None = None,
  augment: Augment | None = None,
  remat: bool = True,
  reverse: str = "hvp",
) -> jax.Array:
  """The MTT loss of one (start, target) pair; differentiable in images and
  step_size."""
  final = unroll_student(
    apply_flat,
    start,
    images,
    labels,
    step_size,
    key,
    syn_steps=syn_steps,
    batch_syn=batch_syn,
    augment=augment,
    remat=remat,
    reverse=reverse,
  )
  return normalized_distance(final, start, target)
