"""Softmax cross-entropy losses: the suite's one copy of each.

* ``cross_entropy``: per-example ``-log softmax(logits)_y`` for integer
  labels, ``logsumexp(logits) - logits_y`` (optax's form: exact for
  saturated logits).
* ``mean_cross_entropy``: its batch mean, the training loss of every study.
* ``soft_cross_entropy``: per-example ``-sum_k p_k log softmax(logits)_k``
  for one-hot or soft targets ``p``.
* ``log_likelihood``: per-example ``log softmax(logits)_y`` computed as
  ``log_softmax`` then a gather, the form of log-densities (HMC) and of
  masked token losses; it equals ``-cross_entropy`` up to rounding.

Logits are ``[..., C]``, integer labels ``[...]``; losses come back with
the labels' shape and the logits' dtype.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-example softmax cross-entropy with integer labels; ``[...]``."""
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def mean_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean over all examples of ``cross_entropy``; a scalar."""
  return jnp.mean(cross_entropy(logits, labels))


def soft_cross_entropy(logits: jax.Array, targets: jax.Array) -> jax.Array:
  """Per-example cross-entropy with target distributions ``[..., C]``."""
  return optax.softmax_cross_entropy(logits, targets)


def log_likelihood(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-example ``log softmax(logits)_y`` with integer labels; ``[...]``."""
  log_probs = jax.nn.log_softmax(logits, axis=-1)
  return jnp.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
