"""The compile clock counts a program once and nothing for a cached call."""

import jax
import jax.numpy as jnp

from repro.core import compile_clock


def test_counts_a_new_program_and_not_a_repeated_call():
  function = jax.jit(lambda x: jnp.tanh(x) * 3.0 + x.sum())
  x = jnp.arange(7.0)
  with compile_clock.measure() as first:
    function(x).block_until_ready()
  with compile_clock.measure() as repeat:
    function(x).block_until_ready()
  assert first.programs >= 1 and first.seconds > 0.0
  assert repeat.programs == 0 and repeat.seconds == 0.0
  record = first.record()
  assert set(record) == {
    "compile_time_s",
    "compiled_programs",
    "compile_cache_hits",
  }
