"""The robust_erm parts' runs and the metrics and curves the claims read.

``run_linear`` (claims A1-A6) and ``run_heatmap`` (A7) train the linear
models (float64, inside ``jax.enable_x64``); ``neural_metrics`` (A8)
summarises ``neural.run``. Each fills the shared ``metrics`` dict (and
``curves`` rows) and returns what the figures draw.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import rng
from repro.ops import attacks
from repro.studies.robust_erm import linear, neural


def _tag(value: float) -> str:
  """Metric-name form of an eps fraction or radius: 0.5 -> '0.50'."""
  return f"{value:.2f}"


# ------------------------------------------------------------ linear, A1-A6


def run_linear(config, metrics: dict, curves: list) -> dict:
  """Part 1 (claims A1-A6): trains, evaluates, fills metrics and curves."""
  cfg = config.linear
  data, grid, steps = _linear_problems(config)
  weights, losses = _train_linear(cfg, data, grid, steps)
  logging.info(
    "robust_erm: references (LP / dual QP), %d problems", grid.eps.size
  )
  references = linear.references(data, grid)
  test_acc_path, test_acc, train_acc = _linear_accuracies(
    data, grid, weights, references
  )
  cosines = _linear_cosines(weights, references)
  sizes = np.asarray(cfg.train_sizes)
  fractions = np.asarray(cfg.eps_fractions)
  grid_shape = functools.partial(_grid_shape, sizes=sizes, fractions=fractions)
  mean_acc = {k: grid_shape(v).mean(0) for k, v in test_acc.items()}
  gaps = {k: grid_shape(train_acc[k] - test_acc[k]).mean(0) for k in test_acc}
  _linear_grid_metrics(
    metrics, mean_acc, gaps, cosines, grid, sizes, fractions, grid_shape
  )
  half = list(fractions).index(0.5)
  _linear_claim_metrics(
    metrics, cfg, mean_acc, cosines, steps, sizes, half, grid_shape
  )
  metrics["linear/closed_form_max_abs_error"] = _closed_form_check(
    cfg, data, grid, weights
  )
  for algorithm in linear.ALGORITHMS:
    metrics[f"linear/{algorithm}/final_loss/eps0.50"] = float(
      grid_shape(losses[algorithm][-1])[:, :, half].mean()
    )
  curves.extend(
    _linear_curves(steps, cosines, test_acc_path, losses, half, grid_shape)
  )
  return {
    "grid": grid,
    "sizes": sizes,
    "fractions": fractions,
    "mean_acc": mean_acc,
    "gaps": gaps,
    "steps": steps,
    "cosines": {
      k: grid_shape(v).mean(1)[:, :, half].mean(-1) for k, v in cosines.items()
    },
  }


def _linear_problems(config):
  """Sparse-teacher datasets, the (m, eps) problem grid, snapshot steps."""
  cfg = config.linear
  logging.info(
    "robust_erm: linear data (d=%d, %d seeds)", cfg.dim, cfg.num_seeds
  )
  keys = rng.replica_keys(rng.stream(config.seed, "linear"), cfg.num_seeds)
  data = linear.make_data(
    keys,
    np.full(cfg.num_seeds, cfg.teacher_nonzero),
    np.full(cfg.num_seeds, cfg.input_nonzero),
    cfg.dim,
    cfg.rho,
    max(cfg.train_sizes),
    cfg.num_test,
  )
  grid = linear.make_grid(data, cfg.train_sizes, cfg.eps_fractions)
  steps = linear.snapshot_steps(cfg.num_steps, cfg.num_snapshots)
  return data, grid, steps


def _train_linear(cfg, data, grid, steps) -> tuple[dict, dict]:
  """Weight and loss snapshots of every algorithm on every problem."""
  weights, losses = {}, {}
  for algorithm in linear.ALGORITHMS:
    logging.info(
      "robust_erm: linear %s, %d steps x %d problems",
      algorithm,
      cfg.num_steps,
      grid.eps.size,
    )
    weights[algorithm], losses[algorithm] = linear.train(
      algorithm, data, grid, cfg.num_steps, steps, cfg.diag_alpha, cfg.lr_scale
    )
  return weights, losses


def _linear_accuracies(data, grid, weights: dict, references: dict):
  """Exact robust accuracies at the training eps of each problem.

  Returns the test path [K, D, C] per algorithm and the final test and
  train accuracies [D, C] per algorithm and reference (``ref_<norm>``).
  """

  def accuracy(w, train=False):
    if train:
      return linear.robust_accuracies(
        w, data.x_train, data.y_train, grid.eps, grid.masks
      )
    return linear.robust_accuracies(w, data.x_test, data.y_test, grid.eps)

  test_acc_path = {a: accuracy(weights[a]) for a in linear.ALGORITHMS}
  test_acc = {a: test_acc_path[a][-1] for a in linear.ALGORITHMS}
  train_acc = {a: accuracy(weights[a][-1], True) for a in linear.ALGORITHMS}
  for name, w in references.items():
    test_acc[f"ref_{name}"] = accuracy(w)
    train_acc[f"ref_{name}"] = accuracy(w, True)
  return test_acc_path, test_acc, train_acc


def _linear_cosines(weights: dict, references: dict) -> dict:
  """Cosine of each iterate to a min-norm robust separator, per snapshot."""
  return {
    "cd_l1ref": linear.cosine(weights["cd"], references["l1"]),
    "gd_l2ref": linear.cosine(weights["gd"], references["l2"]),
    "gd_l1ref": linear.cosine(weights["gd"], references["l1"]),
    "diag_l1ref": linear.cosine(weights["diag"], references["l1"]),
    "sd_linfref": linear.cosine(weights["sd"], references["linf"]),
  }


def _grid_shape(a, sizes, fractions):
  """Reshapes [..., C] -> [..., m, fraction]; columns are m-major."""
  return a.reshape(a.shape[:-1] + (len(sizes), len(fractions)))


def _linear_grid_metrics(
  metrics: dict,
  mean_acc: dict,
  gaps: dict,
  cosines: dict,
  grid,
  sizes,
  fractions,
  grid_shape,
) -> None:
  """Accuracy, gap, price and cosine per eps fraction (and per m)."""
  for name in mean_acc:
    for j, fraction in enumerate(fractions):
      tag = _tag(fraction)
      metrics[f"linear/{name}/robust_test_acc/eps{tag}"] = float(
        mean_acc[name][:, j].mean()
      )
      metrics[f"linear/{name}/gap/eps{tag}"] = float(gaps[name][:, j].mean())
      for i, size in enumerate(sizes):
        metrics[f"linear/{name}/robust_test_acc/m{size}/eps{tag}"] = float(
          mean_acc[name][i, j]
        )
  for j, fraction in enumerate(fractions):
    tag = _tag(fraction)
    metrics[f"linear/price/eps{tag}"] = float(
      (gaps["gd"][:, j] - gaps["cd"][:, j]).mean()
    )
    for name, values in cosines.items():
      metrics[f"linear/cos_{name}/eps{tag}"] = float(
        grid_shape(values[-1]).mean(0)[:, j].mean()
      )
  for i, size in enumerate(sizes):
    metrics[f"linear/eps_star/m{size}"] = float(
      grid.eps_star[:, i * len(fractions)].mean()
    )


def _linear_claim_metrics(
  metrics: dict,
  cfg,
  mean_acc: dict,
  cosines: dict,
  steps,
  sizes,
  half: int,
  grid_shape,
) -> None:
  """The summary numbers claims A2, A4, A5 and A6 read."""
  price = lambda f: metrics[f"linear/price/eps{_tag(f)}"]
  # A4 (Fig. 1/2): the price grows from ERM to robust ERM.
  metrics["linear/price_increase_0_to_0.5"] = price(0.5) - price(0.0)
  metrics["linear/price_increase_0.5_to_0.9"] = price(0.9) - price(0.5)
  # A2: CD's alignment with the l1 reference grows over training.
  early = int(np.argmin(np.abs(steps - cfg.num_steps / 100)))
  cd_cos = grid_shape(cosines["cd_l1ref"]).mean(1)[:, :, half].mean(-1)
  metrics["linear/cos_cd_l1ref/eps0.50/early"] = float(cd_cos[early])
  metrics["linear/cos_cd_l1ref/eps0.50/increase"] = float(
    cd_cos[-1] - cd_cos[early]
  )
  metrics["linear/cos_l1ref_cd_minus_gd/eps0.50"] = (
    metrics["linear/cos_cd_l1ref/eps0.50"]
    - metrics["linear/cos_gd_l1ref/eps0.50"]
  )
  # A5: the small-init diagonal net behaves like CD (m <= 100).
  small = sizes <= 100
  acc_half = {k: mean_acc[k][small, half].mean() for k in mean_acc}
  metrics["linear/diag_minus_cd_abs/eps0.50/m<=100"] = float(
    abs(acc_half["diag"] - acc_half["cd"])
  )
  metrics["linear/diag_minus_gd/eps0.50/m<=100"] = float(
    acc_half["diag"] - acc_half["gd"]
  )
  # A6: sign descent is no better than GD at any eps > 0.
  positive = [j for j, f in enumerate(cfg.eps_fractions) if f > 0]
  metrics["linear/sd_minus_gd/max_over_eps>0"] = float(
    max(
      mean_acc["sd"][:, j].mean() - mean_acc["gd"][:, j].mean()
      for j in positive
    )
  )


def _linear_curves(
  steps, cosines: dict, test_acc_path: dict, losses: dict, half: int, grid_shape
) -> list[dict]:
  """One row per snapshot: cosines, robust test accuracy and loss at
  eps = 0.5 eps*."""
  rows = []
  for k, step in enumerate(steps):
    row = {"step": int(step)}
    for name, values in cosines.items():
      row[f"linear/cos_{name}/eps0.50"] = float(
        grid_shape(values[k])[:, :, half].mean()
      )
    for algorithm in linear.ALGORITHMS:
      row[f"linear/{algorithm}/robust_test_acc/eps0.50"] = float(
        grid_shape(test_acc_path[algorithm][k])[:, :, half].mean()
      )
      row[f"linear/{algorithm}/loss/eps0.50"] = float(
        grid_shape(losses[algorithm][k])[:, :, half].mean()
      )
    rows.append(row)
  return rows


def _closed_form_check(cfg, data, grid, weights) -> float:
  """A1: PGD on the linear model vs the closed-form robust margin.

  linf from a random start and l2 from zero, without a box (the data are
  unbounded), on the final GD and CD weights of dataset 0 (normalised to
  ||w||_1 = 1), every eps column; returns the largest |difference|.
  """
  x = jnp.asarray(data.x_test[0, : cfg.check_num_points])
  y = jnp.asarray(data.y_test[0, : cfg.check_num_points])
  w = np.concatenate([weights[a][-1, 0] for a in ("gd", "cd")])
  w = w / np.maximum(np.abs(w).sum(-1, keepdims=True), 1e-300)
  eps = np.tile(grid.eps[0], 2)
  errors = _attack_errors(
    jnp.asarray(w),
    jnp.asarray(eps),
    x,
    y,
    jax.random.key(0),
    cfg.check_attack_steps,
  )
  return float(jnp.max(errors))


@functools.partial(jax.jit, static_argnums=(5,))
def _attack_errors(weights, eps, x, y, key, num_steps):
  """|PGD margin - closed-form margin|, linf and l2, per (w, eps) row."""

  def one(w, radius):
    errors = []
    for threat, random_init in (("linf", True), ("l2", False)):
      x_adv = attacks.pgd(
        lambda inputs: inputs @ w,
        x,
        y,
        eps=radius,
        num_steps=num_steps,
        step_size=2.5 * radius / num_steps,
        norm=threat,
        loss_fn=attacks.exponential_loss,
        key=key,
        random_init=random_init,
        clip_min=None,
        clip_max=None,
      )
      closed = linear.rl.robust_margin(w, x, y, radius, threat)
      errors.append(jnp.max(jnp.abs(y * (x_adv @ w) - closed)))
    return jnp.stack(errors)

  return jax.vmap(one)(weights, eps)


# ------------------------------------------------------------ heatmap, A7


def run_heatmap(config, metrics: dict) -> dict:
  """Part 2 (claim A7): GD and CD over teacher x data sparsity x eps;
  fills metrics, returns the CD - GD ``benefit`` grid."""
  cfg, lin = config.heatmap, config.linear
  cells = [(kw, kx) for kw in cfg.teacher_nonzero for kx in cfg.input_nonzero]
  logging.info(
    "robust_erm: heatmap, %d cells x %d seeds", len(cells), cfg.num_seeds
  )
  keys = [
    key
    for kw, kx in cells
    for key in rng.replica_keys(
      rng.stream(config.seed, f"heatmap/kw{kw}/kx{kx}"), cfg.num_seeds
    )
  ]
  data = linear.make_data(
    keys,
    np.repeat([kw for kw, _ in cells], cfg.num_seeds),
    np.repeat([kx for _, kx in cells], cfg.num_seeds),
    lin.dim,
    lin.rho,
    max(cfg.train_sizes),
    cfg.num_test,
  )
  grid = linear.make_grid(data, cfg.train_sizes, lin.eps_fractions)
  steps = np.array([cfg.num_steps])
  gaps, accuracies = {}, {}
  for algorithm in ("gd", "cd"):
    logging.info(
      "robust_erm: heatmap %s, %d problems", algorithm, grid.eps.size
    )
    weights, _ = linear.train(
      algorithm, data, grid, cfg.num_steps, steps, lin.diag_alpha, lin.lr_scale
    )
    test = linear.robust_accuracies(
      weights[-1], data.x_test, data.y_test, grid.eps
    )
    train = linear.robust_accuracies(
      weights[-1], data.x_train, data.y_train, grid.eps, grid.masks
    )
    gaps[algorithm] = train - test
    accuracies[algorithm] = test
  shape = (
    len(cfg.teacher_nonzero),
    len(cfg.input_nonzero),
    cfg.num_seeds,
    len(cfg.train_sizes),
    len(lin.eps_fractions),
  )
  accuracies = {k: v.reshape(shape).mean((2, 3)) for k, v in accuracies.items()}
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
            values[a, b, j]
          )
  sparsest = int(np.argmin(cfg.teacher_nonzero))
  densest = int(np.argmax(cfg.teacher_nonzero))
  largest = int(np.argmax(fractions))
  clean = fractions.index(0.0)
  sparse_large = benefit[sparsest, :, largest].mean()
  dense_clean = benefit[densest, :, clean].mean()
  metrics["heatmap/benefit/sparsest_teacher_largest_eps"] = float(sparse_large)
  metrics["heatmap/benefit/densest_teacher_eps0"] = float(dense_clean)
  metrics["heatmap/benefit/sparse_large_minus_dense_clean"] = float(
    sparse_large - dense_clean
  )
  return {"benefit": benefit}


# ------------------------------------------------------------ networks, A8


def neural_metrics(cfg, nets: dict, metrics: dict, curves: list) -> None:
  """Part 3 (claim A8): robust accuracies of GD vs sign GD networks per
  eps and m, and their training curves."""
  replicas = nets["replicas"]
  means = {}
  for algorithm in neural.ALGORITHMS:
    result = nets[algorithm]
    for eps in cfg.eps:
      tag = _tag(eps)
      select = replicas.eps == np.float32(eps)
      means[algorithm, eps] = float(result["robust"][select].mean())
      metrics[f"nn/{algorithm}/robust_test_acc/eps{tag}"] = means[
        algorithm, eps
      ]
      metrics[f"nn/{algorithm}/clean_test_acc/eps{tag}"] = float(
        result["clean"][select].mean()
      )
      metrics[f"nn/{algorithm}/robust_train_acc/eps{tag}"] = float(
        result["history"]["robust_train_accuracy"][select, -1].mean()
      )
      for size in cfg.train_sizes:
        cell = select & (replicas.train_sizes == size)
        metrics[f"nn/{algorithm}/robust_test_acc/m{size}/eps{tag}"] = float(
          result["robust"][cell].mean()
        )
  for eps in cfg.eps:
    tag = _tag(eps)
    difference = means["gd", eps] - means["sd", eps]
    metrics[f"nn/gd_minus_sd/eps{tag}"] = difference
    metrics[f"nn/gap/eps{tag}"] = abs(difference)
  metrics["nn/gap_increase"] = (
    metrics[f"nn/gap/eps{_tag(cfg.gap_eps)}"] - metrics["nn/gap/eps0.00"]
  )
  num_steps = nets["gd"]["history"]["loss"].shape[-1]
  points = np.unique(
    np.linspace(0, num_steps - 1, cfg.num_curve_points).astype(int)
  )
  for step in points:
    row = {"step": int(step) + 1}
    for algorithm in neural.ALGORITHMS:
      history = nets[algorithm]["history"]
      for eps in cfg.eps:
        select = replicas.eps == np.float32(eps)
        row[f"nn/{algorithm}/loss/eps{_tag(eps)}"] = float(
          history["loss"][select, step].mean()
        )
        row[f"nn/{algorithm}/robust_train_acc/eps{_tag(eps)}"] = float(
          history["robust_train_accuracy"][select, step].mean()
        )
    curves.append(row)
