"""Compute plan of goldilocks (``launch --plan``): one step per phase.

The curvature analysis maps one measurement over items (``lax.map``); each
phase is one item: a sweep point (``measurements.sweep_point``: subspace
Hessian, Gauss-Newton part, two Lanczos runs), a subspace point (the
scale/temperature pairs, the random inits and the training net's zone), a
full-space point (``full_point``) and a prior point (``prior_point`` at the
three output offsets; the offset fit not counted). Training is a block of
``log_every`` GD steps and its logged metrics (``training._compiled``),
every alpha at once. Curvature runs in float64, training in float32.
"""

from __future__ import annotations

import jax
import numpy as np

from repro.core import plan as plan_lib
from repro.data import circles, shapes
from repro.studies.goldilocks import measurements, problems, sweeps, training

CIRCLES_CLASSES = circles.NUM_CLASSES


def shape_problem(group) -> tuple[problems.Problem, int, tuple]:
  """The group's Problem on one placeholder example; (problem, N, shape)."""
  if group.dataset == "circles":
    size, shape, classes = circles.SPLIT_SIZES["train"], (2,), CIRCLES_CLASSES
  else:
    size = shapes.split_size(group.dataset, "train")
    shape, classes = shapes.image_shape(group.dataset), 10
  size = min(size, group.num_train) if group.num_train else size
  x = np.zeros((1,) + shape, np.float32)
  y = np.zeros((1,), np.int32)
  return problems.make_problem(group, x, y, x, y, classes), size, shape


def data_structs(size: int, shape: tuple, dtype=np.float64) -> tuple:
  return (
    plan_lib.struct((size,) + shape, dtype),
    plan_lib.struct((size,), np.int32),
  )


def curvature_phases(config) -> list[plan_lib.Phase]:
  """One item of each curvature map (float64)."""
  group = config.curvature
  problem, size, shape = shape_problem(group)
  data = data_structs(size, shape)
  num_alphas = len(sweeps.log_alpha_grid(group))
  dim, chunk = group.subspace_dim, group.chunk_size
  scalar = plan_lib.struct((), np.float64)

  def sweep(data, theta_key, basis_key, lanczos_key, log_alpha):
    point = measurements.sweep_point(
      problem,
      data,
      sweeps.initial_theta(problem, theta_key),
      log_alpha,
      sweeps.orthonormal_basis(problem, basis_key, dim),
      lanczos_key,
      group.lanczos_steps,
      chunk,
    )
    point.pop("subspace_hessian")
    return point

  def subspace(data, theta_key, basis_key, log_alpha, log_temperature):
    return measurements.subspace_point(
      problem,
      data,
      sweeps.initial_theta(problem, theta_key),
      log_alpha,
      log_temperature,
      sweeps.orthonormal_basis(problem, basis_key, dim),
      chunk,
    )

  keys = plan_lib.keys()
  phases = [
    plan_lib.Phase(
      "sweep point",
      sweep,
      (data, keys, keys, keys, scalar),
      steps=num_alphas * group.num_seeds,
      params=problem.num_params,
      x64=True,
    ),
    plan_lib.Phase(
      "subspace point",
      subspace,
      (data, keys, keys, scalar, scalar),
      steps=2 * num_alphas + group.num_random_inits + group.num_notes_inits,
      params=problem.num_params,
      x64=True,
    ),
  ]
  if len(group.full_log_alphas):
    coordinates = None
    if group.full_coordinates:
      coordinates = plan_lib.struct(
        (problem.num_params, min(group.full_coordinates, problem.num_params)),
        np.float64,
      )
    phases.append(
      plan_lib.Phase(
        "full-space point",
        lambda data, key, log_alpha, coords: measurements.full_point(
          problem,
          data,
          sweeps.initial_theta(problem, key),
          log_alpha,
          coords,
          chunk,
        ),
        (data, keys, scalar, coordinates),
        steps=len(group.full_log_alphas),
        params=problem.num_params,
        x64=True,
      )
    )
  phases.append(
    plan_lib.Phase(
      "prior point (3 offsets)",
      lambda data, key, offsets: jax.vmap(
        lambda offset: measurements.prior_point(
          problem, data, sweeps.initial_theta(problem, key), offset
        )
      )(offsets),
      (data, keys, plan_lib.struct((3, problem.num_classes), np.float64)),
      steps=group.num_prior_inits,
      params=problem.num_params,
      x64=True,
    )
  )
  return phases


def training_phases(config) -> list[plan_lib.Phase]:
  """The training net's zone points (float64) and its GD blocks (float32)."""
  group = config.training
  problem, size, shape = shape_problem(group)
  alphas = len(group.log_alphas)
  scalar = plan_lib.struct((), np.float64)
  keys = plan_lib.keys()

  def zone(data, theta_key, basis_key, log_alpha):
    return measurements.subspace_point(
      problem,
      data,
      sweeps.initial_theta(problem, theta_key),
      log_alpha,
      0.0,
      sweeps.orthonormal_basis(
        problem, basis_key, config.curvature.subspace_dim
      ),
      config.curvature.chunk_size,
    )

  _, blocks, _ = training._compiled(
    problem.apply_flat,
    group.log_every,
    group.sharpness_steps,
    config.fast_compile,
    1,
  )
  theta = plan_lib.struct((alphas, problem.num_params))
  test = (
    shapes.split_size(group.dataset, "test")
    if (group.dataset != "circles")
    else circles.SPLIT_SIZES["test"]
  )
  data = data_structs(size, shape, np.float32) + data_structs(
    test, shape, np.float32
  )
  return [
    plan_lib.Phase(
      "training-net zone point",
      zone,
      (data_structs(size, shape), keys, keys, scalar),
      steps=group.zone_seeds * alphas,
      params=problem.num_params,
      x64=True,
    ),
    plan_lib.Phase(
      f"GD block ({group.log_every} steps + log, {alphas} alphas)",
      blocks,
      (theta, theta, plan_lib.struct((alphas,)), data),
      steps=group.num_steps // group.log_every,
      params=problem.num_params,
      replicas=alphas,
      note="Lanczos sharpness at the start and end not counted",
    ),
  ]


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a goldilocks run at ``config``'s shapes."""
  return curvature_phases(config) + training_phases(config)
