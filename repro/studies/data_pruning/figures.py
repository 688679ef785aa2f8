"""Figures: accuracy vs density, class densities vs class accuracy, toy."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402
from repro.core.summary import Figure  # noqa: E402
from repro.ops import drop_quotas  # noqa: E402
from repro.studies.data_pruning import analysis  # noqa: E402


def accuracy_vs_density(workdir, name, config, results) -> Figure:
  """Average and worst-class test accuracy per method (min/max bands)."""
  tables = analysis.grid_tables(config, results)
  densities = [float(d) for d in config.pruning.densities]
  fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
  for axis, kind, label in zip(
    axes,
    ("avg", "worst"),
    ("average accuracy (%)", "worst-class accuracy (%)"),
    strict=True,
  ):
    for method in config.pruning.methods:
      values = np.array([tables[kind][method][d] for d in densities])
      style = "-" if "drop" in method or method == "random" else "--"
      (line,) = axis.plot(
        densities,
        values[:, 0],
        style,
        marker="o",
        label=method,
        lw=2.2 if method == "random_drop" else 1.2,
      )
      axis.fill_between(
        densities,
        values[:, 1],
        values[:, 2],
        color=line.get_color(),
        alpha=0.12,
      )
    axis.axhline(tables[kind]["full"][0], color="k", ls=":", label="full data")
    axis.set_xlabel("dataset density d")
    axis.set_ylabel(label)
  axes[1].legend(fontsize=7, ncol=2)
  fig.suptitle(
    f"{name}: pruning methods vs density "
    f"({config.pruning.num_seeds} seeds, min/max bands)"
  )
  filename = f"{name}_accuracy_vs_density.png"
  save_figure(fig, os.path.join(workdir, filename))
  return Figure(
    filename,
    f"{name}: average (left) and worst-class (right) "
    "test accuracy of the model retrained on each method's "
    "subset, vs dataset density; dotted: full data.",
  )


def class_density_vs_accuracy(workdir, name, config, arrays, results) -> Figure:
  """Class densities chosen at the lowest density vs full-data accuracy."""
  sizes = drop_quotas.class_counts(arrays["train_y"], arrays["num_classes"])
  full_acc = 100.0 * results["full_test_recall"].mean(0)
  index = int(np.argmin(config.pruning.densities))
  density = float(config.pruning.densities[index])
  fig, axis = plt.subplots(figsize=(6.5, 4.5))
  for m, method in enumerate(config.pruning.methods):
    chosen = results["kept_counts"][index, m].mean(0) / sizes
    axis.plot(full_acc, chosen, marker="o", ls="", label=method, ms=4)
  axis.axhline(density, color="k", ls=":", lw=1)
  axis.set_xlabel("full-data class accuracy (%)")
  axis.set_ylabel(f"class density kept at d = {density}")
  axis.legend(fontsize=7)
  axis.set_title(f"{name}: class ratios chosen by each method")
  filename = f"{name}_class_density_vs_accuracy.png"
  save_figure(fig, os.path.join(workdir, filename))
  return Figure(
    filename,
    f"{name}: fraction of every class kept at d = "
    f"{density} against the class's full-data test accuracy "
    "(claim C1: hard classes get fewer points from score-based "
    "methods, more from DRoP).",
  )


def mog_priors(workdir, sweep, theory_config) -> Figure:
  """Worst-class risk of the ERM threshold vs the hard-class prior."""
  fig, axis = plt.subplots(figsize=(6.5, 4.2))
  axis.plot(sweep["priors"], sweep["worst"], label="worst-class risk")
  axis.plot(sweep["priors"], sweep["average"], label="balanced average risk")
  for phi, label, color in (
    (0.5, "balanced", "k"),
    (sweep["phi_drop"], "DRoP", "C3"),
    (sweep["phi_opt"], "worst-class optimal", "C2"),
  ):
    axis.axvline(phi, color=color, ls=":", label=f"{label} ({phi:.3f})")
  axis.set_xlabel("training prior of the hard class phi_1")
  axis.set_ylabel("risk of the ERM threshold")
  axis.set_title(f"N(0,1) vs N({theory_config.mu}, {theory_config.sigma}^2)")
  axis.legend(fontsize=8)
  filename = "mog_priors.png"
  save_figure(fig, os.path.join(workdir, filename))
  return Figure(
    filename,
    "Mixture of two Gaussians: worst-class and "
    "average risk of the average-risk-minimising threshold as "
    "the hard class's prior grows (C7).",
  )
