"""Figures of the robust_erm study (matplotlib, Agg backend)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.summary import Figure  # noqa: E402
from repro.studies.robust_erm import linear  # noqa: E402

LABELS = {
  "gd": "GD",
  "cd": "CD (greedy)",
  "sd": "sign descent",
  "diag": "GD, diagonal net",
}
COLORS = {
  "gd": "tab:blue",
  "cd": "tab:red",
  "sd": "tab:green",
  "diag": "tab:purple",
}


def linear_accuracy_figure(config, main: dict, workdir: str) -> Figure:
  """Robust test accuracy vs eps/eps*, per training size (Figs. 1-2)."""
  sizes, fractions = main["sizes"], main["fractions"]
  fig, axes = plt.subplots(
    1, len(sizes), figsize=(3.2 * len(sizes), 3.2), sharey=True, squeeze=False
  )
  for i, (ax, size) in enumerate(zip(axes[0], sizes, strict=True)):
    for algorithm in linear.ALGORITHMS:
      ax.plot(
        fractions,
        main["mean_acc"][algorithm][i],
        "o-",
        color=COLORS[algorithm],
        label=LABELS[algorithm],
      )
    for name, style in (("ref_l1", "k--"), ("ref_l2", "k:")):
      ax.plot(
        fractions,
        main["mean_acc"][name][i],
        style,
        label={
          "ref_l1": "l1 max-margin (LP)",
          "ref_l2": "min-l2 robust sep. (QP)",
        }[name],
      )
    ax.set_title(f"m = {size}")
    ax.set_xlabel("eps / eps*")
  axes[0, 0].set_ylabel("robust test accuracy at training eps")
  axes[0, -1].legend(fontsize=7)
  cfg = config.linear
  fig.suptitle(
    f"Linear robust ERM, d={cfg.dim}, k_w={cfg.teacher_nonzero}, rho={cfg.rho}"
  )
  fig.tight_layout()
  filename = "linear_robust_accuracy.png"
  fig.savefig(os.path.join(workdir, filename), dpi=110)
  plt.close(fig)
  return Figure(
    filename,
    "Robust test accuracy (exact, linf at the training "
    "eps) vs eps/eps* per algorithm and training size, with the "
    "min-norm robust separators the theory predicts as limits.",
  )


def linear_gap_figure(config, main: dict, workdir: str) -> Figure:
  """Robust generalisation gap vs training size (Figs. 1, 2 left)."""
  del config
  sizes, fractions = main["sizes"], list(main["fractions"])
  shown = [f for f in (0.0, 0.5, 0.9) if f in fractions]
  fig, axes = plt.subplots(
    1, len(shown), figsize=(3.4 * len(shown), 3.2), sharey=True, squeeze=False
  )
  for ax, fraction in zip(axes[0], shown, strict=True):
    j = fractions.index(fraction)
    for algorithm in linear.ALGORITHMS:
      ax.plot(
        sizes,
        main["gaps"][algorithm][:, j],
        "o-",
        color=COLORS[algorithm],
        label=LABELS[algorithm],
      )
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.set_title(
      "ERM (eps = 0)" if fraction == 0 else f"robust ERM, eps = {fraction} eps*"
    )
    ax.set_xlabel("training size m")
  axes[0, 0].set_ylabel("(robust) train - test accuracy")
  axes[0, -1].legend(fontsize=7)
  fig.tight_layout()
  filename = "linear_gap_vs_m.png"
  fig.savefig(os.path.join(workdir, filename), dpi=110)
  plt.close(fig)
  return Figure(
    filename,
    "(Robust) generalisation gap vs training size, ERM "
    "and robust ERM (analogue of Figs. 1 and 2 left).",
  )


def cosines_figure(main: dict, workdir: str) -> Figure:
  """Cosine to the min-norm robust separators along training."""
  fig, ax = plt.subplots(figsize=(5, 3.4))
  labels = {
    "cd_l1ref": "CD vs l1 max-margin",
    "gd_l2ref": "GD vs min-l2 robust sep.",
    "gd_l1ref": "GD vs l1 max-margin",
    "diag_l1ref": "diag. net vs l1 max-margin",
    "sd_linfref": "SD vs min-linf robust sep.",
  }
  for name, values in main["cosines"].items():
    ax.plot(main["steps"], values, "o-", ms=3, label=labels[name])
  ax.set_xscale("log")
  ax.set_xlabel("step")
  ax.set_ylabel("cosine similarity (eps = 0.5 eps*)")
  ax.legend(fontsize=7)
  fig.tight_layout()
  filename = "linear_cosines.png"
  fig.savefig(os.path.join(workdir, filename), dpi=110)
  plt.close(fig)
  return Figure(
    filename,
    "Directional convergence: cosine between the "
    "iterate and the min-norm robust separator of the "
    "algorithm's geometry, eps = 0.5 eps*, mean over m, seeds.",
  )


def heatmap_figure(config, heat: dict, workdir: str) -> Figure:
  """CD - GD benefit by teacher and data sparsity and eps (Fig. 2 right)."""
  cfg = config.heatmap
  fractions = list(config.linear.eps_fractions)
  benefit = heat["benefit"]
  limit = max(np.abs(benefit).max(), 1e-3)
  fig, axes = plt.subplots(
    1,
    len(cfg.input_nonzero),
    figsize=(3.6 * len(cfg.input_nonzero) + 1.2, 3.4),
    squeeze=False,
    constrained_layout=True,
  )
  for b, (ax, kx) in enumerate(zip(axes[0], cfg.input_nonzero, strict=True)):
    image = ax.imshow(
      benefit[:, b, :],
      cmap="RdBu",
      vmin=-limit,
      vmax=limit,
      aspect="auto",
      origin="lower",
    )
    for a in range(benefit.shape[0]):
      for j in range(benefit.shape[2]):
        ax.text(
          j,
          a,
          f"{100 * benefit[a, b, j]:.0f}",
          ha="center",
          va="center",
          fontsize=7,
        )
    ax.set_xticks(range(len(fractions)), [f"{f:g}" for f in fractions])
    ax.set_yticks(
      range(len(cfg.teacher_nonzero)), [str(k) for k in cfg.teacher_nonzero]
    )
    ax.set_xlabel("eps / eps*")
    ax.set_title("dense x" if kx == 0 else f"k_x = {kx}")
  axes[0, 0].set_ylabel("teacher sparsity k_w")
  fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="gap_GD - gap_CD")
  filename = "heatmap_cd_benefit.png"
  fig.savefig(os.path.join(workdir, filename), dpi=110)
  plt.close(fig)
  return Figure(
    filename,
    "Benefit of CD over GD (robust gap of GD minus "
    "robust gap of CD, in points; mean over seeds and m) by "
    "teacher sparsity, data sparsity and eps (Fig. 2 right).",
  )


def neural_figure(cfg, nets: dict, workdir: str) -> Figure:
  """Robust test accuracy of GD vs sign GD networks (Fig. 3 left)."""
  replicas = nets["replicas"]
  fig, axes = plt.subplots(
    1,
    len(cfg.train_sizes),
    figsize=(3.4 * len(cfg.train_sizes), 3.2),
    sharey=True,
    squeeze=False,
  )
  for ax, size in zip(axes[0], cfg.train_sizes, strict=True):
    for algorithm, color in (("gd", "tab:blue"), ("sd", "tab:green")):
      robust = nets[algorithm]["robust"]
      means = [
        robust[
          (replicas.eps == np.float32(e)) & (replicas.train_sizes == size)
        ].mean()
        for e in cfg.eps
      ]
      ax.plot(
        cfg.eps,
        means,
        "o-",
        color=color,
        label={"gd": "GD", "sd": "sign GD"}[algorithm],
      )
    ax.set_title(f"m = {size}")
    ax.set_xlabel("training and test eps (linf)")
  axes[0, 0].set_ylabel("robust test accuracy (PGD)")
  axes[0, -1].legend(fontsize=8)
  fig.suptitle(
    f"{cfg.dataset} {cfg.classes[0]} vs {cfg.classes[1]}, "
    f"1-hidden-layer ReLU, width {cfg.width}"
  )
  fig.tight_layout()
  filename = "nn_robust_accuracy.png"
  fig.savefig(os.path.join(workdir, filename), dpi=110)
  plt.close(fig)
  return Figure(
    filename,
    "Robust test accuracy of adversarially trained "
    "networks, GD vs sign GD, at the training eps (Fig. 3 left).",
  )
