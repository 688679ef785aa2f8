"""Runs the study: every training mode, NC measured along training.

For each mode of ``config.modes`` (standard, PGD-AT, TRADES, and TRADES
with the official code's BatchNorm quirk) the seeds train together
(``vmap``) from the same initialisation in compiled chunks of
``chunk_epochs`` epochs. After the first chunk and every
``eval_every_epochs`` the training set is probed (clean, PGD, targeted
PGD, Gaussian and random-sign noise; every layer's features) and the test
set (clean, PGD),
and the NC numbers are computed in float64 (``analysis``). The last
evaluation gives the final metrics; the first one is the reference of the
"NC1 falls" claims (B1, B5). Metrics are means over seeds.
"""

from __future__ import annotations

import jax
import numpy as np
from absl import logging

from repro import data as data_lib
from repro.core import loop, parallel, rng
from repro.core.errors import UserError
from repro.core.summary import Figure, Summary
from repro.studies.neural_collapse import (
  analysis,
  figures,
  network,
  probes,
  training,
)
from repro.studies.neural_collapse.config import check_config

NUM_CLASSES = 10
TRAIN_PROBES = {
  "clean": True,
  "pgd": True,
  "targeted": False,
  "gaussian": False,
  "sign": False,
}
TEST_PROBES = {"clean": False, "pgd": False}


def per_class_subset(
  split: dict[str, np.ndarray], per_class: int
) -> tuple[np.ndarray, np.ndarray]:
  """The first ``per_class`` examples of every class (0: all), in order."""
  images = np.asarray(split["image"], np.float32)
  labels = np.asarray(split["label"], np.int32)
  if per_class:
    keep = np.concatenate(
      [np.flatnonzero(labels == c)[:per_class] for c in range(NUM_CLASSES)]
    )
    keep.sort()
    images, labels = images[keep], labels[keep]
  missing = sorted(set(range(NUM_CLASSES)) - set(labels.tolist()))
  if missing:
    raise UserError(
      f"classes {missing} have no examples; raise "
      "train_per_class/test_per_class"
    )
  return images, labels


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Trains every mode, measures NC, writes figures; returns the summary."""
  context = prepare(config)
  context["checkpoints"] = checkpoints
  curves, trajectories, standard_leap = [], {}, None
  for mode in config.modes:
    rows, leap_example = train_and_evaluate(mode, **context)
    trajectories[mode] = rows
    curves.extend(rows)
    if mode == "standard":
      standard_leap = leap_example

  metrics = final_metrics(trajectories)
  figure_list = [
    Figure(
      figures.nc1_over_epochs(trajectories, workdir),
      "NC1 (penultimate layer, training set) over epochs for each "
      "training mode: clean, PGD (true labels), targeted PGD (target "
      "labels), Gaussian noise; seed mean.",
    ),
    Figure(
      figures.layer_ratios(trajectories, workdir),
      "Per-layer ratio r = NC1(PGD)/NC1(clean) at the end of "
      "training, for each mode.",
    ),
  ]
  if standard_leap is not None:
    figure_list.append(
      Figure(
        figures.leap_plot(standard_leap, workdir),
        "Standard training, seed 0: clean features and features of "
        "training points attacked towards t = y + 1, in the plane of the "
        "two leading principal axes of the clean class means (numbered "
        "discs); a leap puts the attacked points at the target's disc.",
      )
    )
  return Summary(
    metrics=metrics,
    curves=curves,
    figures=figure_list,
    notes=notes(config, metrics),
  )


def prepare(config) -> dict:
  """Checks the config; data, network, probes, keys and the shared init.

  Returns the keyword arguments of ``train_and_evaluate``.
  """
  check_config(config)
  data_dir = config.data_dir or None
  train_x, train_y = per_class_subset(
    data_lib.load(config.dataset, "train", data_dir), config.train_per_class
  )
  test_x, test_y = per_class_subset(
    data_lib.load(config.dataset, "test", data_dir), config.test_per_class
  )
  steps_per_epoch = train_x.shape[0] // config.batch_size
  if steps_per_epoch < 1:
    raise UserError(
      f"batch_size {config.batch_size} exceeds the "
      f"{train_x.shape[0]} training examples"
    )
  net = network.build(config, train_x, NUM_CLASSES)
  train_probe = probes.make_probe(
    net, config, NUM_CLASSES, TRAIN_PROBES, train_x.shape[0]
  )
  test_probe = probes.make_probe(
    net, config, NUM_CLASSES, TEST_PROBES, test_x.shape[0]
  )
  keys = rng.streams(config.seed, "init", "data", "train", "eval")
  seeds = config.num_seeds
  init_keys = rng.replica_keys(keys["init"], seeds)
  # Every mode starts from the same initialisation (paired comparison).
  # One compiled init per replica: a vmapped init compiles ~3x slower.
  init_one = jax.jit(lambda key: net.init(key, train_x[:1]))
  initial_variables = jax.tree.map(
    lambda *leaves: jax.numpy.stack(leaves),
    *[init_one(key) for key in init_keys],
  )
  data_keys = rng.replica_keys(keys["data"], seeds)
  # The seed axis is the replica axis, sharded over the devices.
  initial_variables, data_keys = parallel.shard_replicas(
    (initial_variables, data_keys)
  )
  arrays = tuple(jax.device_put(a) for a in (train_x, train_y, test_x, test_y))
  return dict(
    config=config,
    net=net,
    train_probe=train_probe,
    test_probe=test_probe,
    initial_variables=initial_variables,
    keys=keys,
    data_keys=data_keys,
    arrays=arrays,
    steps_per_epoch=steps_per_epoch,
  )


def train_and_evaluate(
  mode: str,
  *,
  config,
  net,
  train_probe,
  test_probe,
  initial_variables,
  keys,
  data_keys,
  arrays,
  steps_per_epoch: int,
  checkpoints=None,
) -> tuple[list[dict], dict[str, np.ndarray]]:
  """Trains every seed in ``mode``; evaluates after the first chunk and
  every ``eval_every_epochs``.

  Returns the curve rows (one per evaluation) and the last evaluation's
  leap example (seed 0).
  """
  mode_index = training.MODES.index(mode)
  seeds = config.num_seeds
  epochs = (
    config.standard_epochs if mode == "standard" else config.adversarial_epochs
  )
  optimizer = training.make_optimizer(config, epochs * steps_per_epoch)
  chunk = training.make_train_chunk(
    net, mode, config, optimizer, config.chunk_epochs * steps_per_epoch
  )
  states = training.init_states(optimizer, initial_variables)
  train_keys = parallel.shard_replicas(
    rng.replica_keys(jax.random.fold_in(keys["train"], mode_index), seeds)
  )
  first_step = config.chunk_epochs * steps_per_epoch

  def advance(states, start, size):
    del start, size  # The states count their own steps.
    states, history = chunk(
      parallel.shard_replicas(states),
      data_keys,
      train_keys,
      arrays[0],
      arrays[1],
    )
    return states, history

  def evaluated(states, step):
    row, leap = _evaluated_row(
      mode,
      step // steps_per_epoch,
      config,
      net,
      train_probe,
      test_probe,
      states.variables,
      keys,
      arrays,
    )
    return {"row": row, "leap": leap}

  # Resumable: the batches and attacks of step t depend on t only
  # (step_key), evaluation keys on the epoch, so a resumed run is identical.
  result = loop.run(
    advance,
    states,
    epochs * steps_per_epoch,
    chunk_steps=config.chunk_epochs * steps_per_epoch,
    name=f"neural_collapse/{mode}",
    checkpoints=checkpoints,
    evaluate=evaluated,
    eval_every=config.eval_every_epochs * steps_per_epoch,
    eval_steps=(first_step,),
    history_axis=1,
  )
  rows = []
  for step, kept in result.evals.items():
    row = {k: float(v) for k, v in kept["row"].items()}
    row.update(
      mode=mode,
      epoch=step // steps_per_epoch,
      step=step,
      train_loss=float(np.mean(result.history["loss"][:, step - 1])),
    )
    logging.info(
      "%s epoch %d: loss %.3g, clean NC1 %.3g, PGD NC1 %.3g, "
      "robust train acc %.3f",
      mode,
      row["epoch"],
      row["train_loss"],
      row["nc1"],
      row["pgd_nc1"],
      row["pgd_accuracy"],
    )
    rows.append(row)
  leap_example = {
    k: np.asarray(v) for k, v in result.evals[max(result.evals)]["leap"].items()
  }
  return rows, leap_example


def _evaluated_row(
  mode, epoch, config, net, train_probe, test_probe, variables, keys, arrays
):
  """The numbers of one evaluation and its leap example (``evaluate``)."""
  eval_keys = rng.replica_keys(
    jax.random.fold_in(
      jax.random.fold_in(keys["eval"], training.MODES.index(mode)), epoch
    ),
    config.num_seeds,
  )
  return evaluate(
    net, train_probe, test_probe, config, variables, eval_keys, arrays
  )


def evaluate(
  net, train_probe, test_probe, config, variables, eval_keys, arrays
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
  """NC numbers of the current networks, averaged over seeds.

  Returns the curve row and seed 0's clean and targeted penultimate
  features (for the leap figure).
  """
  train_x, train_y, test_x, test_y = arrays
  train = jax.device_get(train_probe(variables, eval_keys, train_x, train_y))
  test = jax.device_get(
    test_probe(
      variables,
      jax.vmap(lambda k: jax.random.fold_in(k, 1))(eval_keys),
      test_x,
      test_y,
    )
  )
  weights = np.asarray(jax.vmap(net.classifier)(variables))
  row = analysis.evaluation_metrics(
    train,
    test,
    train_y,
    test_y,
    weights,
    num_classes=NUM_CLASSES,
    rtol=config.pinv_rtol,
  )
  leap = {
    "clean": train["clean"]["features"][-1][0],
    "targeted": train["targeted"]["features"][-1][0],
    "labels": np.asarray(train_y),
  }
  return {k: float(np.mean(v)) for k, v in row.items()}, leap


# Metrics of the last evaluation copied into the summary, per mode.
FINAL_KEYS = (
  "accuracy",
  "pgd_accuracy",
  "test_network_accuracy",
  "test_pgd_network_accuracy",
  "test_pgd_ncc_accuracy",
  "test_pgd_gap",
  "nc1",
  "nc2_equinorm",
  "nc2_equiangular",
  "nc2_w_equinorm",
  "nc2_w_equiangular",
  "nc3",
  "nc4",
  "pgd_nc1",
  "pgd_nc2_equiangular",
  "pgd_nc3",
  "pgd_nc4",
  "nc1_pgd_over_clean",
  "ncc_agreement",
  "alignment_angle",
  "targeted_nc1",
  "targeted_nc1_over_clean",
  "targeted_angle",
  "target_success",
  "gaussian_nc1_over_clean",
  "gaussian_accuracy_drop",
  "sign_nc1_over_clean",
  "sign_accuracy_drop",
)


def final_metrics(trajectories: dict[str, list[dict]]) -> dict[str, float]:
  """Claim metrics from the per-mode trajectories (``mode/name``).

  ``nc1_final_over_first`` compares the last evaluation with the first
  (epoch ``chunk_epochs``); ``layer_ratio_min_growth`` is
  ``min_l r_{l+1} / r_l`` over consecutive layers (> 1: r grows with
  depth); ``noise_accuracy_drop_max`` the larger drop of the two noises.
  """
  metrics = {}
  for mode, rows in trajectories.items():
    first, last = rows[0], rows[-1]
    values = {k: last[k] for k in FINAL_KEYS}
    values["nc1_final_over_first"] = last["nc1"] / first["nc1"]
    values["pgd_nc1_final_over_first"] = last["pgd_nc1"] / first["pgd_nc1"]
    ratios = [
      last[f"layer{layer}_nc1_ratio"]
      for layer in range(1, _num_layers(last) + 1)
    ]
    for layer, ratio in enumerate(ratios, start=1):
      values[f"layer{layer}_nc1_ratio"] = ratio
    values["layer_ratio_min_growth"] = float(
      np.min(np.asarray(ratios[1:]) / np.asarray(ratios[:-1]))
    )
    values["noise_accuracy_drop_max"] = max(
      last["gaussian_accuracy_drop"], last["sign_accuracy_drop"]
    )
    metrics.update({f"{mode}/{k}": float(v) for k, v in values.items()})
  for mode in ("trades", "trades_official"):
    if mode in trajectories and "pgd_at" in trajectories:
      metrics[f"{mode}_over_pgd_at_nc1"] = (
        trajectories[mode][-1]["nc1"] / trajectories["pgd_at"][-1]["nc1"]
      )
  return metrics


def _num_layers(row: dict) -> int:
  return sum(
    1 for k in row if k.endswith("_nc1_ratio") and k.startswith("layer")
  )


_TRADES_STARTS = {
  "official": "at x + 0.001 N(0, I), as the reference TRADES code does",
  "uniform": "at a uniform point of the eps-ball (the reference starts at "
  "x + 0.001 N(0, I))",
}


def notes(config, metrics: dict[str, float]) -> str:
  """Protocol and deviations for the report."""
  text = (
    f"{config.model} on {config.dataset}, {config.num_seeds} seed(s) "
    f"(metrics are seed means); modes {', '.join(config.modes)}. Standard "
    f"training for {config.standard_epochs} epochs, adversarial modes for "
    f"{config.adversarial_epochs} (TRADES beta = {config.trades_beta}); "
    f"SGD momentum {config.momentum}, lr {config.learning_rate} divided by "
    f"10 at {tuple(config.lr_decay_fractions)} of training, weight decay "
    f"{config.weight_decay}, batch {config.batch_size}, no augmentation. "
    f"Threat model {config.norm} eps = {config.eps:.4g} in [0, 1] pixel "
    f"units; evaluation PGD {config.attack_steps} steps of "
    f"{config.attack_step_size:.4g} with a random start, training attacks "
    f"{config.train_attack_steps} steps of "
    f"{config.train_attack_step_size:.4g}; same-size noise: Gaussian with "
    "per-pixel sigma = eps and random signs +-eps.\n\n"
    f"NC is measured on the training set at epoch {config.chunk_epochs} "
    f"and every {config.eval_every_epochs} epochs with fresh eval-mode "
    "attacks "
    "(the protocol of the official eval.py, not the stale training-time "
    "perturbations of train.py). NC1 = Tr(Sigma_W Sigma_B^+)/C (Papyan et "
    "al.; the official code omits 1/C, which cancels in every ratio "
    f"claimed), pseudo-inverse tolerance {config.pinv_rtol:g} relative to "
    "the largest eigenvalue of Sigma_B, float64. PGD NC groups perturbed "
    "features by the true label, targeted NC (t = y + 1 mod C) by the "
    "target. PGD-AT attacks run in train mode (batch statistics) and only "
    "the training forward updates BatchNorm running statistics. TRADES "
    f"attacks start {_TRADES_STARTS[config.trades_start]}."
  )
  lines = []
  for mode in config.modes:
    if f"{mode}/nc1" in metrics:
      lines.append(
        f"- {mode}: final clean NC1 {metrics[f'{mode}/nc1']:.3g}, PGD NC1 "
        f"{metrics[f'{mode}/pgd_nc1']:.3g}, train/test accuracy "
        f"{metrics[f'{mode}/accuracy']:.3f}/"
        f"{metrics[f'{mode}/test_network_accuracy']:.3f}, robust "
        f"train/test accuracy {metrics[f'{mode}/pgd_accuracy']:.3f}/"
        f"{metrics[f'{mode}/test_pgd_network_accuracy']:.3f}"
      )
  return text + "\n\n" + "\n".join(lines)
