"""The trend test of self-adaptive trajectory matching (STM, arXiv 2311.17967).

STM keeps a history of the next-epoch matching loss (the loss of matching
the not-yet-included expert epoch) and every few iterations tests whether
it falls: with r the Pearson correlation between the history and the
iteration number and n its length, under the null (no trend) r has
standard deviation about sigma_r = sqrt(1 / (n - 2)). The history is
"significantly decreasing" if r < -lambda sigma_r (lambda = ``--sigma``,
default 5; 3 in the CPU plan), and "overfitting the previous epoch" if
r > 3 sigma_r; either advances the start-epoch cap. A pass needs
sqrt(n - 2) > lambda, since |r| <= 1.

The history lives in a fixed-size buffer with a length, so the test runs
inside ``lax.scan``; entries past the length are ignored.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax.typing import ArrayLike

OVERFIT_SIGMAS = 3.0


class TrendResult(NamedTuple):
  r: jnp.ndarray  # Pearson r of (iteration, value); 0 if undefined
  sigma_r: jnp.ndarray  # sqrt(1 / (n - 2)); inf if n <= 2
  decreasing: jnp.ndarray  # r < -lambda sigma_r
  increasing: jnp.ndarray  # r > 3 sigma_r ("overfitting")


def masked_pearson_r(values: jnp.ndarray, length: ArrayLike) -> jnp.ndarray:
  """Pearson r between values[:length] and 0..length-1 (0 if degenerate)."""
  index = jnp.arange(values.shape[-1], dtype=values.dtype)
  mask = (index < length).astype(values.dtype)
  count = jnp.maximum(jnp.sum(mask), 1.0)
  mean_v = jnp.sum(values * mask) / count
  mean_i = jnp.sum(index * mask) / count
  dv = (values - mean_v) * mask
  di = (index - mean_i) * mask
  covariance = jnp.sum(dv * di)
  norm = jnp.sqrt(jnp.sum(dv**2) * jnp.sum(di**2))
  return jnp.where(norm > 0, covariance / jnp.where(norm > 0, norm, 1.0), 0.0)


def trend_test(
  values: jnp.ndarray, length: ArrayLike, sigma: float
) -> TrendResult:
  """STM's test on the first ``length`` entries of ``values``."""
  r = masked_pearson_r(values, length)
  dof = jnp.asarray(length, values.dtype) - 2.0
  sigma_r = jnp.where(dof > 0, jnp.sqrt(1.0 / jnp.maximum(dof, 1e-12)), jnp.inf)
  return TrendResult(
    r=r,
    sigma_r=sigma_r,
    decreasing=r < -sigma * sigma_r,
    increasing=r > OVERFIT_SIGMAS * sigma_r,
  )
