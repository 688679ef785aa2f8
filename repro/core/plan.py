"""A compute plan of a preset without running it (``launch --plan``).

A study that supports planning exports ``plan(config) -> list[Phase]``:
each phase is one step function of the run (a training step, a sampler
transition, an attack, a meta-step) with abstract inputs at the preset's
real shapes (``jax.ShapeDtypeStruct``) and the number of times the preset
calls it. ``analyse`` lowers and compiles each step on the host (nothing
is trained, no dataset is read), reads XLA's cost analysis (FLOPs and
bytes accessed per call) and memory analysis (arguments, outputs,
temporaries), and ``estimate`` turns them into wall time and memory on
named accelerators under stated assumptions.

A phase's function should be ONE step, not a scanned loop of steps. XLA's
cost analysis counts a loop body once, whatever its trip count, so loops
INSIDE a step (PGD iterations, leapfrog steps, unrolled inner training)
would be undercounted: ``analyse`` scales XLA's FLOPs and bytes by the
ratio of a jaxpr count with every ``scan`` body times its length to the
same count with every body once (``loop_factor``).

Assumptions of the estimate (printed with every plan):

* float32 inputs at the backend's default matmul precision (TF32 tensor
  cores on A100/H100, bf16 passes on TPU), so the peak is that precision's;
* a step takes max(FLOPs / (peak * compute_utilisation), bytes / (HBM
  bandwidth * memory_utilisation)) - roofline with fixed utilisations;
* memory per device = arguments + outputs + temporaries of the CPU
  compilation, divided by the devices that share the phase's replica axis
  (replicas shard over devices, batches over the data axis otherwise);
* loops inside a step: XLA's FLOPs and bytes times ``loop_factor`` (a
  ``while`` of unknown trip count counts once); FLOPs at least the jaxpr
  count, which adds the LAPACK calls (Cholesky, eigh, ...) XLA counts 0;
* host input pipelines, compilation and checkpoint writes are not counted.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

# The plan compiles without LLVM's backend optimisations: the same
# optimised HLO (FLOPs, bytes, buffers), about half the compile time.
COMPILE_OPTIONS = {"xla_backend_optimization_level": 0}
COMPUTE_UTILISATION = 0.35
MEMORY_UTILISATION = 0.6


@dataclasses.dataclass(frozen=True)
class Accelerator:
  """A device's peak rates and memory (vendor datasheet values)."""

  name: str
  peak_flops: float  # FLOP/s at the default float32 matmul precision.
  hbm_bytes_per_s: float
  memory_bytes: float
  devices_per_host: int


GiB = 2**30
ACCELERATORS = {
  "h100": Accelerator(
    "NVIDIA H100 SXM 80GB (TF32)", 494e12, 3.35e12, 80 * GiB, 8
  ),
  "a100": Accelerator("NVIDIA A100 80GB (TF32)", 156e12, 2.0e12, 80 * GiB, 8),
  "v4": Accelerator("TPU v4 chip (bf16 passes)", 275e12, 1.2e12, 32 * GiB, 4),
  "v5e": Accelerator(
    "TPU v5e chip (bf16 passes)", 197e12, 0.82e12, 16 * GiB, 8
  ),
}
# Device counts the plan reports splits for: one host of 8 GPUs, and a
# v4-32 slice (16 chips).
SPLITS = (("8 GPUs", "h100", 8), ("v4-32 (16 chips)", "v4", 16))


@dataclasses.dataclass(frozen=True)
class Phase:
  """One step function of a run, at the preset's shapes.

  Attributes:
    name: what the step is (e.g. "HMC transition", "PGD-AT train step").
    fn: the step, a pure function of ``args``.
    args: its inputs as a pytree of ``jax.ShapeDtypeStruct``.
    steps: how many times the preset calls it in all.
    params: parameters of the model the phase trains or samples (0: none).
    replicas: the leading replica axis of the inputs (seeds, chains,
      experts) that shards over devices (1: none).
    note: anything a reader should know (a shortened phase, a guess).
    x64: trace and compile with 64-bit types enabled (steps the run takes
      inside ``jax.enable_x64()``; float64 inputs stay float64).
  """

  name: str
  fn: Callable
  args: tuple
  steps: int
  params: int = 0
  replicas: int = 1
  note: str = ""
  x64: bool = False


@dataclasses.dataclass(frozen=True)
class PhaseCost:
  """XLA's numbers for one call of a phase's step."""

  phase: Phase
  flops: float
  bytes_accessed: float
  argument_bytes: float
  output_bytes: float
  temp_bytes: float

  @property
  def memory_bytes(self) -> float:
    return self.argument_bytes + self.output_bytes + self.temp_bytes

  @property
  def total_flops(self) -> float:
    return self.flops * self.phase.steps


def abstract(tree: Any) -> Any:
  """``jax.ShapeDtypeStruct`` leaves of a pytree of arrays or structs."""
  return jax.tree.map(
    lambda leaf: jax.ShapeDtypeStruct(np.shape(leaf), leaf.dtype), tree
  )


def keys(*shape: int) -> jax.ShapeDtypeStruct:
  """Shape struct of an array of typed PRNG keys (``jax.random.key``)."""
  key = jax.eval_shape(lambda: jax.random.key(0))
  return jax.ShapeDtypeStruct(tuple(shape), key.dtype)


def struct(shape, dtype=np.float32) -> jax.ShapeDtypeStruct:
  """Shorthand for ``jax.ShapeDtypeStruct(tuple(shape), dtype)``."""
  return jax.ShapeDtypeStruct(tuple(shape), dtype)


def count_params(tree: Any) -> int:
  """Number of scalars in a pytree of arrays or shape structs."""
  return int(sum(math.prod(np.shape(leaf)) for leaf in jax.tree.leaves(tree)))


def _subjaxprs(params: dict) -> list:
  """The jaxprs among an equation's parameters (bodies, branches, calls)."""
  found = []
  for value in params.values():
    for item in value if isinstance(value, (tuple, list)) else (value,):
      if hasattr(item, "eqns"):
        found.append(item)
      elif hasattr(item, "jaxpr") and hasattr(item.jaxpr, "eqns"):
        found.append(item.jaxpr)
  return found


def _eqn_flops(eqn) -> float:
  """FLOPs of one primitive: matmuls and convolutions exactly, else 1/output."""
  outputs = sum(
    math.prod(v.aval.shape) for v in eqn.outvars if hasattr(v.aval, "shape")
  )
  name = eqn.primitive.name
  if name == "dot_general":
    (contracting, _), _ = eqn.params["dimension_numbers"]
    lhs_shape = eqn.invars[0].aval.shape
    return 2.0 * outputs * math.prod(lhs_shape[d] for d in contracting)
  if name == "conv_general_dilated":
    rhs_shape = eqn.invars[1].aval.shape
    spec = eqn.params["dimension_numbers"].rhs_spec
    out_features = rhs_shape[spec[0]]
    return 2.0 * outputs * math.prod(rhs_shape) / out_features
  if name in LINALG_FLOPS:
    shape = eqn.invars[-1].aval.shape
    batch = math.prod(shape[:-2])
    return batch * LINALG_FLOPS[name](*shape[-2:])
  return float(outputs)


# Dense linear algebra that the CPU backend runs as LAPACK custom calls,
# which XLA's cost analysis counts as 0 FLOPs: textbook counts of an
# [m, n] operand (the last input: the matrix, or the right-hand sides).
LINALG_FLOPS = {
  "cholesky": lambda m, n: n**3 / 3,
  "triangular_solve": lambda m, n: m * n * max(m, n),
  "lu": lambda m, n: 2 * n**3 / 3,
  "eigh": lambda m, n: 9 * n**3,
  "qr": lambda m, n: 2 * m * n**2,
  "svd": lambda m, n: 4 * m * n**2 + 8 * n**3,
}


def jaxpr_flops(jaxpr, loops: bool = True) -> float:
  """FLOPs of a jaxpr; ``loops``: each ``scan`` body times its length.

  ``cond`` counts its costliest branch, a ``while`` its body once.
  """
  total = 0.0
  for eqn in jaxpr.eqns:
    inner = _subjaxprs(eqn.params)
    if not inner:
      total += _eqn_flops(eqn)
      continue
    counts = [jaxpr_flops(sub, loops) for sub in inner]
    if eqn.primitive.name == "cond":
      total += max(counts)
    elif eqn.primitive.name == "scan" and loops:
      total += sum(counts) * eqn.params["length"]
    else:
      total += sum(counts)
  return total


def loop_factor(jaxpr) -> float:
  """How much a count that repeats ``scan`` bodies exceeds one that doesn't."""
  once = jaxpr_flops(jaxpr, loops=False)
  return jaxpr_flops(jaxpr) / once if once else 1.0


def step_jaxpr(phase: Phase):
  """The jaxpr of a phase's step at its abstract inputs."""
  with jax.enable_x64(phase.x64):
    return _jitted(phase).trace(*phase.args).jaxpr.jaxpr


def _jitted(phase: Phase):
  # A jitted step keeps its own compiler options.
  return phase.fn if hasattr(phase.fn, "trace") else jax.jit(phase.fn)


def analyse(phase: Phase) -> PhaseCost:
  """Lowers and compiles ``phase.fn`` on the host; reads cost and memory.

  FLOPs and bytes are XLA's, times ``loop_factor`` (module docstring);
  FLOPs are at least ``jaxpr_flops`` (LAPACK calls XLA counts as 0).
  """
  with jax.enable_x64(phase.x64):
    traced = _jitted(phase).trace(*phase.args)
    compiled = traced.lower().compile(compiler_options=COMPILE_OPTIONS)
  jaxpr = traced.jaxpr.jaxpr
  factor = loop_factor(jaxpr)
  costs = compiled.cost_analysis()
  if isinstance(costs, Sequence):  # Older jax: one dict per computation.
    costs = costs[0] if costs else {}
  memory = compiled.memory_analysis()
  # Linear algebra XLA does not count can make the jaxpr count larger.
  flops = max(factor * float(costs.get("flops", 0.0)), jaxpr_flops(jaxpr))
  return PhaseCost(
    phase,
    flops,
    factor * float(costs.get("bytes accessed", 0.0)),
    float(getattr(memory, "argument_size_in_bytes", 0)),
    float(getattr(memory, "output_size_in_bytes", 0)),
    float(getattr(memory, "temp_size_in_bytes", 0)),
  )


def step_seconds(cost: PhaseCost, accelerator: Accelerator) -> float:
  """Roofline time of one step (module assumptions)."""
  compute = cost.flops / (accelerator.peak_flops * COMPUTE_UTILISATION)
  memory = cost.bytes_accessed / (
    accelerator.hbm_bytes_per_s * MEMORY_UTILISATION
  )
  return max(compute, memory)


def estimate(
  cost: PhaseCost, accelerator: Accelerator, devices: int = 1
) -> dict[str, float]:
  """Wall time (s) and memory per device (bytes) of the whole phase."""
  sharing = max(1, min(devices, cost.phase.replicas))
  return {
    "seconds": step_seconds(cost, accelerator) * cost.phase.steps / sharing,
    "memory_bytes": cost.memory_bytes / sharing,
    "fits": cost.memory_bytes / sharing <= accelerator.memory_bytes,
  }


def _human(value: float, unit: str = "") -> str:
  for scale, prefix in (
    (1e18, "E"),
    (1e15, "P"),
    (1e12, "T"),
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
  ):
    if abs(value) >= scale:
      return f"{value / scale:.3g} {prefix}{unit}".strip()
  return f"{value:.3g} {unit}".strip()


def _duration(seconds: float) -> str:
  if seconds < 120:
    return f"{seconds:.3g} s"
  if seconds < 7200:
    return f"{seconds / 60:.3g} min"
  return f"{seconds / 3600:.3g} h"


def table(study: str, costs: Sequence[PhaseCost]) -> list[str]:
  """Markdown rows of one study's plan (one row per phase, then a total)."""
  lines = []
  total = {key: 0.0 for key in ACCELERATORS}
  for cost in costs:
    phase = cost.phase
    times = {
      key: estimate(cost, acc)["seconds"] for key, acc in ACCELERATORS.items()
    }
    for key, seconds in times.items():
      total[key] += seconds
    lines.append(
      f"| {study} | {_label(phase)} | {_human(phase.params)} | "
      f"{_human(cost.flops, 'FLOP')} | {_human(cost.bytes_accessed, 'B')} | "
      f"{_human(cost.memory_bytes, 'B')} | {phase.steps:,} | "
      f"{_human(cost.total_flops, 'FLOP')} | "
      + " | ".join(_duration(times[key]) for key in ACCELERATORS)
      + f" | {_splits(cost)} |"
    )
  lines.append(
    f"| {study} | **total** | | | | | | | "
    + " | ".join(f"**{_duration(total[key])}**" for key in ACCELERATORS)
    + " | |"
  )
  return lines


def _label(phase: Phase) -> str:
  """The phase's name and, in italics, its note (float64 flagged)."""
  notes = [phase.note] if phase.note else []
  if phase.x64:
    notes.append("float64: timed at the float32 peak, an underestimate")
  return phase.name + "".join(f" *({note})*" for note in notes)


def _splits(cost: PhaseCost) -> str:
  parts = []
  for label, key, devices in SPLITS:
    result = estimate(cost, ACCELERATORS[key], devices)
    sharing = max(1, min(devices, cost.phase.replicas))
    parts.append(
      f"{label}: replicas over {sharing}, "
      f"{_duration(result['seconds'])}, "
      f"{_human(result['memory_bytes'], 'B')}/device"
    )
  return "; ".join(parts)


def header() -> list[str]:
  """The table's header and the assumptions, as markdown lines."""
  names = " | ".join(f"time on {key}" for key in ACCELERATORS)
  return [
    "| study | phase | params | FLOPs/step | bytes/step | memory/step | "
    f"steps | total FLOPs | {names} | split over devices |",
    "|---|---|---|---|---|---|---|---|" + "---|" * len(ACCELERATORS) + "---|",
  ]


def assumptions() -> str:
  """The estimate's assumptions in one paragraph."""
  devices = "; ".join(
    f"{key} = {acc.name}: {_human(acc.peak_flops, 'FLOP/s')}, "
    f"{_human(acc.hbm_bytes_per_s, 'B/s')}, {acc.memory_bytes / GiB:.0f} "
    "GiB"
    for key, acc in ACCELERATORS.items()
  )
  return (
    "Estimates, not measurements: FLOPs, bytes and memory per step come "
    "from XLA's cost and memory analysis of each step compiled for the "
    "host CPU at the preset's shapes; time per step = max(FLOPs / (peak x "
    f"{COMPUTE_UTILISATION}), bytes / (HBM bandwidth x "
    f"{MEMORY_UTILISATION})), float32 at the default matmul precision; "
    "a step's inner loops (PGD, leapfrog, unrolled inner training) scale "
    "XLA's FLOPs and bytes by a jaxpr count with scan bodies times their "
    "length over the same count with bodies once, FLOPs at least that "
    "count (it adds the LAPACK factorisations XLA counts as 0); "
    "input pipelines, compilation and checkpoints not counted; memory "
    "per device divides by the devices that share a phase's replica "
    f"axis. Devices: {devices}."
  )


def fitting_error(
  study: str, costs: Sequence[PhaseCost], device: str
) -> str | None:
  """One line naming the first phase that does not fit ``device``."""
  accelerator = ACCELERATORS[device]
  for cost in costs:
    if not estimate(cost, accelerator)["fits"]:
      return (
        f"{study}: phase '{cost.phase.name}' needs "
        f"{_human(cost.memory_bytes, 'B')} per step, more than the "
        f"{accelerator.memory_bytes / GiB:.0f} GiB of one "
        f"{accelerator.name}; shard its replicas (more devices) or "
        "lower its batch size (--set)"
      )
  return None


def fit_step(
  loss_fn: Callable, optimizer, params, *, data: tuple = (), replicas: int = 0
) -> tuple[Callable, tuple]:
  """One step of ``train.fit`` and its abstract inputs.

  ``params`` and ``data`` are shape structs (with the leading replica axis
  when ``replicas``); returns ``(step, args)`` for a ``Phase``: the same
  ``train.make_chunk`` the run compiles, one step long.
  """
  from repro.core import train  # Only the plan needs the training loop.

  step = train.make_chunk(loss_fn, optimizer, 1)
  init = functools.partial(train.init_state, optimizer)
  key = keys()
  if replicas:
    step, init = jax.vmap(step), jax.vmap(init)
    key = keys(replicas)
  state = jax.eval_shape(init, params)
  return step, (state, key, tuple(data))
