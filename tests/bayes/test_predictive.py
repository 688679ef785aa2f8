"""The stable log-BMA and the uncertainty scores against direct answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.bayes import predictive


def _numpy_log_bma(logits):
  """Direct float64 formula: log of the mean of softmax probabilities."""
  logits = np.asarray(logits, np.float64)
  shifted = logits - logits.max(-1, keepdims=True)
  probs = np.exp(shifted) / np.exp(shifted).sum(-1, keepdims=True)
  return np.log(probs.mean(0))


def test_log_bma_equals_naive_formula_where_both_are_finite():
  logits = jax.random.normal(jax.random.key(0), (7, 5, 4)) * 3.0
  np.testing.assert_allclose(
    predictive.bma_log_probs(logits),
    _numpy_log_bma(logits),
    rtol=1e-5,
    atol=1e-5,
  )
  # p_bar is a distribution: softmax(log p_bar) = p_bar.
  log_bma = predictive.bma_log_probs(logits)
  np.testing.assert_allclose(jnp.exp(log_bma).sum(-1), 1.0, rtol=1e-5)
  np.testing.assert_allclose(
    jax.nn.softmax(log_bma), jnp.exp(log_bma), rtol=1e-5, atol=1e-7
  )


def test_log_bma_survives_where_float32_averaging_underflows():
  # Both draws put log-probability about -150 and -160 on class 0:
  # exp(-150) underflows in float32, so mean(softmax) gives log 0 = -inf.
  logits = jnp.array([[[0.0, 150.0, 0.0]], [[0.0, 0.0, 160.0]]])
  naive = jnp.log(jnp.mean(jax.nn.softmax(logits, -1), 0))[0, 0]
  assert naive == -jnp.inf
  stable = predictive.bma_log_probs(logits)[0, 0]
  expected = np.logaddexp(
    -150.0 - np.log1p(2 * np.exp(-150.0)), -160.0
  ) - np.log(2.0)
  assert float(stable) == pytest.approx(expected, rel=1e-6)
  assert float(stable) == pytest.approx(
    -150.0 - np.log(2.0) + np.log1p(np.exp(-10.0)), rel=1e-6
  )


def test_posterior_predictive_logprob_of_linear_draws():
  weights = jax.random.normal(jax.random.key(1), (6, 3, 4))  # [S, d, C]
  x = jax.random.normal(jax.random.key(2), (5, 3))
  logits_fn = lambda theta, inputs: inputs @ theta
  result = predictive.posterior_predictive_logprob(logits_fn, weights, x)
  direct = _numpy_log_bma(np.einsum("nd,sdc->snc", x, weights))
  np.testing.assert_allclose(result, direct, rtol=1e-5, atol=1e-5)


def test_entropy_and_mutual_information_hand_cases():
  big = 60.0
  # Two confident draws that disagree: p_bar uniform over 2 classes,
  # no aleatoric entropy, all of it epistemic (MI = log 2).
  disagree = jnp.array([[[big, 0.0]], [[0.0, big]]])
  scores = predictive.uncertainty_scores(disagree)
  np.testing.assert_allclose(scores["entropy"], [np.log(2)], rtol=1e-6)
  np.testing.assert_allclose(scores["aleatoric"], [0.0], atol=1e-6)
  np.testing.assert_allclose(
    scores["mutual_information"], [np.log(2)], rtol=1e-5
  )
  # Identical uniform draws over 4 classes: H = log 4, MI = 0.
  uniform = jnp.zeros((3, 1, 4))
  np.testing.assert_allclose(
    predictive.predictive_entropy(uniform), [np.log(4)], rtol=1e-6
  )
  np.testing.assert_allclose(
    predictive.mutual_information(uniform), [0.0], atol=1e-6
  )
  # A one-hot prediction has zero entropy, not nan (0 log 0 = 0).
  certain = jnp.array([[[0.0, -1e30]]])
  assert float(predictive.predictive_entropy(certain)[0]) == 0.0


def test_mutual_information_matches_direct_formula():
  logits = jax.random.normal(jax.random.key(3), (5, 8, 3)) * 2
  probs = np.asarray(jax.nn.softmax(logits, -1), np.float64)
  mean = probs.mean(0)
  total = -(mean * np.log(mean)).sum(-1)
  aleatoric = -(probs * np.log(probs)).sum(-1).mean(0)
  np.testing.assert_allclose(
    predictive.mutual_information(logits),
    total - aleatoric,
    rtol=1e-4,
    atol=1e-6,
  )
