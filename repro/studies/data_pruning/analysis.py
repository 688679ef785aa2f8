"""Scalar metrics of the grid and of the toy analysis (claims C1-C7).

Accuracies are in percent; "average" is the mean class recall on the test
half (= accuracy on the class-balanced test halves of the mixture and
CIFAR), "worst-class" the minimum class recall; both are averaged over
the final-model seeds (3 seeds in the paper).
"""

from __future__ import annotations

import numpy as np

from repro.ops import drop_quotas

SCORE_BASED = ("el2n", "grand", "forgetting", "dynamic_uncertainty", "coreset")


def pearson(x, y) -> float:
  x = np.asarray(x, np.float64)
  y = np.asarray(y, np.float64)
  if np.std(x) == 0 or np.std(y) == 0:
    return 0.0
  return float(np.corrcoef(x, y)[0, 1])


def tag(density: float) -> str:
  return f"d{density:.1f}"


def grid_tables(config, results: dict) -> dict:
  """``{"avg"|"worst": {method: {density: (mean, min, max)}}}`` in %."""
  methods = tuple(config.pruning.methods)
  tables = {"avg": {}, "worst": {}}
  recall = 100.0 * results["test_recall"]  # [D, M, S, K]
  for m, method in enumerate(methods):
    for name, values in (
      ("avg", recall[:, m].mean(-1)),
      ("worst", recall[:, m].min(-1)),
    ):
      tables[name][method] = {
        float(d): (
          float(values[i].mean()),
          float(values[i].min()),
          float(values[i].max()),
        )
        for i, d in enumerate(config.pruning.densities)
      }
  full = 100.0 * results["full_test_recall"]
  for name, values in (("avg", full.mean(-1)), ("worst", full.min(-1))):
    tables[name]["full"] = (
      float(values.mean()),
      float(values.min()),
      float(values.max()),
    )
  return tables


def dataset_metrics(
  config, arrays: dict, scored: dict, results: dict, spc: dict
) -> dict[str, float]:
  """Per-dataset metrics with the names the claims read (no prefix)."""
  methods = tuple(config.pruning.methods)
  densities = tuple(float(d) for d in config.pruning.densities)
  tables = grid_tables(config, results)
  metrics = {}
  for name in ("avg", "worst"):
    for method in methods:
      for density in densities:
        metrics[f"{name}_acc/{method}/{tag(density)}"] = tables[name][method][
          density
        ][0]
    metrics[f"{name}_acc/full"] = tables[name]["full"][0]

  # Class densities chosen by each method vs full-data class accuracy.
  sizes = drop_quotas.class_counts(arrays["train_y"], arrays["num_classes"])
  full_class_acc = results["full_test_recall"].mean(0)
  for i, density in enumerate(densities):
    for m, method in enumerate(methods):
      chosen = results["kept_counts"][i, m].mean(0) / sizes
      metrics[f"class_density_corr/{method}/{tag(density)}"] = pearson(
        chosen, full_class_acc
      )
  metrics["du_min_spc_over_mean"] = float(
    spc["dynamic_uncertainty"].min() / spc["dynamic_uncertainty"].mean()
  )
  metrics["du_min_spc"] = float(spc["dynamic_uncertainty"].min())
  metrics["drop_recall_min"] = float(np.min(scored["val_recall"]))
  metrics["drop_recall_max"] = float(np.max(scored["val_recall"]))
  metrics["never_learned_fraction"] = scored["query"]["never_learned_fraction"]
  # The DRoP query model's best epoch (mean over the query models).
  metrics["query_best_epoch"] = float(np.mean(scored["query"]["best_epoch"]))

  def get(name, method, density):
    return metrics[f"{name}_acc/{method}/{tag(density)}"]

  low, mid, high = 0.3, 0.5, 0.8
  if {low, mid, high} <= set(densities):
    for method in ("el2n", "forgetting", "dynamic_uncertainty"):
      metrics[f"c1_corr_{method}_{tag(low)}"] = metrics[
        f"class_density_corr/{method}/{tag(low)}"
      ]
    for method in ("el2n", "dynamic_uncertainty"):
      metrics[f"c2_worst_random_minus_{method}_{tag(low)}"] = get(
        "worst", "random", low
      ) - get("worst", method, low)
    metrics[f"c2_avg_random_minus_el2n_{tag(low)}"] = get(
      "avg", "random", low
    ) - get("avg", "el2n", low)
    for density in (low, mid):
      metrics[f"c3_worst_drop_minus_random_{tag(density)}"] = get(
        "worst", "random_drop", density
      ) - get("worst", "random", density)
      metrics[f"c3_worst_drop_minus_best_score_{tag(density)}"] = get(
        "worst", "random_drop", density
      ) - max(get("worst", m, density) for m in SCORE_BASED)
      metrics[f"c4_avg_drop_minus_random_{tag(density)}"] = get(
        "avg", "random_drop", density
      ) - get("avg", "random", density)
    metrics["c5_worst_drop_low_minus_high"] = get(
      "worst", "random_drop", low
    ) - get("worst", "random_drop", high)
    metrics["c5_worst_drop_low_minus_full"] = (
      get("worst", "random_drop", low) - metrics["worst_acc/full"]
    )
    metrics[f"c6_worst_el2n_quota_minus_el2n_{tag(low)}"] = get(
      "worst", "random_el2n_quota", low
    ) - get("worst", "el2n", low)
    metrics[f"c6_worst_el2n_drop_minus_el2n_{tag(low)}"] = get(
      "worst", "el2n_drop", low
    ) - get("worst", "el2n", low)
  return metrics
