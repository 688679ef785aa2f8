"""The timing helper: compile apart from steady state, fair interleaving."""

import time

import jax
import jax.numpy as jnp
import pytest

from repro.bench import timing


def test_time_call_separates_a_slow_first_call():
  calls = []

  def fn():
    calls.append(None)
    time.sleep(0.05 if len(calls) == 1 else 0.005)
    return len(calls)

  result = timing.time_call(fn, repeat=3, warmup=1)
  assert len(calls) == 5  # first + warm-up + 3 timed
  assert len(result.times_s) == 3
  assert 0.004 < result.median_s < 0.03
  assert result.compile_s > 0.03
  assert result.throughput(10) == pytest.approx(10 / result.median_s)


def test_interleaved_alternates_and_keeps_first_calls_apart():
  order = []
  jax_fn = lambda: order.append("jax")
  peer_fn = lambda: order.append("peer")
  jax_timing, peer_timing = timing.interleaved(
    jax_fn, peer_fn, repeat=4, warmup=0
  )
  assert order == [
    "jax",
    "peer",
    "jax",
    "peer",
    "peer",
    "jax",
    "jax",
    "peer",
    "peer",
    "jax",
  ]
  assert len(jax_timing.times_s) == len(peer_timing.times_s) == 4


def test_repeat_must_be_positive():
  with pytest.raises(ValueError, match="repeat"):
    timing.time_call(lambda: None, repeat=0)


def test_cache_size_counts_recompiles():
  jitted = jax.jit(lambda x: x * 2)
  jitted(jnp.ones(3))
  jitted(jnp.zeros(3))
  assert timing.cache_size(jitted) == 1
  jitted(jnp.ones(4))  # a new shape compiles again
  assert timing.cache_size(jitted) == 2
  assert timing.cache_size(lambda x: x) is None
