"""Figures: per-group test accuracy per method; test WGA vs lambda and s."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402
from repro.core.summary import Figure  # noqa: E402

METHODS = (
  ("erm", "ERM"),
  ("erm_ll", "ERM-LL (fit)"),
  ("dfr", "DFR"),
  ("lambda0", "GAP lambda=0"),
  ("gap_ll_s0", "GAP-LL s=0"),
  ("gap_ll", "GAP-LL"),
  ("gap_all", "GAP all layers"),
)


def group_bars(path, results, group_names, title):
  """Grouped bars: one cluster per method, one bar per group."""
  fig, ax = plt.subplots(figsize=(9, 3.8))
  width = 0.8 / len(group_names)
  for g, group in enumerate(group_names):
    means = [np.mean(results[m]["group_acc"][:, g]) for m, _ in METHODS]
    ax.bar(
      np.arange(len(METHODS)) + (g - 1.5) * width, means, width, label=group
    )
  wga = [np.mean(results[m]["wga"]) for m, _ in METHODS]
  ax.scatter(
    np.arange(len(METHODS)),
    wga,
    color="black",
    marker="_",
    s=400,
    zorder=3,
    label="worst group (mean)",
  )
  ax.set_xticks(
    np.arange(len(METHODS)), [label for _, label in METHODS], fontsize=8
  )
  ax.set_ylabel("test accuracy")
  ax.set_ylim(0, 1.02)
  ax.set_title(title)
  ax.legend(fontsize=7, ncol=5, loc="lower right")
  save_figure(fig, path)


def sweep_plot(path, sweep, config, title):
  """Test WGA (seed mean) vs lambda per s, and vs s per lambda.

  Solid lines: rho = 0; dashed: the largest rho of the grid (SAM).
  """
  rows = sweep["rows"]
  wga = np.asarray(sweep["test_wga"]).mean(0)
  values = np.array([r[1] for r in rows])
  kinds = np.array([r[0] for r in rows])
  scales = sorted(set(config.gap.scales))
  group_scales = sorted(
    set(config.gap.group_scales) | {config.gap.ablation_group_scale}
  )
  rhos = sorted(set(config.gap.rhos))
  styles = {rho: "-" if i == 0 else "--" for i, rho in enumerate(rhos)}
  lambda0 = float(wga[kinds == "lambda0"][0])

  def at(lam, rho, s):
    return float(
      wga[
        (kinds == "gap")
        & (values[:, 0] == lam)
        & (values[:, 1] == rho)
        & (values[:, 2] == s)
      ][0]
    )

  fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
  for rho in rhos:
    for i, s in enumerate(group_scales):
      left.plot(
        [0.0] + scales,
        [lambda0] + [at(lam, rho, s) for lam in scales],
        marker="o",
        linestyle=styles[rho],
        color=f"C{i}",
        label=f"s={s:g}, rho={rho:g}",
      )
    for i, lam in enumerate(scales):
      right.plot(
        group_scales,
        [at(lam, rho, s) for s in group_scales],
        marker="o",
        linestyle=styles[rho],
        color=f"C{i}",
        label=f"lambda={lam:g}, rho={rho:g}",
      )
  left.set_xscale("symlog", linthresh=1.0)
  left.set_xlabel("lambda (0 = Gaussian prior only)")
  left.set_ylabel("test worst-group accuracy")
  left.set_title(f"{title}: vs lambda", fontsize=9)
  left.legend(fontsize=6)
  right.set_xlabel("context group exponent s")
  right.set_title(f"{title}: vs s", fontsize=9)
  right.legend(fontsize=6, ncol=2)
  save_figure(fig, path)


def write_all(workdir, name, results, sweep, config, group_names):
  """Writes the dataset's two figures; returns their ``Figure`` records."""
  bars = f"{name}_group_accuracy.png"
  group_bars(
    os.path.join(workdir, bars),
    results,
    group_names,
    f"{name}: per-group test accuracy (mean over seeds)",
  )
  sweeps = f"{name}_wga_vs_lambda_s.png"
  sweep_plot(os.path.join(workdir, sweeps), sweep, config, name)
  return [
    Figure(
      bars,
      f"{name}: test accuracy of each group per method "
      "(bars) and worst-group accuracy (black), seed means.",
    ),
    Figure(
      sweeps,
      f"{name}: test worst-group accuracy of last-layer "
      "GAP vs lambda for each s, and vs s for each lambda "
      "(solid rho = 0, dashed rho > 0); grid points, not "
      "selected models.",
    ),
  ]
