"""``run(config, workdir)``: the goldilocks study end to end.

1. Curvature analysis (G1-G6): the bias-free 2-32-32-3 net on Circles
   (``sweeps.run_curvature_analysis``), float64.
2. Training (G7): the curvature zone of the training net
   (``sweeps.training_zone``) and full-batch GD across alpha
   (``training.run_training``) on digits, float32.
3. Metrics (``analysis``), figures, curves for metrics.jsonl.
"""

from __future__ import annotations

import numpy as np
from absl import logging

from repro.core import rng
from repro.core.summary import Summary
from repro.studies.goldilocks import analysis, figures, sweeps, training
from repro.studies.goldilocks.config import check_config
from repro.studies.goldilocks.problems import load_problem


def _sweep_curves(results) -> list[dict]:
  """One row per alpha of the seed-mean curvature sweep."""
  rows = []
  names = [k.split("/", 1)[1] for k in results if k.startswith("sweep/")]
  for index, log_alpha in enumerate(results["log_alphas"]):
    row = {"phase": "curvature_sweep", "log10_alpha": float(log_alpha)}
    for name in names:
      row[f"sweep/{name}"] = float(np.mean(results[f"sweep/{name}"][:, index]))
    row["temperature/curvature"] = float(
      results["temperature/curvature"][index]
    )
    rows.append(row)
  return rows


def _training_curves(zone, trained) -> list[dict]:
  """One row per (alpha, logged step) of the GD sweep; the net's zone."""
  names = (
    "train_loss",
    "train_acc",
    "test_acc",
    "grad_norm",
    "param_norm",
    "cos_theta_grad",
    "cos_theta_init",
    "zero_logit_frac",
  )
  rows = []
  for a, log_alpha in enumerate(trained["log_alphas"]):
    for p, step in enumerate(trained["steps"]):
      row = {
        "phase": "training",
        "step": int(step),
        "log10_alpha": float(log_alpha),
      }
      row.update({f"train/{n}": float(trained[n][a, p]) for n in names})
      rows.append(row)
    rows.append(
      {
        "phase": "sharpness",
        "log10_alpha": float(log_alpha),
        "sharpness_init": float(trained["sharpness_init"][a]),
        "sharpness_final": float(trained["sharpness_final"][a]),
      }
    )
    rows.append(
      {
        "phase": "training_zone",
        "log10_alpha": float(log_alpha),
        "curvature": float(zone["curvature"][:, a].mean()),
        "normalized_entropy": float(zone["normalized_entropy"][:, a].mean()),
      }
    )
  return rows


def _notes(config, metrics, curvature_problem, training_problem) -> str:
  group = config.curvature
  return "\n".join(
    [
      f"Curvature analysis: bias-free ReLU MLP {curvature_problem.name} "
      f"(D = {curvature_problem.num_params}, L = "
      f"{curvature_problem.num_layers}) on {group.dataset} "
      f"({len(curvature_problem.train_labels)} training points), float64, "
      f"exact Hessians of the full-batch loss in {group.num_seeds} random "
      f"orthonormal {group.subspace_dim}-d subspaces (QR of a Gaussian; "
      "the official code uses sparse, only roughly orthonormal columns); "
      "full-space spectral norms by Lanczos.",
      "",
      f"Measured zone (curvature >= {group.zone_fraction} x peak): log10 "
      f"alpha in [{metrics['zone_log_alpha_lo']:.2f}, "
      f"{metrics['zone_log_alpha_hi']:.2f}], peak "
      f"{metrics['peak_curvature']:.3f} at log10 alpha = "
      f"{metrics['peak_log_alpha']:.2f}. G5's random inits draw their "
      "temperature so that the equivalent alpha is log-uniform inside this "
      "zone (the planned T in [0.1, 10] straddles its lower edge; README).",
      "",
      f"Training (G7) on {config.training.dataset} with "
      f"{training_problem.name} (D = {training_problem.num_params}): a "
      "bias-free ReLU net is positively homogeneous in its input, so its "
      "prediction is constant along rays from the origin and it cannot "
      "fit the concentric Circles (at most the majority class, 42%).",
    ]
  )


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Runs the curvature analysis and the training sweep; see module doc."""
  check_config(config)
  curvature_problem = load_problem(
    config.curvature, config.seed, config.data_dir
  )
  results = sweeps.run_curvature_analysis(
    config, curvature_problem, checkpoints
  )
  metrics = analysis.curvature_metrics(config, results)

  training_problem = load_problem(config.training, config.seed, config.data_dir)
  zone = sweeps.training_zone(
    config, training_problem, config.seed, checkpoints
  )
  trained = training.run_training(
    config,
    training_problem,
    zone["trained_theta"],
    rng.stream(config.seed, "train"),
    checkpoints,
  )
  metrics.update(analysis.training_metrics(config, zone, trained))
  logging.info("goldilocks: writing figures")
  figure_list = [
    figures.curvature_vs_alpha(workdir, results, metrics),
    figures.gauss_newton_vs_alpha(workdir, results, metrics),
    figures.curvature_vs_entropy(workdir, results, metrics),
    figures.gradient_vs_mismatch(workdir, results, metrics),
    figures.accuracy_vs_alpha(workdir, zone, trained, metrics),
  ]
  curves = _sweep_curves(results) + _training_curves(zone, trained)
  return Summary(
    metrics=metrics,
    curves=curves,
    figures=figure_list,
    notes=_notes(config, metrics, curvature_problem, training_problem),
  )
