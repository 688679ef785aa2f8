"""Full-batch HMC with BlackJAX: window adaptation, chains as a replica axis.

Izmailov et al. (2021), as the paper's HMC baseline (paper notes, Section
3.3 and pitfall 8): full-batch gradients of the exact log posterior, a
Metropolis-Hastings correction on every transition, a warm-up phase
(BlackJAX's Stan-style window adaptation of the step size towards a target
acceptance rate and of a diagonal mass matrix) that is discarded, then
thinned draws. Chains are a leading replica axis, ``vmap``ped and sharded
with ``repro.core.parallel.shard_replicas``; each chain adapts its own step
size and mass matrix; on each device its chains run one after another
(``lax.map`` inside ``shard_map``), so the draws do not depend on the
device count. Convergence is reported by the split R-hat of scalar
functions of the draws (Gelman et al., BDA3 Section 11.4).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import blackjax
import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P

from repro.core import parallel


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


def classification_log_posterior(logits_fn: Callable, x: jax.Array,
                                 labels: jax.Array, prior_std: float,
                                 temperature: float = 1.0) -> Callable:
  """theta -> log N(theta; 0, prior_std^2 I) + sum_i log p(y_i|x_i, theta) / T.

  Full batch: every call sees the whole training set (no mini-batch
  noise, pitfall 8). Constants are dropped.
  """
  log_density = classification_log_density(logits_fn, prior_std,
                                           temperature)
  return lambda theta: log_density(theta, x, labels)


def classification_log_density(logits_fn: Callable, prior_std: float,
                               temperature: float = 1.0) -> Callable:
  """``(theta, x, labels) -> log posterior``, the data as arguments.

  Pass it to ``sample_chains`` with ``data=(x, labels)``: the training
  set then enters the compiled sampler as an argument, not as a constant
  folded into the program (faster compilation, one program per shape).
  """
  def log_density(theta, x, labels):
    log_probs = jax.nn.log_softmax(logits_fn(theta, x), axis=-1)
    log_lik = jnp.sum(jnp.take_along_axis(log_probs, labels[:, None], 1))
    log_prior = -0.5 * jnp.sum(theta ** 2) / prior_std ** 2
    return log_prior + log_lik / temperature
  return log_density


def _one_chain(log_density_with_data: Callable, num_warmup: int,
               num_draws: int, thin: int, num_integration_steps: int,
               target_acceptance: float, data: tuple, key: jax.Array,
               initial_position: jax.Array):
  log_density = lambda theta: log_density_with_data(theta, *data)
  warmup_key, sample_key = jax.random.split(key)
  warmup = blackjax.window_adaptation(
      blackjax.hmc, log_density, target_acceptance_rate=target_acceptance,
      num_integration_steps=num_integration_steps,
      adaptation_info_fn=lambda *args: None)
  (state, parameters), _ = warmup.run(warmup_key, initial_position,
                                      num_steps=num_warmup)
  kernel = blackjax.hmc(log_density, **parameters)

  def transition(state, step_key):
    state, info = kernel.step(step_key, state)
    return state, (info.acceptance_rate, info.is_divergent)

  def kept_draw(state, draw_key):
    state, (acceptance, divergent) = jax.lax.scan(
        transition, state, jax.random.split(draw_key, thin))
    return state, (state.position, jnp.mean(acceptance), jnp.sum(divergent))

  _, (samples, acceptance, divergent) = jax.lax.scan(
      kept_draw, state, jax.random.split(sample_key, num_draws))
  return HMCResult(samples, jnp.mean(acceptance), parameters["step_size"],
                   jnp.sum(divergent))


def sample_chains(log_density: Callable, initial_positions: jax.Array,
                  key: jax.Array, *, num_warmup: int, num_draws: int,
                  thin: int = 1, num_integration_steps: int = 20,
                  target_acceptance: float = 0.8,
                  data: tuple = (),
                  mesh: jax.sharding.Mesh | None = None) -> HMCResult:
  """Runs one adapted HMC chain per row of ``initial_positions`` ``[C, D]``.

  Each chain: ``num_warmup`` adaptation steps (discarded), then
  ``num_draws * thin`` HMC transitions of which every ``thin``-th is kept.
  The chain axis is vmapped and sharded over the available devices.
  ``log_density(theta, *data)`` is the unnormalised log posterior; every
  chain sees the same ``data``. ``mesh`` (default: all devices that
  evenly divide the chains) places the chain axis.
  """
  num_chains = initial_positions.shape[0]
  keys = jax.random.split(key, num_chains)
  mesh = parallel.replica_mesh(num_chains) if mesh is None else mesh
  keys, initial_positions = parallel.shard_replicas(
      (keys, initial_positions), mesh)
  run = functools.partial(_one_chain, log_density, num_warmup, num_draws,
                          thin, num_integration_steps, target_acceptance)

  def local_chains(data, keys, positions):
    # One chain at a time on each device: a chain's arithmetic does not
    # depend on how many chains share its device, so the draws are the
    # same on 1 or on several devices (HMC amplifies any rounding
    # difference, e.g. of a matmul batched over chains).
    return jax.lax.map(lambda args: run(data, *args), (keys, positions))

  sharded = jax.shard_map(
      local_chains, mesh=mesh,
      in_specs=(P(), P(parallel.REPLICA), P(parallel.REPLICA)),
      out_specs=P(parallel.REPLICA), check_vma=False)
  return jax.jit(sharded)(tuple(data), keys, initial_positions)


def split_rhat(values: jax.Array) -> jax.Array:
  """Split R-hat of scalar draws ``[chains, draws]`` (BDA3 eq. 11.4).

  Each chain is cut in two halves (dropping a middle draw when the count
  is odd), then R-hat = sqrt(((n-1)/n W + B/n) / W) over the 2C half
  chains of n draws, with W the mean within-chain variance and B/n the
  variance of the chain means.
  """
  half = values.shape[1] // 2
  chains = jnp.concatenate([values[:, :half],
                            values[:, values.shape[1] - half:]], axis=0)
  n = chains.shape[1]
  within = jnp.mean(jnp.var(chains, axis=1, ddof=1))
  between_over_n = jnp.var(jnp.mean(chains, axis=1), ddof=1)
  pooled = (n - 1) / n * within + between_over_n
  return jnp.sqrt(pooled / within)
