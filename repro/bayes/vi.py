"""Mean-field Gaussian variational inference with NumPyro SVI.

Blundell et al. (2015)-style MFVI (paper notes, Section 5, model 3):
q(theta) = N(mu, diag(sigma^2)) fitted by maximising the ELBO with the
reparameterised single-draw estimator (``Trace_ELBO``) and Adam, full
batch, the prior N(0, prior_std^2 I). The steps are one jitted
``lax.scan`` over ``svi.update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
import optax
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoNormal

SITE = "theta"


class MeanField(NamedTuple):
  """q(theta) = N(loc, diag(scale^2)) and the ELBO trace ``[steps]``."""
  loc: jax.Array
  scale: jax.Array
  losses: jax.Array


def fit_mean_field(log_likelihood: Callable[[jax.Array], jax.Array],
                   dim: int, prior_std: float, key: jax.Array, *,
                   num_steps: int, learning_rate: float,
                   init_loc: jax.Array | None = None,
                   init_scale: float = 1e-3) -> MeanField:
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
  """
  def model():
    theta = numpyro.sample(SITE, dist.Normal(
        jnp.zeros(dim), prior_std).to_event(1))
    numpyro.factor("log_likelihood", log_likelihood(theta))

  init_loc_fn = (numpyro.infer.init_to_median if init_loc is None else
                 numpyro.infer.init_to_value(values={SITE: init_loc}))
  guide = AutoNormal(model, init_loc_fn=init_loc_fn, init_scale=init_scale)
  optimizer = numpyro.optim.optax_to_numpyro(optax.adam(learning_rate))
  svi = SVI(model, guide, optimizer, loss=Trace_ELBO())

  @jax.jit
  def fit(key):
    state = svi.init(key)  # the state carries the ELBO estimator's key

    def step(state, _):
      state, loss = svi.update(state)
      return state, loss

    state, losses = jax.lax.scan(step, state, None, length=num_steps)
    params = svi.get_params(state)
    return params[f"{SITE}_auto_loc"], params[f"{SITE}_auto_scale"], losses

  loc, scale, losses = fit(key)
  return MeanField(loc, scale, losses)


def sample_mean_field(q: MeanField, key: jax.Array, num: int) -> jax.Array:
  """``num`` draws ``[num, D]`` of theta ~ q."""
  noise = jax.random.normal(key, (num,) + q.loc.shape, q.loc.dtype)
  return q.loc + q.scale * noise
