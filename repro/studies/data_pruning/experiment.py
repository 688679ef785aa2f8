"""``run(config, workdir)``: the data_pruning study end to end.

For every dataset of ``config.datasets``: load (val = half of the held-out
set), query models and scores (``scoring``), subsets of every method x
density and the retraining grid (``grid``), metrics (``analysis``),
figures. The first dataset's metrics also appear without prefix (the
claims read them), the second's under ``secondary/``; then the
mixture-of-Gaussians analysis (``theory``).
"""

from __future__ import annotations

import jax
import numpy as np
from absl import logging

from repro.core import rng
from repro.core.summary import Summary
from repro.studies.data_pruning import (
  analysis,
  data,
  figures,
  grid,
  scoring,
  theory,
  training,
)
from repro.studies.data_pruning.config import check_config


def _samples_per_class(config, arrays, scored, seed) -> dict:
  """Kept points per class of every method at ``spc_density`` (no training)."""
  key = rng.stream(seed, "spc")
  labels = arrays["train_y"]
  return {
    method: grid.class_densities(
      method,
      config.pruning.spc_density,
      scored,
      labels,
      arrays["num_classes"],
      config.data[arrays["name"]].error_floor,
      key,
    )
    * np.bincount(labels, minlength=arrays["num_classes"])
    for method in config.pruning.methods
  }


def _curves(name, config, results) -> list[dict]:
  rows = []
  methods = tuple(config.pruning.methods)
  for i, density in enumerate(config.pruning.densities):
    for m, method in enumerate(methods):
      for s in range(config.pruning.num_seeds):
        recall = results["test_recall"][i, m, s]
        rows.append(
          {
            "dataset": name,
            "density": float(density),
            "method": method,
            "seed": s,
            "epochs": int(results["epochs"][i]),
            "avg_acc": float(100 * recall.mean()),
            "worst_acc": float(100 * recall.min()),
            "class_recall": [float(r) for r in recall],
            "kept_per_class": [int(c) for c in results["kept_counts"][i, m, s]],
          }
        )
  for s, recall in enumerate(results["full_test_recall"]):
    rows.append(
      {
        "dataset": name,
        "density": 1.0,
        "method": "full",
        "seed": s,
        "avg_acc": float(100 * recall.mean()),
        "worst_acc": float(100 * recall.min()),
        "class_recall": [float(r) for r in recall],
      }
    )
  return rows


def run_dataset(config, name: str, checkpoints=None):
  group = config.data[name]
  arrays = data.load_dataset(
    name, group, rng.stream(config.seed, f"data/{name}"), config.data_dir
  )
  model = training.make_model(group, arrays["num_classes"])
  scored = scoring.compute_scores(
    model, group, config.scores, arrays, config.seed, checkpoints
  )
  results = grid.run_grid(
    model, group, config.pruning, arrays, scored, config.seed, checkpoints
  )
  spc = _samples_per_class(config, arrays, scored, config.seed)
  metrics = analysis.dataset_metrics(config, arrays, scored, results, spc)
  return arrays, scored, results, metrics


def _notes(config, per_dataset) -> str:
  lines = []
  for name, (arrays, scored, results, metrics) in per_dataset.items():
    recalls = ", ".join(f"{r:.2f}" for r in scored["val_recall"])
    epochs = dict(
      zip(config.pruning.densities, results["epochs"].tolist(), strict=True)
    )
    lines.append(
      f"**{name}**: {len(arrays['train_y'])} training points, "
      f"{len(arrays['val_y'])} validation / {len(arrays['test_y'])} test "
      f"(stratified halves of the held-out set); final-model epochs per "
      f"density {epochs}"
      f" (full data {config.data[name].epochs}). DRoP validation recalls "
      f"({scored['query']['drop_recall_source']}): {recalls}; error floor "
      f"{config.data[name].error_floor}. Full data: average "
      f"{metrics['avg_acc/full']:.1f}%, worst class "
      f"{metrics['worst_acc/full']:.1f}%."
    )
  return "\n\n".join(lines)


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Runs every dataset's pruning grid and the toy analysis."""
  check_config(config)
  metrics, curves, figure_list, per_dataset = {}, [], [], {}
  with jax.threefry_partitionable(False):
    for index, name in enumerate(config.datasets):
      logging.info("data_pruning: dataset %s", name)
      arrays, scored, results, dataset_metrics = run_dataset(
        config, name, checkpoints
      )
      per_dataset[name] = (arrays, scored, results, dataset_metrics)
      metrics.update({f"{name}/{k}": v for k, v in dataset_metrics.items()})
      if index == 0:
        metrics.update(dataset_metrics)
      elif index == 1:
        metrics.update(
          {f"secondary/{k}": v for k, v in dataset_metrics.items()}
        )
      curves.extend(_curves(name, config, results))
      figure_list.append(
        figures.accuracy_vs_density(workdir, name, config, results)
      )
      figure_list.append(
        figures.class_density_vs_accuracy(
          workdir, name, config, arrays, results
        )
      )
  theory_metrics, sweep = theory.run_theory(config.theory)
  metrics.update(theory_metrics)
  figure_list.append(figures.mog_priors(workdir, sweep, config.theory))
  return Summary(
    metrics=metrics,
    curves=curves,
    figures=figure_list,
    notes=_notes(config, per_dataset),
  )
