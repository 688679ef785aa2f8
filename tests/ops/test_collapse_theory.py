"""Closed forms of model collapse vs closed-form limits and brute force.

The Monte Carlo here is plain batched numpy, independent of the study's
JAX simulation: a fresh Gaussian design per generation, least squares
(min-norm when T0 < d) for the generator, ridge downstream.
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import threadpoolctl

from repro.ops import collapse_theory as theory


@pytest.fixture(autouse=True)
def _single_threaded_blas():
  """Batched small numpy solves: BLAS threads only add contention."""
  with threadpoolctl.threadpool_limits(1):
    yield


def _chain(
  rng, reps, w0, eigenvalues, gen_num_samples, gen_noise_std, generations
):
  """Batched generator chain -> w_n [reps, d]."""
  dim = len(w0)
  weights = np.tile(w0, (reps, 1))[..., None]  # [reps, d, 1]
  for _ in range(generations):
    x = rng.normal(size=(reps, gen_num_samples, dim)) * np.sqrt(eigenvalues)
    y = x @ weights + gen_noise_std * rng.normal(
      size=(reps, gen_num_samples, 1)
    )
    x_t = np.swapaxes(x, 1, 2)
    if gen_num_samples > dim:
      weights = np.linalg.solve(x_t @ x, x_t @ y)
    else:
      weights = x_t @ np.linalg.solve(x @ x_t, y)
  return weights[..., 0]


def _downstream_error(
  rng, weights, w0, eigenvalues, num_samples, noise_std, lam
):
  """Ridge (lam against X^T X / T) on labels of ``weights``; Sigma error."""
  reps, dim = weights.shape
  x = rng.normal(size=(reps, num_samples, dim)) * np.sqrt(eigenvalues)
  y = x @ weights[..., None] + noise_std * rng.normal(
    size=(reps, num_samples, 1)
  )
  x_t = np.swapaxes(x, 1, 2)
  if num_samples >= dim:
    fitted = np.linalg.solve(
      x_t @ x / num_samples + lam * np.eye(dim), x_t @ y / num_samples
    )
  else:
    fitted = x_t @ np.linalg.solve(
      x @ x_t / num_samples + lam * np.eye(num_samples), y / num_samples
    )
  return np.sum(eigenvalues * (fitted[..., 0] - w0) ** 2, axis=-1)


@pytest.mark.parametrize(
  "lam,dim,num_samples",
  [
    (0.5, 100, 300),
    (0.01, 100, 300),
    (0.3, 300, 100),
    (1e-12, 300, 100),
    (2.0, 50, 50),
  ],
)
def test_solve_kappa_matches_isotropic_closed_form(lam, dim, num_samples):
  with jax.enable_x64(True):
    kappa = float(jax.jit(theory.solve_kappa)(lam, jnp.ones(dim), num_samples))
    chex.assert_rank(theory.isotropic_kappa(lam, dim, num_samples), 0)
    expected = float(theory.isotropic_kappa(lam, dim, num_samples))
  assert kappa == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_solve_kappa_solves_fixed_point_for_power_law():
  with jax.enable_x64(True):
    eigenvalues = theory.power_law_spectrum(400, 2.0)
    for lam, num_samples in ((1e-3, 50), (0.2, 500), (0.0, 40)):
      kappa = theory.solve_kappa(lam, eigenvalues, num_samples)
      df1 = theory.degrees_of_freedom(kappa, eigenvalues, 1)
      chex.assert_rank([kappa, df1], 0)
      chex.assert_type([kappa, df1], jnp.float64)
      # kappa - lam = kappa df1 / T; lam = 0 with T < d: df1(kappa) = T.
      assert float(kappa - lam) == pytest.approx(
        float(kappa * df1 / num_samples), rel=1e-9
      )
      assert float(df1) < num_samples


def test_ridge_formula_limits():
  with jax.enable_x64(True):
    eigenvalues = theory.power_law_spectrum(50, 1.5)
    w0_squared = theory.power_law_source(50, 1.5, 0.5)
    args = dict(
      eigenvalues=eigenvalues,
      w0_squared=w0_squared,
      num_samples=200,
      noise_var=0.25,
      gen_num_samples=150,
      gen_noise_var=1.0,
      num_generations=3,
    )
    # lam -> 0 with T > d: OLS up to the finite-size -1 of T - d - 1.
    chex.assert_shape([eigenvalues, w0_squared], (50,))
    chex.assert_rank(theory.ridge_test_error(1e-12, **args), 0)
    ridgeless = float(theory.ridge_test_error(1e-12, **args))
    assert ridgeless == pytest.approx(0.25 * 50 / 150 + 3 * 50 / 99, rel=1e-6)
    # lam -> infinity: the null predictor, no collapse term.
    huge = float(theory.ridge_test_error(1e8, **args))
    assert huge == pytest.approx(
      float(jnp.sum(eigenvalues * w0_squared)), rel=1e-5
    )
    assert float(theory.collapse_factor(1e8, eigenvalues, 200, 150)) < 1e-6


def test_ols_formula_matches_brute_force():
  rng = np.random.default_rng(0)
  dim, num_samples, gen_num_samples, generations = 4, 20, 16, 2
  eigenvalues = np.array([3.0, 1.0, 0.2, 0.01])  # the formula ignores Sigma.
  w0 = np.array([1.0, -0.5, 2.0, 0.3])
  weights = _chain(
    rng, 20_000, w0, eigenvalues, gen_num_samples, 1.0, generations
  )
  errors = _downstream_error(
    rng, weights, w0, eigenvalues, num_samples, 0.5, 0.0
  )
  expected = theory.ols_test_error(
    dim, num_samples, 0.25, gen_num_samples, 1.0, generations
  )
  assert expected == pytest.approx(0.25 * 4 / 15 + 2 * 4 / 11)
  assert errors.mean() == pytest.approx(expected, rel=0.04)


@pytest.mark.parametrize("beta,lam", [(0.0, 0.3), (1.0, 0.05)])
def test_ridge_deterministic_equivalent_matches_brute_force(beta, lam):
  rng = np.random.default_rng(1)
  dim, num_samples, gen_num_samples, generations = 30, 90, 75, 2
  eigenvalues = np.arange(1, dim + 1.0) ** -beta
  w0 = np.arange(1, dim + 1.0) ** -0.5
  weights = _chain(
    rng, 2000, w0, eigenvalues, gen_num_samples, 1.0, generations
  )
  errors = _downstream_error(
    rng, weights, w0, eigenvalues, num_samples, 0.5, lam
  )
  with jax.enable_x64(True):
    predicted = float(
      theory.ridge_test_error(
        lam,
        jnp.asarray(eigenvalues),
        jnp.asarray(w0**2),
        num_samples,
        0.25,
        gen_num_samples,
        1.0,
        generations,
      )
    )
    clean = float(
      theory.ridge_test_error(
        lam,
        jnp.asarray(eigenvalues),
        jnp.asarray(w0**2),
        num_samples,
        0.25,
        gen_num_samples,
        1.0,
        0,
      )
    )
  assert predicted > 1.5 * clean  # the collapse term matters here.
  assert errors.mean() == pytest.approx(predicted, rel=0.03)


def test_noise_equivalence_when_dim_much_larger_than_samples():
  rng = np.random.default_rng(2)
  dim, num_samples, gen_num_samples, lam = 120, 6, 240, 0.1
  eigenvalues = np.arange(1, dim + 1.0) ** -1.0
  w0 = np.arange(1, dim + 1.0) ** -0.5
  weights = _chain(rng, 400, w0, eigenvalues, gen_num_samples, 1.0, 1)
  errors = _downstream_error(
    rng, weights, w0, eigenvalues, num_samples, 0.0, lam
  )
  with jax.enable_x64(True):
    args = (
      lam,
      jnp.asarray(eigenvalues),
      jnp.asarray(w0**2),
      num_samples,
      0.0,
      gen_num_samples,
      1.0,
      1,
    )
    equivalent = float(theory.noise_equivalent_test_error(*args))
    full = float(theory.ridge_test_error(*args))
    # Far from d >> T the two differ: T = 100 here (gap ~15%).
    far = (
      lam,
      jnp.asarray(eigenvalues),
      jnp.asarray(w0**2),
      100,
      0.0,
      gen_num_samples,
      1.0,
      1,
    )
    far_gap = (
      float(
        theory.noise_equivalent_test_error(*far) / theory.ridge_test_error(*far)
      )
      - 1.0
    )
  assert equivalent == pytest.approx(full, rel=0.02)
  assert abs(far_gap) > 0.1
  # Finite T = 6 costs the deterministic equivalents a few percent.
  assert errors.mean() == pytest.approx(equivalent, rel=0.08)


@pytest.mark.parametrize("gen_noise_std", [0.0, 0.5])
def test_overparameterised_chain_matches_brute_force(gen_noise_std):
  rng = np.random.default_rng(3)
  dim, gen_num_samples = 12, 4
  w0 = rng.normal(size=dim)
  w0 /= np.linalg.norm(w0)
  for generations in (1, 2, 4):
    weights = _chain(
      rng, 20_000, w0, np.ones(dim), gen_num_samples, gen_noise_std, generations
    )
    measured = np.mean(np.sum((weights - w0) ** 2, axis=-1))
    expected = theory.overparameterised_generator_error(
      dim, gen_num_samples, generations, 1.0, gen_noise_std**2
    )
    assert measured == pytest.approx(expected, rel=0.03)
  assert theory.overparameterised_generator_error(
    dim, gen_num_samples, 3, 1.0
  ) == pytest.approx(1 - (1 / 3) ** 3)


def test_power_law_source_and_critical_exponent():
  with jax.enable_x64(True):
    eigenvalues = theory.power_law_spectrum(10, 2.0)
    w0_squared = theory.power_law_source(10, 2.0, 0.625)
    chex.assert_shape([eigenvalues, w0_squared], (10,))
    chex.assert_type([eigenvalues, w0_squared], jnp.float64)
  index = np.arange(1, 11.0)
  np.testing.assert_allclose(
    w0_squared * eigenvalues, index ** (-1 - 2 * 2.0 * 0.625), rtol=1e-12
  )
  np.testing.assert_allclose(np.sqrt(w0_squared), index**-0.75, rtol=1e-12)
  assert theory.critical_exponent(2.0, 0.5) == pytest.approx(2 / 3)
