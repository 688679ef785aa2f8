"""Closed forms for model collapse in linear and ridge regression.

Dohmatob, Feng and Kempe, "Model Collapse Demystified: The Case of
Regression" (arXiv 2402.07712), Sections 3-5; the derivations are summarised
in the collapse_regression study README. Setting:

- x ~ N(0, Sigma) in R^d with eigenvalues ``eigenvalues`` (diagonal Sigma,
  WLOG), truth w0 with squared coordinates ``w0_squared`` in that basis.
- Generator chain ("replace"): w_0 = w0; w_k = X_k^+ (X_k w_{k-1} + E_k)
  on a fresh design X_k of T0 rows, E_k ~ N(0, gen_noise_var I).
- Downstream ridge on T fresh rows labelled by w_n with noise ``noise_var``,
  w = (X^T X / T + lam I)^{-1} X^T Y / T; test error ||w - w0||_Sigma^2.

The ridge formulas are deterministic equivalents through the effective
regularisation kappa (exact as d, T -> infinity at fixed ratios); the OLS
and over-parameterised formulas are exact at finite size. All functions are
pure ``jnp`` and vmappable over ``lam`` and the sizes; use float64 (power-law
spectra reach d^-beta).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

KAPPA_BISECTION_STEPS = 200


def degrees_of_freedom(
  kappa: ArrayLike, eigenvalues: jax.Array, power: int = 1
) -> jax.Array:
  """df_m(kappa) = tr Sigma^m (Sigma + kappa I)^{-m}."""
  return jnp.sum((eigenvalues / (eigenvalues + kappa)) ** power)


def solve_kappa(
  lam: ArrayLike, eigenvalues: jax.Array, num_samples: ArrayLike
) -> jax.Array:
  """The effective regularisation: the root of kappa - lam = kappa df1 / T.

  f(kappa) = kappa - lam - kappa df1(kappa) / T is negative below the
  root and positive above it (for df1 > T it is < -lam; where df1 < T its
  slope is 1 - df2/T > 0), so bisection on log kappa in
  [max(lam, tiny), lam + tr Sigma / T] finds it. For lam -> 0 and T < d
  the root tends to df1(kappa) = T; for lam = 0
  and T > d it is 0 (the lower end, 1e-30 tr Sigma, is returned).

  Args:
    lam: ridge parameter (>= 0), a scalar.
    eigenvalues: spectrum of Sigma [d].
    num_samples: T, the downstream sample size.

  Returns:
    kappa, a scalar.
  """
  lam = jnp.asarray(lam, eigenvalues.dtype)
  trace = jnp.sum(eigenvalues)
  upper = jnp.log(lam + trace / num_samples)
  lower = jnp.log(jnp.maximum(lam, 1e-30 * trace))

  def excess(log_kappa):
    kappa = jnp.exp(log_kappa)
    return (
      kappa - lam - kappa * degrees_of_freedom(kappa, eigenvalues) / num_samples
    )

  def bisect(_, bounds):
    low, high = bounds
    middle = 0.5 * (low + high)
    above = excess(middle) > 0
    return jnp.where(above, low, middle), jnp.where(above, middle, high)

  low, high = jax.lax.fori_loop(
    0, KAPPA_BISECTION_STEPS, bisect, (lower, upper)
  )
  return jnp.exp(0.5 * (low + high))


def isotropic_kappa(
  lam: ArrayLike, dim: ArrayLike, num_samples: ArrayLike
) -> jax.Array:
  """kappa for Sigma = I in closed form (a check of ``solve_kappa``).

  With df1 = d / (1 + kappa) and phi = d / T:
  kappa = [lam + phi - 1 + sqrt((1 - phi - lam)^2 + 4 lam)] / 2.
  """
  phi = dim / num_samples
  return 0.5 * (lam + phi - 1.0 + jnp.sqrt((1.0 - phi - lam) ** 2 + 4.0 * lam))


def effective_quantities(
  lam: ArrayLike, eigenvalues: jax.Array, num_samples: ArrayLike
) -> tuple[jax.Array, jax.Array, jax.Array]:
  """(kappa, df1(kappa), df2(kappa)) for ridge ``lam`` on T samples."""
  kappa = solve_kappa(lam, eigenvalues, num_samples)
  return (
    kappa,
    degrees_of_freedom(kappa, eigenvalues, 1),
    degrees_of_freedom(kappa, eigenvalues, 2),
  )


def _bias(kappa, df2, eigenvalues, w0_squared, num_samples):
  signal = jnp.sum(eigenvalues * w0_squared / (eigenvalues + kappa) ** 2)
  return kappa**2 * signal / (1.0 - df2 / num_samples)


def _collapse_factor(df1, df2, dim, num_samples, gen_num_samples):
  amplified = df2 + (dim - 2.0 * df1 + df2) * df2 / (num_samples - df2)
  return amplified / (gen_num_samples - dim - 1.0)


def collapse_factor(
  lam: ArrayLike,
  eigenvalues: jax.Array,
  num_samples: ArrayLike,
  gen_num_samples: ArrayLike,
) -> jax.Array:
  """rho with Delta_n = n gen_noise_var rho (paper, Sec. 4; needs T0 > d + 1).

  rho = [df2 + (d - 2 df1 + df2) df2 / (T - df2)] / (T0 - d - 1), where
  E[delta delta^T] = n gen_noise_var Sigma^{-1} / (T0 - d - 1) is the
  generator's error covariance (inverse-Wishart mean) and
  d - 2 df1 + df2 = kappa^2 tr (Sigma + kappa)^{-2}.
  """
  _, df1, df2 = effective_quantities(lam, eigenvalues, num_samples)
  return _collapse_factor(
    df1, df2, eigenvalues.shape[0], num_samples, gen_num_samples
  )


def ridge_test_error(
  lam: ArrayLike,
  eigenvalues: jax.Array,
  w0_squared: jax.Array,
  num_samples: ArrayLike,
  noise_var: ArrayLike,
  gen_num_samples: ArrayLike,
  gen_noise_var: ArrayLike,
  num_generations: ArrayLike,
) -> jax.Array:
  """E_test(w_n^pred) ~ Bias + Var + n gen_noise_var rho (paper, Thm 4.1).

  The paper's Section 4 result: the collapse adds a term linear in the
  number of generations n on top of the clean ridge bias and variance.
  """
  kappa, df1, df2 = effective_quantities(lam, eigenvalues, num_samples)
  return (
    _bias(kappa, df2, eigenvalues, w0_squared, num_samples)
    + noise_var * df2 / (num_samples - df2)
    + num_generations
    * gen_noise_var
    * _collapse_factor(
      df1, df2, eigenvalues.shape[0], num_samples, gen_num_samples
    )
  )


def noise_equivalent_test_error(
  lam: ArrayLike,
  eigenvalues: jax.Array,
  w0_squared: jax.Array,
  num_samples: ArrayLike,
  noise_var: ArrayLike,
  gen_num_samples: ArrayLike,
  gen_noise_var: ArrayLike,
  num_generations: ArrayLike,
) -> jax.Array:
  """The d >> T form: collapse acts as extra label noise (paper, Sec. 4).

  Bias(kappa) + (noise_var + n gen_noise_var d / (T0 - d - 1)) df2 /
  (T - df2): the limit of ``ridge_test_error`` when df1, df2 << d.
  """
  dim = eigenvalues.shape[0]
  kappa, _, df2 = effective_quantities(lam, eigenvalues, num_samples)
  effective_noise = noise_var + num_generations * gen_noise_var * dim / (
    gen_num_samples - dim - 1.0
  )
  return _bias(
    kappa, df2, eigenvalues, w0_squared, num_samples
  ) + effective_noise * df2 / (num_samples - df2)


def ols_test_error(
  dim: int,
  num_samples: float,
  noise_var: float,
  gen_num_samples: float,
  gen_noise_var: float,
  num_generations: ArrayLike,
) -> ArrayLike:
  """Exact OLS error: s^2 d / (T - d - 1) + n s0^2 d / (T0 - d - 1).

  Derived for the collapse_regression study (README, What is reproduced),
  for T, T0 >= d + 2; independent of Sigma and w0.
  """
  return noise_var * dim / (
    num_samples - dim - 1.0
  ) + num_generations * gen_noise_var * dim / (gen_num_samples - dim - 1.0)


def overparameterised_generator_error(
  dim: int,
  gen_num_samples: float,
  num_generations: ArrayLike,
  w0_norm_squared: float,
  gen_noise_var: float = 0.0,
) -> ArrayLike:
  """E||w_n - w0||^2 for Sigma = I and a min-norm generator with T0 < d.

  Noise-free, w_k = P_k w_{k-1} with P_k a uniformly random rank-T0
  projection, so E||w_n - w0||^2 = ||w0||^2 (1 - (T0/d)^n): exponentially
  fast collapse to the null predictor (paper, abstract). The
  noise adds s0^2 T0 / (d - T0 - 1) (1 - (T0/d)^n) / (1 - T0/d)
  (needs d >= T0 + 2).
  """
  keep = gen_num_samples / dim
  shrunk = 1.0 - keep**num_generations
  noise = gen_noise_var * gen_num_samples / (dim - gen_num_samples - 1.0)
  return w0_norm_squared * shrunk + noise * shrunk / (1.0 - keep)


def power_law_spectrum(
  dim: int, beta: float, dtype: DTypeLike | None = None
) -> jax.Array:
  """Capacity condition lambda_j = j^-beta, j = 1..d (paper Section 5)."""
  index = jnp.arange(1, dim + 1, dtype=dtype or jnp.float64)
  return index ** (-beta)


def power_law_source(
  dim: int, beta: float, source: float, dtype: DTypeLike | None = None
) -> jax.Array:
  """Squared truth coefficients with (w0_j)^2 lambda_j = j^(-1 - 2 beta r).

  The source condition of Section 5: w0_j^2 = j^(-1 - 2 beta r) / j^-beta.
  """
  index = jnp.arange(1, dim + 1, dtype=dtype or jnp.float64)
  return index ** (-1.0 - 2.0 * beta * source + beta)


def critical_exponent(beta: float, source: float) -> float:
  """l_crit = beta / (1 + 2 beta r): lam = T^-l_crit gives the slow rate.

  With it the collapsed error decays as T^(-2 beta r / (2 beta r + 1))
  (power-law scaling, paper Sec. 5; classical noisy optimum).
  """
  return beta / (1.0 + 2.0 * beta * source)
