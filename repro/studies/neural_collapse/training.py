"""Standard, PGD-AT and TRADES training as scanned SGD steps over seeds.

Protocol of the official ``train.py``: SGD with
momentum 0.9 and coupled weight decay on every parameter, minibatches from
a fresh permutation each epoch (no augmentation), a piecewise-constant
learning rate updated per iteration.

* ``standard``: cross-entropy on clean batches.
* ``pgd_at``: cross-entropy on PGD examples generated with the network in
  train mode (BatchNorm on batch statistics, Rice et al. practice). Only
  the training forward updates BatchNorm running statistics (the official
  code also updates them in every attack and logging forward).
* ``trades``: TRADES loss (beta = 6), KL attack in eval mode, loss in train
  mode (the reference TRADES code).
* ``trades_official``: the same, but the loss is also computed in eval mode,
  as in the paper's official code, whose ``attack_trades`` switches the
  network to eval mode and never back: BatchNorm then
  normalises with its initial running statistics (0 and 1), which never
  update. For a network without BatchNorm it equals ``trades``.

``make_train_chunk`` returns one compiled function that runs a number of
steps with ``lax.scan`` for every seed at once (``vmap``); the experiment
calls it once per evaluation period.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from repro.core.rng import step_key
from repro.ops import adversarial_training
from repro.ops.losses import mean_cross_entropy
from repro.studies.neural_collapse.network import Network

MODES = ("standard", "pgd_at", "trades", "trades_official")


class TrainState(NamedTuple):
  """Variables (params and batch statistics), optimiser state, step."""

  variables: dict
  opt_state: optax.OptState
  step: jax.Array


def make_optimizer(config, num_steps: int) -> optax.GradientTransformation:
  """SGD + momentum + weight decay, lr divided by 10 at each fraction."""
  boundaries = {
    int(round(f * num_steps)): 0.1 for f in config.lr_decay_fractions
  }
  schedule = optax.piecewise_constant_schedule(config.learning_rate, boundaries)
  return optax.chain(
    optax.add_decayed_weights(config.weight_decay),
    optax.sgd(schedule, momentum=config.momentum),
  )


def init_states(
  optimizer: optax.GradientTransformation, variables: dict
) -> TrainState:
  """States before the first step from replicated initial ``variables``."""
  num_replicas = jax.tree.leaves(variables)[0].shape[0]
  return TrainState(
    variables,
    jax.vmap(optimizer.init)(variables["params"]),
    jnp.zeros((num_replicas,), jnp.int32),
  )


def make_loss(network: Network, mode: str, config):
  """``loss(params, variables, images, labels, key) -> (loss, (vars, aux))``.

  ``variables`` supplies the non-trainable collections (batch statistics);
  the returned variables carry their updates.
  """
  attack = dict(
    eps=config.eps,
    num_steps=config.train_attack_steps,
    step_size=config.train_attack_step_size,
    norm=config.norm,
  )

  def with_params(params, variables):
    return {**variables, "params": params}

  def frozen_logits_fn(variables, train):
    frozen = jax.lax.stop_gradient(variables)
    return lambda inputs: network.logits(frozen, inputs, train)[0]

  def loss(params, variables, images, labels, key):
    variables = with_params(params, variables)
    if mode == "standard":
      logits, variables = network.logits(variables, images, train=True)
      value = mean_cross_entropy(logits, labels)
      return value, (variables, {"train_accuracy": _accuracy(logits, labels)})
    if mode == "pgd_at":
      adversarial = jax.lax.stop_gradient(
        adversarial_training.pgd_adversarial(
          frozen_logits_fn(variables, True), images, labels, key, **attack
        )
      )
      logits, variables = network.logits(variables, adversarial, train=True)
      value = mean_cross_entropy(logits, labels)
      return value, (variables, {"train_accuracy": _accuracy(logits, labels)})
    if mode in ("trades", "trades_official"):
      adversarial = jax.lax.stop_gradient(
        adversarial_training.trades_adversarial(
          frozen_logits_fn(variables, False),
          images,
          key,
          **attack,
          start=config.trades_start,
        )
      )
      train = mode == "trades"
      clean_logits, variables = network.logits(variables, images, train)
      adversarial_logits, variables = network.logits(
        variables, adversarial, train
      )
      value, aux = adversarial_training.trades_loss(
        clean_logits, adversarial_logits, labels, config.trades_beta
      )
      return value, (
        variables,
        {**aux, "train_accuracy": _accuracy(clean_logits, labels)},
      )
    raise ValueError(f"unknown training mode {mode!r}; choose one of {MODES}")

  return loss


def _accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32))


def batch_indices(
  data_key: jax.Array, step: jax.Array, num_examples: int, batch_size: int
) -> jax.Array:
  """Minibatch of ``step``: a slice of the epoch's permutation (drop last)."""
  steps_per_epoch = num_examples // batch_size
  epoch = step // steps_per_epoch
  permutation = jax.random.permutation(step_key(data_key, epoch), num_examples)
  start = (step % steps_per_epoch) * batch_size
  return jax.lax.dynamic_slice(permutation, (start,), (batch_size,))


def make_train_chunk(
  network: Network,
  mode: str,
  config,
  optimizer: optax.GradientTransformation,
  num_steps: int,
):
  """Jitted ``chunk(states, data_keys, train_keys, images, labels)``.

  Runs ``num_steps`` steps for every replica (leading axis of ``states``
  and of both key arrays) and returns the new states and the per-step
  history ``{name: [R, num_steps]}``.
  """
  grad_fn = jax.value_and_grad(make_loss(network, mode, config), has_aux=True)

  def one_step(carry, step, data_key, train_key, images, labels):
    state = carry
    index = batch_indices(data_key, step, images.shape[0], config.batch_size)
    (value, (variables, aux)), grads = grad_fn(
      state.variables["params"],
      state.variables,
      images[index],
      labels[index],
      step_key(train_key, step),
    )
    params = state.variables["params"]
    updates, opt_state = optimizer.update(grads, state.opt_state, params)
    params = optax.apply_updates(params, updates)
    new_state = TrainState(
      {**variables, "params": params}, opt_state, state.step + 1
    )
    return new_state, {"loss": value, **aux}

  def chunk(state, data_key, train_key, images, labels):
    steps = state.step + jnp.arange(num_steps, dtype=jnp.int32)
    return jax.lax.scan(
      lambda carry, step: one_step(
        carry, step, data_key, train_key, images, labels
      ),
      state,
      steps,
    )

  return jax.jit(jax.vmap(chunk, in_axes=(0, 0, 0, None, None)))
