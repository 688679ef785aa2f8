"""Mean-field VI on a conjugate Gaussian model with a closed-form optimum."""

import jax
import jax.numpy as jnp
import numpy as np

from repro.bayes import vi


def test_mean_field_vi_matches_the_closed_form_optimum():
  # Bayesian linear regression y = A theta + noise, theta ~ N(0, s0^2 I):
  # the posterior is N(mu, Lambda^-1) with Lambda = A^T A / s^2 + I / s0^2.
  # The best mean-field Gaussian (reverse KL) has the exact mean mu and
  # variances 1 / Lambda_ii (Bishop, PRML Section 10.1.2).
  generator = np.random.default_rng(0)
  design = generator.normal(size=(20, 2))
  design[:, 1] += 0.8 * design[:, 0]          # correlated posterior
  theta_true = np.array([1.0, -0.5])
  noise_std, prior_std = 0.5, 2.0
  targets = design @ theta_true + noise_std * generator.normal(size=20)
  precision = design.T @ design / noise_std ** 2 + np.eye(2) / prior_std ** 2
  mean = np.linalg.solve(precision, design.T @ targets / noise_std ** 2)
  mf_std = 1.0 / np.sqrt(np.diag(precision))

  design_j, targets_j = jnp.asarray(design), jnp.asarray(targets)
  log_likelihood = lambda theta: -0.5 * jnp.sum(
      (targets_j - design_j @ theta) ** 2) / noise_std ** 2
  q = vi.fit_mean_field(log_likelihood, 2, prior_std, jax.random.key(0),
                        num_steps=4000, learning_rate=1e-2, init_scale=0.1)
  np.testing.assert_allclose(q.loc, mean, atol=0.03)
  np.testing.assert_allclose(q.scale, mf_std, rtol=0.15)
  # The ELBO improved, and sampling draws from N(loc, scale^2).
  assert float(q.losses[-200:].mean()) < float(q.losses[:10].mean())
  draws = vi.sample_mean_field(q, jax.random.key(1), 20000)
  np.testing.assert_allclose(draws.std(0), q.scale, rtol=0.03)
