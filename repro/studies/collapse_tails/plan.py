"""Compute plan of collapse_tails (``launch --plan``): one step per phase.

The embedding-table learners are one Adam step of
``neural.train_memorisers`` on a group of runs (the clean / cut / mix
runs and generation 0, then the generation-1 relabels); the GCD part
(where ``gcd.enabled``) is one step of ``gcd_transformer.Trainer``'s chunk
for each of its three models, and one batch of greedy decoding (the AI
labels and the three evaluations). The Hutter-model theory (closed forms
and Monte Carlo counts) is not counted.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from repro.core import plan as plan_lib
from repro.data import gcd as gcd_data
from repro.studies.collapse_tails import gcd_transformer, neural


def memoriser_phase(config) -> plan_lib.Phase:
  """One Adam step of a group of memorisers (full batch over N items)."""
  n = config.neural
  group = n.num_seeds * len(n.relabel_sizes)
  runs = 3 * n.num_seeds * len(n.sizes) + n.num_seeds
  calls = math.ceil(runs / group) + 1  # Phase 1, then the relabels.

  def step(keys, weights, labels):
    return neural.train_memorisers(
      keys,
      weights,
      labels,
      width=n.width,
      num_labels=n.num_labels,
      steps=1,
      learning_rate=n.learning_rate,
    )

  return plan_lib.Phase(
    f"memoriser step ({group} runs per call)",
    step,
    (
      plan_lib.keys(group),
      plan_lib.struct((group, n.num_items)),
      plan_lib.struct((group, n.num_items), np.int32),
    ),
    steps=n.steps * calls,
    params=n.num_items * n.width + (n.width + 1) * n.num_labels,
    replicas=group,
  )


def gcd_phases(config) -> list[plan_lib.Phase]:
  """A training step of the GCD transformer and a decoding batch."""
  g = config.gcd
  task = gcd_data.GcdTask(g.max_operand, g.base)
  trainer = gcd_transformer.Trainer(config, task)
  params, opt_state = jax.eval_shape(trainer._init_state, plan_lib.keys())
  rows = max(g.train_size, g.ai_train_size)
  tokens = plan_lib.struct((rows, task.sequence_length), np.int32)
  batch = plan_lib.struct((g.decode_batch_size, task.sequence_length), np.int32)
  batches = math.ceil(g.ai_train_size / g.decode_batch_size) + 3 * math.ceil(
    g.eval_size / g.decode_batch_size
  )
  return [
    plan_lib.Phase(
      "GCD train step (3 models)",
      lambda p, o, data, key, first: trainer._chunk(p, o, data, key, first, 1),
      (
        params,
        opt_state,
        tokens,
        plan_lib.keys(),
        plan_lib.struct((), np.int32),
      ),
      steps=3 * g.steps,
      params=plan_lib.count_params(params),
    ),
    plan_lib.Phase(
      f"GCD greedy decoding ({g.decode_batch_size} rows)",
      trainer._decode,
      (params, batch),
      steps=batches,
      params=plan_lib.count_params(params),
    ),
  ]


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a collapse_tails run at ``config``'s shapes."""
  phases = [memoriser_phase(config)]
  if config.gcd.enabled:
    phases += gcd_phases(config)
  return phases
