"""The posterior predictive (Bayesian model average) and its uncertainty.

Standard formulas (bnn_attacks README, What is run). With
lp_s = log_softmax(f(x; theta_s)) for S posterior draws,

  log p_bar(y|x) = logsumexp_s lp_s(y) - log S          (stable log-BMA)
  H_total   = -sum_c p_bar_c log p_bar_c                 (predictive entropy)
  H_aleatoric = mean_s ( -sum_c p_sc lp_sc )             (expected entropy)
  MI = H_total - H_aleatoric                             (epistemic)

Averaging ``softmax`` outputs and taking the log underflows when every
draw is confident in another class (probabilities below 1e-38 in float32);
the logsumexp form never does. Since p_bar sums to one, ``log p_bar`` is a
valid logit vector: softmax(log p_bar) = p_bar, so a cross-entropy on it is
exactly -log p_bar(y|x) (no double softmax).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def bma_log_probs(sample_logits: jax.Array, axis: int = 0) -> jax.Array:
  """log p_bar from per-draw logits ``[..., S, ..., C]`` (draws on ``axis``).

  Returns the log posterior predictive with the draw axis removed.
  """
  log_probs = jax.nn.log_softmax(sample_logits, axis=-1)
  num = sample_logits.shape[axis]
  return jax.nn.logsumexp(log_probs, axis=axis) - jnp.log(num)


def posterior_predictive_logprob(
  logits_fn: Callable, samples: jax.Array, x: jax.Array
) -> jax.Array:
  """log p_bar(.|x) ``[n, C]`` of parameter draws ``samples`` ``[S, D]``.

  ``logits_fn(theta, x) -> [n, C]`` is the network as a function of one
  flat parameter vector (``FlatMLP.logits``).
  """
  return bma_log_probs(jax.vmap(logits_fn, in_axes=(0, None))(samples, x))


def _entropy(log_probs: jax.Array) -> jax.Array:
  # 0 log 0 = 0: exp(-inf) * -inf would be nan.
  probs = jnp.exp(log_probs)
  return -jnp.sum(jnp.where(probs > 0, probs * log_probs, 0.0), axis=-1)


def predictive_entropy(sample_logits: jax.Array) -> jax.Array:
  """H[p_bar] ``[n]`` from per-draw logits ``[S, n, C]`` (total)."""
  return _entropy(bma_log_probs(sample_logits))


def expected_entropy(sample_logits: jax.Array) -> jax.Array:
  """E_s H[p_s] ``[n]`` (aleatoric part)."""
  return jnp.mean(_entropy(jax.nn.log_softmax(sample_logits, -1)), axis=0)


def mutual_information(sample_logits: jax.Array) -> jax.Array:
  """I(y; theta | x) = H[p_bar] - E_s H[p_s] ``[n]`` (epistemic part).

  Non-negative by Jensen's inequality; clipped at 0 against rounding.
  """
  return jnp.maximum(
    predictive_entropy(sample_logits) - expected_entropy(sample_logits), 0.0
  )


def uncertainty_scores(sample_logits: jax.Array) -> dict[str, jax.Array]:
  """``{"entropy", "aleatoric", "mutual_information"}``, each ``[n]``."""
  total = predictive_entropy(sample_logits)
  aleatoric = expected_entropy(sample_logits)
  return {
    "entropy": total,
    "aleatoric": aleatoric,
    "mutual_information": jnp.maximum(total - aleatoric, 0.0),
  }
