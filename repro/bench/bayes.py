"""Kernel of bnn_attacks: BlackJAX HMC vs NumPyro NUTS per effective sample.

The posterior is the suite's full-batch BNN posterior
(``repro.bayes.hmc.classification_log_density``) of a ``repro.bayes.
network.flat_mlp`` (64-`hidden`-10) on `examples` digits, prior N(0, 1).
Our path is ``repro.bayes.hmc``'s chain (window adaptation, then HMC with
20 leapfrog steps), vmapped over chains under one cached ``jit``. The peer
is NumPyro's NUTS kernel on the same potential (``-log_density``), same
chains, warm-up and draws, vmapped over chains under one cached ``jit``
(``MCMC.run`` would recompile on every call). Both are compared per
effective sample: median over parameters of NumPyro's
``effective_sample_size`` of the kept draws.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from repro.bench import timing
from repro.bench.attacks import _digits
from repro.bench.kernel import Case, Kernel, NotBuiltYet

PRIOR_STD = 1.0
INTEGRATION_STEPS = 20
TARGET_ACCEPTANCE = 0.8


def _modules():
  try:
    from repro.bayes import hmc, network
  except ImportError as error:
    raise NotBuiltYet(f"repro.bayes: {error}") from None
  return hmc, network


def _posterior(size: dict):
  hmc, network = _modules()
  x, y = _digits(size["examples"])
  model = network.flat_mlp(x.shape[1], (size["hidden"],), 10)
  log_density = hmc.classification_log_density(model.logits, PRIOR_STD)
  initial = model.init(jax.random.key(0), size["chains"])
  return log_density, (jnp.asarray(x), jnp.asarray(y)), initial


def median_ess(samples) -> float:
  """Median over parameters of the multi-chain ESS of ``[C, S, D]``."""
  from numpyro.diagnostics import effective_sample_size
  return float(np.median(effective_sample_size(np.asarray(samples))))


def _build(size: dict) -> Case:
  hmc, _ = _modules()
  log_density, data, initial = _posterior(size)
  # ``hmc.sample_chains`` builds a new jit on every call (it recompiles
  # each time); the same chain function under one cached jit here.
  chain = functools.partial(
      hmc._one_chain, log_density, size["warmup"], size["draws"], 1,
      INTEGRATION_STEPS, TARGET_ACCEPTANCE)
  jitted = jax.jit(jax.vmap(chain, in_axes=(None, 0, 0)))
  keys = jax.random.split(jax.random.key(1), size["chains"])
  case = Case(jitted=jitted, args=(data, keys, initial),
              work=size["chains"] * size["draws"], unit="draws")

  def numpyro_chain(key, initial_position):
    # NumPyro's NUTS kernel (its own warm-up adaptation runs inside the
    # first ``warmup`` transitions), in a lax.scan so repeated runs reuse
    # one compilation; ``MCMC.run`` recompiles on every call.
    from numpyro.infer.hmc import hmc as numpyro_hmc
    init_kernel, sample_kernel = numpyro_hmc(
        potential_fn=lambda theta: -log_density(theta, *data), algo="NUTS")
    init_key, _ = jax.random.split(key)
    state = init_kernel(initial_position, num_warmup=size["warmup"],
                        target_accept_prob=TARGET_ACCEPTANCE,
                        rng_key=init_key)

    def transition(state, _):
      state = sample_kernel(state)
      return state, state.z

    state, _ = jax.lax.scan(transition, state, None, length=size["warmup"])
    _, draws = jax.lax.scan(transition, state, None, length=size["draws"])
    return draws

  numpyro_jitted = jax.jit(jax.vmap(numpyro_chain))
  numpyro_keys = jax.random.split(jax.random.key(2), size["chains"])
  numpyro_run = lambda: numpyro_jitted(numpyro_keys, initial)

  def custom(repeat: int) -> dict:
    jax_timing, peer_timing = timing.interleaved(case.run_jax, numpyro_run,
                                                 repeat)
    ours = median_ess(case.run_jax().samples)
    theirs = median_ess(numpyro_run())
    per_ess_ours = jax_timing.median_s / ours
    per_ess_theirs = peer_timing.median_s / theirs
    return {"jax": jax_timing, "peer": peer_timing,
            # Per effective sample, not per draw: the ratio that matters.
            "speedup_vs_peer": per_ess_theirs / per_ess_ours,
            "extra": {"blackjax_median_ess": ours,
                      "numpyro_median_ess": theirs,
                      "blackjax_s_per_ess": per_ess_ours,
                      "numpyro_s_per_ess": per_ess_theirs,
                      "speedup_per_draw": (peer_timing.median_s
                                           / jax_timing.median_s)}}
  case.custom = custom
  return case


KERNELS = (
    Kernel(
        name="bnn_nuts", family="bayes",
        description=("full-batch BNN posterior (64-`hidden`-10 MLP, "
                     "`examples` digits): `chains` chains of `warmup` "
                     "window-adaptation steps + `draws` HMC draws; "
                     "repro.bayes.hmc chain under one jit(vmap)"),
        size={"examples": 256, "hidden": 16, "chains": 2, "warmup": 200,
              "draws": 200},
        tiny={"examples": 16, "hidden": 2, "chains": 2, "warmup": 5,
              "draws": 5},
        build=_build,
        peer_description=("NumPyro NUTS kernel on the same potential, same "
                          "chains/warm-up/draws, jit(vmap) over chains; "
                          "speedup is per effective sample"),
        notes=("Per draw our HMC (20 fixed leapfrog steps) is ~30x "
               "cheaper than NUTS (trees up to depth 10), but its draws "
               "are far more autocorrelated on this multimodal posterior: "
               "median ESS ~14 of 400 draws against NUTS' ~470 "
               "(anti-correlated draws), so per effective sample the two "
               "are within noise of each other. The gap is the sampler, "
               "not the code: blackjax.nuts in repro/bayes/hmc.py (or "
               "more integration steps) would change it; the study keeps "
               "HMC as the paper's baseline."),
        target_speedup=1.0),
)
