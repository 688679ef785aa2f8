"""The study's figures: simulation as dots, theory as lines."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402
from repro.core.summary import Figure  # noqa: E402
from repro.studies.collapse_regression import analysis  # noqa: E402

TITLES = {"isotropic": "Σ = I", "power_law": "power-law Σ"}


def _save(fig, workdir: str, filename: str) -> str:
  save_figure(fig, os.path.join(workdir, filename))
  return filename


def error_vs_generations(workdir: str, gaussian: dict) -> Figure:
  """Test error against n at a few lam: linear growth (claims A1-A3)."""
  fig, axes = plt.subplots(1, len(gaussian), figsize=(5.2 * len(gaussian), 4.0))
  for ax, (kind, part) in zip(
    np.atleast_1d(axes), gaussian.items(), strict=True
  ):
    lambdas, n = part["lambdas"], part["generations"]
    clean_best = 1 + int(np.argmin(part["mean"][0, 1:]))
    for index, color in (
      (0, "C0"),
      (clean_best, "C1"),
      (len(lambdas) - 3, "C2"),
    ):
      ax.errorbar(
        n,
        part["mean"][:, index],
        part["standard_error"][:, index],
        fmt="o",
        color=color,
        ms=4,
        label=f"λ={lambdas[index]:.3g} (simulation)",
      )
      ax.plot(n, part["predicted"][:, index], "-", color=color, lw=1)
    ax.set(
      xlabel="generations n",
      ylabel="test error ‖ŵ − w0‖²_Σ",
      title=f"{TITLES[kind]}: error grows linearly in n",
    )
    ax.legend(fontsize=7)
  filename = _save(fig, workdir, "error_vs_generations.png")
  return Figure(
    filename,
    "Test error of the downstream model against the "
    "number of synthetic generations n (dots: simulation ± s.e.; "
    "lines: OLS exact formula / ridge deterministic equivalent).",
  )


def error_vs_lambda(workdir: str, gaussian: dict, generations) -> Figure:
  """U-shaped error against lam for several n (paper Fig. 1(a))."""
  fig, axes = plt.subplots(1, len(gaussian), figsize=(5.2 * len(gaussian), 4.0))
  for ax, (kind, part) in zip(
    np.atleast_1d(axes), gaussian.items(), strict=True
  ):
    grid = part["lambdas"][1:]
    for color, n in enumerate(generations):
      ax.errorbar(
        grid,
        part["mean"][n, 1:],
        part["standard_error"][n, 1:],
        fmt="o",
        color=f"C{color}",
        ms=4,
        label=f"n={n}",
      )
      ax.plot(
        part["fine_lambdas"],
        part["fine_predicted"][n],
        "-",
        color=f"C{color}",
        lw=1,
      )
      best = analysis.best_lambda(
        part["fine_lambdas"], part["fine_predicted"][n]
      )
      ax.axvline(best, color=f"C{color}", ls=":", lw=0.8)
    ax.set(
      xscale="log",
      yscale="log",
      xlabel="ridge λ",
      ylabel="test error",
      title=f"{TITLES[kind]}: the best λ moves up with n",
    )
    ax.legend(fontsize=7)
  filename = _save(fig, workdir, "error_vs_lambda.png")
  return Figure(
    filename,
    "Test error against the ridge parameter for "
    "several n (dots: simulation; lines: theory; dotted: "
    "theory's best λ), cf. the paper's Fig. 1(a).",
  )


def scaling_law(workdir: str, scaling: dict) -> Figure:
  """Error against T on log-log axes (paper Fig. 1(b); claims A6, A7)."""
  sizes, generations = scaling["sizes"], scaling["generations"]
  simulated = analysis.scaling_curves(scaling["mean"])
  dense = analysis.scaling_curves(scaling["dense_predicted"])
  fig, axes = plt.subplots(
    1, len(generations), figsize=(4.4 * len(generations), 4.0), sharey=True
  )
  styles = {
    "ridgeless": ("C3", "λ=1e-10"),
    "adaptive": ("C0", f"λ=T^-{scaling['exponent']:.2f}"),
    "fixed": ("C2", "λ tuned at smallest T"),
    "oracle": ("C7", "best λ per T"),
  }
  for i, (ax, n) in enumerate(
    zip(np.atleast_1d(axes), generations, strict=True)
  ):
    for name, (color, label) in styles.items():
      ax.plot(sizes, simulated[name][:, i], "o", color=color, ms=4, label=label)
      if name != "fixed":
        ax.plot(
          scaling["dense_sizes"], dense[name][:, i], "-", color=color, lw=1
        )
    ax.set(
      xscale="log",
      yscale="log",
      xlabel="downstream samples T",
      title=f"n = {n}",
    )
    if i == 0:
      ax.set_ylabel("test error")
    ax.legend(fontsize=7)
  filename = _save(fig, workdir, "scaling_law.png")
  return Figure(
    filename,
    "Power-law spectrum (β=2, r=1/2): clean data "
    "gives the fast rate T^-2 without regularisation; after n ≥ 1 "
    "generations the ridgeless error is flat in T, and the "
    "adaptive λ = T^-ℓ_crit restores a slow rate (dots: "
    "simulation; lines: theory), cf. the paper's Fig. 1(b).",
  )


def best_lambda_vs_generations(
  workdir: str, gaussian: dict, kernel: dict
) -> Figure:
  """The best lam rises with n: Gaussian settings and digits KRR (A4, A8)."""
  fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.0))
  for color, (kind, part) in enumerate(gaussian.items()):
    n = part["generations"]
    axes[0].plot(
      n,
      analysis.best_lambda(part["lambdas"][1:], part["mean"][:, 1:]),
      "o",
      color=f"C{color}",
      label=f"{TITLES[kind]} (simulation)",
    )
    axes[0].plot(
      n,
      analysis.best_lambda(part["fine_lambdas"], part["fine_predicted"]),
      "-",
      color=f"C{color}",
      label=f"{TITLES[kind]} (theory)",
    )
  axes[0].set(
    yscale="log",
    xlabel="generations n",
    ylabel="best ridge λ",
    title="Gaussian regression",
  )
  axes[0].legend(fontsize=7)
  axes[1].plot(
    kernel["generations"],
    analysis.best_lambda(kernel["lambdas"], kernel["mse"]),
    "o-",
  )
  axes[1].set(
    yscale="log",
    xlabel="generations n",
    ylabel="best KRR λ",
    title="Kernel ridge regression on images",
  )
  filename = _save(fig, workdir, "best_lambda_vs_generations.png")
  return Figure(
    filename,
    "The optimal regularisation grows with the number "
    "of synthetic generations (grid argmin of the simulated "
    "error; lines: argmin of the theory on a fine grid).",
  )


def overparameterised_collapse(workdir: str, overparam: dict) -> Figure:
  """Exponential collapse of the min-norm chain with T0 < d (A5)."""
  fig, ax = plt.subplots(figsize=(5.2, 4.0))
  n = overparam["generations"]
  for color, label in enumerate(("noise_free", "noisy")):
    part = overparam[label]
    ax.errorbar(
      n,
      part["mean"],
      part["standard_error"],
      fmt="o",
      color=f"C{color}",
      ms=4,
      label=f"{label} (simulation)",
    )
    ax.plot(
      n,
      part["predicted"],
      "-",
      color=f"C{color}",
      lw=1,
      label=f"{label} (theory)",
    )
  ax.axhline(1.0, color="k", ls=":", lw=0.8)
  ax.set(
    xlabel="generations n",
    ylabel="‖ŵ_n − w0‖² / ‖w0‖²",
    title="Over-parameterised generator (T0 < d)",
  )
  ax.legend(fontsize=7)
  filename = _save(fig, workdir, "overparameterised_collapse.png")
  return Figure(
    filename,
    "Over-parameterised min-norm generator: the error "
    "tends to the null predictor's, 1 − (T0/d)^n without noise "
    "(dots: simulation ± s.e.; lines: closed form).",
  )


def kernel_generations(workdir: str, kernel: dict, dataset: str) -> Figure:
  """KRR test MSE and accuracy against n for each lam (A8)."""
  fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.0))
  n = kernel["generations"]
  for j, lam in enumerate(kernel["lambdas"]):
    axes[0].errorbar(
      n,
      kernel["mse"][:, j],
      kernel["mse_standard_error"][:, j],
      fmt="o-",
      ms=3,
      color=f"C{j}",
      label=f"λ={lam:.0e}",
    )
    axes[1].plot(n, kernel["accuracy"][:, j], "o-", ms=3, color=f"C{j}")
  axes[0].set(
    yscale="log",
    xlabel="generations n",
    ylabel="test MSE",
    title=f"KRR on {dataset}: error grows with n",
  )
  axes[0].legend(fontsize=7)
  axes[1].set(
    xlabel="generations n", ylabel="test accuracy", title="accuracy of argmax"
  )
  filename = _save(fig, workdir, "kernel_generations.png")
  return Figure(
    filename,
    f"Kernel ridge regression (RBF, median-heuristic "
    f"bandwidth) on {dataset} trained on data of generation n.",
  )


def write_all(
  workdir: str,
  gaussian: dict,
  scaling: dict,
  overparam: dict,
  kernel: dict,
  config,
) -> list[Figure]:
  return [
    error_vs_generations(workdir, gaussian),
    error_vs_lambda(workdir, gaussian, config.gaussian.checked_generations),
    scaling_law(workdir, scaling),
    best_lambda_vs_generations(workdir, gaussian, kernel),
    overparameterised_collapse(workdir, overparam),
    kernel_generations(workdir, kernel, config.kernel.dataset),
  ]
