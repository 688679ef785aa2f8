"""run(config, workdir): the robust_erm study (arXiv 2406.04981).

Three parts, in this order:
  1. Linear robust ERM on a sparse teacher (claims A1-A6): GD, greedy CD,
     sign descent and a diagonal network trained on the closed-form linf
     robust loss, compared with the min-norm robust separators (scipy).
  2. Heatmap of the CD - GD benefit over teacher sparsity x data sparsity x
     eps (claim A7, Fig. 2 right).
  3. A one-hidden-layer ReLU net on two digit classes, adversarially
     trained by GD and by sign GD (claim A8, Fig. 3 left).
"""

from __future__ import annotations

import os
import time

import jax
from absl import logging

from repro.core.summary import Summary
from repro.studies.robust_erm import figures, measure, neural
from repro.studies.robust_erm.config import check_config


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Runs all three parts; writes figures into ``workdir``."""
  check_config(config)
  os.makedirs(workdir, exist_ok=True)
  metrics: dict[str, float] = {}
  curves: list[dict] = []
  timings = {}

  start = time.perf_counter()
  with jax.enable_x64(True):
    main = measure.run_linear(config, metrics, curves)
    timings["linear"] = time.perf_counter() - start
    start = time.perf_counter()
    heat = measure.run_heatmap(config, metrics)
    timings["heatmap"] = time.perf_counter() - start
  start = time.perf_counter()
  logging.info("robust_erm: neural network part")
  nets = neural.run(
    config.nn, config.seed, config.data_dir or None, checkpoints
  )
  measure.neural_metrics(config.nn, nets, metrics, curves)
  timings["nn"] = time.perf_counter() - start
  for part, seconds in timings.items():
    metrics[f"time/{part}_s"] = seconds

  plots = [
    figures.linear_accuracy_figure(config, main, workdir),
    figures.linear_gap_figure(config, main, workdir),
    figures.cosines_figure(main, workdir),
    figures.heatmap_figure(config, heat, workdir),
    figures.neural_figure(config.nn, nets, workdir),
  ]
  return Summary(
    metrics=metrics, curves=curves, figures=plots, notes=_notes(config, metrics)
  )


def _notes(config, metrics: dict) -> str:
  lin = config.linear
  return (
    f"Linear part in float64: d={lin.dim}, k_w={lin.teacher_nonzero}, "
    f"rho={lin.rho}, {lin.num_seeds} seeds, {lin.num_steps} steps per "
    "algorithm on log-sum-exp of the robust exp loss (normalised steps). "
    "CD uses the minimum-norm subgradient and stops at the l1 kink "
    "(plain subgradient CD cycles on one coordinate); GD, SD and the "
    "diagonal net use sign(w) (0 at 0) as the subgradient of ||w||_1. "
    "The diagonal net's step is divided by max(1, ||(u, v)||^2). "
    f"Networks: {config.nn.dataset} {tuple(config.nn.classes)}, the "
    "training sets are the first m points of a seeded permutation of "
    "train+test of the two classes and the rest is the test set. "
    f"Times (s): linear {metrics['time/linear_s']:.0f}, heatmap "
    f"{metrics['time/heatmap_s']:.0f}, networks "
    f"{metrics['time/nn_s']:.0f}."
  )
