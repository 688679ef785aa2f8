"""Expert trajectories (notes §3.2, MTT step 1).

Each expert is a fresh ConvNet trained with plain SGD (no momentum, no
weight decay) on augmented real images; its flat parameters are saved at
every epoch, entry 0 being the initialisation. The experts form a leading
replica axis that is vmapped and sharded over devices
(``parallel.shard_replicas``); the whole run is one jitted ``lax.scan``
over epochs with a scan over the epoch's batches inside.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import parallel
from repro.core.errors import UserError
from repro.ops import diff_augment
from repro.ops import trajectory_matching as tm
from repro.studies.galaxy_distillation import network


def train_one(init_params, key, images, labels, *, apply, epochs: int,
              lr: float, batch_size: int, ops: tuple[str, ...]):
  """One expert: returns its trajectory [epochs + 1, P] and losses."""
  num = images.shape[0]
  steps = num // batch_size
  grad_fn = jax.value_and_grad(functools.partial(tm.cross_entropy, apply))

  def epoch(params, epoch_index):
    epoch_key = jax.random.fold_in(key, epoch_index)
    order = jax.random.permutation(epoch_key, num)[:steps * batch_size]
    batches = order.reshape(steps, batch_size)

    def step(params, inputs):
      batch, index = inputs
      x = diff_augment.augment(images[batch],
                               jax.random.fold_in(epoch_key, index + 1), ops)
      loss, grads = grad_fn(params, x, labels[batch])
      return params - lr * grads, loss

    params, losses = jax.lax.scan(step, params,
                                  (batches, jnp.arange(steps)))
    return params, (params, losses.mean())

  _, (saved, losses) = jax.lax.scan(epoch, init_params, jnp.arange(epochs))
  trajectory = jnp.concatenate([init_params[None], saved], axis=0)
  return trajectory, losses


def train_experts(config, net: network.FlatNet, keys: dict, train_x,
                  train_y, test_x, test_y) -> dict[str, np.ndarray]:
  """Trains ``num_experts`` experts; returns trajectories and accuracies."""
  if config.expert_batch_size > train_x.shape[0]:
    raise UserError(f"expert_batch_size {config.expert_batch_size} exceeds "
                    f"the {train_x.shape[0]} training images")
  num = config.num_experts
  init_keys = jax.random.split(keys["init"], num)
  train_keys = jax.random.split(keys["train"], num)
  params = jax.vmap(net.init)(init_keys)
  params, train_keys = parallel.shard_replicas((params, train_keys))
  run = jax.jit(jax.vmap(functools.partial(
      train_one, apply=net.apply, epochs=config.expert_epochs_total,
      lr=config.expert_lr, batch_size=config.expert_batch_size,
      ops=tuple(config.augment_ops)), in_axes=(0, 0, None, None)))
  logging.info("training %d experts for %d epochs", num,
               config.expert_epochs_total)
  trajectories, losses = run(params, train_keys, train_x, train_y)
  losses = np.asarray(losses)
  if not np.all(np.isfinite(losses)):
    raise UserError("an expert's loss became NaN/inf; lower expert_lr")
  test_accuracy = jax.jit(jax.vmap(
      lambda p: network.accuracy(net.apply, p, test_x, test_y)))(
          trajectories[:, -1])
  return {"trajectories": np.asarray(trajectories),
          "train_loss": losses,
          "test_accuracy": np.asarray(test_accuracy)}
