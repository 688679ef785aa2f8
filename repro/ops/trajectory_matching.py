"""Matching Training Trajectories (MTT; Cazenavette et al. 2022), in JAX.

The distillation objective of arXiv 2311.17967 (notes §3.3): a student
network starts from an expert's parameters at epoch t, takes ``syn_steps``
SGD steps of size alpha on (augmented) synthetic images, and is compared
with the expert at epoch t + M:

  L = ||theta_N - theta*_{t+M}||^2 / ||theta*_t - theta*_{t+M}||^2

(notes step 6; both norms are divided by the number of parameters in the
reference, which cancels). The gradient of L with respect to the images and
alpha flows through all N unrolled steps (the graph is kept, notes step 5);
the unroll is a ``lax.scan`` whose step is wrapped in ``jax.checkpoint``,
so the reverse pass stores only the N parameter vectors and recomputes each
step's activations (notes pitfall 1).

Parameters are flat vectors (``jax.flatten_util.ravel_pytree``, the
reference's ``ReparamModule``); ``apply_flat(flat_params, images)`` returns
logits. Pure functions: compose with ``jit``, ``grad`` and ``vmap``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

ApplyFlat = Callable[[jax.Array, jax.Array], jax.Array]
Augment = Callable[[jax.Array, jax.Array], jax.Array]


def cross_entropy(apply_flat: ApplyFlat, params: jax.Array,
                  images: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean softmax cross-entropy of integer labels."""
  logits = apply_flat(params, images)
  return optax.softmax_cross_entropy_with_integer_labels(
      logits, labels).mean()


def syn_batch(images: jax.Array, labels: jax.Array, key: jax.Array,
              step: jax.Array, batch_syn: int):
  """The step-th chunk of D_syn (notes step 5).

  D_syn is cut into ``n // batch_syn`` chunks of a random permutation that
  is redrawn every pass; with ``batch_syn == n`` (the default) every step
  sees all images.
  """
  num = images.shape[0]
  if batch_syn >= num:
    return images, labels
  num_chunks = num // batch_syn
  order = jax.random.permutation(jax.random.fold_in(key, step // num_chunks),
                                 num)
  chunk = jax.lax.dynamic_slice_in_dim(order, (step % num_chunks) * batch_syn,
                                       batch_syn)
  return images[chunk], labels[chunk]


def unroll_student(apply_flat: ApplyFlat, start: jax.Array,
                   images: jax.Array, labels: jax.Array,
                   step_size: jax.Array, key: jax.Array, *, syn_steps: int,
                   batch_syn: int | None = None,
                   augment: Augment | None = None,
                   remat: bool = True) -> jax.Array:
  """theta_N after N SGD steps theta <- theta - alpha grad CE (notes step 5).

  Step i uses the key ``fold_in(key, i)`` for its chunk and a fresh
  augmentation (DSA parameters re-sampled every step, pitfall 6).
  """
  batch_syn = images.shape[0] if batch_syn is None else batch_syn
  grad_fn = jax.grad(lambda p, x, y: cross_entropy(apply_flat, p, x, y))

  def step(params, index):
    step_key = jax.random.fold_in(key, index)
    chunk_key, augment_key = jax.random.split(step_key)
    batch_x, batch_y = syn_batch(images, labels, chunk_key, index, batch_syn)
    if augment is not None:
      batch_x = augment(batch_x, augment_key)
    return params - step_size * grad_fn(params, batch_x, batch_y), None

  if remat:
    step = jax.checkpoint(step)
  final, _ = jax.lax.scan(step, start, jnp.arange(syn_steps))
  return final


def normalized_distance(final: jax.Array, start: jax.Array,
                        target: jax.Array) -> jax.Array:
  """||final - target||^2 / ||start - target||^2 (notes step 6)."""
  return jnp.sum((final - target) ** 2) / jnp.sum((start - target) ** 2)


def matching_loss(images: jax.Array, step_size: jax.Array,
                  apply_flat: ApplyFlat, start: jax.Array,
                  target: jax.Array, labels: jax.Array, key: jax.Array, *,
                  syn_steps: int, batch_syn: int | None = None,
                  augment: Augment | None = None,
                  remat: bool = True) -> jax.Array:
  """The MTT loss of one (start, target) pair; differentiable in images and
  step_size."""
  final = unroll_student(apply_flat, start, images, labels, step_size, key,
                         syn_steps=syn_steps, batch_syn=batch_syn,
                         augment=augment, remat=remat)
  return normalized_distance(final, start, target)
