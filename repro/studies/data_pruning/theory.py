"""The mixture-of-Gaussians analysis (claim C7; paper v1 Sec. 4, App. B)."""

from __future__ import annotations

import numpy as np

from repro.ops import gaussian_mixture_risk as mog


def run_theory(group) -> tuple[dict[str, float], dict]:
  """Metrics of C7a-C7c and the prior sweep of the figure.

  Regime: class 0 ~ N(0, 1), class 1 ~ N(mu, sigma^2), well separated
  (mu = 4, sigma = 1.5 by default; derived here: error-proportional
  priors overshoot to a constant classifier when mu <= 2, sigma >= 2).
  """
  mu, sigma = group.mu, group.sigma
  phi_drop = mog.drop_prior(mu, sigma)
  phi_opt = mog.optimal_prior(mu, sigma)
  worst = {
    name: mog.worst_class_risk(phi, mu, sigma)
    for name, phi in (
      ("balanced", 0.5),
      ("drop", phi_drop),
      ("optimal", phi_opt),
    )
  }
  # B.3: SSP with margin M vs random pruning to the same class counts.
  kept0, kept1 = mog.ssp_kept_fractions(group.ssp_margin, sigma)
  margin = group.ssp_margin
  t_full = mog.pruned_erm_threshold(
    (0.5, 0.5), (0.0, 0.0), mu, sigma, group.grid_size
  )
  t_ssp = mog.pruned_erm_threshold(
    (0.5, 0.5), (margin, margin), mu, sigma, group.grid_size
  )
  t_random = mog.pruned_erm_threshold(
    (0.5 * kept0, 0.5 * kept1), (0.0, 0.0), mu, sigma, group.grid_size
  )
  metrics = {
    "c7_optimal_prior_hard_class": phi_opt,
    "c7_drop_prior_hard_class": phi_drop,
    "c7_worst_risk_balanced": worst["balanced"],
    "c7_worst_risk_drop": worst["drop"],
    "c7_worst_risk_optimal": worst["optimal"],
    "c7_drop_minus_balanced": worst["drop"] - worst["balanced"],
    "c7_drop_minus_optimal": worst["drop"] - worst["optimal"],
    "c7_threshold_full": t_full,
    "c7_ssp_threshold_shift_abs": abs(t_ssp - t_full),
    "c7_random_threshold_shift": t_random - t_full,
    "c7_ssp_kept_easy": kept0,
    "c7_ssp_kept_hard": kept1,
  }
  priors = np.linspace(0.3, 0.85, group.curve_points)
  sweep = {
    "priors": priors,
    "worst": np.array([mog.worst_class_risk(p, mu, sigma) for p in priors]),
    "average": np.array(
      [
        mog.average_risk(mog.erm_threshold(p, mu, sigma), 0.5, mu, sigma)
        for p in priors
      ]
    ),
    "phi_drop": phi_drop,
    "phi_opt": phi_opt,
  }
  return metrics, sweep
