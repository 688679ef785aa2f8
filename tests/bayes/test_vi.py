"""Mean-field VI on a conjugate Gaussian model with a closed-form optimum;
a resumed fit equals an uninterrupted one."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.bayes import vi
from repro.core import checkpoint

NOISE_STD, PRIOR_STD = 0.5, 2.0


@functools.cache
def _regression():
  """A Bayesian linear regression and the settings of its VI fit."""
  generator = np.random.default_rng(0)
  design = generator.normal(size=(20, 2))
  design[:, 1] += 0.8 * design[:, 0]  # correlated posterior
  theta_true = np.array([1.0, -0.5])
  targets = design @ theta_true + NOISE_STD * generator.normal(size=20)
  design_j, targets_j = jnp.asarray(design), jnp.asarray(targets)
  log_likelihood = lambda theta: (
    -0.5 * jnp.sum((targets_j - design_j @ theta) ** 2) / NOISE_STD**2
  )
  fit = functools.partial(
    vi.fit_mean_field,
    log_likelihood,
    2,
    PRIOR_STD,
    jax.random.key(0),
    num_steps=4000,
    learning_rate=1e-2,
    init_scale=0.1,
  )
  return design, targets, fit


@functools.cache
def _one_program_fit():
  return _regression()[2]()


def test_mean_field_vi_matches_the_closed_form_optimum():
  # Bayesian linear regression y = A theta + noise, theta ~ N(0, s0^2 I):
  # the posterior is N(mu, Lambda^-1) with Lambda = A^T A / s^2 + I / s0^2.
  # The best mean-field Gaussian (reverse KL) has the exact mean mu and
  # variances 1 / Lambda_ii (Bishop, PRML Section 10.1.2).
  design, targets, _ = _regression()
  precision = design.T @ design / NOISE_STD**2 + np.eye(2) / PRIOR_STD**2
  mean = np.linalg.solve(precision, design.T @ targets / NOISE_STD**2)
  mf_std = 1.0 / np.sqrt(np.diag(precision))

  q = _one_program_fit()
  np.testing.assert_allclose(q.loc, mean, atol=0.03)
  np.testing.assert_allclose(q.scale, mf_std, rtol=0.15)
  # The ELBO improved, and sampling draws from N(loc, scale^2).
  assert float(q.losses[-200:].mean()) < float(q.losses[:10].mean())
  draws = vi.sample_mean_field(q, jax.random.key(1), 20000)
  np.testing.assert_allclose(draws.std(0), q.scale, rtol=0.03)


class _Interrupted(Exception):
  pass


def test_interrupted_and_resumed_fit_equals_uninterrupted_one(
  tmp_path, monkeypatch
):
  # The SVI steps run in chunks through the resumable loop; a fit stopped
  # after its second checkpoint and rerun continues from it and ends where
  # an uninterrupted fit without checkpoints does, bit for bit.
  fit = functools.partial(
    _regression()[2],
    chunk_steps=1000,
    checkpoints=checkpoint.RunCheckpoints(str(tmp_path), every_steps=1),
  )
  real_save, saved = checkpoint.save, []

  def save_then_stop(directory, step, items):
    real_save(directory, step, items)
    saved.append(step)
    if len(saved) == 2:
      raise _Interrupted

  monkeypatch.setattr(checkpoint, "save", save_then_stop)
  with pytest.raises(_Interrupted):
    fit()
  assert saved == [1000, 2000]
  monkeypatch.setattr(checkpoint, "save", real_save)
  fit.keywords["checkpoints"] = checkpoint.RunCheckpoints(str(tmp_path), 1)
  resumed = fit()
  assert checkpoint.latest_step(str(tmp_path / "001-mfvi")) == 4000
  uninterrupted = _regression()[2](chunk_steps=1000)
  for name in ("loc", "scale", "losses"):
    np.testing.assert_array_equal(
      getattr(resumed, name), getattr(uninterrupted, name), err_msg=name
    )
