"""MAP training with a Gaussian prior: one network or a deep ensemble.

The loss is the negative log posterior per training example,

  L(theta) = mean_i -log p(y_i | x_i, theta) + ||theta||^2 / (2 sigma^2 N),

so its minimiser is the MAP estimate under the N(0, sigma^2 I) prior of
the Bayesian models (weight decay = 1 / sigma^2, Izmailov et al. 2021).
With ``dropout_rate > 0`` in the network each step draws fresh dropout
masks (MC dropout training, Gal and Ghahramani 2016). A deep ensemble
(Lakshminarayanan et al. 2017) is a replica axis of independently
initialised members trained by ``repro.core.train.fit``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from repro.bayes.network import FlatMLP
from repro.core import checkpoint as checkpoint_lib
from repro.core import train
from repro.ops.losses import cross_entropy


def map_loss(
  model: FlatMLP,
  x: jax.Array,
  labels: jax.Array,
  prior_std: float,
  dropout: bool = False,
) -> train.LossFn:
  """``(theta, key) -> (loss, {"accuracy"})``, the per-example MAP loss."""
  num = x.shape[0]

  def loss_fn(theta, key):
    logits = (
      model.dropout_logits(theta, x, key) if dropout else model.logits(theta, x)
    )
    nll = cross_entropy(logits, labels)
    penalty = 0.5 * jnp.sum(theta**2) / (prior_std**2 * num)
    accuracy = jnp.mean(jnp.argmax(logits, -1) == labels)
    return jnp.mean(nll) + penalty, {"accuracy": accuracy}

  return loss_fn


def fit_map(
  model: FlatMLP,
  x: jax.Array,
  labels: jax.Array,
  *,
  prior_std: float,
  init_key: jax.Array,
  train_key: jax.Array,
  num_members: int,
  num_steps: int,
  learning_rate: float,
  dropout: bool = False,
  description: str = "map",
  checkpoints: checkpoint_lib.RunCheckpoints | None = None,
) -> tuple[jax.Array, dict[str, np.ndarray]]:
  """Trains ``num_members`` networks from independent inits, full batch.

  Returns flat parameters ``[num_members, D]`` and the training history.
  Members are a vmapped replica axis kept on one device: HMC chains start
  from them and amplify the last-bit differences that sharding the axis
  over a device-count-dependent mesh makes, and the members are small.
  """
  params = jax.jit(model.init, static_argnums=1)(init_key, num_members)
  keys = jax.random.split(train_key, num_members)
  state, history = train.fit(
    map_loss(model, x, labels, prior_std, dropout),
    optax.adam(learning_rate),
    params,
    keys,
    num_steps,
    replicated=True,
    chunk_steps=num_steps,
    description=description,
    checkpoints=checkpoints,
  )
  return state.params, history
