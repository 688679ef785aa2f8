"""Softmax cross-entropies against an independent numpy computation."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import losses


def _numpy_log_softmax(logits):
  """log softmax in float64 numpy, shifted by the max for stability."""
  logits = np.asarray(logits, np.float64)
  shifted = logits - logits.max(-1, keepdims=True)
  return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _problem(shape=(6,), num_classes=5, seed=0):
  rng = np.random.default_rng(seed)
  logits = rng.normal(scale=3.0, size=shape + (num_classes,))
  labels = rng.integers(0, num_classes, size=shape)
  return jnp.asarray(logits, jnp.float32), jnp.asarray(labels, jnp.int32)


def _numpy_nll(logits, labels):
  log_probs = _numpy_log_softmax(logits)
  return -np.take_along_axis(log_probs, np.asarray(labels)[..., None], -1)[
    ..., 0
  ]


@pytest.mark.parametrize("shape", [(6,), (3, 4)])
def test_cross_entropy_per_example_and_mean(shape):
  logits, labels = _problem(shape)
  per_example = losses.cross_entropy(logits, labels)
  chex.assert_shape(per_example, shape)
  chex.assert_type(per_example, jnp.float32)
  expected = _numpy_nll(logits, labels)
  np.testing.assert_allclose(per_example, expected, rtol=1e-5, atol=1e-6)
  mean = losses.mean_cross_entropy(logits, labels)
  chex.assert_shape(mean, ())
  chex.assert_type(mean, jnp.float32)
  np.testing.assert_allclose(mean, expected.mean(), rtol=1e-5)


def test_soft_cross_entropy_with_one_hot_and_soft_targets():
  logits, labels = _problem((7,), num_classes=4, seed=1)
  one_hot = jax.nn.one_hot(labels, 4)
  hard = losses.soft_cross_entropy(logits, one_hot)
  chex.assert_shape(hard, (7,))
  chex.assert_type(hard, jnp.float32)
  np.testing.assert_allclose(
    hard, _numpy_nll(logits, labels), rtol=1e-5, atol=1e-6
  )
  targets = np.random.default_rng(2).dirichlet(np.ones(4), size=7)
  soft = losses.soft_cross_entropy(logits, jnp.asarray(targets, jnp.float32))
  expected = -(targets * _numpy_log_softmax(logits)).sum(-1)
  np.testing.assert_allclose(soft, expected, rtol=1e-5, atol=1e-6)


def test_log_likelihood_is_minus_cross_entropy():
  logits, labels = _problem((2, 9), num_classes=3, seed=3)
  log_lik = losses.log_likelihood(logits, labels)
  chex.assert_shape(log_lik, (2, 9))
  chex.assert_type(log_lik, jnp.float32)
  np.testing.assert_allclose(
    log_lik, -_numpy_nll(logits, labels), rtol=1e-5, atol=1e-6
  )


def test_saturated_logits_stay_finite_and_exact():
  logits = jnp.asarray([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
  labels = jnp.asarray([1, 2])
  expected = np.array([1000.0, np.log(3.0)])
  np.testing.assert_allclose(
    losses.cross_entropy(logits, labels), expected, rtol=1e-6
  )
  np.testing.assert_allclose(
    -losses.log_likelihood(logits, labels), expected, rtol=1e-6
  )


def test_float64_under_x64():
  with jax.enable_x64(True):
    logits, labels = _problem((5,), seed=4)
    logits = logits.astype(jnp.float64)
    per_example = losses.cross_entropy(logits, labels)
    chex.assert_type(per_example, jnp.float64)
    np.testing.assert_allclose(
      per_example, _numpy_nll(logits, labels), rtol=1e-12
    )
