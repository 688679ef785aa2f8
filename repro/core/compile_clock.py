"""Seconds a run spends compiling, read from JAX's monitoring events.

JAX reports the duration of every jaxpr trace, lowering to MLIR and
backend compile (or persistent-cache read); ``measure`` sums them while a
study runs, so each report can state its compile share and how many
programs the persistent compilation cache served.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from jax import monitoring

TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
LOWER_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
BACKEND_EVENT = "/jax/core/compile/backend_compile_duration"
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"
COMPILE_EVENTS = (TRACE_EVENT, LOWER_EVENT, BACKEND_EVENT)


@dataclasses.dataclass
class CompileTime:
  """Totals over one measured block."""

  seconds: float = 0.0  # trace + lowering + backend compile (or cache read)
  programs: int = 0  # backend compiles requested
  cache_hits: int = 0  # of which the persistent cache served

  def record(self) -> dict:
    return {
      "compile_time_s": self.seconds,
      "compiled_programs": self.programs,
      "compile_cache_hits": self.cache_hits,
    }


@contextlib.contextmanager
def measure() -> Iterator[CompileTime]:
  """Sums compile durations reported while the block runs."""
  totals = CompileTime()

  def on_duration(event: str, duration: float, **_) -> None:
    if event in COMPILE_EVENTS:
      totals.seconds += duration
    if event == BACKEND_EVENT:
      totals.programs += 1

  def on_event(event: str, **_) -> None:
    if event == CACHE_HIT_EVENT:
      totals.cache_hits += 1

  monitoring.register_event_duration_secs_listener(on_duration)
  monitoring.register_event_listener(on_event)
  try:
    yield totals
  finally:
    monitoring.unregister_event_duration_listener(on_duration)
    monitoring.unregister_event_listener(on_event)
