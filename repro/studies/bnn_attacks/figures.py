"""Figures: robust accuracy vs eps, detection and OOD ROC curves."""

from __future__ import annotations

import os

import matplotlib
import numpy as np

from repro.core.figures import save_figure
from repro.core.summary import Figure
from repro.ops.roc import roc_curve

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
  "det": "DET (MAP)",
  "hmc": "HMC",
  "mfvi": "MFVI (EOT)",
  "mcd": "MC dropout (EOT)",
  "ensemble": "deep ensemble",
}


def robust_accuracy(config, label: dict, workdir: str) -> Figure:
  eps = (0.0,) + tuple(label["eps"])
  fig, ax = plt.subplots(figsize=(5, 3.5))
  for name, curve in label["curves"].items():
    clean = label.get("clean", {}).get(name)
    values = ([clean] if clean is not None else [np.nan]) + list(curve)
    ax.plot(eps, values, marker="o", label=LABELS.get(name, name))
  ax.set_xlabel("eps (linf, pixels in [0, 1])")
  ax.set_ylabel("BMA accuracy under PGD")
  ax.set_ylim(-0.02, 1.02)
  ax.legend(fontsize=8)
  ax.set_title(f"label attack, {config.attack.num_steps}-step PGD")
  filename = "robust_accuracy.png"
  save_figure(fig, os.path.join(workdir, filename), dpi=120)
  return Figure(
    filename,
    "Accuracy of each posterior predictive (BMA) "
    "under PGD-linf on -log p_bar(y|x) vs eps (claim A2); "
    "eps = 0 is the clean accuracy on the whole test set.",
  )


def detection_roc(detection: dict, workdir: str) -> Figure:
  fig, axes = plt.subplots(
    1, len(detection), figsize=(4.5 * len(detection), 4), squeeze=False
  )
  for ax, (name, runs) in zip(axes[0], detection.items(), strict=True):
    clean = runs["clean"]["entropy"]
    for kind in [k for k in runs if k != "clean"]:
      attacked, success = runs[kind]
      if not success.any():
        continue
      fpr, tpr = roc_curve(clean, attacked["entropy"][success])
      ax.plot(fpr, tpr, label=kind)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_title(f"{LABELS[name]}: adversarial vs clean")
    ax.set_xlabel("false positive rate (clean)")
    ax.set_ylabel("true positive rate (adversarial)")
    ax.legend(fontsize=8)
  filename = "detection_roc.png"
  save_figure(fig, os.path.join(workdir, filename), dpi=120)
  return Figure(
    filename,
    "ROC of predictive entropy H[p_bar] detecting "
    "successful adversarial examples among clean ones: "
    "first-flip (non-adaptive) vs confidently-wrong (adaptive) "
    "PGD (claim A5).",
  )


def ood_roc(shift: dict, workdir: str) -> Figure:
  scores = shift["scores"]
  fig, ax = plt.subplots(figsize=(4.5, 4))
  for name, (negative, positive) in shift["pairs"].items():
    fpr, tpr = roc_curve(
      scores[negative]["entropy"], scores[positive]["entropy"]
    )
    ax.plot(fpr, tpr, label=name.replace("_", " "))
  ax.plot([0, 1], [0, 1], "k:", lw=0.8)
  ax.set_xlabel("false positive rate (in-distribution)")
  ax.set_ylabel("true positive rate (OOD)")
  ax.set_title("HMC: OOD detection by H[p_bar]")
  ax.legend(fontsize=8)
  filename = "ood_roc.png"
  save_figure(fig, os.path.join(workdir, filename), dpi=120)
  return Figure(
    filename,
    "ROC of predictive entropy separating held-out "
    "classes (OOD) from in-distribution digits, clean and under "
    "entropy attacks (claim A6).",
  )
