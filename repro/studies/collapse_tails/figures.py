"""Figures of the collapse_tails study (matplotlib, Agg backend)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402
from repro.core.summary import Figure  # noqa: E402


def _save(fig, workdir: str, filename: str, caption: str) -> Figure:
  save_figure(fig, os.path.join(workdir, filename), dpi=120)
  return Figure(filename, caption)


def scaling_figure(plot, workdir: str) -> Figure:
  """Clean curves with Monte Carlo; cut and narrowed curves at beta = 2."""
  sizes = plot["sizes"]
  fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
  for beta, errors in plot["clean"].items():
    (line,) = left.loglog(sizes, errors, label=f"exact, beta={beta:g}")
    mc_sizes, mean, se = plot["mc"][beta]
    left.errorbar(
      mc_sizes,
      mean,
      yerr=se,
      fmt="o",
      color=line.get_color(),
      ms=4,
      label=f"Monte Carlo, beta={beta:g}",
    )
    anchor = np.argmin(np.abs(sizes - 1e4))
    c = 1.0 - 1.0 / beta
    left.loglog(
      sizes,
      errors[anchor] * (sizes / sizes[anchor]) ** -c,
      ":",
      color=line.get_color(),
      lw=1,
    )
  left.set(
    xlabel="training samples T",
    ylabel="test error E",
    title="clean data: E ~ T^-(1-1/beta) (dotted)",
  )
  left.legend(fontsize=7)
  right.loglog(sizes, plot["clean"][2.0], "k", label="clean")
  for k, (errors, mass) in plot["cut"].items():
    (line,) = right.loglog(sizes, errors, label=f"top-{k} cut")
    right.axhline(mass, color=line.get_color(), ls=":", lw=1)
  for beta_prime, errors in plot["narrow"].items():
    right.loglog(sizes, errors, "--", label=f"narrowed, beta'={beta_prime:.3g}")
  right.set(
    xlabel="training samples T",
    ylabel="test error E",
    title="beta=2: tail cut (plateau = tail mass) and narrowing",
    ylim=(max(1e-6, plot["clean"][2.0].min() / 2), 1.0),
  )
  right.legend(fontsize=7)
  return _save(
    fig,
    workdir,
    "scaling_laws.png",
    "Hutter model: clean scaling with Monte-Carlo points (left); "
    "loss of scaling under a top-k cut and slower scaling under "
    "tail narrowing (right).",
  )


def mixing_figure(plot, workdir: str) -> Figure:
  """E(T) for clean fractions pi with the plateau and the delayed law."""
  sizes = plot["sizes"]
  k = plot["mixing_k"]
  fig, ax = plt.subplots(figsize=(6, 4.2))
  for pi, errors in plot["mixing"].items():
    ax.loglog(sizes, errors, label=f"pi={pi:g}")
  ax.axhline(
    plot["mixing_plateau"],
    color="gray",
    ls=":",
    label=f"plateau sum_(i>{k}) p_i",
  )
  ax.set(
    xlabel="training samples T",
    ylabel="test error E",
    title=f"mixing clean data with top-{k} AI data (beta=2)",
  )
  ax.legend(fontsize=8)
  return _save(
    fig,
    workdir,
    "mixing.png",
    "Grokking-like plateau: with a fraction pi of clean data the "
    "error sits at the cut plateau, then follows the clean law "
    "at pi T.",
  )


def generations_figure(plot, workdir: str) -> Figure:
  """E^(n) over generations, and the finite-sample floor against T0."""
  wright_fisher, se, relabel = plot["generations"]
  generations = np.arange(wright_fisher.size)
  fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
  left.errorbar(
    generations,
    wright_fisher,
    yerr=se,
    fmt="o-",
    label="Wright-Fisher resampling",
  )
  left.plot(generations, relabel, "s-", label="relabelled by previous model")
  left.set(
    xlabel="generation n",
    ylabel="test error E^(n)",
    title="collapse across generations",
  )
  left.legend(fontsize=8)
  generation_sizes, errors = plot["finite"]
  right.loglog(generation_sizes, errors, "o-", label="E, T = 100 T0")
  right.loglog(
    generation_sizes,
    errors[0] * (generation_sizes / generation_sizes[0]) ** -0.5,
    ":",
    label="T0^-1/2",
  )
  right.set(
    xlabel="generator samples T0",
    ylabel="test error E",
    title="finite-sample tail cut (beta=2)",
  )
  right.legend(fontsize=8)
  return _save(
    fig,
    workdir,
    "generations.png",
    "Error over AI generations for two generators (left) and the "
    "floor set by the generator's sample size (right).",
  )


def neural_figure(plot, workdir: str) -> Figure:
  """The embedding-table learner against the Hutter predictions."""
  data = plot["neural"]
  sizes = data["sizes"]
  fig, ax = plt.subplots(figsize=(6, 4.2))
  for name, errors in data["error"].items():
    (line,) = ax.loglog(sizes, errors, "o", label=f"learner, {name}")
    ax.loglog(sizes, data["predicted"][name], "-", color=line.get_color(), lw=1)
  relabel_sizes, gen1 = data["gen1"]
  ax.loglog(relabel_sizes, gen1, "^", label="generation 1 (relabelled)")
  ax.axhline(data["cut_plateau"], color="gray", ls=":", lw=1)
  ax.axhline(
    data["gen0_error"], color="purple", ls=":", lw=1, label="generation 0 error"
  )
  ax.set(
    xlabel="training samples T",
    ylabel="test error",
    title="embedding-table learner (lines: Hutter x (1-1/m))",
  )
  ax.legend(fontsize=7)
  return _save(
    fig,
    workdir,
    "neural.png",
    "A trained embedding-table learner follows the Hutter laws: "
    "clean scaling, the cut plateau, recovery with mixing, and "
    "no recovery when trained on a model's labels.",
  )


def gcd_figure(plot, workdir: str) -> Figure:
  """Per-gcd accuracy of generation 0, generation 1 and the mix."""
  data = plot["gcd"]
  gcds = np.arange(1, data["max_gcd"] + 1)
  fig, ax = plt.subplots(figsize=(7, 4.2))
  for name in ("gen0", "gen1", "mix"):
    ax.plot(gcds, data[name], "o-", ms=3, label=name)
  ax.set(
    xlabel="gcd",
    ylabel="greedy-answer accuracy",
    xscale="log",
    ylim=(-0.02, 1.02),
    title="GCD transformer: accuracy per gcd value",
  )
  ax.legend(fontsize=8)
  return _save(
    fig,
    workdir,
    "gcd.png",
    "GCD transformers: generation 0 (clean), generation 1 (its "
    "greedy labels) and a mix with clean rows.",
  )
