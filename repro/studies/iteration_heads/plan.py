"""Compute plan of iteration_heads (``launch --plan``): one step per phase.

Each run R1..R6 is one step of ``training._compiled_interval`` (every seed
at once, an interval of one step); the evaluations are
``training.compiled_eval`` at every ``eval_every`` steps and at step 0.
Token shapes come from the task sizes; no dataset is generated.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from repro.core import plan as plan_lib
from repro.data import iterative_tasks
from repro.studies.iteration_heads import training
from repro.studies.iteration_heads.experiment import RUNS, make_model


def train_phase(config, name: str, model, params) -> plan_lib.Phase:
  """One training step of run ``name`` over every seed."""
  task, seeds = config.task, config.num_seeds
  optim = config.optim
  _, _, layers, trainable, _ = RUNS[name]
  interval, init_opt = training._compiled_interval(
    model, optim.lr, 1, optim.batch_size, optim.batch_order
  )
  width = iterative_tasks.sequence_width(task.max_len)
  one = jax.tree.map(
    lambda leaf: plan_lib.struct(leaf.shape[1:], leaf.dtype), params
  )
  args = (
    params,
    jax.eval_shape(init_opt, params),
    plan_lib.struct((), np.int32),
    plan_lib.keys(seeds),
    plan_lib.struct((seeds, 1, optim.batch_size), np.int32),
    jax.eval_shape(
      lambda p: training.trainable_mask(p, trainable, layers), one
    ),
    plan_lib.struct((task.max_len, task.train_per_len, width), np.int32),
    plan_lib.struct((task.max_len, width), bool),
  )
  return plan_lib.Phase(
    f"{name} train step",
    interval,
    args,
    steps=config.steps[name],
    params=plan_lib.count_params(one),
    replicas=seeds,
  )


def eval_phase(
  config, layers: int, model, params, evaluations: int
) -> plan_lib.Phase:
  """Scores of every seed on the held-out and training strings."""
  task = config.task
  width = iterative_tasks.sequence_width(task.max_len)
  lengths = task.max_len - task.min_eval_len + 1  # At most; see below.
  tokens = plan_lib.struct((lengths, task.test_per_len, width), np.int32)
  eval_set = training.EvalSet(
    plan_lib.struct((lengths,), np.int32), tokens, tokens
  )
  evaluate = training.compiled_eval(
    model, task.max_len, config.metrics.peak_threshold
  )
  return plan_lib.Phase(
    f"evaluation, {layers} layer{'s' if layers > 1 else ''}",
    lambda p, e: evaluate(p, e),
    (params, eval_set),
    steps=evaluations,
    replicas=config.num_seeds,
    note="every length >= min_eval_len counted as held out (an upper "
    "bound: short parity lengths have none)",
  )


def plan(config) -> list[plan_lib.Phase]:
  """The phases of an iteration_heads run at ``config``'s shapes."""
  width = iterative_tasks.sequence_width(config.task.max_len)
  phases, evaluations, models, params = [], {}, {}, {}
  for layers in (1, 2):
    models[layers] = make_model(config, layers)
    params[layers] = jax.eval_shape(
      jax.vmap(
        lambda key, m=models[layers]: m.init(
          key, jnp.zeros((1, width), jnp.int32)
        )
      ),
      plan_lib.keys(config.num_seeds),
    )
  for name, (_, _, layers, _, _) in RUNS.items():
    phases.append(train_phase(config, name, models[layers], params[layers]))
    evaluations[layers] = evaluations.get(layers, 0) + (
      config.steps[name] // config.eval_every + 1
    )
  for layers in sorted(evaluations, reverse=True):
    phases.append(
      eval_phase(
        config, layers, models[layers], params[layers], evaluations[layers]
      )
    )
  return phases
