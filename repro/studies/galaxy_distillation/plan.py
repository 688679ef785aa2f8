"""Compute plan of galaxy_distillation (``launch --plan``).

Phases: one epoch of every expert (``experts._compiled_chunk``: augmented
SGD, experts one after another on each device), one distillation
iteration of every run of an images-per-class value
(``distill._compiled_chunk`` over one iteration: ``syn_steps`` unrolled
student steps and their second-order gradient, plus STM's next-epoch
loss), and per ipc the evaluation (``evaluate.train_and_test`` of every
eval net on every set, full-batch training then the test set). The
trend-test calibration and the experts' test accuracy are not counted.
"""

from __future__ import annotations

import functools

import jax
import ml_collections
import numpy as np

from repro.core import parallel
from repro.core import plan as plan_lib
from repro.studies.galaxy_distillation import (
  data,
  distill,
  evaluate,
  experts,
  network,
)
from repro.studies.galaxy_distillation.experiment import run_specs

# Galaxy Zoo 2 as curated for the paper: the 600 most confident galaxies
# of each class, 100 of them for testing (repro.data.galaxy_zoo2).
GZ2_PER_CLASS = {"train": 500, "test": 100}


def split_sizes(config) -> tuple[int, int]:
  """(train, test) images."""
  sizes = []
  for split in ("train", "test"):
    per_class = config[f"{split}_per_class"]
    if not per_class:
      per_class = GZ2_PER_CLASS[split]
    sizes.append(per_class * data.NUM_CLASSES)
  return tuple(sizes)


def expert_phase(config, net, image, num_train) -> plan_lib.Phase:
  """One epoch of every expert."""
  num = config.num_experts
  mesh = parallel.replica_mesh(num)
  chunk = experts._compiled_chunk(
    net.apply,
    mesh,
    float(config.expert_lr),
    int(config.expert_batch_size),
    tuple(config.augment_ops),
  )
  return plan_lib.Phase(
    f"expert epoch ({num} experts)",
    chunk,
    (
      plan_lib.struct((num, net.num_params)),
      plan_lib.keys(num),
      plan_lib.struct((), np.int32),
      plan_lib.struct((num_train,) + image),
      plan_lib.struct((num_train,), np.int32),
    ),
    steps=config.expert_epochs_total,
    params=net.num_params,
    replicas=num,
  )


def distill_phase(
  config, net, image, ipc: int, iterations: int
) -> plan_lib.Phase:
  """One iteration of every distillation run at ``ipc``."""
  names, specs = run_specs(config, ipc)
  runs = len(names)
  labels = data.syn_labels(ipc)
  mesh = parallel.replica_mesh(runs)
  chunk = distill._compiled_chunk(
    ml_collections.FrozenConfigDict(config),
    net.apply,
    tuple(labels.tolist()),
    mesh,
    bool(np.any(np.asarray(specs.is_stm))),
  )
  history = config.stm_max_duration + config.stm_test_every + 1
  images = plan_lib.struct((labels.shape[0],) + image)
  states = jax.eval_shape(
    jax.vmap(
      functools.partial(
        distill.init_state, alpha_init=config.alpha_init, history_size=history
      ),
      in_axes=(0, None),
    ),
    specs,
    images,
  )
  trajectories = plan_lib.struct(
    (config.num_experts, config.expert_epochs_total + 1, net.num_params)
  )
  return plan_lib.Phase(
    f"ipc {ipc} distillation iteration ({', '.join(names)})",
    chunk,
    (
      plan_lib.abstract(specs),
      plan_lib.keys(runs),
      states,
      plan_lib.struct((1,), np.int32),
      trajectories,
    ),
    steps=iterations,
    params=int(np.prod(images.shape)),
    replicas=runs,
  )


def evaluation_phase(
  config, net, image, ipc: int, num_test: int
) -> plan_lib.Phase:
  """Every eval net trained on every set of ``ipc`` and tested."""
  runs = len(run_specs(config, ipc)[0])
  num_sets = runs + config.random_draws + 1  # + random real, class means
  nets = config.num_eval_nets
  one = functools.partial(
    evaluate.train_and_test,
    apply=net.apply,
    epochs=config.eval_epochs,
    momentum=config.eval_momentum,
    weight_decay=config.eval_weight_decay,
    ops=tuple(config.augment_ops),
  )
  over_nets = jax.vmap(one, in_axes=(0, 0, None, None, None, None, None))
  over_sets = jax.vmap(over_nets, in_axes=(None, None, 0, None, 0, None, None))
  size = ipc * data.NUM_CLASSES
  return plan_lib.Phase(
    f"ipc {ipc} evaluation ({num_sets} sets x {nets} nets, "
    f"{config.eval_epochs} epochs)",
    over_sets,
    (
      plan_lib.struct((nets, net.num_params)),
      plan_lib.keys(nets),
      plan_lib.struct((num_sets, size) + image),
      plan_lib.struct((size,), np.int32),
      plan_lib.struct((num_sets,)),
      plan_lib.struct((num_test,) + image),
      plan_lib.struct((num_test,), np.int32),
    ),
    steps=1,
    params=net.num_params,
    replicas=num_sets * nets,
  )


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a galaxy_distillation run at ``config``'s shapes."""
  image = (config.image_size, config.image_size, 3)
  num_train, num_test = split_sizes(config)
  net = network.build(config, data.NUM_CLASSES, image)
  phases = [expert_phase(config, net, image, num_train)]
  for ipc, iterations in zip(config.ipcs, config.iterations, strict=True):
    phases.append(distill_phase(config, net, image, ipc, iterations))
    phases.append(evaluation_phase(config, net, image, ipc, num_test))
  return phases
