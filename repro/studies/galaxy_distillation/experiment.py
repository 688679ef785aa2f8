"""Runs the study: experts, MTT/STM distillation, evaluation, figures.

1. Load the (standardised) galaxies; train ``num_experts`` experts and save
   their per-epoch parameters (``experts``).
2. For every images-per-class value: MTT with T+ = ``max_start_epoch``;
   at ``stm_ipc`` also MTT with every T+ of ``start_epoch_sweep`` and STM,
   together as one replica axis (``distill``).
3. Train ``num_eval_nets`` fresh nets on each distilled set (lr = learned
   alpha), on ``random_draws`` random real sets and on the class-mean set
   (lr = ``baseline_lr``); test accuracy (``evaluate``).
4. B5: finite-difference check of the unrolled gradient (``gradcheck``);
   B6: the trend test on constructed sequences and STM's controller trace.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import rng
from repro.core.summary import Figure, Summary
from repro.studies.galaxy_distillation import (
  data,
  distill,
  evaluate,
  experts,
  figures,
  measure,
  network,
)
from repro.studies.galaxy_distillation.config import check_config


def run_specs(config, ipc: int) -> tuple[list[str], distill.RunSpec]:
  """Names and per-replica settings of the distillation runs at ``ipc``."""
  sweep = [config.max_start_epoch]
  if ipc == config.stm_ipc:
    sweep = sorted(set(config.start_epoch_sweep) | {config.max_start_epoch})
  names = [f"mtt_T{t}" for t in sweep]
  is_stm = [False] * len(sweep)
  starts = list(sweep)
  match = [config.match_epochs] * len(sweep)
  lr_step = [config.lr_lr] * len(sweep)
  if ipc == config.stm_ipc:
    names.append("stm")
    is_stm.append(True)
    starts.append(config.stm_max_start_epoch)
    match.append(config.stm_match_epochs)
    lr_step.append(config.stm_lr_log_alpha)
  spec = distill.RunSpec(
    is_stm=jnp.array(is_stm),
    max_start_epoch=jnp.array(starts, jnp.int32),
    match_epochs=jnp.array(match, jnp.int32),
    lr_img=jnp.full((len(names),), config.lr_img, jnp.float32),
    lr_step=jnp.array(lr_step, jnp.float32),
  )
  return names, spec


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Trains experts, distils, evaluates, writes figures; returns summary."""
  check_config(config)
  with jax.threefry_partitionable(False):
    return _run(config, workdir, checkpoints)


def _run(config, workdir: str, checkpoints) -> Summary:
  keys = rng.streams(
    config.seed, "data", "init", "train", "distill", "eval", "trend"
  )
  train_x, train_y, test_x, test_y, mean, std = data.load(config)
  logging.info(
    "data: %d train, %d test, %s", len(train_y), len(test_y), train_x.shape[1:]
  )
  net = network.build(config, data.NUM_CLASSES, train_x.shape[1:])
  arrays = [jax.device_put(a) for a in (train_x, train_y, test_x, test_y)]
  expert = experts.train_experts(
    config, net, keys, *arrays, checkpoints=checkpoints
  )
  trajectories = jnp.asarray(expert["trajectories"])
  metrics = measure.expert_metrics(expert, net)
  logging.info("experts: test accuracy %s", expert["test_accuracy"])
  data_rng = np.random.default_rng(
    np.asarray(jax.random.key_data(keys["data"])).astype(np.uint32)
  )
  curves, grid_rows, grid_ipc, loss_curves, table = [], {}, {}, {}, {}
  alphas = []
  for ipc, iterations in zip(config.ipcs, config.iterations, strict=True):
    result = _distill_and_evaluate(
      config,
      net,
      keys,
      (train_x, train_y),
      arrays,
      trajectories,
      ipc,
      iterations,
      data_rng,
      checkpoints,
    )
    alphas.extend(result["alpha"].tolist())
    table[ipc] = measure.accuracy_metrics(config, ipc, result, metrics)
    loss_curves.update(
      measure.loss_metrics(config, ipc, iterations, result, metrics)
    )
    grid_rows[f"MTT ipc {ipc}"] = np.asarray(
      result["states"].images[result["main"]]
    )
    grid_ipc[f"MTT ipc {ipc}"] = ipc
    if ipc == config.stm_ipc:
      metrics.update(measure.stm_metrics(config, result))
      stm = result["names"].index("stm")
      grid_rows[f"STM ipc {ipc}"] = np.asarray(result["states"].images[stm])
      grid_ipc[f"STM ipc {ipc}"] = ipc
    curves.extend(measure.distill_curves(ipc, iterations, result))
  metrics["alpha_min"] = float(np.min(alphas))
  metrics.update(measure.check_metrics(config, keys["trend"]))
  figure_list = _figures(
    config, grid_rows, grid_ipc, loss_curves, table, mean, std, workdir
  )
  return Summary(
    metrics=metrics,
    curves=curves,
    figures=figure_list,
    notes=notes(config, metrics),
  )


def _distill_and_evaluate(
  config,
  net,
  keys,
  train,
  arrays,
  trajectories,
  ipc: int,
  iterations: int,
  data_rng,
  checkpoints,
) -> dict:
  """Distils every run at ``ipc`` and evaluates it beside the baselines.

  ``train`` holds the host (numpy) training images and labels the real
  sets are drawn from; ``arrays`` the device copies of train and test.
  Draws from ``data_rng`` in a fixed order: the shared real init, then
  ``random_draws`` random real sets. Returns the run ``names``, final
  ``states``, per-iteration ``records``, learned ``alpha`` per run, the
  ``accuracy`` ``[runs + random_draws + 1, eval nets]`` (distilled sets,
  random real sets, class means), ``num_random`` and the index ``main`` of
  MTT at T+ = ``max_start_epoch``.
  """
  train_x, train_y = train
  labels = jnp.asarray(data.syn_labels(ipc))
  names, specs = run_specs(config, ipc)
  init_images = data.random_real(train_x, train_y, ipc, data_rng)
  states, records = distill.distill(
    config,
    net.apply,
    jnp.asarray(init_images),
    labels,
    trajectories,
    specs,
    jax.random.fold_in(keys["distill"], ipc),
    iterations,
    description=f"ipc {ipc}",
    checkpoints=checkpoints,
  )
  learned_alpha = np.asarray(distill.step_size(specs, states.step_param))
  baselines = [
    data.random_real(train_x, train_y, ipc, data_rng)
    for _ in range(config.random_draws)
  ]
  sets = np.concatenate(
    [
      np.asarray(states.images),
      np.stack(baselines),
      data.class_means(train_x, train_y, ipc)[None],
    ]
  )
  lrs = np.concatenate(
    [learned_alpha, np.full(len(baselines) + 1, config.baseline_lr)]
  )
  accuracy = evaluate.evaluate_sets(
    config,
    net,
    sets,
    labels,
    lrs,
    jax.random.fold_in(keys["eval"], ipc),
    arrays[2],
    arrays[3],
  )
  logging.info("ipc %d accuracies: %s", ipc, accuracy.mean(1))
  return {
    "names": names,
    "states": states,
    "records": records,
    "alpha": learned_alpha,
    "accuracy": accuracy,
    "num_random": len(baselines),
    "main": names.index(f"mtt_T{config.max_start_epoch}"),
  }


def _figures(
  config, grid_rows, grid_ipc, loss_curves, table, mean, std, workdir: str
) -> list[Figure]:
  return [
    Figure(
      figures.image_grid(grid_rows, grid_ipc, mean, std, workdir),
      "Distilled images (display space, up to 3 per class): MTT at "
      "each images-per-class value and STM.",
    ),
    Figure(
      figures.loss_curves(loss_curves, workdir),
      "Normalised matching loss ||theta_N - theta*_{t+M}||^2 / "
      "||theta*_t - theta*_{t+M}||^2 per iteration (running mean); "
      "STM matches M = 1 from a growing pool, MTT M = "
      f"{config.match_epochs}.",
    ),
    Figure(
      figures.accuracy_table(table, workdir),
      "Test accuracy of fresh ConvNets trained on each set.",
    ),
  ]


def notes(config, metrics) -> str:
  return (
    f"Data {config.dataset} at {config.image_size}x{config.image_size}, "
    f"{config.train_per_class or 'all'} train / "
    f"{config.test_per_class or 'all'} test images per class; "
    f"ConvNet-D{config.depth}W{config.width} (instance norm, avg pool); "
    f"DSA ops {tuple(config.augment_ops)} in single-op mode. "
    f"{config.num_experts} experts x {config.expert_epochs_total} epochs "
    f"of SGD lr {config.expert_lr}, batch {config.expert_batch_size} "
    f"(mean test accuracy {metrics['expert_test_accuracy']:.3f}). "
    f"MTT: N = {config.syn_steps}, M = {config.match_epochs}, T+ = "
    f"{config.max_start_epoch}, lr_img {config.lr_img:g}, raw-alpha "
    f"lr {config.lr_lr:g}, alpha0 {config.alpha_init:g}, iterations "
    f"{tuple(config.iterations)} for ipc {tuple(config.ipcs)}; STM at ipc "
    f"{config.stm_ipc}: lambda {config.stm_sigma:g}, test every "
    f"{config.stm_test_every}, T_max {config.stm_max_duration}, log-alpha "
    f"lr {config.stm_lr_log_alpha:g} (final cap "
    f"{metrics.get('stm_final_cap', float('nan')):.0f}, "
    f"{metrics.get('stm_levels', float('nan')):.0f} level-ups). "
    f"Evaluation: {config.num_eval_nets} fresh nets x "
    f"{config.eval_epochs} full-batch epochs (SGD m "
    f"{config.eval_momentum}, wd {config.eval_weight_decay:g}, lr x 0.1 "
    f"at half; distilled sets use their learned alpha, baselines lr "
    f"{config.baseline_lr:g}); {config.random_draws} random-real draws. "
    "Accuracies are means over eval nets; the last evaluation is "
    "reported (no selection on test)."
  )
