"""Runs the study: ERM, last-layer baselines, DFR and GAP, per dataset.

Per dataset and seed (seeds are a ``vmap``ped replica axis): train the ERM
MLP on the skewed training set; freeze its penultimate features; fit every
last-layer head on the ``fit`` half of the annotated set (ERM-LL, the GAP
grid and its ablations in one vmapped ``lax.scan``), DFR with scikit-learn,
and GAP on all layers from the ERM weights; choose hyperparameters by the
worst-group accuracy on the ``select`` half only; report the test groups.
Metrics are means over seeds; the first dataset of ``config.datasets``
carries the claims (metric names without a prefix), the others are
reported under ``<dataset>/``.
"""

from __future__ import annotations

import jax
from absl import logging

from repro.core.summary import Summary
from repro.studies.group_priors import figures, methods
from repro.studies.group_priors.config import check_config


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Every dataset of ``config.datasets``; figures; returns the summary."""
  check_config(config)
  metrics, curves, figure_list = {}, [], []
  for position, name in enumerate(config.datasets):
    logging.info("dataset %s", name)
    with jax.threefry_partitionable(False):
      results, sweep, dataset_curves = methods.run_dataset(
        name, config, checkpoints
      )
    prefix = "" if position == 0 else f"{name}/"
    metrics.update(methods.dataset_metrics(results, prefix))
    figure_list += figures.write_all(
      workdir, name, results, sweep, config, methods.GROUP_NAMES
    )
    for step, value in enumerate(dataset_curves["erm_loss"]):
      if step % 10 == 0:
        curves.append({"step": step, f"{name}/erm/train_loss": float(value)})
    for step, value in enumerate(dataset_curves["gap_loss"]):
      curves.append({"step": step, f"{name}/gap_ll/loss": float(value)})
  notes = (
    f"Datasets {', '.join(config.datasets)}; {config.num_seeds} "
    f"seeds; claims on {config.datasets[0]}. Hyperparameters "
    "selected by worst-group accuracy on the held-out select half."
  )
  return Summary(
    metrics=metrics, curves=curves, figures=figure_list, notes=notes
  )
