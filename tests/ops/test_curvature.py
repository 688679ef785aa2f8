"""Tests of repro.ops.curvature: closed forms and a Monte Carlo of "Eq. 9"."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import curvature as curv


def test_trace_over_frobenius_closed_forms():
  chex.assert_rank(curv.trace_over_frobenius(jnp.eye(50)), 0)
  assert float(curv.trace_over_frobenius(jnp.eye(50))) == pytest.approx(
    np.sqrt(50)
  )
  assert float(curv.trace_over_frobenius(jnp.zeros((4, 4)))) == 0.0
  assert float(curv.trace_over_frobenius(-jnp.eye(9))) == pytest.approx(-3.0)
  # A rank-one PSD matrix has ratio exactly 1.
  vector = jnp.arange(1.0, 6.0)
  assert float(curv.trace_over_frobenius(jnp.outer(vector, vector))) == (
    pytest.approx(1.0)
  )
  # Symmetric matrix: equals the ratio computed from its eigenvalues.
  rng = np.random.default_rng(0)
  random = rng.normal(size=(30, 30))
  symmetric = random + random.T
  assert float(curv.trace_over_frobenius(symmetric)) == pytest.approx(
    float(curv.positive_curvature(np.linalg.eigvalsh(symmetric))), rel=1e-5
  )
  # Batched eigenvalue rows; an all-zero row gives 0, not NaN.
  rows = jnp.asarray([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
  chex.assert_shape(curv.positive_curvature(rows), (2,))
  np.testing.assert_allclose(curv.positive_curvature(rows), [2.0, 0.0])


def test_fraction_positive_is_strict():
  values = jnp.asarray([[-1.0, 0.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
  chex.assert_shape(curv.fraction_positive(values), (2,))
  np.testing.assert_allclose(curv.fraction_positive(values), [0.5, 1.0])


def test_softmax_entropy_confidence_and_covariance():
  uniform = jnp.zeros((7, 4))
  assert float(curv.softmax_entropy(uniform)) == pytest.approx(np.log(4))
  assert float(curv.mean_confidence(uniform)) == pytest.approx(0.25)
  saturated = jnp.asarray([[1e6, 0.0, -1e6]] * 3)
  assert float(curv.softmax_entropy(saturated)) == pytest.approx(0.0, abs=1e-12)
  assert float(curv.softmax_covariance_norm(jax.nn.softmax(saturated))) == 0
  assert float(curv.softmax_gamma(jax.nn.softmax(saturated))) == 0.0
  # Uniform outputs: M = (I - 11^T/K)/K, Gamma = sqrt(K - 1).
  probs = jax.nn.softmax(uniform)
  chex.assert_shape(curv.softmax_covariance(probs), (4, 4))
  chex.assert_type(curv.softmax_covariance(probs), jnp.float32)
  chex.assert_rank(
    [
      curv.softmax_entropy(uniform),
      curv.mean_confidence(uniform),
      curv.softmax_gamma(probs),
    ],
    0,
  )
  np.testing.assert_allclose(
    curv.softmax_covariance(probs), (np.eye(4) - 1 / 4) / 4, atol=1e-7
  )
  assert float(curv.softmax_gamma(probs)) == pytest.approx(np.sqrt(3))
  # Confident outputs p = (1 - 2e, e, e): M ~ e [[2,-1,-1],[-1,1,0],
  # [-1,0,1]] with eigenvalues 3e, e, so Gamma -> 4 / sqrt(10).
  confident = jax.nn.softmax(jnp.asarray([[12.0, 0.0, 0.0]] * 5))
  assert float(curv.softmax_gamma(confident)) == pytest.approx(
    4 / np.sqrt(10), rel=1e-3
  )
  # One clear runner-up: rank ~ 1, Gamma -> 1.
  runner_up = jax.nn.softmax(jnp.asarray([[12.0, 6.0, 0.0]] * 5))
  assert 1.0 <= float(curv.softmax_gamma(runner_up)) < 1.01


def test_prior_mismatch_and_label_prior():
  labels = jnp.asarray([0, 0, 1, 2])
  chex.assert_shape(curv.label_prior(labels, 3), (3,))
  np.testing.assert_allclose(curv.label_prior(labels, 3), [0.5, 0.25, 0.25])
  logits = jnp.log(jnp.asarray([[0.5, 0.25, 0.25]] * 4))
  assert float(curv.prior_mismatch(logits, labels)) == pytest.approx(
    0.0, abs=1e-7
  )
  assert float(curv.prior_mismatch(jnp.zeros((4, 3)), labels)) == (
    pytest.approx(np.linalg.norm([0.5 - 1 / 3, 0.25 - 1 / 3, 0.25 - 1 / 3]))
  )


def test_logit_gradient_variances_recover_the_generating_model():
  rng = np.random.default_rng(1)
  common = rng.normal(size=(3, 400)) * 2.0  # var_C = 4
  deviations = rng.normal(size=(500, 3, 400)) * 0.5  # var_E = 0.25
  var_e, var_c = curv.logit_gradient_variances(
    jnp.asarray(common[None] + deviations)
  )
  chex.assert_rank([var_e, var_c], 0)
  assert float(var_e) == pytest.approx(0.25, rel=0.02)
  assert float(var_c) == pytest.approx(4.0, rel=0.1)


def test_expected_gauss_newton_curvature_matches_simulation():
  """Eq. 9 against Tr(G)/||G||_F of simulated G = mean_s J_s^T M_s J_s."""
  rng = np.random.default_rng(2)
  dim, classes, samples = 50, 3, 4000
  var_c, var_e = 0.3, 1.0
  common = rng.normal(size=(classes, dim)) * np.sqrt(var_c)
  jacobians = common[None] + rng.normal(size=(samples, classes, dim)) * np.sqrt(
    var_e
  )
  logits = rng.normal(size=(samples, classes)) * 0.5
  probs = np.asarray(jax.nn.softmax(jnp.asarray(logits)))
  covariances = np.einsum("sk,kl->skl", probs, np.eye(classes)) - np.einsum(
    "sk,sl->skl", probs, probs
  )
  gauss_newton = (
    np.einsum("skd,skl,sle->de", jacobians, covariances, jacobians) / samples
  )
  simulated = np.trace(gauss_newton) / np.linalg.norm(gauss_newton)
  gamma = curv.softmax_gamma(jnp.asarray(probs))
  predicted = curv.expected_gauss_newton_curvature(var_e, var_c, dim, gamma)
  chex.assert_rank([gamma, predicted], 0)
  assert float(predicted) == pytest.approx(simulated, rel=0.1)
  # No class-common part: G ~ var_E Tr(M) I, the isotropic maximum sqrt(d).
  assert float(curv.expected_gauss_newton_curvature(1.0, 0.0, dim, gamma)) == (
    pytest.approx(np.sqrt(dim))
  )
  # Saturated softmax (Gamma = 0): 0 by convention.
  assert float(curv.expected_gauss_newton_curvature(1.0, 1.0, dim, 0.0)) == 0
