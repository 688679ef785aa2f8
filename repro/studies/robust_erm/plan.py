"""Compute plan of robust_erm (``launch --plan``): one step per phase.

The linear runs (Fig. 1/2 and the heatmap of Fig. 2) step every
(dataset, column) problem at once with ``linear._problem_step``; the
network runs (Fig. 3) take ``train.fit`` steps of ``neural.adversarial_loss``
over every (m, eps, seed) replica. Shapes come from the config; the data
are never drawn or read.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from repro.core import plan as plan_lib
from repro.studies.robust_erm import linear, neural

# Flattened input dimension of each dataset the network runs use.
INPUT_DIMS = {"digits": 8 * 8, "mnist": 28 * 28}


def linear_phase(
  name: str,
  algorithm: str,
  num_datasets: int,
  train_sizes,
  fractions,
  dim: int,
  alpha: float,
  num_steps: int,
) -> plan_lib.Phase:
  """One step of ``linear._train``'s loop: every problem at once."""
  pool, columns = max(train_sizes), len(train_sizes) * len(fractions)
  step = jax.vmap(
    jax.vmap(
      functools.partial(linear._problem_step, algorithm),
      in_axes=(None, None, 0, 0, 0, 0, 0),
    ),
    in_axes=(0, 0, None, 0, 0, 0, 0),
  )

  def problems(shape):
    return jax.tree.map(
      lambda leaf: plan_lib.struct(
        (num_datasets, columns) + leaf.shape, leaf.dtype
      ),
      shape,
    )

  with jax.enable_x64():  # The linear runs are float64 (module config).
    params = jax.eval_shape(
      lambda: linear.initial_params(algorithm, dim, alpha)
    )
    opt_state = jax.eval_shape(linear.optimizer(algorithm, 1.0).init, params)
  f64 = np.float64
  args = (
    plan_lib.struct((num_datasets, pool, dim), f64),
    plan_lib.struct((num_datasets, pool), f64),
    plan_lib.struct((columns, pool), bool),
    plan_lib.struct((num_datasets, columns), f64),
    plan_lib.struct((num_datasets, columns), f64),
    problems(params),
    problems(opt_state),
  )
  return plan_lib.Phase(
    f"{name} {algorithm} step ({num_datasets * columns} problems)",
    lambda *a: step(*a),
    args,
    steps=num_steps,
    params=dim,
    replicas=num_datasets,
    x64=True,
  )


def network_phase(
  cfg, algorithm: str, attack_steps: int, num_replicas: int
) -> plan_lib.Phase:
  """One ``train.fit`` step of the ReLU net on ``num_replicas`` replicas."""
  dim = INPUT_DIMS[cfg.dataset]
  pool = max(cfg.train_sizes)
  model = neural.make_model(cfg)
  params = jax.eval_shape(
    lambda: neural.initial_params(model, 0, np.arange(num_replicas), dim)
  )
  loss_fn = functools.partial(
    neural.adversarial_loss,
    model,
    attack_steps=attack_steps,
    step_fraction=cfg.attack_step_fraction,
  )
  data = (
    plan_lib.struct((num_replicas, pool, dim)),
    plan_lib.struct((num_replicas, pool)),
    plan_lib.struct((num_replicas, pool), bool),
    plan_lib.struct((num_replicas,)),
  )
  step, args = plan_lib.fit_step(
    loss_fn,
    neural.make_optimizer(algorithm, cfg),
    params,
    data=data,
    replicas=num_replicas,
  )
  kind = f"PGD-AT ({attack_steps} PGD steps)" if attack_steps else "clean"
  return plan_lib.Phase(
    f"net {algorithm} {kind} step",
    step,
    args,
    steps=cfg.num_steps,
    params=plan_lib.count_params(params) // num_replicas,
    replicas=num_replicas,
  )


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a robust_erm run at ``config``'s shapes."""
  lin, heat, nn = config.linear, config.heatmap, config.nn
  phases = [
    linear_phase(
      "linear",
      algorithm,
      lin.num_seeds,
      lin.train_sizes,
      lin.eps_fractions,
      lin.dim,
      lin.diag_alpha,
      lin.num_steps,
    )
    for algorithm in linear.ALGORITHMS
  ]
  cells = len(heat.teacher_nonzero) * len(heat.input_nonzero)
  phases += [
    linear_phase(
      "heatmap",
      algorithm,
      cells * heat.num_seeds,
      heat.train_sizes,
      lin.eps_fractions,
      lin.dim,
      lin.diag_alpha,
      heat.num_steps,
    )
    for algorithm in ("gd", "cd")
  ]
  runs = len(nn.train_sizes) * nn.num_seeds
  clean = sum(1 for eps in nn.eps if eps == 0)
  for algorithm in neural.ALGORITHMS:
    if clean:
      phases.append(network_phase(nn, algorithm, 0, runs * clean))
    if len(nn.eps) > clean:
      phases.append(
        network_phase(
          nn, algorithm, nn.train_attack_steps, runs * (len(nn.eps) - clean)
        )
      )
  return phases
