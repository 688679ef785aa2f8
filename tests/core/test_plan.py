"""The compute plan: XLA's counts against closed forms, the roofline."""

import jax
import jax.numpy as jnp
import pytest

from repro.core import plan


def matmul_phase(m, k, n, steps=10, replicas=1):
  args = (
    jax.ShapeDtypeStruct((m, k), jnp.float32),
    jax.ShapeDtypeStruct((k, n), jnp.float32),
  )
  return plan.Phase("matmul", jnp.matmul, args, steps=steps, replicas=replicas)


def test_matmul_flops_bytes_and_memory_match_closed_forms():
  m, k, n = 64, 128, 32
  cost = plan.analyse(matmul_phase(m, k, n))
  assert cost.flops == 2 * m * k * n  # multiply-adds x 2
  assert cost.argument_bytes == 4 * (m * k + k * n)
  assert cost.output_bytes == 4 * m * n
  # Reads both inputs and writes the output at least once.
  assert cost.bytes_accessed >= 4 * (m * k + k * n + m * n)
  assert cost.total_flops == 10 * 2 * m * k * n


def test_roofline_and_replica_split():
  cost = plan.PhaseCost(
    matmul_phase(1, 1, 1, steps=100, replicas=4),
    flops=1e12,
    bytes_accessed=1e9,
    argument_bytes=8e9,
    output_bytes=0.0,
    temp_bytes=0.0,
  )
  device = plan.Accelerator(
    "test",
    peak_flops=1e14,
    hbm_bytes_per_s=1e12,
    memory_bytes=4e9,
    devices_per_host=8,
  )
  compute = 1e12 / (1e14 * plan.COMPUTE_UTILISATION)
  memory = 1e9 / (1e12 * plan.MEMORY_UTILISATION)
  assert plan.step_seconds(cost, device) == pytest.approx(max(compute, memory))
  one = plan.estimate(cost, device)
  assert one["seconds"] == pytest.approx(100 * max(compute, memory))
  assert not one["fits"]  # 8 GB on a 4 GB device
  four = plan.estimate(cost, device, devices=8)  # 4 replicas: 4-way split
  assert four["memory_bytes"] == 2e9 and four["fits"]
  assert four["seconds"] == pytest.approx(one["seconds"] / 4)


def test_table_has_a_row_per_phase_and_a_total():
  costs = [
    plan.analyse(matmul_phase(8, 8, 8)),
    plan.analyse(matmul_phase(16, 16, 16)),
  ]
  rows = plan.table("s", costs)
  assert len(rows) == 3 and rows[-1].startswith("| s | **total** |")
  header = plan.header()
  assert all(row.count("|") == header[0].count("|") for row in rows)


def test_loops_inside_a_step_count_their_trip_count():
  def repeated(w, x):
    return jax.lax.fori_loop(0, 10, lambda i, x: jnp.tanh(x @ w), x)

  struct = jax.ShapeDtypeStruct((64, 64), jnp.float32)
  phase = plan.Phase("loop", repeated, (struct, struct), steps=1)
  once = plan.analyse(
    plan.Phase("one", lambda w, x: jnp.tanh(x @ w), (struct, struct), steps=1)
  )
  looped = plan.analyse(phase)
  assert plan.loop_factor(plan.step_jaxpr(phase)) == pytest.approx(
    10.0, rel=0.01
  )
  assert looped.flops == pytest.approx(10 * once.flops, rel=0.02)
