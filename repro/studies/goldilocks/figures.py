"""The goldilocks study's figures (matplotlib Agg, written into workdir)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402
from repro.core.summary import Figure  # noqa: E402


def _shade_zone(axis, metrics):
  axis.axvspan(
    metrics["zone_log_alpha_lo"],
    metrics["zone_log_alpha_hi"],
    color="gold",
    alpha=0.2,
    label="zone (>= 0.5 x peak)",
  )


def curvature_vs_alpha(workdir, results, metrics) -> Figure:
  """Curvature (seeds, temperature sweep, full space) and entropy vs alpha."""
  log_alphas = results["log_alphas"]
  curvature = results["sweep/curvature"]
  fig, axis = plt.subplots(figsize=(7, 4.5))
  _shade_zone(axis, metrics)
  axis.plot(
    log_alphas,
    curvature.mean(0),
    "o-",
    color="C0",
    label="Tr/||.||_F, 50-d subspace (seed mean)",
  )
  axis.fill_between(
    log_alphas, curvature.min(0), curvature.max(0), color="C0", alpha=0.2
  )
  axis.plot(
    log_alphas,
    results["temperature/curvature"],
    "x",
    color="C3",
    label="alpha = 1, T = alpha^-L (seed 0)",
  )
  if results["full/log_alphas"].size:
    axis.plot(
      results["full/log_alphas"],
      results["full/curvature"],
      "s",
      color="C2",
      label="full Hessian (seed 0)",
    )
  axis.axhline(0, color="k", lw=0.5)
  axis.set_xlabel("log10 alpha (initialisation scale)")
  axis.set_ylabel("positive curvature Tr(H)/||H||_F")
  twin = axis.twinx()
  twin.plot(
    log_alphas,
    results["sweep/normalized_entropy"].mean(0),
    "--",
    color="C1",
    label="entropy / log K",
  )
  twin.set_ylabel("softmax entropy / log K", color="C1")
  twin.set_ylim(0, 1.05)
  handles = axis.get_legend_handles_labels()
  twin_handles = twin.get_legend_handles_labels()
  axis.legend(
    handles[0] + twin_handles[0],
    handles[1] + twin_handles[1],
    fontsize=7,
    loc="upper left",
  )
  save_figure(fig, os.path.join(workdir, "curvature_vs_alpha.png"), dpi=120)
  return Figure(
    "curvature_vs_alpha.png",
    "Positive curvature of the loss Hessian at initialisation vs "
    "scale alpha (Circles, bias-free 2-32-32-3), with the "
    "equivalent temperature sweep and mean softmax entropy.",
  )


def gauss_newton_vs_alpha(workdir, results, metrics) -> Figure:
  """``||G||_2`` and ``||H_term||_2`` (full space, Lanczos) vs alpha."""
  log_alphas = results["log_alphas"]
  fig, axis = plt.subplots(figsize=(7, 4.5))
  _shade_zone(axis, metrics)
  for name, label, color in (
    ("g_norm", "||G||_2", "C0"),
    ("h_term_norm", "||H_term||_2", "C3"),
  ):
    values = np.median(results[f"sweep/{name}"], axis=0)
    shown = values > 0  # G is exactly 0 once saturated
    axis.plot(
      log_alphas[shown],
      values[shown],
      "o-",
      color=color,
      label=f"{label} (seed median)",
    )
  axis.set_yscale("log")
  axis.set_xlabel("log10 alpha")
  axis.set_ylabel("spectral norm (full parameter space)")
  axis.legend(fontsize=8)
  save_figure(fig, os.path.join(workdir, "gauss_newton_vs_alpha.png"), dpi=120)
  return Figure(
    "gauss_newton_vs_alpha.png",
    "Gauss-Newton term vs residual term of the Hessian: G "
    "dominates exactly where positive curvature appears.",
  )


def gradient_vs_mismatch(workdir, results, metrics) -> Figure:
  """``||grad L||`` vs ``||Q - p_bar||`` over random inits (G6)."""
  fig, axis = plt.subplots(figsize=(6, 4.5))
  axis.scatter(
    results["prior/prior_mismatch"],
    results["prior/grad_norm"],
    s=8,
    label=f"alpha = 1 inits (r = {metrics['prior_pearson_grad_mismatch']:.2f})",
  )
  axis.scatter(
    results["prior/matched_prior_mismatch"],
    results["prior/matched_grad_norm"],
    s=8,
    marker="^",
    label="output offset log Q (p_bar ~ Q)",
  )
  axis.scatter(
    results["prior/mismatched_prior_mismatch"],
    results["prior/mismatched_grad_norm"],
    s=8,
    marker="v",
    label="offset log(permuted Q), same entropy",
  )
  axis.set_xlabel("||Q - p_bar|| (label prior vs mean softmax)")
  axis.set_ylabel("||grad L||")
  axis.legend(fontsize=7)
  save_figure(fig, os.path.join(workdir, "gradient_vs_mismatch.png"), dpi=120)
  return Figure(
    "gradient_vs_mismatch.png",
    "Cross-entropy gradient norm at initialisation against the "
    "mismatch between label prior and mean softmax output.",
  )


def curvature_vs_entropy(workdir, results, metrics) -> Figure:
  """Random inits inside the zone: curvature vs entropy and loss (G5)."""
  fig, axes = plt.subplots(1, 2, figsize=(9, 4))
  for axis, name, label in (
    (axes[0], "entropy", "softmax entropy"),
    (axes[1], "loss", "initial loss"),
  ):
    axis.scatter(
      results[f"inits/{name}"],
      results["inits/curvature"],
      s=8,
      c=results["inits/log_alpha_eq"],
      cmap="viridis",
    )
    axis.set_xlabel(label)
    axis.set_ylabel("positive curvature (50-d)")
  axes[1].set_xscale("log")
  fig.suptitle(
    "Random inits inside the zone (colour: log10 alpha = -log10 T / L)",
    fontsize=9,
  )
  save_figure(fig, os.path.join(workdir, "curvature_vs_entropy.png"), dpi=120)
  return Figure(
    "curvature_vs_entropy.png",
    "Inside the zone, positive curvature goes with high softmax "
    "entropy and low initial loss.",
  )


def accuracy_vs_alpha(workdir, zone, trained, metrics) -> Figure:
  """Final train/test accuracy of GD vs alpha, and the net's curvature."""
  log_alphas = trained["log_alphas"]
  fig, axis = plt.subplots(figsize=(7, 4.5))
  axis.plot(log_alphas, trained["train_acc"][:, -1], "o-", label="train acc")
  axis.plot(log_alphas, trained["test_acc"][:, -1], "s-", label="test acc")
  axis.set_xlabel("log10 alpha")
  axis.set_ylabel("accuracy after GD")
  axis.set_ylim(0, 1.02)
  twin = axis.twinx()
  twin.plot(
    log_alphas,
    zone["curvature"].mean(0),
    "--",
    color="C2",
    label="curvature at init",
  )
  twin.set_ylabel("positive curvature at init", color="C2")
  handles = axis.get_legend_handles_labels()
  twin_handles = twin.get_legend_handles_labels()
  axis.legend(
    handles[0] + twin_handles[0],
    handles[1] + twin_handles[1],
    fontsize=8,
    loc="lower center",
  )
  save_figure(fig, os.path.join(workdir, "accuracy_vs_alpha.png"), dpi=120)
  return Figure(
    "accuracy_vs_alpha.png",
    "Full-batch GD (lr = 0.1/alpha^(L-2)) from scaled "
    "initialisations: final accuracy vs alpha, with the "
    "network's positive curvature at initialisation.",
  )
