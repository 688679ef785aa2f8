"""bnn_attacks kernel: BlackJAX HMC and NUTS vs NumPyro NUTS per ESS.

The posterior is the suite's full-batch BNN posterior
(``repro.bayes.hmc.classification_log_density``) of a ``repro.bayes.
network.flat_mlp`` (64-`hidden`-10) on `examples` digits, prior N(0, 1).
Three samplers run on it with the same chains, starting points, warm-up
length, kept draws (no thinning) and target acceptance 0.8, each as one
cached ``jit(vmap)`` over chains (compilation excluded for all):

* the study's path, ``repro.bayes.hmc``'s chain with ``kernel="hmc"``
  (window adaptation, then HMC with 20 leapfrog steps; the paper's
  baseline) -- the row's JAX time, on which the issue's target "BlackJAX
  path at least as fast per effective sample as NumPyro NUTS" is judged;
* the same chain with ``kernel="nuts"`` (BlackJAX NUTS after the same
  window adaptation) -- the same algorithm as the peer, so its ratio
  measures implementation speed (``extra``: ``blackjax_nuts_*``);
* the peer, NumPyro's NUTS kernel on the same potential (``-log_density``)
  with its own Stan-style warm-up (``MCMC.run`` would recompile on every
  call, so its kernel is scanned under one ``jit``).

The three are timed call by call in rotation (the same load for all), and
compared per effective sample: the median over parameters of NumPyro's
``effective_sample_size`` (multi-chain, Geyer's initial monotone sequence)
of the kept draws ``[chains, draws, D]``, the same function for all.
"""

from __future__ import annotations

import functools
import time

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


def blackjax_chains(size: dict, kernel: str):
  """``jit(vmap)`` of the study's chain function (``hmc._one_chain``)."""
  hmc, _ = _modules()
  log_density, data, initial = _posterior(size)
  chain = functools.partial(
    hmc._one_chain,
    log_density,
    size["warmup"],
    size["draws"],
    1,
    INTEGRATION_STEPS,
    TARGET_ACCEPTANCE,
    kernel=kernel,
  )
  jitted = jax.jit(jax.vmap(chain, in_axes=(None, 0, 0)))
  keys = jax.random.split(jax.random.key(1), size["chains"])
  return jitted, (data, keys, initial)


def numpyro_chains(size: dict):
  """``jit(vmap)`` of NumPyro's NUTS (warm-up + draws) over chains."""
  log_density, data, initial = _posterior(size)

  def numpyro_chain(key, initial_position):
    # NumPyro's NUTS kernel (its own warm-up adaptation runs inside the
    # first ``warmup`` transitions), in a lax.scan so repeated runs reuse
    # one compilation; ``MCMC.run`` recompiles on every call.
    from numpyro.infer.hmc import hmc as numpyro_hmc

    init_kernel, sample_kernel = numpyro_hmc(
      potential_fn=lambda theta: -log_density(theta, *data), algo="NUTS"
    )
    init_key, _ = jax.random.split(key)
    state = init_kernel(
      initial_position,
      num_warmup=size["warmup"],
      target_accept_prob=TARGET_ACCEPTANCE,
      rng_key=init_key,
    )

    def transition(state, _):
      state = sample_kernel(state)
      return state, state.z

    state, _ = jax.lax.scan(transition, state, None, length=size["warmup"])
    _, draws = jax.lax.scan(transition, state, None, length=size["draws"])
    return draws

  jitted = jax.jit(jax.vmap(numpyro_chain))
  keys = jax.random.split(jax.random.key(2), size["chains"])
  return jitted, (keys, initial)


def rotated(fns: dict, repeat: int, warmup: int = 1):
  """Times several callables in rotation, call by call.

  Like ``timing.interleaved`` for more than two: each round calls every
  function once, the first one of a round moving by one each time, so all
  see the same load. Returns ``({name: Timing}, {name: last output})``.
  """
  if repeat < 1:
    raise ValueError(f"repeat must be >= 1, got {repeat}")
  names = list(fns)
  first, outputs = {}, {}
  for name in names:
    start = time.perf_counter()
    timing.block(fns[name]())
    first[name] = time.perf_counter() - start
  for _ in range(warmup):
    for name in names:
      timing.block(fns[name]())
  times = {name: [] for name in names}
  for index in range(repeat):
    order = names[index % len(names) :] + names[: index % len(names)]
    for name in order:
      start = time.perf_counter()
      outputs[name] = timing.block(fns[name]())
      times[name].append(time.perf_counter() - start)
  return (
    {name: timing._summarise(first[name], times[name]) for name in names},
    outputs,
  )


def _build(size: dict) -> Case:
  jitted, args = blackjax_chains(size, "hmc")
  case = Case(
    jitted=jitted, args=args, work=size["chains"] * size["draws"], unit="draws"
  )
  nuts_jitted, nuts_args = blackjax_chains(size, "nuts")
  numpyro_jitted, numpyro_args = numpyro_chains(size)
  # For tests: the other two samplers on the same inputs.
  case.nuts_jitted, case.numpyro_jitted = nuts_jitted, numpyro_jitted
  case.numpyro_args = numpyro_args

  def custom(repeat: int) -> dict:
    timings, outputs = rotated(
      {
        "hmc": case.run_jax,
        "nuts": lambda: nuts_jitted(*nuts_args),
        "numpyro": lambda: numpyro_jitted(*numpyro_args),
      },
      repeat,
    )
    ess = {
      "hmc": median_ess(outputs["hmc"].samples),
      "nuts": median_ess(outputs["nuts"].samples),
      "numpyro": median_ess(outputs["numpyro"]),
    }
    per_ess = {name: timings[name].median_s / ess[name] for name in ess}
    return {
      "jax": timings["hmc"],
      "peer": timings["numpyro"],
      # Per effective sample, not per draw: the ratio that matters;
      # the target is judged on the study's sampler (HMC).
      "speedup_vs_peer": per_ess["numpyro"] / per_ess["hmc"],
      "extra": {
        "hmc_median_ess": ess["hmc"],
        "numpyro_median_ess": ess["numpyro"],
        "hmc_s_per_ess": per_ess["hmc"],
        "numpyro_s_per_ess": per_ess["numpyro"],
        "hmc_speedup_per_draw": (
          timings["numpyro"].median_s / timings["hmc"].median_s
        ),
        "blackjax_nuts_s": timings["nuts"].median_s,
        "blackjax_nuts_compile_s": timings["nuts"].compile_s,
        "blackjax_nuts_median_ess": ess["nuts"],
        "blackjax_nuts_s_per_ess": per_ess["nuts"],
        "blackjax_nuts_speedup_per_ess": (per_ess["numpyro"] / per_ess["nuts"]),
        "blackjax_nuts_speedup_per_draw": (
          timings["numpyro"].median_s / timings["nuts"].median_s
        ),
        "numpyro_compile_s": timings["numpyro"].compile_s,
        "blackjax_nuts_compiles": timing.cache_size(nuts_jitted),
        "numpyro_compiles": timing.cache_size(numpyro_jitted),
      },
    }

  case.custom = custom
  return case


KERNELS = (
  Kernel(
    name="bnn_nuts",
    family="bayes",
    description=(
      "full-batch BNN posterior (64-`hidden`-10 MLP, "
      "`examples` digits), `chains` chains of `warmup` "
      "window-adaptation steps + `draws` draws. JAX = the "
      "study's sampler, repro.bayes.hmc chain with "
      "kernel='hmc' (20 leapfrog steps), under one "
      "jit(vmap); the target is judged on it. Also timed "
      "in the same rotation: the same chain with "
      "kernel='nuts' (BlackJAX NUTS, same adaptation), "
      "reported as blackjax_nuts_*"
    ),
    size={
      "examples": 256,
      "hidden": 16,
      "chains": 2,
      "warmup": 200,
      "draws": 200,
    },
    tiny={"examples": 16, "hidden": 2, "chains": 2, "warmup": 5, "draws": 5},
    build=_build,
    peer_description=(
      "NumPyro NUTS kernel on the same potential, same "
      "chains/starts/warm-up/draws/target acceptance, "
      "jit(vmap) over chains; speedup is per effective "
      "sample (median over parameters of NumPyro's "
      "multi-chain ESS, the same for all three)"
    ),
    notes=(
      "Two ratios. (1) The study's HMC vs NumPyro NUTS (the "
      "row's speedup, judged against the 1x target): per draw "
      "HMC (20 fixed leapfrog steps) is 18-35x cheaper than NUTS "
      "(trees up to depth 10), but its draws are far more "
      "autocorrelated on this multimodal posterior (median ESS "
      "14.4 of 400 draws against NUTS' ~470, anti-correlated "
      "draws; the ESS values are deterministic), so per effective "
      "sample the two are within noise: 0.55x, 0.92x and 1.09x "
      "in three runs under load 12-23. The gap is the sampler, "
      "not the code; the study keeps HMC as the paper's baseline "
      "(Izmailov et al. 2021). HMC calls take seconds and NUTS "
      "calls minutes, so load swings move this ratio most. (2) "
      "BlackJAX NUTS vs NumPyro NUTS "
      "(blackjax_nuts_speedup_per_ess): the same algorithm, "
      "warm-up and ESS (483.7 vs 466.1), so it measures "
      "implementation speed: 1.34x and 0.96x per effective sample "
      "(1.29x, 0.93x per draw) in two runs under load 12-23, "
      "i.e. parity within the noise of the shared machine. "
      "--torch_threads does not apply (no torch peer)."
    ),
    target_speedup=1.0,
  ),
)
