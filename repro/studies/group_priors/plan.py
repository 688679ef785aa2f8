"""Compute plan of group_priors (``launch --plan``): one step per phase.

Per dataset: an ERM step (``training.erm_loss`` in ``train.fit``, every
seed), a step of the last-layer grid (``training.grid_train_gap`` on
``head_logits``: seeds x configurations) and a step of the all-layer GAP
grid (``grid_train_gap`` on ``mlp_logits``). Feature extraction, the
probe and DFR (scikit-learn on the host) are not counted.
"""

from __future__ import annotations

import functools
import itertools

import jax
import numpy as np
import optax

from repro.core import plan as plan_lib
from repro.data import groups as groups_lib
from repro.studies.group_priors import data as data_lib
from repro.studies.group_priors import training
from repro.studies.group_priors.methods import _hypers, head_grid

# Waterbirds splits (train, val) and the input shape of each dataset.
WATERBIRDS_SIZES = {"train": 4795, "val": 1199}


def input_shape(name: str, config) -> tuple[int, ...]:
  if name == "gaussian":
    g = config.gaussian
    return (g.core_dim + g.spurious_dim + g.noise_dim,)
  if name == "dominoes":
    return (16, 8, 1)  # Spurious digit over core digit, 8x8 each.
  size = config.waterbirds.image_size
  return (size, size, 3)


def split_sizes(name: str, config) -> tuple[int, int]:
  """(train, fit half) example counts of a dataset."""
  if name == "waterbirds":
    return WATERBIRDS_SIZES["train"], WATERBIRDS_SIZES["val"] // 2
  counts = data_lib.split_counts(config)
  return sum(counts["train"]), sum(counts["fit"])


def grid_phase(
  name: str,
  apply_fn,
  params,
  prior,
  fit_shape,
  rows,
  steps: int,
  config,
  learning_rate: float,
) -> plan_lib.Phase:
  """One SGD step of every (seed, configuration) of a GAP grid."""
  gap, seeds = config.gap, config.num_seeds
  fn = functools.partial(
    training.grid_train_gap,
    apply_fn,
    steps=1,
    learning_rate=learning_rate,
    momentum=gap.momentum,
    batch_size=gap.batch_size,
    context_batch_size=gap.context_batch_size,
    num_groups=groups_lib.NUM_GROUPS,
  )
  args = (
    params,
    prior,
    plan_lib.struct((seeds,) + fit_shape),
    plan_lib.struct(fit_shape[:1], np.int32),
    plan_lib.struct(fit_shape[:1], np.int32),
    plan_lib.abstract(_hypers(rows)),
    plan_lib.keys(seeds),
  )
  args = (
    args[:3]
    + tuple(plan_lib.struct((seeds,) + a.shape, a.dtype) for a in args[3:5])
    + args[5:]
  )
  return plan_lib.Phase(
    f"{name} ({len(rows)} configurations x {seeds} seeds)",
    fn,
    args,
    steps=steps,
    params=plan_lib.count_params(params) // seeds,
    replicas=seeds,
  )


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a group_priors run at ``config``'s shapes."""
  seeds, erm = config.num_seeds, config.erm
  phases = []
  for name in config.datasets:
    shape = input_shape(name, config)
    num_train, num_fit = split_sizes(name, config)
    sizes = (
      (int(np.prod(shape)),) + tuple(erm.hidden_sizes) + (training.NUM_CLASSES,)
    )
    one = training.init_mlp(np.random.default_rng(0), sizes)
    params = jax.tree.map(
      lambda leaf: plan_lib.struct((seeds,) + leaf.shape, leaf.dtype), one
    )
    batch_size = min(erm.batch_size, num_train)
    step, args = plan_lib.fit_step(
      functools.partial(training.erm_loss, batch_size=batch_size),
      optax.adam(erm.learning_rate),
      params,
      data=(
        plan_lib.struct((seeds, num_train) + shape),
        plan_lib.struct((seeds, num_train), np.int32),
      ),
      replicas=seeds,
    )
    phases.append(
      plan_lib.Phase(
        f"{name} ERM step",
        step,
        args,
        steps=max(1, erm.epochs * num_train // batch_size),
        params=plan_lib.count_params(one),
        replicas=seeds,
      )
    )
    body, head = jax.eval_shape(training.split_head, params)
    width = erm.hidden_sizes[-1]
    phases.append(
      grid_phase(
        f"{name} last-layer GAP step",
        training.head_logits,
        head,
        head,
        (num_fit, width),
        head_grid(config),
        config.gap.steps,
        config,
        config.gap.learning_rate,
      )
    )
    cfg = config.all_layers
    rows = [
      ("gap", (scale, rho, cfg.group_scale, config.gap.precision))
      for scale, rho in itertools.product(cfg.scales, cfg.rhos)
    ]
    phases.append(
      grid_phase(
        f"{name} all-layer GAP step",
        training.mlp_logits,
        params,
        params,
        (num_fit,) + shape,
        rows,
        cfg.steps,
        config,
        cfg.learning_rate,
      )
    )
    del body
  return phases
