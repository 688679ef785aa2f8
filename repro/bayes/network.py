"""A classifier MLP with dropout, and its parameters as one flat vector.

Samplers (HMC, mean-field VI) work on a vector theta in R^D; ``FlatMLP``
maps theta back to the Flax parameter tree with ``repro.nn.flat`` (the
``ravel_pytree`` order) so every posterior sample is one row of a
``[S, D]`` array and a set of samples is evaluated with one ``vmap``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from repro.nn import flat
from repro.nn.mlp import uniform_fan_in


class DropoutMLP(nn.Module):
  """ReLU MLP with biases and (inverted) dropout after every hidden layer.

  With ``dropout_rate = 0`` or ``deterministic=True`` it is the plain MLP
  of ``repro.nn.mlp`` with biases. Dropout draws its mask from the
  ``dropout`` RNG stream, so MC dropout (Gal and Ghahramani 2016) is one
  ``apply`` per key.
  """
  hidden_sizes: Sequence[int] = (32,)
  num_classes: int = 10
  dropout_rate: float = 0.0

  @nn.compact
  def __call__(self, inputs: jax.Array, deterministic: bool = True):
    hidden = inputs.reshape(inputs.shape[0], -1)
    widths = tuple(self.hidden_sizes) + (self.num_classes,)
    for index, width in enumerate(widths):
      fan_in = hidden.shape[-1]
      bound = 1.0 / jnp.sqrt(fan_in)
      hidden = nn.Dense(
          width, kernel_init=uniform_fan_in(1.0),
          bias_init=lambda key, shape, dtype=jnp.float32, b=bound: (
              jax.random.uniform(key, shape, dtype, -b, b)),
          name=f"dense_{index}")(hidden)
      if index < len(widths) - 1:
        hidden = nn.relu(hidden)
        if self.dropout_rate > 0:
          hidden = nn.Dropout(self.dropout_rate)(
              hidden, deterministic=deterministic)
    return hidden


@dataclasses.dataclass(frozen=True, eq=False)
class FlatMLP:
  """A ``DropoutMLP`` seen as a function of a flat parameter vector.

  Hashed by identity, so it can be a static argument of ``jax.jit``: one
  compilation per model, whatever parameters are passed.

  Attributes:
    module: the Flax module.
    layout: where every parameter sits in the flat vector.
    input_dim: features per example (inputs are flattened).
  """
  module: DropoutMLP
  layout: flat.FlatLayout
  input_dim: int

  @property
  def dim(self) -> int:
    """D, the number of parameters."""
    return self.layout.num_params

  def unravel(self, theta: jax.Array) -> dict[str, Any]:
    """Flat vector ``[D]`` -> parameter tree (in theta's dtype)."""
    return self.layout.unravel(theta)

  def logits(self, theta: jax.Array, x: jax.Array) -> jax.Array:
    """Deterministic logits ``[n, C]`` of one parameter vector."""
    return self.module.apply(self.unravel(theta), x, deterministic=True)

  def dropout_logits(self, theta: jax.Array, x: jax.Array,
                     key: jax.Array) -> jax.Array:
    """Logits ``[n, C]`` with a fresh dropout mask per unit and example."""
    return self.module.apply(self.unravel(theta), x, deterministic=False,
                             rngs={"dropout": key})

  def init(self, key: jax.Array, num: int | None = None) -> jax.Array:
    """Flat initial parameters ``[D]`` (or ``[num, D]`` for replicas)."""
    def one(k):
      return self.layout.ravel(
          self.module.init(k, jnp.zeros((1, self.input_dim))))
    if num is None:
      return one(key)
    return jax.vmap(one)(jax.random.split(key, num))


def flat_mlp(input_dim: int, hidden_sizes: Sequence[int], num_classes: int,
             dropout_rate: float = 0.0) -> FlatMLP:
  """Builds a ``FlatMLP`` for inputs with ``input_dim`` features."""
  module = DropoutMLP(tuple(hidden_sizes), num_classes, dropout_rate)
  params = jax.eval_shape(module.init, jax.random.key(0),
                          jnp.zeros((1, input_dim)))
  return FlatMLP(module, flat.layout(params), input_dim)
