"""What a benchmark kernel is: a documented size, a JAX case and its peer.

A ``Kernel`` names one hot loop of the suite at a fixed size. ``build(size)``
returns a ``Case``: the suite's own jitted function with prepared inputs,
the work one call does (for throughput), and, where the optional PyTorch
extra is installed, the same algorithm written PyTorch-eager (``peer``).
``compare(case, size)`` runs both on the same inputs and returns their outputs,
which must agree: a speed ratio means something only between programs that
compute the same numbers.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

import jax


class NotBuiltYet(Exception):
  """The suite module a kernel measures does not exist (yet)."""


@dataclasses.dataclass
class Case:
  """One prepared benchmark call.

  Attributes:
    jitted: the suite's ``jax.jit`` function.
    args: its inputs (device arrays), reused by every call.
    work: units of work of one call (examples x steps, samples, ...).
    unit: what ``work`` counts, e.g. ``"example-steps"``.
    peer: a no-argument callable doing the same work PyTorch-eager, or
      None (no torch, or no peer for this kernel).
    x64: run under ``jax.enable_x64`` (the study computes in float64).
    fn: the Python function inside ``jitted`` when the bench built it
      (tests wrap it with ``chex.assert_max_traces``), else None.
    custom: ``repeat -> row`` for kernels timed their own way (NUTS vs
      NumPyro per effective sample): a dict with ``"jax"`` and ``"peer"``
      ``Timing``s plus extra report fields.
  """

  jitted: Callable
  args: tuple
  work: float
  unit: str
  peer: Callable[[], Any] | None = None
  x64: bool = False
  fn: Callable | None = None
  custom: Callable[[int], dict] | None = None

  def precision(self):
    return jax.enable_x64(True) if self.x64 else contextlib.nullcontext()

  def run_jax(self):
    with self.precision():
      return self.jitted(*self.args)


@dataclasses.dataclass(frozen=True)
class Kernel:
  """A named hot loop at a documented size.

  Attributes:
    name: the ``--kernel`` name.
    family: the module (kernel family) it belongs to.
    description: what one call does and which suite code it runs.
    size: the benchmark size (documented in the report).
    tiny: a size small enough for tests.
    build: ``size -> Case`` (raises ``NotBuiltYet`` when the suite module
      is missing).
    compare: ``(case, size) -> (jax_output, peer_output)`` on identical
      inputs (numpy arrays; needs torch), or None when there is no peer.
    peer_description: how the peer does the work.
    notes: what the measurement shows and why (written into the report).
    target_speedup: the issue's target for peer time / JAX time (2x the
      PyTorch-eager peers; 1x NumPyro per effective sample).
  """

  name: str
  family: str
  description: str
  size: dict
  tiny: dict
  build: Callable[[dict], Case]
  compare: Callable[[Case, dict], tuple[Any, Any]] | None = None
  peer_description: str = ""
  notes: str = ""
  target_speedup: float = 2.0
