"""Compute plan of data_pruning (``launch --plan``): one step per phase.

Per dataset, two phases of ``training._compiled`` (one scanned SGD step of
every replica of one call, ``record`` off): the query models of the scores
(EL2N/GraNd seeds and the full-length run) and the final models (methods x
densities x seeds and the full data). Every replica of a call runs the
longest replica's scan (shorter ones are masked), so the step count is
the scan length times the calls. Per-epoch records, the scores and the
DRoP quotas are not counted.
"""

from __future__ import annotations

import jax
import numpy as np

from repro.core import plan as plan_lib
from repro.data import shapes
from repro.studies.data_pruning import grid, training

CLASSES = {"digits": 10, "cifar10": 10, "cifar100": 100}


def dataset_shapes(group) -> tuple[int, int, tuple, int]:
  """(train size, held-out half size, input shape, classes)."""
  if group.source == "mixture":
    classes = group.num_classes
    return (
      group.train_per_class * classes,
      group.test_per_class * classes // 2,
      (group.dim,),
      classes,
    )
  classes = CLASSES[group.source]
  train = shapes.split_size(group.source, "train")
  if group.max_train_per_class:
    train = min(train, group.max_train_per_class * classes)
  return (
    train,
    shapes.split_size(group.source, "test") // 2,
    shapes.image_shape(group.source),
    classes,
  )


def replica_phase(name: str, group, sizes, epochs) -> plan_lib.Phase:
  """One scanned step of a call of ``replica_chunk`` replicas."""
  num_train, held, image, classes = dataset_shapes(group)
  model = training.make_model(group, classes)
  hyper = tuple((k, group[k]) for k in training.HYPER_KEYS)
  steps = np.asarray(epochs) * (np.asarray(sizes) // group.batch_size)
  block_steps = num_train // group.batch_size
  scan_steps = -(-int(steps.max()) // block_steps) * block_steps
  count = len(sizes)
  chunk = count if group.replica_chunk <= 0 else min(group.replica_chunk, count)
  _, run_blocks, _ = training._compiled(
    model,
    hyper,
    1,
    1,
    int(min(sizes)) // group.batch_size,
    False,
    group.augment,
    classes,
  )
  data = (
    plan_lib.struct((num_train,) + image),
    plan_lib.struct((num_train,), np.int32),
    plan_lib.struct((held,) + image),
    plan_lib.struct((held,), np.int32),
    plan_lib.struct((held,) + image),
    plan_lib.struct((held,), np.int32),
  )
  variables = jax.eval_shape(
    jax.vmap(lambda key: model.init(key, np.zeros((1,) + image, np.float32))),
    plan_lib.keys(chunk),
  )
  carry = (
    variables,
    variables["params"],
    plan_lib.struct((chunk, num_train), bool),
    plan_lib.struct((chunk, num_train)),
  )
  replica = lambda dtype, *shape: plan_lib.struct((chunk,) + shape, dtype)
  args = (
    carry,
    plan_lib.struct((), np.int32),
    plan_lib.keys(chunk),
    replica(np.int32, num_train),
    replica(np.int32),
    replica(np.int32),
    replica(np.int32, len(group.lr_drops)),
    data,
  )
  calls = -(-count // chunk)
  return plan_lib.Phase(
    f"{name} ({count} replicas, {chunk} per call)",
    run_blocks,
    args,
    steps=scan_steps * calls,
    params=plan_lib.count_params(variables["params"]) // chunk,
    replicas=chunk,
  )


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a data_pruning run at ``config``'s shapes."""
  scores, pruning = config.scores, config.pruning
  phases = []
  for name in config.datasets:
    group = config.data[name]
    num_train = dataset_shapes(group)[0]
    query_epochs = max(
      1, int(round(scores.query_epoch_fraction * group.epochs))
    )
    phases.append(
      replica_phase(
        f"{name} query models",
        group,
        [num_train] * (scores.query_seeds + 1),
        [query_epochs] * scores.query_seeds + [group.epochs],
      )
    )
    sizes, epochs = [], []
    for density in pruning.densities:
      count = len(pruning.methods) * pruning.num_seeds
      sizes += [grid.subset_size(num_train, density)] * count
      epochs += [training.epochs_for_density(group.epochs, density)] * count
    sizes += [num_train] * pruning.num_seeds
    epochs += [group.epochs] * pruning.num_seeds
    phases.append(replica_phase(f"{name} final models", group, sizes, epochs))
  return phases
