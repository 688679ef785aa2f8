"""Diagonal linear networks: w = u^L - v^L.

The reparameterised linear model of Tsilivis et al. 2024 (arXiv 2406.04981,
Section 3; Woodworth et al. 2020): f(x) = <u^L - v^L, x>, initialised at
u = v = alpha/sqrt(2d) so that w = 0. Small ``alpha`` is the rich regime,
whose gradient descent is biased towards small l1 norm of w (for L = 2 the
max-margin problem in (u, v) is the l1 max-margin problem in w, since
min{||u||^2 + ||v||^2 : u^2 - v^2 = w} = ||w||_1).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.typing import DTypeLike


def initial_weights(
  dim: int, alpha: float, dtype: DTypeLike = jnp.float32
) -> dict[str, jax.Array]:
  """``{"u": a 1, "v": a 1}`` with a = alpha/sqrt(2 dim), so w = 0."""
  value = alpha / jnp.sqrt(2.0 * dim)
  return {
    "u": jnp.full((dim,), value, dtype),
    "v": jnp.full((dim,), value, dtype),
  }


def effective_weights(params: dict, depth: int = 2) -> jax.Array:
  """The linear predictor w = u^depth - v^depth of ``params``."""
  return params["u"] ** depth - params["v"] ** depth


class DiagonalLinear(nn.Module):
  """f(x) = <u^depth - v^depth, x> on flattened inputs.

  Attributes:
    alpha: initialisation scale; u = v = alpha/sqrt(2d) at init.
    depth: L, the power of the parameterisation (2 in the paper's code).
  """

  alpha: float = 1e-3
  depth: int = 2

  @nn.compact
  def __call__(self, inputs: jax.Array) -> jax.Array:
    flat = inputs.reshape(inputs.shape[0], -1)
    dim = flat.shape[-1]
    init = lambda key, shape, dtype=flat.dtype: jnp.full(
      shape, self.alpha / jnp.sqrt(2.0 * dim), dtype
    )
    params = {
      "u": self.param("u", init, (dim,)),
      "v": self.param("v", init, (dim,)),
    }
    return flat @ effective_weights(params, self.depth)
