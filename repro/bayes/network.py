"""A classifier MLP (optionally with dropout) as a function of one vector.

Samplers (HMC, mean-field VI) work on a vector theta in R^D; ``FlatMLP``
maps theta back to the Flax parameter tree with ``repro.nn.flat`` (the
``ravel_pytree`` order) so every posterior sample is one row of a
``[S, D]`` array and a set of samples is evaluated with one ``vmap``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from repro.nn import flat
from repro.nn.mlp import MLP


@dataclasses.dataclass(frozen=True, eq=False)
class FlatMLP:
  """An ``MLP`` with biases seen as a function of a flat parameter vector.

  Hashed by identity, so it can be a static argument of ``jax.jit``: one
  compilation per model, whatever parameters are passed.

  Attributes:
    module: the Flax ``repro.nn.mlp.MLP`` (biases, optional dropout).
    layout: where every parameter sits in the flat vector.
    input_dim: features per example (inputs are flattened).
  """

  module: MLP
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
    return self.module.apply(self.unravel(theta), x, train=False)

  def dropout_logits(
    self, theta: jax.Array, x: jax.Array, key: jax.Array
  ) -> jax.Array:
    """Logits ``[n, C]`` with a fresh dropout mask per unit and example."""
    return self.module.apply(
      self.unravel(theta), x, train=True, rngs={"dropout": key}
    )

  def init(self, key: jax.Array, num: int | None = None) -> jax.Array:
    """Flat initial parameters ``[D]`` (or ``[num, D]`` for replicas)."""

    def one(k):
      return self.layout.ravel(
        self.module.init(k, jnp.zeros((1, self.input_dim)))
      )

    if num is None:
      return one(key)
    return jax.vmap(one)(jax.random.split(key, num))


def flat_mlp(
  input_dim: int,
  hidden_sizes: Sequence[int],
  num_classes: int,
  dropout_rate: float = 0.0,
) -> FlatMLP:
  """Builds a ``FlatMLP`` for inputs with ``input_dim`` features."""
  module = MLP(
    hidden_sizes=tuple(hidden_sizes),
    num_outputs=num_classes,
    use_bias=True,
    dropout_rate=dropout_rate,
  )
  params = jax.eval_shape(
    module.init, jax.random.key(0), jnp.zeros((1, input_dim))
  )
  return FlatMLP(module, flat.layout(params), input_dim)
