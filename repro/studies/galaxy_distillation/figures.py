"""Figures: distilled image grid, matching-loss curves, accuracy table."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=g-import-not-at-top
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402
from repro.data import galaxies  # noqa: E402


def _display(images, mean, std):
  """Back to pixel space, clipped to [0, 1] for display."""
  return np.clip(np.asarray(images) * std + mean, 0.0, 1.0)


def image_grid(
  rows: dict[str, np.ndarray],
  ipc_of: dict[str, int],
  mean,
  std,
  workdir: str,
  filename: str = "distilled_images.png",
):
  """One row per set (up to 3 images per class shown), one column block
  per class."""
  num_classes = galaxies.NUM_CLASSES
  shown = {name: min(ipc_of[name], 3) for name in rows}
  num_cols = num_classes * max(shown.values())
  fig, axes = plt.subplots(
    sum(1 for _ in rows),
    num_cols,
    figsize=(0.9 * num_cols, 1.1 * len(rows) + 0.4),
    squeeze=False,
  )
  for r, (name, images) in enumerate(rows.items()):
    images = _display(images, mean, std)
    ipc = ipc_of[name]
    for c in range(num_classes):
      for j in range(max(shown.values())):
        ax = axes[r, c * max(shown.values()) + j]
        ax.axis("off")
        if j < shown[name]:
          ax.imshow(images[c * ipc + j], interpolation="nearest")
        if r == 0 and j == 0:
          ax.set_title(galaxies.CLASS_NAMES[c].replace("_", "\n"), fontsize=6)
    axes[r, 0].text(
      -0.3,
      0.5,
      name,
      transform=axes[r, 0].transAxes,
      ha="right",
      va="center",
      fontsize=7,
    )
  save_figure(fig, os.path.join(workdir, filename))
  return filename


def loss_curves(
  curves: dict[str, np.ndarray],
  workdir: str,
  filename: str = "matching_loss.png",
  window: int = 10,
):
  """Normalised matching loss per iteration (running mean)."""
  fig, ax = plt.subplots(figsize=(6, 3.8))
  for name, values in curves.items():
    values = np.asarray(values)
    w = max(1, min(window, len(values) // 5))
    smooth = np.convolve(values, np.ones(w) / w, mode="valid")
    ax.plot(np.arange(len(smooth)) + w - 1, smooth, label=name)
  ax.axhline(1.0, color="grey", lw=0.8, ls=":")
  ax.set_xlabel("distillation iteration")
  ax.set_ylabel("normalised matching loss")
  ax.legend(fontsize=7)
  save_figure(fig, os.path.join(workdir, filename))
  return filename


def accuracy_table(
  table: dict[int, dict[str, tuple[float, float]]],
  workdir: str,
  filename: str = "accuracy_table.png",
):
  """Mean +- std test accuracy (%) per images-per-class and method."""
  methods = sorted({m for row in table.values() for m in row})
  cells = [
    [
      f"{100 * table[ipc][m][0]:.1f} ± {100 * table[ipc][m][1]:.1f}"
      if m in table[ipc]
      else "–"
      for m in methods
    ]
    for ipc in sorted(table)
  ]
  fig, ax = plt.subplots(
    figsize=(1.3 * len(methods) + 1, 0.5 * len(table) + 0.8)
  )
  ax.axis("off")
  tab = ax.table(
    cellText=cells,
    colLabels=methods,
    rowLabels=[f"ipc {ipc}" for ipc in sorted(table)],
    loc="center",
  )
  tab.auto_set_font_size(False)
  tab.set_fontsize(7)
  tab.scale(1.0, 1.4)
  ax.set_title("test accuracy (%), mean ± std over eval nets", fontsize=8)
  save_figure(fig, os.path.join(workdir, filename), dpi=120)
  return filename
