"""run(config, workdir): the bnn_attacks study (arXiv 2404.19640).

In this order (README, What is run):
  1. Inference on the training set: MAP ensemble (DET = member 0), full-
     batch HMC with chains started at the members, MFVI, MC dropout;
     clean accuracy, HMC acceptance and split R-hat (claim A1).
  2. Label attacks on the BMA over an eps grid for every method (A2), on
     HMC with fewer draws (A3), naive attacks that target the wrong
     object (A4), EOT transfer to fresh draws (A7).
  3. Detection of adversarial examples by predictive uncertainty, against
     first-flip and adaptive "confidently wrong" attacks (A5).
  4. Semantic-shift detection: HMC on the in-distribution classes, OOD
     and ID inputs attacked through the entropy (A6).
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from repro import data as data_lib
from repro.core import rng
from repro.core.summary import Summary
from repro.studies.bnn_attacks import evaluation, figures, posteriors
from repro.studies.bnn_attacks.config import check_config


def _load(config):
  """Flattened train/test arrays and the fixed attacked test subset."""
  split = lambda name: data_lib.load(
    config.data.dataset, name, config.data_dir or None
  )
  train, test = split("train"), split("test")
  flat = lambda images: jnp.asarray(images.reshape(images.shape[0], -1))
  x_train, y_train = flat(train["image"]), jnp.asarray(train["label"])
  if config.data.max_train:
    x_train = x_train[: config.data.max_train]
    y_train = y_train[: config.data.max_train]
  x_test, y_test = flat(test["image"]), jnp.asarray(test["label"])
  data_key = jax.random.key_data(rng.stream(config.seed, "data"))
  order = np.random.default_rng(np.asarray(data_key)).permutation(
    x_test.shape[0]
  )
  return x_train, y_train, x_test, y_test, order


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Runs all parts; writes figures into ``workdir``."""
  check_config(config)
  os.makedirs(workdir, exist_ok=True)
  timings: dict[str, float] = {}
  metrics: dict[str, float] = {}
  curves: list[dict] = []
  with jax.threefry_partitionable(False):
    clock = time.perf_counter()
    x_train, y_train, x_test, y_test, order = _load(config)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    trained = posteriors.train_all(
      config, x_train, y_train, num_classes, checkpoints=checkpoints
    )
    timings["inference"] = time.perf_counter() - clock
    evaluation.sanity(config, trained, x_test, y_test, metrics, curves)

    clock = time.perf_counter()
    subset = order[: config.data.num_attack]
    x_att, y_att = x_test[subset], y_test[subset]
    label = evaluation.label_attacks(config, trained, x_att, y_att, metrics)
    timings["label_attacks"] = time.perf_counter() - clock

    clock = time.perf_counter()
    detection = evaluation.detection(config, trained, x_att, y_att, metrics)
    timings["detection"] = time.perf_counter() - clock

    clock = time.perf_counter()
    shift = evaluation.semantic_shift(
      config, x_train, y_train, x_test, y_test, order, metrics, checkpoints
    )
    timings["semantic_shift"] = time.perf_counter() - clock
  for part, seconds in timings.items():
    metrics[f"time/{part}_s"] = seconds

  figure_list = [
    figures.robust_accuracy(config, label, workdir),
    figures.detection_roc(detection, workdir),
    figures.ood_roc(shift, workdir),
  ]
  return Summary(
    metrics=metrics,
    curves=curves,
    figures=figure_list,
    notes=_notes(config, metrics),
  )


def _notes(config, metrics) -> str:
  return (
    f"Digits-scale reproduction ({config.data.dataset}, MLP "
    f"{tuple(config.model.hidden_sizes)}). HMC: "
    f"{config.hmc.num_chains} chains x {config.hmc.num_draws} draws "
    f"(thin {config.hmc.thin}), acceptance "
    f"{metrics['hmc/acceptance_mean']:.2f}, split R-hat of the test "
    f"log-likelihood {metrics['hmc/rhat_test_loglik']:.3f}. Attacks: "
    f"sign-PGD-linf with a random start, {config.attack.num_steps} "
    f"steps of {config.attack.step_factor} eps / steps, on -log p_bar "
    f"(logsumexp over draws); MFVI and MC dropout by EOT with "
    f"{config.attack.eot_draws} fresh draws per step, evaluated on "
    f"{config.attack.eval_draws} independent draws. See the study "
    "README for deviations from the paper."
  )
