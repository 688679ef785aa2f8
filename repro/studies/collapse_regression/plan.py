"""Compute plan of collapse_regression (``launch --plan``).

The study has no training loop: each part is a few calls of a jitted
Monte Carlo over replicas (``simulate.simulate_chains``,
``simulate.simulate_downstream``, ``kernel_chain.simulate_krr``), so a
phase is one whole call (its ``lax.map`` over replica chunks counted
``loop_factor`` times) and its steps are the calls. Float64 throughout;
the closed-form theory tables are not counted.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from repro.core import plan as plan_lib
from repro.data import shapes
from repro.studies.collapse_regression import kernel_chain, simulate
from repro.studies.collapse_regression.parts import SPECTRA

F64 = np.float64


def vector(*shape: int) -> jax.ShapeDtypeStruct:
  return plan_lib.struct(shape, F64)


def chains_phase(
  name: str,
  reps: int,
  dim: int,
  gen_num_samples: int,
  generations: int,
  chunk_size,
  calls: int = 1,
) -> plan_lib.Phase:
  """``simulate_chains`` on every replica: ``[reps, generations + 1, d]``."""
  fn = functools.partial(
    simulate.simulate_chains,
    gen_num_samples=gen_num_samples,
    num_generations=generations,
    chunk_size=chunk_size,
  )
  return plan_lib.Phase(
    f"{name} chains ({reps} reps)",
    lambda keys, w0, eigenvalues, noise: fn(
      keys, w0, eigenvalues, gen_noise_std=noise
    ),
    (plan_lib.keys(reps), vector(dim), vector(dim), vector()),
    steps=calls,
    replicas=reps,
    x64=True,
  )


def downstream_phase(
  name: str,
  reps: int,
  dim: int,
  models: int,
  num_rows: int,
  lambdas: int,
  chunk_size,
  calls: int = 1,
) -> plan_lib.Phase:
  """``simulate_downstream`` of every replica's models."""
  fn = functools.partial(
    simulate.simulate_downstream, num_rows=num_rows, chunk_size=chunk_size
  )
  return plan_lib.Phase(
    f"{name} downstream ridge ({reps} reps)",
    lambda keys, m, w0, ev, noise, lam, size: fn(
      keys, m, w0, ev, noise_std=noise, lambdas=lam, num_samples=size
    ),
    (
      plan_lib.keys(reps),
      vector(reps, models, dim),
      vector(dim),
      vector(dim),
      vector(),
      vector(lambdas),
      vector(),
    ),
    steps=calls,
    replicas=reps,
    x64=True,
  )


def kernel_phase(config) -> plan_lib.Phase:
  """``simulate_krr``: KRR generator chains and downstream fits."""
  k = config.kernel
  pool = k.pool_size or shapes.split_size(k.dataset, k.pool_split)
  test = k.test_size or shapes.split_size(k.dataset, k.test_split)
  pixels = int(np.prod(shapes.image_shape(k.dataset)))
  fn = functools.partial(
    kernel_chain.simulate_krr,
    gen_num_samples=k.gen_num_samples,
    num_generations=k.max_generations,
    num_samples=k.num_samples,
  )
  return plan_lib.Phase(
    f"KRR chains and fits ({k.reps} reps)",
    lambda keys, px, pt, tx, tl, bw, gns, gl, ns, lam: fn(
      keys,
      px,
      pt,
      tx,
      tl,
      bw,
      gen_noise_std=gns,
      gen_lambda=gl,
      noise_std=ns,
      lambdas=lam,
    ),
    (
      plan_lib.keys(k.reps),
      vector(pool, pixels),
      vector(pool, kernel_chain.NUM_CLASSES),
      vector(test, pixels),
      plan_lib.struct((test,), np.int32),
      vector(),
      vector(),
      vector(),
      vector(),
      vector(len(k.lambdas)),
    ),
    steps=1,
    replicas=k.reps,
    x64=True,
  )


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a collapse_regression run at ``config``'s shapes."""
  g, s, o = config.gaussian, config.scaling, config.overparam
  phases = []
  for kind in SPECTRA:
    reps = g.isotropic_reps if kind == "isotropic" else g.power_law_reps
    phases.append(
      chains_phase(
        kind, reps, g.dim, g.gen_num_samples, g.max_generations, g.chunk_size
      )
    )
    phases.append(
      downstream_phase(
        kind,
        reps,
        g.dim,
        g.max_generations + 1,
        g.num_samples,
        len(g.lambdas) + 1,
        g.chunk_size,
      )
    )
  phases.append(
    chains_phase(
      "scaling",
      s.reps,
      s.dim,
      s.gen_num_samples,
      max(s.generations),
      s.chunk_size,
    )
  )
  phases.append(
    downstream_phase(
      "scaling",
      s.reps,
      s.dim,
      len(s.generations),
      max(s.sample_sizes),
      len(s.tuning_lambdas) + 2,
      s.chunk_size,
      calls=len(s.sample_sizes),
    )
  )
  phases.append(
    chains_phase(
      "over-parameterised",
      o.reps,
      o.dim,
      o.gen_num_samples,
      o.max_generations,
      None,
      calls=2,
    )
  )
  phases.append(kernel_phase(config))
  return phases
