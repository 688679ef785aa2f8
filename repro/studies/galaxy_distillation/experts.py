"""Expert trajectories (MTT's buffer of expert parameters; README).

Each expert is a fresh ConvNet trained with plain SGD (no momentum, no
weight decay) on augmented real images; its flat parameters are saved at
every epoch, entry 0 being the initialisation. The experts form a leading
replica axis sharded over devices (``parallel.shard_replicas``); on each
device its experts train one after another (``parallel.map_replicas``), so
the trajectories do not depend on the device count (SGD at lr 0.3 turns a
last-bit difference of a differently batched program into a visible one).

Training runs in compiled chunks of ``EPOCHS_PER_CHUNK`` epochs (a scan
over the chunk's epochs with a scan over each epoch's batches inside);
through the resumable loop the trajectories so far are checkpointed at
chunk ends on the run's schedule and a rerun resumes from them. Epoch e draws
its batches and augmentations from ``fold_in(key, e)``, so a resumed run
is identical to an uninterrupted one.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import loop, parallel
from repro.core.errors import UserError
from repro.ops import diff_augment
from repro.ops import trajectory_matching as tm
from repro.studies.galaxy_distillation import network

# Epochs per compiled call: one epoch is the unit a trajectory saves, and a
# call per epoch costs nothing next to an epoch's work.
EPOCHS_PER_CHUNK = 1


def train_epochs(
  params,
  key,
  first_epoch,
  images,
  labels,
  *,
  apply,
  num_epochs: int,
  lr: float,
  batch_size: int,
  ops: tuple[str, ...],
):
  """Epochs ``first_epoch ..`` of one expert.

  Returns the parameters after the last epoch, the parameters after each
  epoch [num_epochs, P] and each epoch's mean loss [num_epochs].
  """
  num = images.shape[0]
  steps = num // batch_size
  grad_fn = jax.value_and_grad(functools.partial(tm.cross_entropy, apply))

  def epoch(params, epoch_index):
    epoch_key = jax.random.fold_in(key, epoch_index)
    order = jax.random.permutation(epoch_key, num)[: steps * batch_size]
    batches = order.reshape(steps, batch_size)

    def step(params, inputs):
      batch, index = inputs
      x = diff_augment.augment(
        images[batch], jax.random.fold_in(epoch_key, index + 1), ops
      )
      loss, grads = grad_fn(params, x, labels[batch])
      return params - lr * grads, loss

    params, losses = jax.lax.scan(step, params, (batches, jnp.arange(steps)))
    return params, (params, losses.mean())

  params, (saved, losses) = jax.lax.scan(
    epoch, params, first_epoch + jnp.arange(num_epochs)
  )
  return params, saved, losses


@functools.cache
def _compiled_chunk(
  apply, mesh, lr: float, batch_size: int, ops: tuple[str, ...]
):
  """``jit`` of ``EPOCHS_PER_CHUNK`` epochs of every expert.

  Each device trains its experts one after another (module doc); cached
  so reruns in one process (a resumed loop, the tests) compile once.
  """
  return jax.jit(
    parallel.map_replicas(
      functools.partial(
        train_epochs,
        apply=apply,
        num_epochs=EPOCHS_PER_CHUNK,
        lr=lr,
        batch_size=batch_size,
        ops=ops,
      ),
      mesh,
      in_axes=(0, 0, None, None, None),
    )
  )


def train_experts(
  config,
  net: network.FlatNet,
  keys: dict,
  train_x,
  train_y,
  test_x,
  test_y,
  checkpoints=None,
) -> dict[str, np.ndarray]:
  """Trains ``num_experts`` experts; returns trajectories and accuracies."""
  if config.expert_batch_size > train_x.shape[0]:
    raise UserError(
      f"expert_batch_size {config.expert_batch_size} exceeds "
      f"the {train_x.shape[0]} training images"
    )
  num = config.num_experts
  epochs = config.expert_epochs_total
  init_keys = jax.random.split(keys["init"], num)
  train_keys = jax.random.split(keys["train"], num)
  mesh = parallel.replica_mesh(num)
  params = jax.vmap(net.init)(init_keys)
  params, train_keys = parallel.shard_replicas((params, train_keys), mesh)
  chunk = _compiled_chunk(
    net.apply,
    mesh,
    float(config.expert_lr),
    int(config.expert_batch_size),
    tuple(config.augment_ops),
  )
  initial = parallel.gather(params)[:, None]

  def advance(params, start, size):
    del size  # EPOCHS_PER_CHUNK epochs per call.
    params, epoch_params, epoch_losses = chunk(
      params, train_keys, jnp.int32(start), train_x, train_y
    )
    return params, {"trajectory": epoch_params, "loss": epoch_losses}

  logging.info("training %d experts for %d epochs", num, epochs)
  result = loop.run(
    advance,
    params,
    epochs,
    chunk_steps=EPOCHS_PER_CHUNK,
    name="galaxy/experts",
    checkpoints=checkpoints,
    history_axis=1,
  )
  trajectories = np.concatenate([initial, result.history["trajectory"]], axis=1)
  losses = result.history["loss"]
  final = parallel.shard_replicas(trajectories[:, -1], mesh)
  test_accuracy = jax.jit(
    parallel.map_replicas(
      lambda p, x, y: network.accuracy(net.apply, p, x, y),
      mesh,
      in_axes=(0, None, None),
    )
  )(final, test_x, test_y)
  return {
    "trajectories": trajectories,
    "train_loss": losses,
    "test_accuracy": parallel.gather(test_accuracy),
  }
