"""Figures: accuracy by length, attention maps, emergence, transfer."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.figures import save_figure  # noqa: E402
from repro.core.summary import Figure  # noqa: E402
from repro.data import iterative_tasks  # noqa: E402

LABELS = {
  "cot": "polynomial, CoT, 2 layers",
  "no_cot": "polynomial, no CoT, 2 layers",
  "one_layer": "polynomial, CoT, 1 layer",
  "parity": "parity from scratch",
  "transfer": "parity from polynomial (all weights)",
  "mlp2": "parity from polynomial (layer-2 MLP only)",
}


def _band(ax, steps, values, label):
  """Mean over seeds with a min-max band."""
  mean = values.mean(axis=0)
  (line,) = ax.plot(steps, mean, label=label)
  if values.shape[0] > 1:
    ax.fill_between(
      steps,
      values.min(axis=0),
      values.max(axis=0),
      color=line.get_color(),
      alpha=0.2,
    )


def accuracy_by_length(path, results, datasets, config):
  fig, ax = plt.subplots(figsize=(6, 4))
  for name in ("cot", "no_cot", "one_layer", "parity", "transfer"):
    task = "parity" if name in ("parity", "transfer") else "polynomial"
    dataset = datasets[(task, name != "no_cot")]
    lengths = dataset.test_lengths[
      dataset.test_lengths >= config.task.min_eval_len
    ]
    acc = results[name].evals["test_acc_by_len"][:, -1].mean(axis=0)
    ax.plot(lengths, acc, marker="o", label=LABELS[name])
  ax.axhline(
    1 / config.task.modulus,
    color="gray",
    ls=":",
    label=f"chance of s_L (1/{config.task.modulus})",
  )
  ax.set_xlabel("input length L")
  ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
  ax.set_ylabel("test exact-sequence accuracy")
  ax.set_ylim(-0.02, 1.02)
  ax.legend(fontsize=7)
  save_figure(fig, path, dpi=120)


def attention_maps(path, results, datasets, models, config):
  """Mean attention of R1 (seed 0) over the test sequences of max length."""
  dataset = datasets[("polynomial", True)]
  length = int(dataset.test_lengths[-1])
  tokens = jnp.asarray(dataset.test_tokens[-1])
  params = jax.tree.map(lambda x: x[0], results["cot"].params)
  apply = jax.jit(lambda p, x: models[2].apply(p, x, return_attention=True))
  _, attention = apply(params, tokens)
  attention = np.asarray(attention[:, :, 0].mean(axis=0))  # [layers, T, T]
  width = tokens.shape[1]
  names = (
    ["task"]
    + [f"x{t}" for t in range(1, length + 1)]
    + ["EoI"]
    + [f"s{t}" for t in range(1, length + 1)]
    + ["EoS"] * (width - 2 * length - 2)
  )
  fig, axes = plt.subplots(1, 2, figsize=(11, 5))
  eoi = iterative_tasks.eoi_position(length)
  steps = np.arange(1, length + 1)
  expected = [(eoi + steps, np.full(length, eoi)), (length + steps, steps)]
  titles = [
    "layer 1 (EoI locator: rows s_t -> EoI)",
    "layer 2 (iteration head: row L+t -> x_t)",
  ]
  for layer, ax in enumerate(axes):
    ax.imshow(attention[layer], cmap="Blues", vmin=0, vmax=1)
    rows, cols = expected[layer]
    ax.scatter(
      cols,
      rows,
      marker="s",
      facecolors="none",
      edgecolors="red",
      s=30,
      linewidths=0.8,
    )
    ax.set_xticks(range(width), names, rotation=90, fontsize=6)
    ax.set_yticks(range(width), names, fontsize=6)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    ax.set_title(titles[layer], fontsize=9)
  fig.suptitle(
    f"R1 attention, mean over test sequences of length {length} "
    "(red: expected positions)",
    fontsize=9,
  )
  save_figure(fig, path, dpi=120)


def emergence(path, results):
  result = results["cot"]
  steps = result.eval_steps
  fig, ax = plt.subplots(figsize=(6, 4))
  _band(ax, steps, result.evals["test_acc"], "test accuracy")
  _band(
    ax,
    steps,
    result.evals["iter/frac_above"][:, :, 1, 0],
    "iteration-head peakiness (layer 2)",
  )
  _band(
    ax,
    steps,
    result.evals["eoi/frac_above"][:, :, 0, 0],
    "EoI-locator peakiness (layer 1)",
  )
  ax.axhline(0.5, color="gray", ls=":")
  ax.set_xlabel("training step")
  ax.set_ylim(-0.02, 1.02)
  ax.set_title("R1: polynomial with CoT", fontsize=9)
  ax.legend(fontsize=7)
  save_figure(fig, path, dpi=120)


def transfer(path, results, config):
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for name in ("parity", "transfer", "mlp2"):
    result = results[name]
    _band(axes[0], result.eval_steps, result.evals["test_acc"], LABELS[name])
    _band(
      axes[1],
      result.eval_steps,
      result.evals["iter/frac_above"][:, :, 1, 0],
      LABELS[name],
    )
  axes[0].axhline(config.metrics.accuracy_target, color="gray", ls=":")
  axes[0].set_ylabel("parity test accuracy")
  axes[1].set_ylabel("iteration-head peakiness (layer 2)")
  for ax in axes:
    ax.set_xlabel("fine-tuning / training step")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
  save_figure(fig, path, dpi=120)


def write_all(workdir, config, results, datasets, models) -> list[Figure]:
  """Writes every figure into ``workdir``; returns their captions."""
  accuracy_by_length(
    os.path.join(workdir, "accuracy_by_length.png"), results, datasets, config
  )
  attention_maps(
    os.path.join(workdir, "attention_maps.png"),
    results,
    datasets,
    models,
    config,
  )
  emergence(os.path.join(workdir, "emergence.png"), results)
  transfer(os.path.join(workdir, "transfer.png"), results, config)
  return [
    Figure(
      "accuracy_by_length.png",
      "Final test accuracy per input length: CoT vs no CoT vs one "
      "layer (polynomial), parity from scratch and transferred.",
    ),
    Figure(
      "attention_maps.png",
      "R1 attention of both layers (mean over test sequences of the "
      "longest length); red squares mark the EoI column (layer 1) and "
      "the iteration-head diagonal L+t -> t (layer 2).",
    ),
    Figure(
      "emergence.png",
      "R1 over training: test accuracy and the peakiness of the "
      "iteration head and EoI locator (mean and seed range).",
    ),
    Figure(
      "transfer.png",
      "Parity: from scratch vs fine-tuned from the polynomial model "
      "(all weights; layer-2 MLP only): test accuracy and "
      "iteration-head peakiness.",
    ),
  ]
