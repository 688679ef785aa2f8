"""Subsets of every method x density, and the retraining grid.

Methods (README, "What is run"): ``random``; the score-based ``el2n``,
``grand``, ``forgetting``, ``dynamic_uncertainty``, ``coreset`` (keep the
highest scores, globally: no class balancing); ``random_drop`` (DRoP
quotas, random within classes: the paper's method); ``el2n_drop`` (EL2N
ranking within DRoP quotas); ``random_el2n_quota`` (random within classes
at EL2N's class counts).

Selection conventions come with the scores (``scored["conventions"]``,
from the config's ``scores`` group; ``DEFAULT_CONVENTIONS`` otherwise):
``ties`` of ``keep_hardest``/``select_with_quotas``, and ``quotas``:
``"official"`` selects the official code's per-class sizes (DRoP's
``official_counts``, EL2N's class counts, both through the official quota
round trip) and fills the unallocated rest uniformly at random from all
remaining points (``fill_at_random``, with its own random draw);
``"paper"`` uses Algorithm 1's densities and exact class counts, no fill.

All methods x densities x seeds and the full data train in one vmapped,
sharded call (subsets padded to N; ``training``). Seed s of every method
starts from the same initialisation and draws its random subset from its
own key.
"""

from __future__ import annotations

import jax
import numpy as np
from absl import logging

from repro.core import rng
from repro.ops import drop_quotas, pruning_scores
from repro.studies.data_pruning import training

METHODS = (
  "random",
  "el2n",
  "grand",
  "forgetting",
  "dynamic_uncertainty",
  "coreset",
  "random_drop",
  "el2n_drop",
  "random_el2n_quota",
)
RANDOM_METHODS = ("random", "random_drop", "random_el2n_quota")


def subset_size(num_train: int, density: float) -> int:
  return int(round(density * num_train))


DEFAULT_CONVENTIONS = {"ties": "higher_index", "quotas": "official"}


def conventions(scored: dict) -> dict:
  """The selection conventions of ``scored`` over the defaults."""
  return {**DEFAULT_CONVENTIONS, **scored.get("conventions", {})}


def select(
  method: str,
  density: float,
  scored: dict,
  labels: np.ndarray,
  num_classes: int,
  error_floor: float,
  random_key: jax.Array,
) -> np.ndarray:
  """Sorted training indices kept by ``method`` at ``density``."""
  num_keep = subset_size(len(labels), density)
  sizes = drop_quotas.class_counts(labels, num_classes)
  scores = scored["scores"]
  rules = conventions(scored)
  ties, official = rules["ties"], rules["quotas"] == "official"
  if rules["quotas"] not in drop_quotas.CONVENTIONS:
    raise ValueError(f"unknown quota convention {rules['quotas']!r}")
  if method in scores:
    return np.asarray(
      pruning_scores.keep_hardest(scores[method], num_keep, ties)
    )
  uniform = np.asarray(jax.random.uniform(random_key, (len(labels),)))
  if method == "random":
    return np.asarray(pruning_scores.keep_hardest(uniform, num_keep, ties))
  if method in ("random_drop", "el2n_drop"):
    counts = drop_quotas.drop_counts(
      sizes, scored["val_recall"], density, error_floor, rules["quotas"]
    )
    ranking = uniform if method == "random_drop" else scores["el2n"]
    kept = drop_quotas.select_with_quotas(ranking, labels, counts, ties)
  elif method == "random_el2n_quota":
    el2n_kept = np.asarray(
      pruning_scores.keep_hardest(scores["el2n"], num_keep, ties)
    )
    mask = np.zeros(len(labels), bool)
    mask[el2n_kept] = True
    counts = drop_quotas.class_counts(labels, num_classes, mask)
    if official:  # StrategyQ's quotas q_k = n_k / total.
      counts = drop_quotas.selection_sizes(counts, num_keep)
    kept = drop_quotas.select_with_quotas(uniform, labels, counts, ties)
  else:
    raise ValueError(f"unknown method {method!r}")
  if official:
    fill = np.asarray(
      jax.random.uniform(jax.random.fold_in(random_key, 1), (len(labels),))
    )
    kept = drop_quotas.fill_at_random(kept, num_keep, fill)
  return kept


def class_densities(
  method: str,
  density: float,
  scored: dict,
  labels: np.ndarray,
  num_classes: int,
  error_floor: float,
  key: jax.Array,
) -> np.ndarray:
  """Fraction of every class kept by ``method`` (one draw), [K]."""
  kept = select(method, density, scored, labels, num_classes, error_floor, key)
  sizes = drop_quotas.class_counts(labels, num_classes)
  return drop_quotas.class_counts(labels[kept], num_classes) / sizes


def run_grid(
  model, group, pruning, arrays: dict, scored: dict, seed: int, checkpoints=None
) -> dict:
  """Trains every method x density x seed and the full data.

  Returns numpy arrays: ``test_recall`` [D, M, S, K], ``kept_counts``
  [D, M, S, K], ``full_test_recall`` [S, K], ``epochs`` [D].
  """
  labels = arrays["train_y"]
  num_classes = arrays["num_classes"]
  num_seeds = pruning.num_seeds
  methods = tuple(pruning.methods)
  init_keys = jax.random.split(rng.stream(seed, "init"), num_seeds)
  train_keys = jax.random.split(rng.stream(seed, "train"), num_seeds)
  subset_keys = jax.random.split(rng.stream(seed, "subset"), num_seeds)
  seed_of_replica = np.tile(np.arange(num_seeds), len(methods))
  subsets, epochs, seeds = [], [], []
  for density in pruning.densities:
    num_epochs = training.epochs_for_density(group.epochs, density)
    for m, method in enumerate(methods):
      for s in range(num_seeds):
        subsets.append(
          select(
            method,
            density,
            scored,
            labels,
            num_classes,
            group.error_floor,
            jax.random.fold_in(subset_keys[s], m),
          )
        )
    epochs += [num_epochs] * len(methods) * num_seeds
    seeds.append(seed_of_replica)
  # The full data: the last num_seeds replicas.
  subsets += [np.arange(len(labels), dtype=np.int32)] * num_seeds
  epochs += [group.epochs] * num_seeds
  seeds.append(np.arange(num_seeds))
  seeds = np.concatenate(seeds)
  plan = training.make_plan(
    subsets, epochs, group.batch_size, group.lr_drops, pad_to=len(labels)
  )
  block_steps = len(labels) // group.batch_size
  num_blocks = -(-int(plan.num_steps.max()) // block_steps)
  logging.info(
    "data_pruning %s: %d final models (%d methods x %d "
    "densities x %d seeds + full data), %d steps max",
    arrays["name"],
    len(subsets),
    len(methods),
    len(pruning.densities),
    num_seeds,
    plan.num_steps.max(),
  )
  _, history = training.train_replicas(
    model,
    group,
    arrays,
    init_keys[seeds],
    train_keys[seeds],
    plan,
    num_blocks,
    block_steps,
    augment=group.augment,
    replica_chunk=group.replica_chunk,
    description="final models",
    checkpoints=checkpoints,
  )
  shape = (len(pruning.densities), len(methods), num_seeds)
  num_grid = int(np.prod(shape))
  kept = np.stack(
    [
      drop_quotas.class_counts(labels[s], num_classes)
      for s in subsets[:num_grid]
    ]
  )
  return {
    "test_recall": history["test_recall"][:num_grid].reshape(
      *shape, num_classes
    ),
    "kept_counts": kept.reshape(*shape, num_classes),
    "full_test_recall": history["test_recall"][num_grid:],
    "epochs": np.asarray(
      [training.epochs_for_density(group.epochs, d) for d in pruning.densities]
    ),
  }
