"""Timing of jitted kernels and their eager peers.

A measurement separates the first call (trace + compile + one run) from
the steady state: ``compile_s`` is the first call minus the median of the
later calls, and ``median_s`` the median wall time of ``repeat`` calls after
``warmup`` calls, each ended with ``block_until_ready`` so asynchronous
dispatch is not mistaken for speed. ``interleaved`` alternates the JAX
kernel and its peer repeat by repeat, so both see the same load of a
shared machine and their ratio is fair even when absolute times are noisy.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax


def block(value: Any) -> Any:
  """Waits for every array of ``value`` (JAX arrays; others pass through)."""
  return jax.block_until_ready(value)


@dataclasses.dataclass(frozen=True)
class Timing:
  """Wall times of one kernel.

  Attributes:
    first_s: the first call (tracing, compilation and one run).
    median_s: median steady-state time of one call.
    min_s: fastest steady-state call.
    times_s: every steady-state call, in order.
    compile_s: ``first_s - median_s`` (clipped at 0): the one-off cost.
  """

  first_s: float
  median_s: float
  min_s: float
  times_s: tuple[float, ...]

  @property
  def compile_s(self) -> float:
    return max(0.0, self.first_s - self.median_s)

  def throughput(self, work: float) -> float:
    """``work`` units per second at the median time."""
    return work / self.median_s if self.median_s > 0 else float("inf")


def _timed(fn: Callable[[], Any]) -> float:
  start = time.perf_counter()
  block(fn())
  return time.perf_counter() - start


def _summarise(first: float, times: list[float]) -> Timing:
  return Timing(
    first_s=first,
    median_s=statistics.median(times),
    min_s=min(times),
    times_s=tuple(times),
  )


def time_call(
  fn: Callable[[], Any], repeat: int = 5, warmup: int = 1
) -> Timing:
  """Times ``fn()`` (a closure over prepared inputs).

  Args:
    fn: runs the kernel once and returns its outputs (blocked on here).
    repeat: steady-state calls whose median is reported (>= 1).
    warmup: calls after the first one that are not timed.
  """
  if repeat < 1:
    raise ValueError(f"repeat must be >= 1, got {repeat}")
  first = _timed(fn)
  for _ in range(warmup):
    block(fn())
  return _summarise(first, [_timed(fn) for _ in range(repeat)])


def interleaved(
  jax_fn: Callable[[], Any],
  peer_fn: Callable[[], Any],
  repeat: int = 5,
  warmup: int = 1,
) -> tuple[Timing, Timing]:
  """Times the JAX kernel and its peer alternately, call by call.

  Returns:
    ``(jax_timing, peer_timing)``; the first call of each is kept apart
    (compilation for JAX, allocator and autograd warm-up for the peer).
  """
  if repeat < 1:
    raise ValueError(f"repeat must be >= 1, got {repeat}")
  first_jax, first_peer = _timed(jax_fn), _timed(peer_fn)
  for _ in range(warmup):
    block(jax_fn())
    block(peer_fn())
  jax_times, peer_times = [], []
  for index in range(repeat):
    # Alternate which side goes first, so neither always follows the other.
    order = ((jax_fn, jax_times), (peer_fn, peer_times))
    for fn, times in order if index % 2 == 0 else order[::-1]:
      times.append(_timed(fn))
  return (_summarise(first_jax, jax_times), _summarise(first_peer, peer_times))


def cache_size(jitted: Any) -> int | None:
  """Number of compiled variants a ``jax.jit`` function holds (None: n/a).

  After warm-up and every timed call this must be 1: more means the
  kernel recompiled (a changed shape, dtype, static argument or sharding).
  """
  while isinstance(jitted, functools.partial):
    jitted = jitted.func
  size = getattr(jitted, "_cache_size", None)
  return size() if callable(size) else None
