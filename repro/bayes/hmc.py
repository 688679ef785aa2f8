"""Full-batch HMC/NUTS with BlackJAX: window adaptation, chains as replicas.

Izmailov et al. (2021), as the paper's HMC baseline: full-batch gradients of the
exact log posterior, a Metropolis-Hastings correction on every transition, a
warm-up phase (BlackJAX's Stan-style window adaptation of the step size towards
a target acceptance rate and of a diagonal mass matrix) that is discarded, then
thinned draws. ``kernel="nuts"`` runs BlackJAX's NUTS after the same adaptation
instead of HMC with a fixed number of leapfrog steps (used by the benchmark; the
study keeps the paper's HMC). Chains are a leading replica axis, sharded with
``repro.core.parallel.shard_replicas``; each chain adapts its own step size and
mass matrix; on each device its chains run one after another (``lax.map`` inside
``shard_map``), so the draws do not depend on the device count. Convergence is
reported by the split R-hat of scalar functions of the draws (Gelman et al.,
BDA3 Section 11.4).

Resume: the warm-up is one compiled phase and the draws run in compiled
chunks through the resumable loop (``repro.core.loop``); with the run's
checkpointer the chain states and the draws so far are saved on the run's
schedule and a rerun continues from them. Every random key is derived from
the root key up front, so a resumed run gives the same draws, bit for bit,
as an uninterrupted one, and as the one-program chain ``_one_chain`` (which
the benchmark times).
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import NamedTuple

import blackjax
import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P

from repro.core import checkpoint, loop, parallel
from repro.ops.losses import log_likelihood

KERNELS = {"hmc": blackjax.hmc, "nuts": blackjax.nuts}


class HMCResult(NamedTuple):
  """Draws and diagnostics of several chains.

  Attributes:
    samples: kept draws ``[chains, draws, D]`` (after warm-up and thinning).
    acceptance_rate: mean MH acceptance probability per chain ``[chains]``.
    step_size: adapted leapfrog step size per chain ``[chains]``.
    num_divergent: divergent transitions per chain ``[chains]``.
  """

  samples: jax.Array
  acceptance_rate: jax.Array
  step_size: jax.Array
  num_divergent: jax.Array


def classification_log_posterior(
  logits_fn: Callable,
  x: jax.Array,
  labels: jax.Array,
  prior_std: float,
  temperature: float = 1.0,
) -> Callable:
  """theta -> log N(theta; 0, prior_std^2 I) + sum_i log p(y_i|x_i, theta) / T.

  Full batch: every call sees the whole training set (no mini-batch
  noise, which would bias the sampler). Constants are dropped.
  """
  log_density = classification_log_density(logits_fn, prior_std, temperature)
  return lambda theta: log_density(theta, x, labels)


@functools.lru_cache(maxsize=32)
def classification_log_density(
  logits_fn: Callable, prior_std: float, temperature: float = 1.0
) -> Callable:
  """``(theta, x, labels) -> log posterior``, the data as arguments.

  Pass it to ``sample_chains`` with ``data=(x, labels)``: the training
  set then enters the compiled sampler as an argument, not as a constant
  folded into the program (faster compilation, one program per shape).
  Cached, so the same model gives the same function and ``sample_chains``
  reuses its compiled sampler.
  """

  def log_density(theta, x, labels):
    log_lik = jnp.sum(log_likelihood(logits_fn(theta, x), labels))
    log_prior = -0.5 * jnp.sum(theta**2) / prior_std**2
    return log_prior + log_lik / temperature

  return log_density


def _kernel_options(kernel: str, num_integration_steps: int) -> dict:
  if kernel not in KERNELS:
    raise ValueError(f"kernel must be one of {sorted(KERNELS)}, got {kernel!r}")
  # NUTS chooses its trajectory length (up to 2^10 steps, as NumPyro).
  return (
    {"num_integration_steps": num_integration_steps} if kernel == "hmc" else {}
  )


def _warmup(
  log_density: Callable,
  num_warmup: int,
  kernel: str,
  num_integration_steps: int,
  target_acceptance: float,
  key: jax.Array,
  initial_position: jax.Array,
):
  """One chain's window adaptation: ``(state, step_size, inv_mass)``."""
  warmup = blackjax.window_adaptation(
    KERNELS[kernel],
    log_density,
    target_acceptance_rate=target_acceptance,
    adaptation_info_fn=lambda *args: None,
    **_kernel_options(kernel, num_integration_steps),
  )
  (state, parameters), _ = warmup.run(
    key, initial_position, num_steps=num_warmup
  )
  return state, parameters["step_size"], parameters["inverse_mass_matrix"]


def _draws(
  log_density: Callable,
  kernel: str,
  num_integration_steps: int,
  thin: int,
  state,
  step_size: jax.Array,
  inverse_mass_matrix: jax.Array,
  draw_keys: jax.Array,
):
  """One chain's kept draws, one per key of ``draw_keys`` ``[n]``.

  Returns ``(state, (samples [n, D], acceptance [n], divergent [n]))``:
  each kept draw is the last of ``thin`` transitions, with their mean
  acceptance probability and number of divergences.
  """
  sampler = KERNELS[kernel](
    log_density,
    step_size=step_size,
    inverse_mass_matrix=inverse_mass_matrix,
    **_kernel_options(kernel, num_integration_steps),
  )

  def transition(state, step_key):
    state, info = sampler.step(step_key, state)
    return state, (info.acceptance_rate, info.is_divergent)

  def kept_draw(state, draw_key):
    state, (acceptance, divergent) = jax.lax.scan(
      transition, state, jax.random.split(draw_key, thin)
    )
    return state, (state.position, jnp.mean(acceptance), jnp.sum(divergent))

  return jax.lax.scan(kept_draw, state, draw_keys)


def _chain_keys(key: jax.Array, num_draws: int):
  """``(warm-up key, draw keys [num_draws])`` of one chain's key."""
  warmup_key, sample_key = jax.random.split(key)
  return warmup_key, jax.random.split(sample_key, num_draws)


def _one_chain(
  log_density_with_data: Callable,
  num_warmup: int,
  num_draws: int,
  thin: int,
  num_integration_steps: int,
  target_acceptance: float,
  data: tuple,
  key: jax.Array,
  initial_position: jax.Array,
  kernel: str = "hmc",
):
  """One chain, warm-up and draws, as one traceable function."""
  log_density = lambda theta: log_density_with_data(theta, *data)
  warmup_key, draw_keys = _chain_keys(key, num_draws)
  state, step_size, inverse_mass_matrix = _warmup(
    log_density,
    num_warmup,
    kernel,
    num_integration_steps,
    target_acceptance,
    warmup_key,
    initial_position,
  )
  _, (samples, acceptance, divergent) = _draws(
    log_density,
    kernel,
    num_integration_steps,
    thin,
    state,
    step_size,
    inverse_mass_matrix,
    draw_keys,
  )
  return HMCResult(samples, jnp.mean(acceptance), step_size, jnp.sum(divergent))


# Compiled samplers by (function, mesh devices, static arguments): a second
# ``sample_chains`` call with the same ones reuses the compiled program
# (jax Meshes that are equal do not hash equal, so the key uses device ids).
_COMPILED: collections.OrderedDict = collections.OrderedDict()
_COMPILED_MAX = 32


def _compiled(
  name: str,
  local_fn: Callable,
  mesh: jax.sharding.Mesh,
  num_replicated: int,
  num_sharded: int,
  statics: tuple,
):
  """``jit(shard_map(lax.map(local_fn)))``, cached on ``statics``.

  ``local_fn(*replicated, *per_chain)`` runs one chain; the first
  ``num_replicated`` arguments (the data) are the same for every chain,
  the other ``num_sharded`` carry the chain axis. One chain at a time on
  each device: a chain's arithmetic does not depend on how many chains
  share its device, so the draws are the same on 1 or on several devices
  (HMC amplifies any rounding difference, e.g. of a matmul batched over
  chains).
  """
  key = (name, tuple(d.id for d in mesh.devices.flat), mesh.axis_names, statics)
  if key in _COMPILED:
    _COMPILED.move_to_end(key)
    return _COMPILED[key]

  def local_chains(*args):
    replicated, sharded = args[:num_replicated], args[num_replicated:]
    return jax.lax.map(
      lambda per_chain: local_fn(*replicated, *per_chain), sharded
    )

  in_specs = (P(),) * num_replicated + (P(parallel.REPLICA),) * num_sharded
  compiled = jax.jit(
    jax.shard_map(
      local_chains,
      mesh=mesh,
      in_specs=in_specs,
      out_specs=P(parallel.REPLICA),
      check_vma=False,
    )
  )
  _COMPILED[key] = compiled
  if len(_COMPILED) > _COMPILED_MAX:
    _COMPILED.popitem(last=False)
  return compiled


def sample_chains(
  log_density: Callable,
  initial_positions: jax.Array,
  key: jax.Array,
  *,
  num_warmup: int,
  num_draws: int,
  thin: int = 1,
  num_integration_steps: int = 20,
  target_acceptance: float = 0.8,
  data: tuple = (),
  mesh: jax.sharding.Mesh | None = None,
  kernel: str = "hmc",
  chunk_draws: int | None = None,
  description: str = "hmc",
  checkpoints: checkpoint.RunCheckpoints | None = None,
) -> HMCResult:
  """Runs one adapted chain per row of ``initial_positions`` ``[C, D]``.

  Each chain: ``num_warmup`` adaptation steps (discarded), then
  ``num_draws * thin`` transitions of which every ``thin``-th is kept.
  ``kernel`` is ``"hmc"`` (``num_integration_steps`` leapfrog steps, the
  paper's baseline) or ``"nuts"``. ``log_density(theta, *data)`` is the
  unnormalised log posterior; every chain sees the same ``data``.
  ``mesh`` (default: all devices that evenly divide the chains) places
  the chain axis. The compiled sampler is cached: calls with the same
  ``log_density``, mesh, static arguments and shapes do not recompile.

  The warm-up and chunks of ``chunk_draws`` kept draws (default: about 20
  chunks) are separate compiled programs run through the resumable loop
  (``repro.core.loop``): with the run's ``checkpoints`` the sampler saves
  between them under the loop name ``description`` and a rerun continues.
  The programs never depend on whether the run checkpoints.
  """
  _kernel_options(kernel, num_integration_steps)
  num_chains = initial_positions.shape[0]
  keys = jax.random.split(key, num_chains)
  mesh = parallel.replica_mesh(num_chains) if mesh is None else mesh
  keys, initial_positions = parallel.shard_replicas(
    (keys, initial_positions), mesh
  )
  data = tuple(data)
  warmup, draws = _chain_programs(
    log_density,
    len(data),
    mesh,
    num_warmup=num_warmup,
    num_draws=num_draws,
    thin=thin,
    kernel=kernel,
    num_integration_steps=num_integration_steps,
    target_acceptance=target_acceptance,
  )
  # Every chain's keys from its root key, exactly as in ``_one_chain``.
  warmup_keys, draw_keys = jax.vmap(lambda k: _chain_keys(k, num_draws))(keys)
  warmup_keys, draw_keys = parallel.shard_replicas(
    (warmup_keys, draw_keys), mesh
  )
  if chunk_draws is None:
    chunk_draws = _default_chunk_draws(num_draws)
  start = _adapted_start(
    warmup, data, warmup_keys, initial_positions, mesh, description, checkpoints
  )

  def advance(chains, first, size):
    state, step_size, inverse_mass_matrix = chains
    state, (samples, acceptance, divergent) = draws(
      *data,
      state,
      step_size,
      inverse_mass_matrix,
      draw_keys[:, first : first + size],
    )
    # jit may return a one-device mesh's arrays with another (equivalent)
    # sharding; placing them alike keeps one compiled chunk per size.
    state = parallel.shard_replicas(state, mesh)
    return (state, step_size, inverse_mass_matrix), {
      "samples": samples,
      "acceptance": acceptance,
      "divergent": divergent,
    }

  result = loop.run(
    advance,
    start,
    num_draws,
    chunk_steps=chunk_draws,
    name=description,
    checkpoints=checkpoints,
    finite=("samples",),
    history_axis=1,
  )
  history = result.history
  return _result(
    jnp.asarray(history["samples"]),
    jnp.asarray(history["acceptance"]),
    start[1],
    jnp.asarray(history["divergent"]),
  )


def _chain_programs(
  log_density: Callable,
  num_data: int,
  mesh,
  *,
  num_warmup: int,
  num_draws: int,
  thin: int,
  kernel: str,
  num_integration_steps: int,
  target_acceptance: float,
):
  """The compiled (cached) warm-up and draw-chunk programs of
  ``sample_chains``; both take the ``num_data`` data arrays first."""
  with_data = lambda fn: (
    lambda *args: fn(
      lambda theta: log_density(theta, *args[:num_data]), *args[num_data:]
    )
  )
  warmup = _compiled(
    "warmup",
    with_data(
      functools.partial(
        _warmup_from_key,
        num_warmup,
        kernel,
        num_integration_steps,
        target_acceptance,
        num_draws,
      )
    ),
    mesh,
    num_data,
    2,
    (
      log_density,
      num_warmup,
      kernel,
      num_integration_steps,
      target_acceptance,
      num_draws,
      num_data,
    ),
  )
  draws = _compiled(
    "draws",
    with_data(
      functools.partial(_draws_chunk, kernel, num_integration_steps, thin)
    ),
    mesh,
    num_data,
    4,
    (log_density, kernel, num_integration_steps, thin, num_data),
  )
  return warmup, draws


def _default_chunk_draws(num_draws: int) -> int:
  """About 20 chunks, of one size (one compilation) where possible."""
  return max(
    n for n in range(1, max(1, -(-num_draws // 20)) + 1) if num_draws % n == 0
  )


def _adapted_start(
  warmup,
  data: tuple,
  warmup_keys,
  initial_positions,
  mesh,
  description: str,
  checkpoints,
):
  """Runs (or restores) the warm-up; returns ``(chain state, step size,
  inverse mass matrix)`` placed on ``mesh``."""

  def adapted():
    state, step_size, inverse_mass_matrix = warmup(
      *data, warmup_keys, initial_positions
    )
    return {
      "state": state._asdict(),
      "step_size": step_size,
      "inverse_mass_matrix": inverse_mass_matrix,
    }

  adaptation = loop.measure_once(
    lambda: parallel.gather(adapted()),
    name=f"{description} warm-up",
    checkpoints=checkpoints,
  )
  # HMC and NUTS share BlackJAX's chain state.
  return parallel.shard_replicas(
    (
      blackjax.mcmc.hmc.HMCState(**adaptation["state"]),
      adaptation["step_size"],
      adaptation["inverse_mass_matrix"],
    ),
    mesh,
  )


@jax.jit
def _result(samples, acceptance, step_size, divergent):
  # The reductions of ``_one_chain``, one chain at a time (the same
  # arithmetic as the one-program path).
  return HMCResult(
    samples,
    jax.lax.map(jnp.mean, acceptance),
    step_size,
    jax.lax.map(jnp.sum, divergent),
  )


def _warmup_from_key(
  num_warmup,
  kernel,
  num_integration_steps,
  target_acceptance,
  num_draws,
  log_density,
  warmup_key,
  initial_position,
):
  del num_draws  # Part of the cache key only.
  state, step_size, inverse_mass_matrix = _warmup(
    log_density,
    num_warmup,
    kernel,
    num_integration_steps,
    target_acceptance,
    warmup_key,
    initial_position,
  )
  # A strongly typed step size, as a restored one is: the draws program
  # then compiles once whether it starts from a warm-up or a checkpoint
  # (the same float either way).
  return state, step_size.astype(initial_position.dtype), inverse_mass_matrix


def _draws_chunk(
  kernel,
  num_integration_steps,
  thin,
  log_density,
  state,
  step_size,
  inverse_mass_matrix,
  draw_keys,
):
  return _draws(
    log_density,
    kernel,
    num_integration_steps,
    thin,
    state,
    step_size,
    inverse_mass_matrix,
    draw_keys,
  )


def split_rhat(values: jax.Array) -> jax.Array:
  """Split R-hat of scalar draws ``[chains, draws]`` (BDA3 eq. 11.4).

  Each chain is cut in two halves (dropping a middle draw when the count
  is odd), then R-hat = sqrt(((n-1)/n W + B/n) / W) over the 2C half
  chains of n draws, with W the mean within-chain variance and B/n the
  variance of the chain means.
  """
  half = values.shape[1] // 2
  chains = jnp.concatenate(
    [values[:, :half], values[:, values.shape[1] - half :]], axis=0
  )
  n = chains.shape[1]
  within = jnp.mean(jnp.var(chains, axis=1, ddof=1))
  between_over_n = jnp.var(jnp.mean(chains, axis=1), ddof=1)
  pooled = (n - 1) / n * within + between_over_n
  return jnp.sqrt(pooled / within)
