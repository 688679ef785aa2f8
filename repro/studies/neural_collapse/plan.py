"""Compute plan of neural_collapse (``launch --plan``): one step per phase.

Each training mode is one step of ``training.make_train_chunk`` (every seed
at once); each evaluation runs the train and test probes
(``probes.make_probe``: clean, PGD, targeted and noise features). Shapes
come from the config and the dataset's known sizes; nothing is read.
"""

from __future__ import annotations

import jax
import numpy as np

from repro.core import plan as plan_lib
from repro.data import shapes
from repro.studies.neural_collapse import network, probes, training
from repro.studies.neural_collapse.experiment import (
  NUM_CLASSES,
  TEST_PROBES,
  TRAIN_PROBES,
)


def split_size(config, split: str) -> int:
  per_class = config[f"{split}_per_class"]
  if per_class:
    return per_class * NUM_CLASSES
  return shapes.split_size(config.dataset, split)


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a neural_collapse run at ``config``'s shapes."""
  image = shapes.image_shape(config.dataset)
  num_train, num_test = split_size(config, "train"), split_size(config, "test")
  seeds = config.num_seeds
  # Standardisation statistics only; any images of the right shape do.
  net = network.build(
    config, np.random.default_rng(0).random((2,) + image), NUM_CLASSES
  )
  variables = jax.eval_shape(
    jax.vmap(lambda key: net.init(key, np.zeros((1,) + image, np.float32))),
    plan_lib.keys(seeds),
  )
  steps_per_epoch = num_train // config.batch_size
  train_data = (
    plan_lib.struct((num_train,) + image),
    plan_lib.struct((num_train,), np.int32),
  )
  phases, evaluations = [], 0
  for mode in config.modes:
    epochs = (
      config.standard_epochs
      if mode == "standard"
      else config.adversarial_epochs
    )
    optimizer = training.make_optimizer(config, epochs * steps_per_epoch)
    chunk = training.make_train_chunk(net, mode, config, optimizer, 1)
    states = jax.eval_shape(
      lambda v, o=optimizer: training.init_states(o, v), variables
    )
    phases.append(
      plan_lib.Phase(
        f"{mode} train step",
        chunk,
        (states, plan_lib.keys(seeds), plan_lib.keys(seeds)) + train_data,
        steps=epochs * steps_per_epoch,
        params=plan_lib.count_params(variables["params"]) // seeds,
        replicas=seeds,
      )
    )
    # After the first chunk, then every eval_every_epochs.
    evaluations += len(
      {config.chunk_epochs}
      | set(
        range(config.eval_every_epochs, epochs + 1, config.eval_every_epochs)
      )
    )
  for split, kinds, size in (
    ("train", TRAIN_PROBES, num_train),
    ("test", TEST_PROBES, num_test),
  ):
    probe = probes.make_probe(net, config, NUM_CLASSES, kinds, size)
    phases.append(
      plan_lib.Phase(
        f"{split} probe ({', '.join(kinds)})",
        probe,
        (
          variables,
          plan_lib.keys(seeds),
          plan_lib.struct((size,) + image),
          plan_lib.struct((size,), np.int32),
        ),
        steps=evaluations,
        replicas=seeds,
        note="evaluations of all modes; the NC metrics on the host not counted",
      )
    )
  return phases
