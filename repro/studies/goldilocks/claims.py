"""Claims G1-G7 of the goldilocks study (README, Sources), one check each.

Curvature = ``Tr(H_R)/||H_R||_F`` of the full-batch training loss in a
random orthonormal 50-d subspace, averaged over seeds ("the curve"); the
zone = alphas where the curve is >= 0.5 x its peak.
"""

from repro.core.claims import Claim

_ZONE = "paper Sec. 3 (the zone)"
_ENDS = "paper: the zone's two failure ends"
_EST = "estimate chosen before the run, kept"

CLAIMS = [
    # G1: interior peak of positive curvature.
    Claim("G1a", "Positive curvature peaks at alpha* >= 10^-1",
          "peak_log_alpha", ">=", -1.0, _ZONE,
          _EST, kind="paper"),
    Claim("G1b", "Positive curvature peaks at alpha* <= 10^1.5",
          "peak_log_alpha", "<=", 1.5, _ZONE, _EST,
          kind="paper"),
    Claim("G1c", "Peak positive curvature Tr(H)/||H||_F >= 0.8",
          "peak_curvature", ">=", 0.8, _ZONE,
          f"{_EST}; sqrt(50) = 7.1 is the isotropic maximum, ~0 random",
          kind="paper"),
    Claim("G1d", "At alpha = 10^-2 curvature <= 0.2 x peak",
          "curvature_ratio_min_alpha", "<=", 0.2,
          "paper: vanishing logit gradients", _EST, kind="paper"),
    Claim("G1e", "At alpha = 10^2.5 curvature <= 0.2 x peak",
          "curvature_ratio_max_alpha", "<=", 0.2,
          "paper: saturated softmax", _EST, kind="paper"),
    Claim("G1f", "Excess of positive eigenvalues at the peak (>= 0.55)",
          "peak_frac_positive", ">=", 0.55,
          "Fort & Scherlis 'excess of positive eigenvalues'",
          _EST, kind="paper"),
    Claim("G1g", "No excess at the grid's ends: fraction positive <= 0.55",
          "extreme_frac_positive_max", "<=", 0.55, _ZONE, _EST,
          kind="paper"),
    Claim("G1h", "No deficit at the grid's ends: fraction positive >= 0.4",
          "extreme_frac_positive_min", ">=", 0.4, _ZONE, _EST,
          kind="paper"),
    Claim("G1i", "Softmax at the peak is not saturated: H/log K > 0.05",
          "peak_normalized_entropy", ">", 0.05, _ZONE, _EST,
          kind="paper"),
    Claim("G1j", "Softmax at the peak is not uniform: H/log K < 0.999",
          "peak_normalized_entropy", "<", 0.999, _ZONE, _EST,
          kind="paper"),
    # G2: scaling the weights is a softmax temperature.
    Claim("G2a", "curvature(alpha, T=1) = curvature(1, T=alpha^-L)",
          "temperature_curvature_max_abs_diff", "<=", 1e-6,
          "paper abstract (temperature, not norm)",
          "exact identity for bias-free ReLU nets; float64 round-off",
          kind="sanity"),
    Claim("G2b", "H(alpha theta) = alpha^-2 H(theta; T=alpha^-L)",
          "temperature_hessian_max_rel_diff", "<=", 1e-8,
          "derived here (bias-free ReLU nets)",
          "exact identity; relative Frobenius error, float64", kind="sanity"),
    # G3: Gauss-Newton structure.
    Claim("G3a", "Tr H = Tr G exactly for ReLU nets (unsaturated alphas)",
          "trace_h_vs_g_max_rel_diff", "<=", 1e-8, "derived here",
          "H_term has a zero diagonal for piecewise-linear nets; round-off",
          kind="sanity"),
    Claim("G3b", "Inside the zone ||G||_2 >= ||H_term||_2 everywhere",
          "zone_gn_dominant_fraction", ">=", 1.0,
          "paper's condition for positive curvature",
          "'zone contained' in the G-dominant range", kind="paper"),
    Claim("G3c", "||G||_2 = ||H_term||_2 within 0.5 decades of zone edges",
          "gn_crossing_edge_max_distance", "<=", 0.5,
          "paper's condition for positive curvature", _EST, kind="paper"),
    # G4: the two failure ends.
    Claim("G4a", "alpha >= 100: softmax collapse, mean max p >= 0.99",
          "collapse_min_confidence", ">=", 0.99, _ENDS, _EST,
          kind="paper"),
    Claim("G4b", "alpha >= 100: ||diag p - pp^T||_F < 1e-3",
          "collapse_max_softmax_cov_norm", "<", 1e-3, _ENDS, _EST,
          kind="paper"),
    Claim("G4c", "alpha <= 0.1: ||G||_2 / ||H_term||_2 < 1e-2",
          "vanish_max_gn_ratio", "<", 1e-2, _ENDS, _EST, kind="paper"),
    Claim("G4d", "alpha <= 0.1: entropy ~ log K (>= 0.99 log K)",
          "vanish_min_normalized_entropy", ">=", 0.99, _ENDS,
          _EST, kind="paper"),
    # G5: curvature, confidence and loss.
    Claim("G5a", "Inside the zone curvature rises with entropy (Spearman)",
          "inits_spearman_curvature_entropy", ">=", 0.5,
          "paper Sec. 4",
          f"{_EST}; inits sampled inside the measured zone (README)",
          kind="paper"),
    Claim("G5b", "Inside the zone curvature falls with initial loss",
          "inits_spearman_curvature_loss", "<=", -0.3,
          "paper Sec. 4", _EST, kind="paper"),
    Claim("G5a-notes", "Over the planned T in [0.1, 10] curvature rises "
          "with entropy (Spearman)", "notes_range_spearman_curvature_entropy",
          ">=", 0.5, "paper Sec. 4; the protocol planned before the run",
          f"{_EST}; the planned temperature range, kept beside G5a so the "
          "narrowing of the range to the zone is visible", kind="paper"),
    Claim("G5b-notes", "Over the planned T in [0.1, 10] curvature falls "
          "with initial loss", "notes_range_spearman_curvature_loss", "<=",
          -0.3, "paper Sec. 4; the protocol planned before the run", _EST,
          kind="paper"),
    Claim("G5c", "Expected-G curvature ('Eq. 9') tracks G's across alpha",
          "eg_vs_g_curvature_spearman", ">=", 0.7,
          "official code, EG_curvature ('Eq. 9')", _EST, kind="paper"),
    # G6: vanishing cross-entropy gradient.
    Claim("G6a", "||grad L|| ~ ||Q - p_bar|| across random inits (r)",
          "prior_pearson_grad_mismatch", ">=", 0.8,
          "paper Sec. 4",
          f"{_EST} (a simulation before the run: 0.91)", kind="paper"),
    Claim("G6b", "p_bar = Q shrinks ||grad L|| >= 5x vs equal-entropy "
          "mismatch", "prior_offset_grad_ratio", ">=", 5.0,
          "paper Sec. 4 (output prior = label prior)", _EST, kind="paper"),
    # G7: training across alpha (digits; see README).
    Claim("G7a", "GD from alpha ~ 1-3 reaches >= 95% train accuracy",
          "train_zone_min_train_acc", ">=", 0.95,
          "paper Sec. 5", _EST, kind="paper"),
    Claim("G7b", "GD from alpha = 10^-2 is slow (>= 10 points behind)",
          "train_small_alpha_acc_gap", ">=", 0.1,
          "paper Sec. 5: zero logits at small alpha",
          "'slow' made measurable: final train accuracy gap", kind="paper"),
    Claim("G7c", "GD from alpha >= 100 is lazy: cos(theta, theta_0) >= 0.99",
          "train_large_alpha_min_cos_init", ">=", 0.99,
          "paper Sec. 5: lazy learning", _EST, kind="paper"),
    Claim("G7d", "Some alpha outside the zone is within 3 points of the best "
          "test accuracy", "train_offzone_test_gap", "<=", 0.03,
          "paper v2 abstract (exploratory)", _EST, kind="paper"),
]
