"""Figures: NC1 over epochs, per-layer ratios, the leap between vertices."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402

MODE_TITLES = {
  "standard": "standard training",
  "pgd_at": "PGD-AT",
  "trades": "TRADES",
  "trades_official": "TRADES (official BN eval-mode quirk)",
}
SERIES = (
  ("nc1", "clean"),
  ("pgd_nc1", "PGD (true labels)"),
  ("targeted_nc1", "targeted PGD (target labels)"),
  ("gaussian_nc1", "Gaussian noise"),
)


def nc1_over_epochs(trajectories: dict[str, list[dict]], workdir: str) -> str:
  """NC1 of the penultimate layer over epochs, one panel per mode."""
  filename = "nc1_over_epochs.png"
  fig, axes = plt.subplots(
    1,
    len(trajectories),
    figsize=(4.2 * len(trajectories), 3.4),
    sharey=True,
    squeeze=False,
  )
  for axis, (mode, rows) in zip(axes[0], trajectories.items(), strict=True):
    epochs = [row["epoch"] for row in rows]
    for key, label in SERIES:
      values = np.array([row[key] for row in rows])
      axis.plot(epochs, values, marker=".", label=label)
    axis.set_yscale("log")
    axis.set_title(MODE_TITLES.get(mode, mode))
    axis.set_xlabel("epoch")
    axis.grid(alpha=0.3)
  axes[0][0].set_ylabel("NC1 = Tr(Σ_W Σ_B⁺)/C")
  axes[0][0].legend(fontsize=7)
  save_figure(fig, os.path.join(workdir, filename))
  return filename


def layer_ratios(trajectories: dict[str, list[dict]], workdir: str) -> str:
  """r_l = NC1(PGD) / NC1(clean) per layer at the end of training."""
  filename = "layer_nc1_ratio.png"
  fig, axis = plt.subplots(figsize=(4.8, 3.4))
  for mode, rows in trajectories.items():
    last = rows[-1]
    layers = sorted(
      int(k[len("layer") : -len("_nc1_ratio")])
      for k in last
      if k.startswith("layer") and k.endswith("_nc1_ratio")
    )
    ratios = [last[f"layer{layer}_nc1_ratio"] for layer in layers]
    axis.plot(layers, ratios, marker="o", label=MODE_TITLES.get(mode, mode))
  axis.set_xticks(layers)
  axis.axhline(1.0, color="gray", lw=0.8, ls="--")
  axis.set_yscale("log")
  axis.set_xlabel("hidden layer (last = penultimate)")
  axis.set_ylabel("NC1(PGD) / NC1(clean)")
  axis.legend(fontsize=8)
  axis.grid(alpha=0.3)
  save_figure(fig, os.path.join(workdir, filename))
  return filename


def leap_plot(example: dict[str, np.ndarray], workdir: str) -> str:
  """Clean means and targeted features in the clean means' PCA plane."""
  filename = "leap_projection.png"
  clean, targeted = example["clean"], example["targeted"]
  labels = example["labels"]
  num_classes = int(labels.max()) + 1
  targets = (labels + 1) % num_classes
  means = np.stack(
    [clean[labels == c].mean(axis=0) for c in range(num_classes)]
  )
  centre = means.mean(axis=0)
  _, _, right = np.linalg.svd(means - centre, full_matrices=False)
  basis = right[:2].T

  def project(points):
    return (points - centre) @ basis

  colors = plt.get_cmap("tab10")(np.arange(num_classes))
  fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharex=True, sharey=True)
  for axis, points, groups, title in (
    (axes[0], clean, labels, "clean features (colour: label)"),
    (axes[1], targeted, targets, "targeted PGD, t = y + 1 (colour: target)"),
  ):
    projected = project(points)
    axis.scatter(
      projected[:, 0], projected[:, 1], s=4, alpha=0.35, c=colors[groups]
    )
    vertices = project(means)
    for c in range(num_classes):
      axis.annotate(
        str(c),
        vertices[c],
        fontsize=11,
        weight="bold",
        ha="center",
        va="center",
        color="black",
        bbox=dict(boxstyle="circle,pad=0.2", fc=colors[c], alpha=0.8),
      )
    axis.set_title(title, fontsize=9)
    axis.set_xlabel("PC 1 of clean class means")
  axes[0].set_ylabel("PC 2 of clean class means")
  save_figure(fig, os.path.join(workdir, filename))
  return filename
