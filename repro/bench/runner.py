"""Runs kernels: build, time JAX and peer side by side, check recompiles."""

from __future__ import annotations

import time
from typing import Any

from absl import logging

from repro import bench
from repro.bench import timing
from repro.bench.kernel import NotBuiltYet


def run_kernel(
  name: str, repeat: int, size_name: str = "default", with_peer: bool = True
) -> dict[str, Any]:
  """Measures one kernel; returns its row of ``summary.json``.

  Row keys: ``name``, ``family``, ``status`` (``ok``/``not built yet``),
  ``size``, ``description``, ``unit``, ``work``, ``jax_s`` (median),
  ``compile_s``, ``jax_throughput``, ``peer_s``, ``peer_throughput``,
  ``speedup_vs_peer`` (peer time / JAX time; None without a peer),
  ``compiles`` (jit cache entries after all calls; 1 = no recompiles),
  ``times_s`` and ``peer_times_s``. A kernel may add its own ``extra``.
  """
  try:
    kernel = bench.load(name)
  except NotBuiltYet as error:
    return {
      "name": name,
      "family": bench.KERNEL_FAMILIES[name],
      "status": "not built yet",
      "reason": str(error),
    }
  size = kernel.tiny if size_name == "tiny" else kernel.size
  logging.info("bench %s: building at %s", name, size)
  start = time.perf_counter()
  try:
    case = kernel.build(size)
  except NotBuiltYet as error:
    return {
      "name": name,
      "family": kernel.family,
      "status": "not built yet",
      "reason": str(error),
    }
  build_s = time.perf_counter() - start
  peer = case.peer if with_peer else None
  if case.custom is not None:
    row = case.custom(repeat)
  elif peer is None:
    row = {"jax": timing.time_call(case.run_jax, repeat)}
  else:
    jax_timing, peer_timing = timing.interleaved(case.run_jax, peer, repeat)
    row = {"jax": jax_timing, "peer": peer_timing}
  jax_timing, peer_timing = row.pop("jax"), row.pop("peer", None)
  result = {
    "name": name,
    "family": kernel.family,
    "status": "ok",
    "description": kernel.description,
    "notes": kernel.notes,
    "target_speedup": kernel.target_speedup,
    "size": dict(size),
    "unit": case.unit,
    "work": case.work,
    "build_s": build_s,
    "jax_s": jax_timing.median_s,
    "compile_s": jax_timing.compile_s,
    "jax_throughput": jax_timing.throughput(case.work),
    "times_s": list(jax_timing.times_s),
    "compiles": timing.cache_size(case.jitted),
    "peer": kernel.peer_description if peer_timing else None,
    "peer_s": peer_timing.median_s if peer_timing else None,
    "peer_first_s": peer_timing.first_s if peer_timing else None,
    "peer_throughput": (
      peer_timing.throughput(case.work) if peer_timing else None
    ),
    "peer_times_s": list(peer_timing.times_s) if peer_timing else None,
    "speedup_vs_peer": (
      peer_timing.median_s / jax_timing.median_s if peer_timing else None
    ),
  }
  result.update(row)
  logging.info(
    "bench %s: jax %.4gs (compile %.3gs), peer %s, speedup %s",
    name,
    result["jax_s"],
    result["compile_s"],
    result["peer_s"],
    result["speedup_vs_peer"],
  )
  return result
