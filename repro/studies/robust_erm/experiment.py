"""run(config, workdir): the robust_erm study (arXiv 2406.04981).

Three parts, in this order:
  1. Linear robust ERM on a sparse teacher (claims A1-A6): GD, greedy CD,
     sign descent and a diagonal network trained on the closed-form linf
     robust loss, compared with the min-norm robust separators (scipy).
  2. Heatmap of the CD - GD benefit over teacher sparsity x data sparsity x
     eps (claim A7, Fig. 2 right).
  3. A one-hidden-layer ReLU net on two digit classes, adversarially
     trained by GD and by sign GD (claim A8, Fig. 3 left).
"""

from __future__ import annotations

import functools
import os
import time

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from absl import logging

from repro.core import rng
from repro.core.errors import UserError
from repro.core.figures import save_figure
from repro.core.summary import Figure, Summary
from repro.ops import attacks
from repro.studies.robust_erm import linear, neural

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {"gd": "GD", "cd": "CD (greedy)", "sd": "sign descent",
          "diag": "GD, diagonal net"}
COLORS = {"gd": "tab:blue", "cd": "tab:red", "sd": "tab:green",
          "diag": "tab:purple"}


def _tag(value: float) -> str:
  """Metric-name form of an eps fraction or radius: 0.5 -> '0.50'."""
  return f"{value:.2f}"


def _check_config(config) -> None:
  fractions = tuple(config.linear.eps_fractions)
  for needed in (0.0, 0.5, 0.9):
    if needed not in fractions:
      raise UserError(f"linear.eps_fractions must contain {needed} (claims "
                      f"A2-A7 read it); got {fractions}")
  if max(config.heatmap.teacher_nonzero) > config.linear.dim:
    raise UserError("heatmap.teacher_nonzero must not exceed linear.dim")
  if max(config.heatmap.input_nonzero) > config.linear.dim:
    raise UserError("heatmap.input_nonzero must not exceed linear.dim")
  eps = tuple(config.nn.eps)
  if 0.0 not in eps or config.nn.gap_eps not in eps:
    raise UserError(f"nn.eps must contain 0 and nn.gap_eps={config.nn.gap_eps}"
                    f" (claim A8); got {eps}")


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Runs all three parts; writes figures into ``workdir``."""
  _check_config(config)
  os.makedirs(workdir, exist_ok=True)
  metrics: dict[str, float] = {}
  curves: list[dict] = []
  figures: list[Figure] = []
  timings = {}

  start = time.perf_counter()
  with jax.enable_x64(True):
    main = _run_linear(config, metrics, curves)
    timings["linear"] = time.perf_counter() - start
    start = time.perf_counter()
    heat = _run_heatmap(config, metrics)
    timings["heatmap"] = time.perf_counter() - start
  start = time.perf_counter()
  logging.info("robust_erm: neural network part")
  nets = neural.run(config.nn, config.seed, config.data_dir or None,
                    checkpoints)
  _neural_metrics(config.nn, nets, metrics, curves)
  timings["nn"] = time.perf_counter() - start
  for part, seconds in timings.items():
    metrics[f"time/{part}_s"] = seconds

  figures.append(_plot_linear_accuracy(config, main, workdir))
  figures.append(_plot_linear_gap(config, main, workdir))
  figures.append(_plot_cosines(main, workdir))
  figures.append(_plot_heatmap(config, heat, workdir))
  figures.append(_plot_neural(config.nn, nets, workdir))
  plt.close("all")
  return Summary(metrics=metrics, curves=curves, figures=figures,
                 notes=_notes(config, metrics))


# ------------------------------------------------------------ linear, A1-A6


def _run_linear(config, metrics: dict, curves: list) -> dict:
  cfg = config.linear
  logging.info("robust_erm: linear data (d=%d, %d seeds)", cfg.dim,
               cfg.num_seeds)
  keys = rng.replica_keys(rng.stream(config.seed, "linear"), cfg.num_seeds)
  data = linear.make_data(
      keys, np.full(cfg.num_seeds, cfg.teacher_nonzero),
      np.full(cfg.num_seeds, cfg.input_nonzero), cfg.dim, cfg.rho,
      max(cfg.train_sizes), cfg.num_test)
  grid = linear.make_grid(data, cfg.train_sizes, cfg.eps_fractions)
  steps = linear.snapshot_steps(cfg.num_steps, cfg.num_snapshots)
  weights, losses = {}, {}
  for algorithm in linear.ALGORITHMS:
    logging.info("robust_erm: linear %s, %d steps x %d problems", algorithm,
                 cfg.num_steps, grid.eps.size)
    weights[algorithm], losses[algorithm] = linear.train(
        algorithm, data, grid, cfg.num_steps, steps, cfg.diag_alpha,
        cfg.lr_scale)
  logging.info("robust_erm: references (LP / dual QP), %d problems",
               grid.eps.size)
  references = linear.references(data, grid)

  def accuracy(w, train=False):
    if train:
      return linear.robust_accuracies(w, data.x_train, data.y_train,
                                      grid.eps, grid.masks)
    return linear.robust_accuracies(w, data.x_test, data.y_test, grid.eps)

  # [D, C] accuracies at the end; [K, D, C] along training.
  test_acc_path = {a: accuracy(weights[a]) for a in linear.ALGORITHMS}
  test_acc = {a: test_acc_path[a][-1] for a in linear.ALGORITHMS}
  train_acc = {a: accuracy(weights[a][-1], True) for a in linear.ALGORITHMS}
  for name, w in references.items():
    test_acc[f"ref_{name}"] = accuracy(w)
    train_acc[f"ref_{name}"] = accuracy(w, True)
  cosines = {
      "cd_l1ref": linear.cosine(weights["cd"], references["l1"]),
      "gd_l2ref": linear.cosine(weights["gd"], references["l2"]),
      "gd_l1ref": linear.cosine(weights["gd"], references["l1"]),
      "diag_l1ref": linear.cosine(weights["diag"], references["l1"]),
      "sd_linfref": linear.cosine(weights["sd"], references["linf"]),
  }

  sizes = np.asarray(cfg.train_sizes)
  fractions = np.asarray(cfg.eps_fractions)
  # Reshape [..., C] -> [..., m, fraction]; columns are m-major.
  grid_shape = lambda a: a.reshape(a.shape[:-1] + (len(sizes),
                                                   len(fractions)))
  mean_acc = {k: grid_shape(v).mean(0) for k, v in test_acc.items()}
  gaps = {k: grid_shape(train_acc[k] - test_acc[k]).mean(0)
          for k in test_acc}
  for name in test_acc:
    for j, fraction in enumerate(fractions):
      tag = _tag(fraction)
      metrics[f"linear/{name}/robust_test_acc/eps{tag}"] = float(
          mean_acc[name][:, j].mean())
      metrics[f"linear/{name}/gap/eps{tag}"] = float(gaps[name][:, j].mean())
      for i, size in enumerate(sizes):
        metrics[f"linear/{name}/robust_test_acc/m{size}/eps{tag}"] = float(
            mean_acc[name][i, j])
  for j, fraction in enumerate(fractions):
    tag = _tag(fraction)
    metrics[f"linear/price/eps{tag}"] = float(
        (gaps["gd"][:, j] - gaps["cd"][:, j]).mean())
    for name, values in cosines.items():
      metrics[f"linear/cos_{name}/eps{tag}"] = float(
          grid_shape(values[-1]).mean(0)[:, j].mean())
  for i, size in enumerate(sizes):
    metrics[f"linear/eps_star/m{size}"] = float(
        grid.eps_star[:, i * len(fractions)].mean())
  index = {f: j for j, f in enumerate(fractions)}
  half = index[0.5]
  price = lambda f: metrics[f"linear/price/eps{_tag(f)}"]
  # A4 (Fig. 1/2): the price grows from ERM to robust ERM.
  metrics["linear/price_increase_0_to_0.5"] = price(0.5) - price(0.0)
  metrics["linear/price_increase_0.5_to_0.9"] = price(0.9) - price(0.5)
  # A2: CD's alignment with the l1 reference grows over training.
  early = int(np.argmin(np.abs(steps - cfg.num_steps / 100)))
  cd_cos = grid_shape(cosines["cd_l1ref"]).mean(1)[:, :, half].mean(-1)
  metrics["linear/cos_cd_l1ref/eps0.50/early"] = float(cd_cos[early])
  metrics["linear/cos_cd_l1ref/eps0.50/increase"] = float(
      cd_cos[-1] - cd_cos[early])
  metrics["linear/cos_l1ref_cd_minus_gd/eps0.50"] = (
      metrics["linear/cos_cd_l1ref/eps0.50"]
      - metrics["linear/cos_gd_l1ref/eps0.50"])
  # A5: the small-init diagonal net behaves like CD (m <= 100).
  small = sizes <= 100
  acc_half = {k: mean_acc[k][small, half].mean() for k in mean_acc}
  metrics["linear/diag_minus_cd_abs/eps0.50/m<=100"] = float(
      abs(acc_half["diag"] - acc_half["cd"]))
  metrics["linear/diag_minus_gd/eps0.50/m<=100"] = float(
      acc_half["diag"] - acc_half["gd"])
  # A6: sign descent is no better than GD at any eps > 0.
  positive = [j for j, f in enumerate(fractions) if f > 0]
  metrics["linear/sd_minus_gd/max_over_eps>0"] = float(max(
      mean_acc["sd"][:, j].mean() - mean_acc["gd"][:, j].mean()
      for j in positive))
  metrics["linear/closed_form_max_abs_error"] = _closed_form_check(
      cfg, data, grid, weights)
  for algorithm in linear.ALGORITHMS:
    metrics[f"linear/{algorithm}/final_loss/eps0.50"] = float(
        grid_shape(losses[algorithm][-1])[:, :, half].mean())

  for k, step in enumerate(steps):
    row = {"step": int(step)}
    for name, values in cosines.items():
      row[f"linear/cos_{name}/eps0.50"] = float(
          grid_shape(values[k])[:, :, half].mean())
    for algorithm in linear.ALGORITHMS:
      row[f"linear/{algorithm}/robust_test_acc/eps0.50"] = float(
          grid_shape(test_acc_path[algorithm][k])[:, :, half].mean())
      row[f"linear/{algorithm}/loss/eps0.50"] = float(
          grid_shape(losses[algorithm][k])[:, :, half].mean())
    curves.append(row)
  return {"grid": grid, "sizes": sizes, "fractions": fractions,
          "mean_acc": mean_acc, "gaps": gaps, "steps": steps,
          "cosines": {k: grid_shape(v).mean(1)[:, :, half].mean(-1)
                      for k, v in cosines.items()}}


def _closed_form_check(cfg, data, grid, weights) -> float:
  """A1: PGD on the linear model vs the closed-form robust margin.

  linf from a random start and l2 from zero, without a box (the data are
  unbounded), on the final GD and CD weights of dataset 0 (normalised to
  ||w||_1 = 1), every eps column; returns the largest |difference|.
  """
  x = jnp.asarray(data.x_test[0, :cfg.check_num_points])
  y = jnp.asarray(data.y_test[0, :cfg.check_num_points])
  w = np.concatenate([weights[a][-1, 0] for a in ("gd", "cd")])
  w = w / np.maximum(np.abs(w).sum(-1, keepdims=True), 1e-300)
  eps = np.tile(grid.eps[0], 2)
  errors = _attack_errors(jnp.asarray(w), jnp.asarray(eps), x, y,
                          jax.random.key(0), cfg.check_attack_steps)
  return float(jnp.max(errors))


@functools.partial(jax.jit, static_argnums=(5,))
def _attack_errors(weights, eps, x, y, key, num_steps):
  """|PGD margin - closed-form margin|, linf and l2, per (w, eps) row."""
  def one(w, radius):
    errors = []
    for threat, random_init in (("linf", True), ("l2", False)):
      x_adv = attacks.pgd(
          lambda inputs: inputs @ w, x, y, eps=radius, num_steps=num_steps,
          step_size=2.5 * radius / num_steps, norm=threat,
          loss_fn=attacks.exponential_loss, key=key,
          random_init=random_init, clip_min=None, clip_max=None)
      closed = linear.rl.robust_margin(w, x, y, radius, threat)
      errors.append(jnp.max(jnp.abs(y * (x_adv @ w) - closed)))
    return jnp.stack(errors)
  return jax.vmap(one)(weights, eps)


# ------------------------------------------------------------ heatmap, A7


def _run_heatmap(config, metrics: dict) -> dict:
  cfg, lin = config.heatmap, config.linear
  cells = [(kw, kx) for kw in cfg.teacher_nonzero
           for kx in cfg.input_nonzero]
  logging.info("robust_erm: heatmap, %d cells x %d seeds", len(cells),
               cfg.num_seeds)
  keys = [key for kw, kx in cells for key in rng.replica_keys(
      rng.stream(config.seed, f"heatmap/kw{kw}/kx{kx}"), cfg.num_seeds)]
  data = linear.make_data(
      keys, np.repeat([kw for kw, _ in cells], cfg.num_seeds),
      np.repeat([kx for _, kx in cells], cfg.num_seeds), lin.dim, lin.rho,
      max(cfg.train_sizes), cfg.num_test)
  grid = linear.make_grid(data, cfg.train_sizes, lin.eps_fractions)
  steps = np.array([cfg.num_steps])
  gaps, accuracies = {}, {}
  for algorithm in ("gd", "cd"):
    logging.info("robust_erm: heatmap %s, %d problems", algorithm,
                 grid.eps.size)
    weights, _ = linear.train(algorithm, data, grid, cfg.num_steps, steps,
                              lin.diag_alpha, lin.lr_scale)
    test = linear.robust_accuracies(weights[-1], data.x_test, data.y_test,
                                    grid.eps)
    train = linear.robust_accuracies(weights[-1], data.x_train,
                                     data.y_train, grid.eps, grid.masks)
    gaps[algorithm] = train - test
    accuracies[algorithm] = test
  shape = (len(cfg.teacher_nonzero), len(cfg.input_nonzero), cfg.num_seeds,
           len(cfg.train_sizes), len(lin.eps_fractions))
  accuracies = {k: v.reshape(shape).mean((2, 3)) for k, v in
                accuracies.items()}
  # Benefit of CD over GD: gap_GD - gap_CD, mean over seeds and m.
  benefit = (gaps["gd"] - gaps["cd"]).reshape(shape).mean((2, 3))
  fractions = list(lin.eps_fractions)
  for a, kw in enumerate(cfg.teacher_nonzero):
    for b, kx in enumerate(cfg.input_nonzero):
      for j, fraction in enumerate(fractions):
        cell = f"kw{kw}/kx{kx}/eps{_tag(fraction)}"
        metrics[f"heatmap/cd_benefit/{cell}"] = float(benefit[a, b, j])
        for algorithm, values in accuracies.items():
          metrics[f"heatmap/{algorithm}/robust_test_acc/{cell}"] = float(
              values[a, b, j])
  sparsest = int(np.argmin(cfg.teacher_nonzero))
  densest = int(np.argmax(cfg.teacher_nonzero))
  largest = int(np.argmax(fractions))
  clean = fractions.index(0.0)
  sparse_large = benefit[sparsest, :, largest].mean()
  dense_clean = benefit[densest, :, clean].mean()
  metrics["heatmap/benefit/sparsest_teacher_largest_eps"] = float(
      sparse_large)
  metrics["heatmap/benefit/densest_teacher_eps0"] = float(dense_clean)
  metrics["heatmap/benefit/sparse_large_minus_dense_clean"] = float(
      sparse_large - dense_clean)
  return {"benefit": benefit}


# ------------------------------------------------------------ networks, A8


def _neural_metrics(cfg, nets: dict, metrics: dict, curves: list) -> None:
  replicas = nets["replicas"]
  means = {}
  for algorithm in neural.ALGORITHMS:
    result = nets[algorithm]
    for eps in cfg.eps:
      tag = _tag(eps)
      select = replicas.eps == np.float32(eps)
      means[algorithm, eps] = float(result["robust"][select].mean())
      metrics[f"nn/{algorithm}/robust_test_acc/eps{tag}"] = means[
          algorithm, eps]
      metrics[f"nn/{algorithm}/clean_test_acc/eps{tag}"] = float(
          result["clean"][select].mean())
      metrics[f"nn/{algorithm}/robust_train_acc/eps{tag}"] = float(
          result["history"]["robust_train_accuracy"][select, -1].mean())
      for size in cfg.train_sizes:
        cell = select & (replicas.train_sizes == size)
        metrics[f"nn/{algorithm}/robust_test_acc/m{size}/eps{tag}"] = float(
            result["robust"][cell].mean())
  for eps in cfg.eps:
    tag = _tag(eps)
    difference = means["gd", eps] - means["sd", eps]
    metrics[f"nn/gd_minus_sd/eps{tag}"] = difference
    metrics[f"nn/gap/eps{tag}"] = abs(difference)
  metrics["nn/gap_increase"] = (metrics[f"nn/gap/eps{_tag(cfg.gap_eps)}"]
                                - metrics["nn/gap/eps0.00"])
  num_steps = nets["gd"]["history"]["loss"].shape[-1]
  points = np.unique(np.linspace(0, num_steps - 1, cfg.num_curve_points)
                     .astype(int))
  for step in points:
    row = {"step": int(step) + 1}
    for algorithm in neural.ALGORITHMS:
      history = nets[algorithm]["history"]
      for eps in cfg.eps:
        select = replicas.eps == np.float32(eps)
        row[f"nn/{algorithm}/loss/eps{_tag(eps)}"] = float(
            history["loss"][select, step].mean())
        row[f"nn/{algorithm}/robust_train_acc/eps{_tag(eps)}"] = float(
            history["robust_train_accuracy"][select, step].mean())
    curves.append(row)


# ------------------------------------------------------------ figures


def _plot_linear_accuracy(config, main: dict, workdir: str) -> Figure:
  sizes, fractions = main["sizes"], main["fractions"]
  fig, axes = plt.subplots(1, len(sizes), figsize=(3.2 * len(sizes), 3.2),
                           sharey=True, squeeze=False)
  for i, (ax, size) in enumerate(zip(axes[0], sizes, strict=True)):
    for algorithm in linear.ALGORITHMS:
      ax.plot(fractions, main["mean_acc"][algorithm][i], "o-",
              color=COLORS[algorithm], label=LABELS[algorithm])
    for name, style in (("ref_l1", "k--"), ("ref_l2", "k:")):
      ax.plot(fractions, main["mean_acc"][name][i], style,
              label={"ref_l1": "l1 max-margin (LP)",
                     "ref_l2": "min-l2 robust sep. (QP)"}[name])
    ax.set_title(f"m = {size}")
    ax.set_xlabel("eps / eps*")
  axes[0, 0].set_ylabel("robust test accuracy at training eps")
  axes[0, -1].legend(fontsize=7)
  cfg = config.linear
  fig.suptitle(f"Linear robust ERM, d={cfg.dim}, k_w={cfg.teacher_nonzero}, "
               f"rho={cfg.rho}")
  filename = "linear_robust_accuracy.png"
  save_figure(fig, os.path.join(workdir, filename))
  return Figure(filename, "Robust test accuracy (exact, linf at the training "
                "eps) vs eps/eps* per algorithm and training size, with the "
                "min-norm robust separators the theory predicts as limits.")


def _plot_linear_gap(config, main: dict, workdir: str) -> Figure:
  del config
  sizes, fractions = main["sizes"], list(main["fractions"])
  shown = [f for f in (0.0, 0.5, 0.9) if f in fractions]
  fig, axes = plt.subplots(1, len(shown), figsize=(3.4 * len(shown), 3.2),
                           sharey=True, squeeze=False)
  for ax, fraction in zip(axes[0], shown, strict=True):
    j = fractions.index(fraction)
    for algorithm in linear.ALGORITHMS:
      ax.plot(sizes, main["gaps"][algorithm][:, j], "o-",
              color=COLORS[algorithm], label=LABELS[algorithm])
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.set_title("ERM (eps = 0)" if fraction == 0 else
                 f"robust ERM, eps = {fraction} eps*")
    ax.set_xlabel("training size m")
  axes[0, 0].set_ylabel("(robust) train - test accuracy")
  axes[0, -1].legend(fontsize=7)
  filename = "linear_gap_vs_m.png"
  save_figure(fig, os.path.join(workdir, filename))
  return Figure(filename, "(Robust) generalisation gap vs training size, ERM "
                "and robust ERM (analogue of Figs. 1 and 2 left).")


def _plot_cosines(main: dict, workdir: str) -> Figure:
  fig, ax = plt.subplots(figsize=(5, 3.4))
  labels = {"cd_l1ref": "CD vs l1 max-margin",
            "gd_l2ref": "GD vs min-l2 robust sep.",
            "gd_l1ref": "GD vs l1 max-margin",
            "diag_l1ref": "diag. net vs l1 max-margin",
            "sd_linfref": "SD vs min-linf robust sep."}
  for name, values in main["cosines"].items():
    ax.plot(main["steps"], values, "o-", ms=3, label=labels[name])
  ax.set_xscale("log")
  ax.set_xlabel("step")
  ax.set_ylabel("cosine similarity (eps = 0.5 eps*)")
  ax.legend(fontsize=7)
  filename = "linear_cosines.png"
  save_figure(fig, os.path.join(workdir, filename))
  return Figure(filename, "Directional convergence: cosine between the "
                "iterate and the min-norm robust separator of the "
                "algorithm's geometry, eps = 0.5 eps*, mean over m, seeds.")


def _plot_heatmap(config, heat: dict, workdir: str) -> Figure:
  cfg = config.heatmap
  fractions = list(config.linear.eps_fractions)
  benefit = heat["benefit"]
  limit = max(np.abs(benefit).max(), 1e-3)
  fig, axes = plt.subplots(1, len(cfg.input_nonzero),
                           figsize=(3.6 * len(cfg.input_nonzero) + 1.2, 3.4),
                           squeeze=False, constrained_layout=True)
  for b, (ax, kx) in enumerate(zip(axes[0], cfg.input_nonzero, strict=True)):
    image = ax.imshow(benefit[:, b, :], cmap="RdBu", vmin=-limit,
                      vmax=limit, aspect="auto", origin="lower")
    for a in range(benefit.shape[0]):
      for j in range(benefit.shape[2]):
        ax.text(j, a, f"{100 * benefit[a, b, j]:.0f}", ha="center",
                va="center", fontsize=7)
    ax.set_xticks(range(len(fractions)), [f"{f:g}" for f in fractions])
    ax.set_yticks(range(len(cfg.teacher_nonzero)),
                  [str(k) for k in cfg.teacher_nonzero])
    ax.set_xlabel("eps / eps*")
    ax.set_title("dense x" if kx == 0 else f"k_x = {kx}")
  axes[0, 0].set_ylabel("teacher sparsity k_w")
  fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8,
               label="gap_GD - gap_CD")
  filename = "heatmap_cd_benefit.png"
  fig.savefig(os.path.join(workdir, filename), dpi=110)
  return Figure(filename, "Benefit of CD over GD (robust gap of GD minus "
                "robust gap of CD, in points; mean over seeds and m) by "
                "teacher sparsity, data sparsity and eps (Fig. 2 right).")


def _plot_neural(cfg, nets: dict, workdir: str) -> Figure:
  replicas = nets["replicas"]
  fig, axes = plt.subplots(1, len(cfg.train_sizes),
                           figsize=(3.4 * len(cfg.train_sizes), 3.2),
                           sharey=True, squeeze=False)
  for ax, size in zip(axes[0], cfg.train_sizes, strict=True):
    for algorithm, color in (("gd", "tab:blue"), ("sd", "tab:green")):
      robust = nets[algorithm]["robust"]
      means = [robust[(replicas.eps == np.float32(e))
                      & (replicas.train_sizes == size)].mean()
               for e in cfg.eps]
      ax.plot(cfg.eps, means, "o-", color=color,
              label={"gd": "GD", "sd": "sign GD"}[algorithm])
    ax.set_title(f"m = {size}")
    ax.set_xlabel("training and test eps (linf)")
  axes[0, 0].set_ylabel("robust test accuracy (PGD)")
  axes[0, -1].legend(fontsize=8)
  fig.suptitle(f"{cfg.dataset} {cfg.classes[0]} vs {cfg.classes[1]}, "
               f"1-hidden-layer ReLU, width {cfg.width}")
  filename = "nn_robust_accuracy.png"
  save_figure(fig, os.path.join(workdir, filename))
  return Figure(filename, "Robust test accuracy of adversarially trained "
                "networks, GD vs sign GD, at the training eps (Fig. 3 left).")


def _notes(config, metrics: dict) -> str:
  lin = config.linear
  return (
      f"Linear part in float64: d={lin.dim}, k_w={lin.teacher_nonzero}, "
      f"rho={lin.rho}, {lin.num_seeds} seeds, {lin.num_steps} steps per "
      "algorithm on log-sum-exp of the robust exp loss (normalised steps). "
      "CD uses the minimum-norm subgradient and stops at the l1 kink "
      "(plain subgradient CD cycles on one coordinate); GD, SD and the "
      "diagonal net use sign(w) (0 at 0) as the subgradient of ||w||_1. "
      "The diagonal net's step is divided by max(1, ||(u, v)||^2). "
      f"Networks: {config.nn.dataset} {tuple(config.nn.classes)}, the "
      "training sets are the first m points of a seeded permutation of "
      "train+test of the two classes and the rest is the test set. "
      f"Times (s): linear {metrics['time/linear_s']:.0f}, heatmap "
      f"{metrics['time/heatmap_s']:.0f}, networks "
      f"{metrics['time/nn_s']:.0f}.")
