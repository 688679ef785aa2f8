"""Two-Gaussian class risks against Monte Carlo and brute force."""

import chex
import numpy as np
import pytest

from repro.ops import gaussian_mixture_risk as mog

MU, SIGMA = 4.0, 1.5


def test_class_risks_match_monte_carlo():
  rng = np.random.default_rng(0)
  easy = rng.normal(0.0, 1.0, 400_000)
  hard = rng.normal(MU, SIGMA, 400_000)
  for threshold in (0.5, 1.75, 2.5):
    risk0, risk1 = mog.class_risks(threshold, MU, SIGMA)
    chex.assert_rank([risk0, risk1], 0)
    for risk, sample in ((risk0, easy > threshold), (risk1, hard < threshold)):
      stderr = np.sqrt(risk * (1 - risk) / sample.size)
      assert abs(sample.mean() - risk) < 4 * stderr + 1e-6


@pytest.mark.parametrize("phi1", [0.3, 0.5, 0.6, 0.8])
def test_erm_threshold_minimises_the_average_risk_on_a_grid(phi1):
  grid = np.linspace(-3, MU + 4 * SIGMA, 200_001)
  risks = mog.average_risk(grid, phi1, MU, SIGMA)
  chex.assert_shape(risks, grid.shape)
  chex.assert_type(risks, np.float64)
  best = grid[np.argmin(risks)]
  assert mog.erm_threshold(phi1, MU, SIGMA) == pytest.approx(best, abs=1e-3)


def test_priors_and_worst_class_risks_at_mu_4_sigma_1_5():
  # Claim C7b's setting (data_pruning README): 0.067 -> 0.059 vs 0.055.
  assert mog.worst_class_risk(0.5, MU, SIGMA) == pytest.approx(0.067, abs=1e-3)
  assert mog.worst_class_risk(
    mog.drop_prior(MU, SIGMA), MU, SIGMA
  ) == pytest.approx(0.059, abs=1e-3)
  phi_opt = mog.optimal_prior(MU, SIGMA)
  risk0, risk1 = mog.erm_class_risks(phi_opt, MU, SIGMA)
  assert risk0 == pytest.approx(risk1, rel=1e-6)  # equalised
  assert risk0 == pytest.approx(0.055, abs=1e-3)
  # Brute force over priors: no prior does better on the worst class.
  priors = np.linspace(0.05, 0.95, 181)
  worst = [mog.worst_class_risk(p, MU, SIGMA) for p in priors]
  assert min(worst) >= risk0 - 1e-9


def test_overlapping_regime_overshoots_to_a_constant_classifier():
  # Overlapping classes, mu <= 2, sigma >= 2 -> t = -inf, worst risk 1.
  mu, sigma = 1.0, 2.5
  assert mog.erm_threshold(mog.drop_prior(mu, sigma), mu, sigma) == -np.inf
  assert mog.worst_class_risk(mog.drop_prior(mu, sigma), mu, sigma) == 1.0


def test_pruned_thresholds_against_sampled_erm():
  margin = 0.5
  full = mog.pruned_erm_threshold((0.5, 0.5), (0.0, 0.0), MU, SIGMA)
  assert full == pytest.approx(mog.erm_threshold(0.5, MU, SIGMA), abs=1e-3)
  kept = mog.ssp_kept_fractions(margin, SIGMA)
  rng = np.random.default_rng(1)
  easy = rng.normal(0.0, 1.0, 300_000)
  hard = rng.normal(MU, SIGMA, 300_000)
  assert np.mean(np.abs(easy) >= margin) == pytest.approx(kept[0], abs=3e-3)
  # Empirical ERM threshold after removing the margins (SSP).
  easy_ssp = easy[np.abs(easy) >= margin]
  hard_ssp = hard[np.abs(hard - MU) >= margin]
  grid = np.linspace(0.5, 3.0, 501)
  errors = [(easy_ssp > t).sum() + (hard_ssp < t).sum() for t in grid]
  sampled = grid[int(np.argmin(errors))]
  ssp = mog.pruned_erm_threshold((0.5, 0.5), (margin, margin), MU, SIGMA)
  assert ssp == pytest.approx(full, abs=1e-3)
  assert sampled == pytest.approx(ssp, abs=0.1)
  randomly = mog.pruned_erm_threshold(
    (0.5 * kept[0], 0.5 * kept[1]), (0.0, 0.0), MU, SIGMA
  )
  assert randomly < full - 0.01
