"""Mean-field Gaussian variational inference with NumPyro SVI.

Blundell et al. (2015)-style MFVI, the paper's variational baseline:
q(theta) = N(mu, diag(sigma^2)) fitted by maximising the ELBO with the
reparameterised single-draw estimator (``Trace_ELBO``) and Adam, full
batch, the prior N(0, prior_std^2 I). The steps are jitted ``lax.scan``
chunks over ``svi.update`` run through the resumable loop
(``repro.core.loop``); the SVI state (which carries the ELBO estimator's
key) is what a checkpoint holds, so a resumed fit gives the same numbers,
bit for bit, as an uninterrupted one.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import optax
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoNormal

from repro.core import checkpoint, loop

SITE = "theta"


class MeanField(NamedTuple):
  """q(theta) = N(loc, diag(scale^2)) and the ELBO trace ``[steps]``."""

  loc: jax.Array
  scale: jax.Array
  losses: jax.Array


def fit_mean_field(
  log_likelihood: Callable[[jax.Array], jax.Array],
  dim: int,
  prior_std: float,
  key: jax.Array,
  *,
  num_steps: int,
  learning_rate: float,
  init_loc: jax.Array | None = None,
  init_scale: float = 1e-3,
  chunk_steps: int | None = None,
  description: str = "mfvi",
  checkpoints: checkpoint.RunCheckpoints | None = None,
) -> MeanField:
  """Fits q(theta) to p(theta) exp(log_likelihood(theta)), theta in R^dim.

  Args:
    log_likelihood: theta ``[dim]`` -> scalar log p(data | theta).
    dim: number of parameters.
    prior_std: standard deviation of the N(0, prior_std^2 I) prior.
    key: PRNG key of the ELBO estimator.
    num_steps: Adam steps.
    learning_rate: Adam step size.
    init_loc: initial mean (default: a draw near 0 from NumPyro's init).
    init_scale: initial sigma of every coordinate (small: start near a
      point estimate, as is standard for BNN VI).
    chunk_steps: steps per compiled chunk (default: about 20 chunks).
    description: the loop's name (progress, checkpoints).
    checkpoints: the run's checkpointer (resume) or None.
  """
  programs = _programs(
    log_likelihood, dim, prior_std, learning_rate, init_loc, init_scale
  )
  if chunk_steps is None:
    # About 20 chunks, of one size (one compilation) where possible.
    chunk_steps = max(
      n for n in range(1, max(1, -(-num_steps // 20)) + 1) if num_steps % n == 0
    )

  def advance(state, start, size):
    del start  # The state carries the ELBO estimator's key.
    state, losses = programs.chunk(size)(state)
    return state, {"loss": losses}

  result = loop.run(
    advance,
    programs.init(key),
    num_steps,
    chunk_steps=chunk_steps,
    name=description,
    checkpoints=checkpoints,
  )
  loc, scale = programs.loc_and_scale(result.state)
  losses = jnp.asarray(
    result.history.get("loss", np.zeros((0,), np.asarray(loc).dtype))
  )
  return MeanField(loc, scale, losses)


def _svi(
  log_likelihood, dim, prior_std, learning_rate, init_loc, init_scale
) -> SVI:
  def model():
    theta = numpyro.sample(
      SITE, dist.Normal(jnp.zeros(dim), prior_std).to_event(1)
    )
    numpyro.factor("log_likelihood", log_likelihood(theta))

  init_loc_fn = (
    numpyro.infer.init_to_median
    if init_loc is None
    else numpyro.infer.init_to_value(values={SITE: init_loc})
  )
  guide = AutoNormal(model, init_loc_fn=init_loc_fn, init_scale=init_scale)
  optimizer = numpyro.optim.optax_to_numpyro(optax.adam(learning_rate))
  return SVI(model, guide, optimizer, loss=Trace_ELBO())


def _step(svi: SVI, state, _):
  state, loss = svi.update(state)
  return state, loss


def _loc_and_scale(svi: SVI, state):
  params = svi.get_params(state)
  return params[f"{SITE}_auto_loc"], params[f"{SITE}_auto_scale"]


class _Programs(NamedTuple):
  init: Callable
  loc_and_scale: Callable
  chunk: Callable  # number of steps -> jitted chunk


_PROGRAMS: collections.OrderedDict = collections.OrderedDict()


def _programs(
  log_likelihood, dim, prior_std, learning_rate, init_loc, init_scale
) -> _Programs:
  """Compiled init / chunk / result of one problem, cached on it.

  A rerun of the same fit (a resumed one) reuses the compiled programs.
  """
  key = (
    log_likelihood,
    dim,
    prior_std,
    learning_rate,
    init_scale,
    None
    if init_loc is None
    else (np.asarray(init_loc).tobytes(), np.shape(init_loc)),
  )
  if key in _PROGRAMS:
    return _PROGRAMS[key]
  svi = _svi(
    log_likelihood, dim, prior_std, learning_rate, init_loc, init_scale
  )

  @functools.cache
  def chunk(size):
    return jax.jit(
      lambda state: jax.lax.scan(
        functools.partial(_step, svi), state, None, length=size
      )
    )

  programs = _PROGRAMS[key] = _Programs(
    jax.jit(svi.init), jax.jit(functools.partial(_loc_and_scale, svi)), chunk
  )
  if len(_PROGRAMS) > 8:
    _PROGRAMS.popitem(last=False)
  return programs


def sample_mean_field(q: MeanField, key: jax.Array, num: int) -> jax.Array:
  """``num`` draws ``[num, D]`` of theta ~ q."""
  noise = jax.random.normal(key, (num,) + q.loc.shape, q.loc.dtype)
  return q.loc + q.scale * noise
