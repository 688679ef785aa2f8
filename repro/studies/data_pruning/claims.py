"""Claims C1-C7 of the data_pruning study (README, Sources), one check each.

Grid metrics are seed means on the first dataset of the preset (the
synthetic Gaussian mixture on cpu); accuracies in percent points.
"""

from repro.core.claims import Claim

_EST = "estimate chosen before the run, kept"

CLAIMS = [
    # C1: implied class ratios track difficulty.
    Claim("C1a", "EL2N at d = 0.3 keeps fewer points of hard classes: "
          "Pearson(class density, full-data class acc) <= -0.5",
          "c1_corr_el2n_d0.3", "<=", -0.5,
          "paper Sec. 3 / Fig. 1", _EST, kind="paper"),
    Claim("C1b", "Forgetting at d = 0.3: Pearson(class density, class acc) "
          "<= -0.5", "c1_corr_forgetting_d0.3", "<=", -0.5,
          "paper Fig. 1", _EST, kind="paper"),
    Claim("C1c", "Dynamic uncertainty at d = 0.3: Pearson(class density, "
          "class acc) <= -0.5", "c1_corr_dynamic_uncertainty_d0.3", "<=",
          -0.5, "paper Fig. 1 (DU)", _EST, kind="paper"),
    Claim("C1d", "Dynamic uncertainty at d = 0.1: min samples per class <= "
          "0.25 x mean", "du_min_spc_over_mean", "<=", 0.25,
          "paper Fig. 1 (min SPC)", _EST, kind="paper"),
    # C2: keep-hardest hurts the tail.
    Claim("C2a", "Worst-class acc of EL2N at d = 0.3 >= 5 pts below Random",
          "c2_worst_random_minus_el2n_d0.3", ">=", 5.0,
          "paper Sec. 3", _EST, kind="paper"),
    Claim("C2b", "Worst-class acc of DU at d = 0.3 >= 5 pts below Random",
          "c2_worst_random_minus_dynamic_uncertainty_d0.3", ">=", 5.0,
          "paper Sec. 3", _EST, kind="paper"),
    Claim("C2c", "Average acc of EL2N at d = 0.3 below Random",
          "c2_avg_random_minus_el2n_d0.3", ">", 0.0,
          "Sorscher et al. / DeepCore",
          "sign only: 'average also lower'", kind="paper"),
    # C3: DRoP improves robustness.
    Claim("C3a", "Random+DRoP worst-class acc >= Random + 2 pts at d = 0.3",
          "c3_worst_drop_minus_random_d0.3", ">=", 2.0,
          "paper Table 2", _EST, kind="paper"),
    Claim("C3b", "Random+DRoP worst-class acc >= Random + 2 pts at d = 0.5",
          "c3_worst_drop_minus_random_d0.5", ">=", 2.0,
          "paper Table 2", _EST, kind="paper"),
    Claim("C3c", "Random+DRoP worst-class acc >= every score-based method "
          "at d = 0.3", "c3_worst_drop_minus_best_score_d0.3", ">=", 0.0,
          "paper Table 2", _EST, kind="paper"),
    Claim("C3d", "Random+DRoP worst-class acc >= every score-based method "
          "at d = 0.5", "c3_worst_drop_minus_best_score_d0.5", ">=", 0.0,
          "paper Table 2", _EST, kind="paper"),
    # C4: tolerable average cost.
    Claim("C4a", "Random+DRoP average acc >= Random - 3 pts at d = 0.3",
          "c4_avg_drop_minus_random_d0.3", ">=", -3.0,
          "paper Sec. 3 'tolerable drop'", _EST, kind="paper"),
    Claim("C4b", "Random+DRoP average acc >= Random - 3 pts at d = 0.5",
          "c4_avg_drop_minus_random_d0.5", ">=", -3.0,
          "paper Sec. 3 'tolerable drop'", _EST, kind="paper"),
    # C5: robustness does not degrade as density falls.
    Claim("C5a", "Random+DRoP worst-class acc at d = 0.3 >= its value at "
          "d = 0.8 - 1 pt", "c5_worst_drop_low_minus_high", ">=", -1.0,
          "paper v1 Sec. 3", _EST, kind="paper"),
    Claim("C5b", "Random+DRoP worst-class acc at d = 0.3 >= full data - 1 "
          "pt (optional)", "c5_worst_drop_low_minus_full", ">=",
          -1.0, "ICLR version Sec. 4 'beats full data' (secondary source)",
          _EST, kind="paper"),
    # C6: random within classes beats cherry-picking.
    Claim("C6a", "Random at EL2N's class counts >= EL2N (worst class, "
          "d = 0.3)", "c6_worst_el2n_quota_minus_el2n_d0.3", ">=", 0.0,
          "paper Table 2 (Random+StrategyQ)", _EST, kind="paper"),
    Claim("C6b", "EL2N within DRoP quotas >= EL2N (worst class, d = 0.3)",
          "c6_worst_el2n_drop_minus_el2n_d0.3", ">=", 0.0,
          "paper Table 2 (Strategy+DRoP)", _EST, kind="paper"),
    # C7: mixture of Gaussians (mu = 4, sigma = 1.5).
    Claim("C7a", "Worst-class optimal prior upweights the hard class "
          "(phi_1 > 0.5)", "c7_optimal_prior_hard_class", ">", 0.5,
          "paper v1 App. B.2", "direction of the effect",
          kind="theory"),
    Claim("C7b", "DRoP priors lower the worst-class risk below balanced",
          "c7_drop_minus_balanced", "<", 0.0,
          "paper v1 App. B (risks derived here)",
          "derived here: 0.067 -> 0.059 at mu = 4, sigma = 1.5", kind="theory"),
    Claim("C7c", "DRoP priors within 0.01 of the optimal worst-class risk",
          "c7_drop_minus_optimal", "<=", 0.01,
          "paper v1 App. B (risks derived here)",
          "derived here: 0.059 vs 0.055", kind="theory"),
    Claim("C7d", "SSP (margin pruning) leaves the ERM threshold: |dt| < "
          "0.01", "c7_ssp_threshold_shift_abs", "<", 0.01,
          "paper v1 App. B.3 / Fig. 8", _EST, kind="theory"),
    Claim("C7e", "Random pruning to SSP's class counts moves the threshold "
          "toward the easy class (dt < -0.01)", "c7_random_threshold_shift",
          "<", -0.01, "paper v1 App. B.3 / Fig. 8",
          "a shift 100x the grid resolution, toward class 0 at x = 0",
          kind="theory"),
]
