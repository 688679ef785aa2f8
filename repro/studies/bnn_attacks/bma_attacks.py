"""PGD on the posterior predictive: label, detection and semantic-shift.

README, What is run. Every attack runs ``repro.ops.attacks.pgd`` on
the per-draw logits ``[K, n, C]`` of a ``Predictor``; the losses below
reduce them to the Bayesian model average first, in log space:

* label attack: L = -log p_bar(y|x) (untargeted, sign-PGD, random start),
* adaptive detection attack: L = -log p_bar(y_t|x) + beta H[p_bar(x)]
  minimised towards the runner-up class y_t ("confidently wrong"),
* non-adaptive detection attack: the label attack frozen at the first
  flip (minimal, near-boundary adversarial examples),
* semantic-shift attack: minimise H[p_bar] on OOD inputs, maximise it on
  in-distribution inputs.

Stochastic posteriors (MFVI, MCD) are attacked with EOT: ``eot_draws``
fresh draws at every step (pgd's ``eot``); evaluation always uses
``eval_draws`` draws from an independent key.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from repro.bayes.predictive import bma_log_probs, uncertainty_scores
from repro.ops import attacks
from repro.ops.losses import cross_entropy
from repro.studies.bnn_attacks.posteriors import Predictor, sample_logits

# Terms of the attack objective, combined with weights (see ``Objective``).
TERMS = ("bma_nll", "entropy", "double_softmax_nll", "averaged_logits_nll")


def objective_terms(per_draw_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """``[4, n]``: the per-example terms of ``TERMS`` from ``[K, n, C]``.

  * bma_nll: -log p_bar(y|x), the proper loss (logsumexp over draws);
  * entropy: H[p_bar(x)];
  * double_softmax_nll: Carbone et al.'s loss, a cross-entropy that
    treats the probabilities p_bar as logits (their public code);
  * averaged_logits_nll: cross-entropy of the mean logit, a different
    model from the BMA (an older version of that code).
  """
  log_bma = bma_log_probs(per_draw_logits)
  return jnp.stack(
    [
      cross_entropy(log_bma, labels),
      uncertainty_scores(per_draw_logits)["entropy"],
      cross_entropy(jnp.exp(log_bma), labels),
      cross_entropy(jnp.mean(per_draw_logits, 0), labels),
    ]
  )


def objective(**weights: float) -> np.ndarray:
  """Weights ``[4]`` of ``TERMS``; PGD *ascends* the weighted sum.

  E.g. ``objective(bma_nll=1)`` is the label attack, ``objective(
  bma_nll=-1, entropy=-beta)`` the confidently-wrong attack towards a
  target, ``objective(entropy=-1)`` lowers the predictive entropy.
  """
  unknown = set(weights) - set(TERMS)
  if unknown:
    raise ValueError(f"unknown objective terms {unknown}; one of {TERMS}")
  return np.array([weights.get(t, 0.0) for t in TERMS], np.float32)


LABEL_ATTACK = objective(bma_nll=1.0)


def label_flipped(per_draw_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """The BMA's prediction differs from ``labels`` (first-flip stop)."""
  return jnp.argmax(bma_log_probs(per_draw_logits), -1) != labels


@functools.partial(jax.jit, static_argnames=("model", "kind", "draws"))
def _pgd(
  model,
  kind,
  draws,
  params,
  x,
  labels,
  key,
  eps,
  step_size,
  num_steps,
  weights,
  stop_at_flip,
):
  stochastic = kind in ("mean_field", "dropout")
  if stochastic:
    logits_fn = lambda inputs, k: sample_logits(
      model, kind, params, inputs, k, draws
    )
  else:
    logits_fn = lambda inputs: sample_logits(
      model, kind, params, inputs, None, 0
    )
  return attacks.pgd(
    logits_fn,
    x,
    labels,
    eps=eps,
    num_steps=num_steps,
    step_size=step_size,
    key=key,
    random_init=True,
    eot=stochastic,
    loss_fn=lambda logits, y: weights @ objective_terms(logits, y),
    stop_on_success=lambda logits, y: stop_at_flip & label_flipped(logits, y),
  )


def pgd_on(
  predictor: Predictor,
  x: jax.Array,
  labels: jax.Array,
  key: jax.Array,
  *,
  eps: float,
  num_steps: int,
  step_size: float,
  draws: int,
  weights=LABEL_ATTACK,
  stop_at_flip: bool = False,
) -> jax.Array:
  """Sign-PGD-linf from a random start, ascending ``weights @ TERMS``.

  Stochastic predictors are attacked by EOT with ``draws`` fresh draws
  per step. Sizes, weights and the stop flag are traced, so every attack
  on models of one kind and shape shares one compilation.
  """
  draws = draws if predictor.stochastic else 0
  return _pgd(
    predictor.model,
    predictor.kind,
    draws,
    predictor.params,
    x,
    labels,
    key,
    jnp.float32(eps),
    jnp.float32(step_size),
    jnp.int32(num_steps),
    jnp.asarray(weights),
    jnp.asarray(stop_at_flip),
  )
