"""Turns the sweeps' arrays into the scalar metrics the claims read.

Pure numpy on the dicts returned by ``sweeps`` and ``training``; every
metric is named after the claim check it feeds (README, Sources).
"""

from __future__ import annotations

import numpy as np

from repro.studies.goldilocks import sweeps

# Metric value when a crossing or an off-zone alpha does not exist: a
# finite number that fails the claim (an infinite one would read as ERROR).
NOT_FOUND = 99.0


def pearson(x, y) -> float:
  """Pearson correlation coefficient."""
  return float(
    np.corrcoef(np.asarray(x, np.float64), np.asarray(y, np.float64))[0, 1]
  )


def spearman(x, y) -> float:
  """Spearman rank correlation (average ranks for ties).

  numpy only: importing scipy.stats costs seconds of the smoke budget.
  """
  return pearson(_ranks(x), _ranks(y))


def _ranks(values) -> np.ndarray:
  values = np.asarray(values, np.float64)
  order = np.argsort(values, kind="stable")
  ranks = np.empty(len(values))
  ranks[order] = np.arange(len(values), dtype=np.float64)
  # Average the ranks of tied values.
  unique, inverse = np.unique(values, return_inverse=True)
  sums = np.bincount(inverse, weights=ranks, minlength=len(unique))
  counts = np.bincount(inverse, minlength=len(unique))
  return (sums / counts)[inverse]


def _index_of(log_alphas: np.ndarray, log_alpha: float) -> int:
  return int(np.argmin(np.abs(np.asarray(log_alphas) - log_alpha)))


def gauss_newton_log_ratio(results) -> np.ndarray:
  """Seed mean of ``log10(||G||_2 / ||H_term||_2)`` per alpha.

  A saturated softmax makes ``G`` exactly 0 in float64; the ratio is then
  floored at 1e-300 (log -300) instead of -inf.
  """
  ratio = results["sweep/g_norm"] / np.maximum(
    results["sweep/h_term_norm"], 1e-300
  )
  return np.log10(np.maximum(ratio, 1e-300)).mean(0)


def curvature_metrics(config, results: dict) -> dict[str, float]:
  """Metrics of claims G1-G6 from ``sweeps.run_curvature_analysis``."""
  group = config.curvature
  curvature = results["sweep/curvature"].mean(0)
  zone = sweeps.zone_edges(
    results["log_alphas"], curvature, group.zone_fraction
  )
  log_ratio = gauss_newton_log_ratio(results)
  metrics = _peak_metrics(results, zone)
  metrics.update(_temperature_metrics(results))
  metrics.update(_exact_hessian_metrics(group, results))
  metrics.update(_gauss_newton_zone_metrics(group, results, zone, log_ratio))
  metrics.update(_failure_end_metrics(group, results, log_ratio))
  metrics.update(_inits_metrics(results))
  metrics.update(_prior_metrics(results))
  return metrics


def _peak_metrics(results: dict, zone) -> dict[str, float]:
  """G1: an interior peak of positive curvature, and the zone's edges."""
  peak, zone_lo, zone_hi = zone
  log_alphas = results["log_alphas"]
  curvature = results["sweep/curvature"].mean(0)
  frac_positive = results["sweep/frac_positive"].mean(0)
  entropy = results["sweep/normalized_entropy"].mean(0)
  peak_value = float(curvature[peak])
  return {
    "peak_log_alpha": float(log_alphas[peak]),
    "peak_curvature": peak_value,
    "curvature_ratio_min_alpha": float(curvature[0] / peak_value),
    "curvature_ratio_max_alpha": float(curvature[-1] / peak_value),
    "peak_frac_positive": float(frac_positive[peak]),
    "extreme_frac_positive_max": float(
      max(frac_positive[0], frac_positive[-1])
    ),
    "extreme_frac_positive_min": float(
      min(frac_positive[0], frac_positive[-1])
    ),
    "peak_normalized_entropy": float(entropy[peak]),
    "zone_log_alpha_lo": zone_lo,
    "zone_log_alpha_hi": zone_hi,
  }


def _temperature_metrics(results: dict) -> dict[str, float]:
  """G2: norm <-> temperature equivalence (seed 0, same basis)."""
  return {
    "temperature_curvature_max_abs_diff": float(
      np.max(
        np.abs(results["scale/curvature"] - results["temperature/curvature"])
      )
    ),
    "temperature_hessian_max_rel_diff": float(
      np.max(results["temperature/hessian_rel_diff"])
    ),
    "temperature_peak_curvature": float(
      np.max(results["temperature/curvature"])
    ),
  }


def _exact_hessian_metrics(group, results: dict) -> dict[str, float]:
  """G3: Tr H = Tr G (ReLU) and full-space curvature, exact Hessians."""
  metrics = {}
  if not results["full/log_alphas"].size:
    return metrics
  unsaturated = results["full/confidence"] < group.saturated_confidence
  relative = np.abs(results["full/trace_h"] - results["full/trace_g"]) / (
    np.abs(results["full/trace_g"])
  )
  if unsaturated.any():
    metrics["trace_h_vs_g_max_rel_diff"] = float(np.max(relative[unsaturated]))
  for index, log_alpha in enumerate(results["full/log_alphas"]):
    tag = f"{log_alpha:+.2f}"
    metrics[f"full_curvature_at_{tag}"] = float(
      results["full/curvature"][index]
    )
    metrics[f"full_frac_positive_tol_at_{tag}"] = float(
      results["full/frac_positive_tol"][index]
    )
  metrics["full_peak_curvature"] = float(np.max(results["full/curvature"]))
  return metrics


def _gauss_newton_zone_metrics(
  group, results: dict, zone, log_ratio
) -> dict[str, float]:
  """G3: the zone is where ||G||_2 >= ||H_term||_2 (the crossings)."""
  peak, zone_lo, zone_hi = zone
  log_alphas = results["log_alphas"]
  curvature = results["sweep/curvature"].mean(0)
  in_zone = curvature >= group.zone_fraction * float(curvature[peak])
  metrics = {
    "zone_gn_dominant_fraction": float(np.mean(log_ratio[in_zone] >= 0))
  }
  crossing_lo = sweeps.first_crossing(log_alphas, log_ratio, peak, -1)
  crossing_hi = sweeps.first_crossing(log_alphas, log_ratio, peak, +1)
  metrics["gn_crossing_lo"] = (
    NOT_FOUND if crossing_lo is None else (crossing_lo)
  )
  metrics["gn_crossing_hi"] = (
    NOT_FOUND if crossing_hi is None else (crossing_hi)
  )
  metrics["gn_crossing_edge_max_distance"] = float(
    max(
      abs(metrics["gn_crossing_lo"] - zone_lo),
      abs(metrics["gn_crossing_hi"] - zone_hi),
    )
  )
  return metrics


def _failure_end_metrics(group, results: dict, log_ratio) -> dict[str, float]:
  """G4: softmax collapse at large alpha, vanishing G at small alpha."""
  log_alphas = results["log_alphas"]
  entropy = results["sweep/normalized_entropy"].mean(0)
  collapse = log_alphas >= group.collapse_log_alpha - 1e-9
  vanish = log_alphas <= group.vanish_log_alpha + 1e-9
  return {
    "collapse_min_confidence": float(
      np.min(results["sweep/confidence"].mean(0)[collapse])
    ),
    "collapse_max_softmax_cov_norm": float(
      np.max(results["sweep/softmax_cov_norm"].mean(0)[collapse])
    ),
    "vanish_max_gn_ratio": float(np.max(10.0 ** log_ratio[vanish])),
    "vanish_min_normalized_entropy": float(np.min(entropy[vanish])),
  }


def _inits_metrics(results: dict) -> dict[str, float]:
  """G5: curvature vs confidence and loss across inits inside the zone;
  the expected-G curvature ("Eq. 9") against the measured G curvature."""
  return {
    "inits_spearman_curvature_entropy": spearman(
      results["inits/curvature"], results["inits/entropy"]
    ),
    "inits_spearman_curvature_loss": spearman(
      results["inits/curvature"], results["inits/loss"]
    ),
    "inits_spearman_curvature_grad_norm": spearman(
      results["inits/curvature"], results["inits/grad_norm"]
    ),
    # The planned fixed range T in [0.1, 10] (G5a/b-notes; README).
    "notes_range_spearman_curvature_entropy": spearman(
      results["notes_inits/curvature"], results["notes_inits/entropy"]
    ),
    "notes_range_spearman_curvature_loss": spearman(
      results["notes_inits/curvature"], results["notes_inits/loss"]
    ),
    "eg_vs_g_curvature_spearman": spearman(
      results["sweep/eg_curvature"].mean(0),
      results["sweep/g_curvature"].mean(0),
    ),
  }


def _prior_metrics(results: dict) -> dict[str, float]:
  """G6: vanishing cross-entropy gradient when p_bar matches the prior."""
  return {
    "prior_pearson_grad_mismatch": pearson(
      results["prior/grad_norm"], results["prior/prior_mismatch"]
    ),
    "prior_offset_grad_ratio": float(
      np.mean(results["prior/mismatched_grad_norm"])
      / np.mean(results["prior/matched_grad_norm"])
    ),
    "prior_matched_mismatch": float(
      np.mean(results["prior/matched_prior_mismatch"])
    ),
    "prior_mismatched_mismatch": float(
      np.mean(results["prior/mismatched_prior_mismatch"])
    ),
  }


def training_metrics(config, zone: dict, trained: dict) -> dict[str, float]:
  """Metrics of claim G7 (GD across alpha) and of the training net's zone."""
  group = config.training
  log_alphas = trained["log_alphas"]
  curvature = zone["curvature"].mean(0)
  peak_value = float(np.max(curvature))
  off_zone = curvature <= 0.2 * peak_value
  final_train = trained["train_acc"][:, -1]
  final_test = trained["test_acc"][:, -1]
  good = [_index_of(log_alphas, a) for a in group.good_alphas]
  large = log_alphas >= config.curvature.collapse_log_alpha - 1e-9
  best_test = float(np.max(final_test))
  metrics = {
    "train_peak_log_alpha": float(log_alphas[int(np.argmax(curvature))]),
    "train_peak_curvature": peak_value,
    "train_num_offzone_alphas": float(off_zone.sum()),
    "train_zone_min_train_acc": float(np.min(final_train[good])),
    "train_best_test_acc": best_test,
    "train_small_alpha_acc_gap": float(np.max(final_train) - final_train[0]),
    "train_small_alpha_zero_logit_frac": float(
      trained["zero_logit_frac"][0, -1]
    ),
    "train_large_alpha_min_cos_init": float(
      np.min(trained["cos_theta_init"][large, -1])
    )
    if large.any()
    else np.nan,
    "train_offzone_test_gap": float(best_test - np.max(final_test[off_zone]))
    if off_zone.any()
    else NOT_FOUND,
  }
  for index, log_alpha in enumerate(log_alphas):
    tag = f"{log_alpha:+.2f}"
    metrics[f"train_final_test_acc_at_{tag}"] = float(final_test[index])
    metrics[f"train_final_train_acc_at_{tag}"] = float(final_train[index])
  return metrics
