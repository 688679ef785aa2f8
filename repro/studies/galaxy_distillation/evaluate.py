"""Evaluation of small training sets (README, What runs).

Fresh randomly initialised ConvNets are trained on one small set (distilled,
random real, or class-mean images) with full-batch SGD (momentum 0.9,
weight decay 5e-4 added to the gradient as in PyTorch, lr x 0.1 at half of
the epochs) on augmented images, then tested on the real test set. Sets of
the same size are stacked and vmapped together with the eval nets.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from repro.ops import diff_augment
from repro.ops import trajectory_matching as tm
from repro.studies.galaxy_distillation import network


def train_and_test(
  init_params,
  key,
  images,
  labels,
  lr,
  test_x,
  test_y,
  *,
  apply,
  epochs: int,
  momentum: float,
  weight_decay: float,
  ops: tuple[str, ...],
):
  """Trains one net on (images, labels); returns its test accuracy."""
  grad_fn = jax.grad(functools.partial(tm.cross_entropy, apply))

  def step(carry, epoch):
    params, velocity = carry
    x = diff_augment.augment(images, jax.random.fold_in(key, epoch), ops)
    grads = grad_fn(params, x, labels) + weight_decay * params
    velocity = momentum * velocity + grads
    rate = jnp.where(epoch < epochs // 2, lr, 0.1 * lr)
    return (params - rate * velocity, velocity), None

  (params, _), _ = jax.lax.scan(
    step, (init_params, jnp.zeros_like(init_params)), jnp.arange(epochs)
  )
  return network.accuracy(apply, params, test_x, test_y)


def evaluate_sets(
  config, net: network.FlatNet, sets, labels, lrs, key, test_x, test_y
) -> np.ndarray:
  """Test accuracy [num_sets, num_eval_nets] of nets trained on each set.

  Args:
    sets: [S, n, H, W, C] images (same labels for all sets).
    labels: [n] int labels.
    lrs: [S] learning rate per set (learned alpha or the baseline lr).
    key: the eval stream; net j of every set gets the same init (paired).
  """
  num_nets = config.num_eval_nets
  init_keys = jax.random.split(jax.random.fold_in(key, 0), num_nets)
  train_keys = jax.random.split(jax.random.fold_in(key, 1), num_nets)
  inits = jax.vmap(net.init)(init_keys)
  one = functools.partial(
    train_and_test,
    apply=net.apply,
    epochs=config.eval_epochs,
    momentum=config.eval_momentum,
    weight_decay=config.eval_weight_decay,
    ops=tuple(config.augment_ops),
  )
  over_nets = jax.vmap(one, in_axes=(0, 0, None, None, None, None, None))
  over_sets = jax.vmap(over_nets, in_axes=(None, None, 0, None, 0, None, None))
  return np.asarray(
    jax.jit(over_sets)(
      inits,
      train_keys,
      jnp.asarray(sets),
      labels,
      jnp.asarray(lrs),
      test_x,
      test_y,
    )
  )
