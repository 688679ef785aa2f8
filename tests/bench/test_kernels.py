"""Every kernel and its PyTorch-eager peer compute the same numbers.

A speed ratio is only fair between programs doing the same work, so each
kernel's JAX output is compared with its peer's on identical inputs at a
tiny size (skipped without the optional ``torch``); the same call checks
that a second call does not recompile. The kernels whose tiny case still
compiles for several seconds (``SLOW``) run only with
``REPRO_BENCH_ALL_PEERS=1``, to keep the default test run short.
"""

import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import bench
from repro.bench import peers, runner, timing


def _kernel(name):
  try:
    return bench.load(name)
  except bench.NotBuiltYet as error:
    pytest.skip(f"not built yet: {error}")


COMPARED = [name for name in bench.kernel_names() if name != "bnn_nuts"]
# float32 kernels follow the same path to round-off; float64 ones closer.
TOLERANCE = {
  "adv_train_epoch": 1e-4,
  "pgd_attack": 1e-5,
  "transformer_steps": 1e-4,
  "mtt_meta_step": 1e-4,
  "pruning_grad_norms": 1e-5,
}


SLOW = (
  "adv_train_epoch",
  "transformer_steps",
  "mtt_meta_step",
  "collapse_tails_wright_fisher",
  "collapse_regression_chains",
  "hessian_exact",
)


@pytest.mark.parametrize("name", COMPARED)
def test_jax_and_torch_peer_agree_and_do_not_recompile(name):
  pytest.importorskip("torch")
  if name in SLOW and not os.environ.get("REPRO_BENCH_ALL_PEERS"):
    pytest.skip("slow to compile; set REPRO_BENCH_ALL_PEERS=1")
  kernel = _kernel(name)
  case = kernel.build(kernel.tiny)
  jax_output, peer_output = kernel.compare(case, kernel.tiny)
  tolerance = TOLERANCE.get(name, 1e-9)
  np.testing.assert_allclose(
    np.asarray(jax_output, np.float64),
    np.asarray(peer_output, np.float64),
    rtol=tolerance,
    atol=tolerance,
  )
  case.run_jax()
  assert timing.cache_size(case.jitted) == 1


def test_pgd_kernel_traces_once_with_new_inputs():
  kernel = _kernel("pgd_attack")
  case = kernel.build(kernel.tiny)
  traced = jax.jit(
    chex.assert_max_traces(lambda params, x, y: case.fn(params, x, y), n=1)
  )
  params, x, y = case.args
  first = traced(params, x, y)
  traced(params, jnp.clip(x + 0.01, 0, 1), y)  # new values, same shapes
  traced(params, x, y)
  np.testing.assert_array_equal(first, case.run_jax())


def test_peers_skipped_cleanly_without_torch(monkeypatch):
  monkeypatch.setattr(peers, "available", lambda: False)
  row = runner.run_kernel("pgd_attack", repeat=1, size_name="tiny")
  assert row["status"] == "ok"
  assert row["peer_s"] is None and row["speedup_vs_peer"] is None
  assert row["compiles"] == 1


def test_available_is_false_when_torch_is_missing(monkeypatch):
  import importlib.util

  peers.available.cache_clear()
  monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
  try:
    assert not peers.available()
  finally:
    monkeypatch.undo()
    peers.available.cache_clear()


def test_unbuilt_module_is_reported_not_copied(monkeypatch):
  monkeypatch.setitem(bench.KERNEL_FAMILIES, "future_kernel", "no_such_family")
  row = runner.run_kernel("future_kernel", repeat=1)
  assert row["status"] == "not built yet"
  assert "no_such_family" in row["reason"]


def test_bnn_nuts_ess_matches_the_ar1_formula():
  # ESS is what the per-effective-sample comparison divides by: for AR(1)
  # chains x_t = rho x_{t-1} + noise it is N (1 - rho) / (1 + rho).
  from repro.bench import bayes

  rho, chains, draws = 0.6, 4, 4000
  noise = np.random.default_rng(0).normal(size=(chains, draws, 3))
  values = np.zeros_like(noise)
  values[:, 0] = noise[:, 0] / np.sqrt(1 - rho**2)
  for t in range(1, draws):
    values[:, t] = rho * values[:, t - 1] + noise[:, t]
  expected = chains * draws * (1 - rho) / (1 + rho)
  assert bayes.median_ess(values) == pytest.approx(expected, rel=0.15)


def test_bnn_nuts_rotation_times_every_sampler_alike():
  from repro.bench import bayes

  calls = []
  fns = {
    name: (lambda name=name: calls.append(name) or name)
    for name in ("hmc", "nuts", "numpyro")
  }
  timings, outputs = bayes.rotated(fns, repeat=3)
  assert outputs == {name: name for name in fns}
  assert all(len(timings[name].times_s) == 3 for name in fns)
  # first calls, one warm-up round, then rounds starting one later each
  assert calls[6:] == [
    "hmc",
    "nuts",
    "numpyro",
    "nuts",
    "numpyro",
    "hmc",
    "numpyro",
    "hmc",
    "nuts",
  ]


def test_bnn_nuts_compares_three_samplers_without_recompiles():
  if not os.environ.get("REPRO_BENCH_ALL_PEERS"):
    pytest.skip("compiles three samplers; set REPRO_BENCH_ALL_PEERS=1")
  kernel = _kernel("bnn_nuts")
  case = kernel.build(kernel.tiny)
  row = case.custom(1)
  extra = row["extra"]
  # The same number of chains and kept draws for every sampler.
  hmc_draws = case.run_jax().samples
  nuts_draws = case.nuts_jitted(*case.args).samples
  numpyro_draws = case.numpyro_jitted(*case.numpyro_args)
  assert (
    hmc_draws.shape
    == nuts_draws.shape
    == numpyro_draws.shape
    == (kernel.tiny["chains"], kernel.tiny["draws"], hmc_draws.shape[-1])
  )
  assert row["speedup_vs_peer"] == pytest.approx(
    extra["numpyro_s_per_ess"] / extra["hmc_s_per_ess"]
  )
  assert extra["blackjax_nuts_speedup_per_ess"] == pytest.approx(
    extra["numpyro_s_per_ess"] / extra["blackjax_nuts_s_per_ess"]
  )
  assert timing.cache_size(case.jitted) == 1
  assert extra["blackjax_nuts_compiles"] == extra["numpyro_compiles"] == 1
