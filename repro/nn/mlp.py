"""Fully connected ReLU networks with uniform fan-in initialisation.

``MLP(hidden_sizes=(256,), num_outputs=1)`` without biases is the
homogeneous one-hidden-layer network of Tsilivis et al. 2024 (arXiv
2406.04981, Section 4, MNIST 2 vs 7): f(x; c theta) = c^2 f(x; theta).
Weights are drawn from U(-scale/sqrt(fan_in), +scale/sqrt(fan_in)), the
PyTorch ``nn.Linear`` default times ``init_scale`` (the official code's
``OneHiddenLayer``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


def uniform_fan_in(scale: float = 1.0) -> Callable:
  """Initializer U(+-scale/sqrt(fan_in)) with fan_in = shape[0]."""
  def init(key, shape, dtype=jnp.float32):
    bound = scale / jnp.sqrt(shape[0])
    return jax.random.uniform(key, shape, dtype, -bound, bound)
  return init


class MLP(nn.Module):
  """ReLU network; every example is flattened to a vector first.

  Attributes:
    hidden_sizes: widths of the hidden layers (empty: a linear model).
    num_outputs: number of outputs; 1 gives a ``[n]`` score per example.
    use_bias: add biases (initialised like the weights of their layer);
      without biases the network is positively homogeneous of degree
      ``len(hidden_sizes) + 1``.
    init_scale: the ``scale`` of U(+-scale/sqrt(fan_in)).
  """
  hidden_sizes: Sequence[int] = (256,)
  num_outputs: int = 1
  use_bias: bool = False
  init_scale: float = 1.0

  @nn.compact
  def __call__(self, inputs: jax.Array) -> jax.Array:
    hidden = inputs.reshape(inputs.shape[0], -1)
    widths = tuple(self.hidden_sizes) + (self.num_outputs,)
    for index, width in enumerate(widths):
      fan_in = hidden.shape[-1]
      bias_bound = self.init_scale / jnp.sqrt(fan_in)
      hidden = nn.Dense(
          width, use_bias=self.use_bias,
          kernel_init=uniform_fan_in(self.init_scale),
          bias_init=lambda key, shape, dtype=jnp.float32, b=bias_bound: (
              jax.random.uniform(key, shape, dtype, -b, b)),
          name=f"dense_{index}")(hidden)
      if index < len(widths) - 1:
        hidden = nn.relu(hidden)
    return hidden[:, 0] if self.num_outputs == 1 else hidden
