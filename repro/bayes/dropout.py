"""MC dropout predictions: each draw is the network with a fresh mask.

Gal and Ghahramani (2016): dropout kept on at test time is approximate
inference; the predictive is the average over ``num`` masks, each drawn
independently per unit and per example. An attack on such a model must
draw fresh masks at every step (EOT), and its evaluation uses
masks independent of the attack's.
"""

from __future__ import annotations

import jax

from repro.bayes.network import FlatMLP


def mc_dropout_logits(
  model: FlatMLP, theta: jax.Array, x: jax.Array, key: jax.Array, num: int
) -> jax.Array:
  """Logits ``[num, n, C]`` of ``num`` independent dropout masks."""
  keys = jax.random.split(key, num)
  return jax.vmap(model.dropout_logits, in_axes=(None, None, 0))(theta, x, keys)


def fixed_mask_logits(
  model: FlatMLP, theta: jax.Array, x: jax.Array, key: jax.Array
) -> jax.Array:
  """Logits ``[n, C]`` of one mask drawn from ``key`` (a naive attack target).

  The mask depends on the batch position only, not on ``x``, so the same
  key gives the same sub-network across attack steps.
  """
  return model.dropout_logits(theta, x, key)
