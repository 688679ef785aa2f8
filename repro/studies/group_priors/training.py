"""ERM base network, frozen features, and GAP training as lax.scan loops.

Every function works on one seed and is ``vmap``ped over the seed axis
(and, for GAP, over a grid of hyperparameters) by the caller.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from repro.nn.mlp import MLP
from repro.ops import group_prior
from repro.ops.losses import mean_cross_entropy

NUM_CLASSES = 2


def init_mlp(rng, sizes) -> dict:
  """``MLP`` variables for layer widths ``sizes`` (input first), drawn in
  numpy from the same U(+-1/sqrt(fan_in)) law as ``repro.nn.mlp.MLP``
  (nothing to compile)."""
  layers = {}
  for index, (fan_in, fan_out) in enumerate(
    zip(sizes[:-1], sizes[1:], strict=True)
  ):
    bound = 1.0 / np.sqrt(fan_in)
    layers[f"dense_{index}"] = {
      "kernel": rng.uniform(-bound, bound, (fan_in, fan_out)).astype(
        np.float32
      ),
      "bias": rng.uniform(-bound, bound, (fan_out,)).astype(np.float32),
    }
  return {"params": layers}


def split_head(params):
  """(body params, head params) of an ``MLP``'s variables."""
  layers = params["params"]
  last = f"dense_{len(layers) - 1}"
  body = {k: v for k, v in layers.items() if k != last}
  return body, layers[last]


def join_head(body, head):
  """The inverse of ``split_head``."""
  return {"params": {**body, f"dense_{len(body)}": head}}


def _widths(layers) -> list[int]:
  """Output widths of the layers ``dense_0, dense_1, ...`` of ``layers``."""
  return [layers[f"dense_{i}"]["kernel"].shape[-1] for i in range(len(layers))]


def features(body, inputs):
  """Penultimate ReLU features of the MLP body, [n, width]."""
  module = MLP(
    hidden_sizes=tuple(_widths(body)), num_outputs=None, use_bias=True
  )
  return module.apply({"params": body}, inputs)


def head_logits(head, feats):
  """Logits of a linear head ``{"kernel", "bias"}``."""
  return feats @ head["kernel"] + head["bias"]


def mlp_logits(params, inputs):
  """Logits of the whole MLP, body then head."""
  *hidden, outputs = _widths(params["params"])
  module = MLP(hidden_sizes=tuple(hidden), num_outputs=outputs, use_bias=True)
  return module.apply(params, inputs)


def erm_loss(params, key, inputs, labels, *, batch_size: int):
  """Mean NLL on a uniformly drawn mini-batch (ERM)."""
  index = jax.random.randint(key, (batch_size,), 0, labels.shape[0])
  logits = mlp_logits(params, inputs[index])
  return mean_cross_entropy(logits, labels[index]), {}


class GapHyper(NamedTuple):
  """One GAP configuration; every field is a scalar (or a grid axis)."""

  scale: jax.Array  # lambda
  rho: jax.Array  # SAM radius
  group_scale: jax.Array  # s
  precision: jax.Array  # 1 / sigma0^2


def train_gap(
  apply_fn,
  init_params,
  prior_mean,
  inputs,
  labels,
  groups,
  hyper: GapHyper,
  key,
  *,
  steps: int,
  learning_rate: float,
  momentum: float,
  batch_size: int,
  context_batch_size: int,
  num_groups: int,
):
  """MAP training with the GAP prior (official code; README, The prior).

  The likelihood is the plain NLL of mini-batches of ``(inputs, labels)``
  (the fit half of the annotated set); the context batches come from the
  same set, drawn with weights (N / n_g)^s. SGD with momentum, ``steps``
  steps in one ``lax.scan``.

  Returns:
    (final params, per-step loss [steps]).
  """
  num_train = labels.shape[0]
  batch_size = min(batch_size, num_train)
  probabilities = group_prior.context_probabilities(
    groups, num_groups, hyper.group_scale
  )
  optimizer = optax.sgd(learning_rate, momentum=momentum)

  def loss_fn(params, step_key):
    batch_key, context_key = jax.random.split(step_key)
    batch = jax.random.randint(batch_key, (batch_size,), 0, num_train)
    context = group_prior.sample_context(
      context_key, probabilities, context_batch_size
    )

    def batch_loss(p):
      return mean_cross_entropy(apply_fn(p, inputs[batch]), labels[batch])

    def context_loss(p):
      return mean_cross_entropy(apply_fn(p, inputs[context]), labels[context])

    return group_prior.gap_objective(
      params,
      batch_loss,
      context_loss,
      prior_mean,
      precision=hyper.precision,
      scale=hyper.scale,
      rho=hyper.rho,
      batch_size=batch_size,
      num_train=num_train,
    )

  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

  def one_step(carry, step):
    params, opt_state = carry
    (loss, _), grads = grad_fn(params, jax.random.fold_in(key, step))
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), loss

  (params, _), losses = jax.lax.scan(
    one_step, (init_params, optimizer.init(init_params)), jnp.arange(steps)
  )
  return params, losses


def grid_train_gap(
  apply_fn,
  init_params,
  prior_mean,
  inputs,
  labels,
  groups,
  hypers: GapHyper,
  keys,
  **kwargs,
):
  """``train_gap`` vmapped over seeds (outer) and configurations (inner).

  ``init_params``, ``prior_mean``, data and ``keys`` have a leading seed
  axis; ``hypers`` fields have a configuration axis. Returns params with
  axes [seed, config, ...] and losses [seed, config, steps].
  """
  train = functools.partial(train_gap, apply_fn, **kwargs)
  over_configs = jax.vmap(
    train, in_axes=(None, None, None, None, None, 0, None)
  )
  return jax.vmap(over_configs, in_axes=(0, 0, 0, 0, 0, None, 0))(
    init_params, prior_mean, inputs, labels, groups, hypers, keys
  )
