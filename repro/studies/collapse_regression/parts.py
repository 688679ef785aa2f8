"""The five parts of collapse_regression and the metrics the claims read.

(i) isotropic and (ii) power-law Gaussian regression over generations and
ridge parameters, (iii) the scaling law over T with near-zero, adaptive,
fixed and oracle ridge parameters, (iv) the over-parameterised noise-free
chain, (v) kernel ridge regression on images. Simulations and closed forms
run in float64 (``numerics``).
"""

from __future__ import annotations

import contextlib
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg  # noqa: F401  Loads the LAPACK jaxlib calls (see below).
import threadpoolctl
from absl import logging

from repro.core import rng
from repro.ops import collapse_theory as theory
from repro.ops import kernels
from repro.studies.collapse_regression import (
  analysis,
  kernel_chain,
  simulate,
)

SPECTRA = ("isotropic", "power_law")


@contextlib.contextmanager
def numerics():
  """float64, fast-compiling threefry, 1-thread BLAS.

  - float64: power-law eigenvalues down to 1e-5 break float32 solves.
  - The non-partitionable threefry compiles ~1 s faster per jitted function
    that draws random numbers (CPU, jax 0.10); nothing here shards a random
    draw, so only the (deterministic) stream changes.
  - jaxlib's CPU LAPACK calls go to scipy's OpenBLAS; its worker threads
    make a Cholesky of size > 128 (blocked, BLAS-3) ~20x slower on a
    machine whose cores are busy, so they are limited to one.
  """
  with (
    jax.enable_x64(True),
    jax.threefry_partitionable(False),
    threadpoolctl.threadpool_limits(1, user_api="blas"),
  ):
    yield


def _stream_keys(seed: int, name: str, reps: int) -> jax.Array:
  return simulate.replica_keys(rng.stream(seed, name), reps)


@functools.partial(jax.jit, static_argnames="noise_equivalent")
def _ridge_theory_table(
  lambdas,
  generations,
  eigenvalues,
  w0_squared,
  num_samples,
  noise_var,
  gen_num_samples,
  gen_noise_var,
  noise_equivalent=False,
):
  """ridge_test_error (or its d >> T form) on generations x lambdas."""
  formula = (
    theory.noise_equivalent_test_error
    if noise_equivalent
    else theory.ridge_test_error
  )

  def error(n, lam):
    return formula(
      lam,
      eigenvalues,
      w0_squared,
      num_samples,
      noise_var,
      gen_num_samples,
      gen_noise_var,
      n,
    )

  return jax.vmap(lambda n: jax.vmap(lambda lam: error(n, lam))(lambdas))(
    generations
  )


def spectrum_and_truth(kind: str, dim: int, beta: float, source: float):
  """Sigma's eigenvalues and w0 of a setting (w0 has unit norm if isotropic)."""
  if kind == "isotropic":
    return (
      jnp.ones(dim, jnp.float64),
      jnp.full(dim, 1.0 / math.sqrt(dim), jnp.float64),
    )
  eigenvalues = theory.power_law_spectrum(dim, beta)
  return eigenvalues, jnp.sqrt(theory.power_law_source(dim, beta, source))


def gaussian_part(config, kind: str) -> dict:
  """Settings (i)/(ii): errors over n = 0..max and lam in {0} + grid."""
  g = config.gaussian
  eigenvalues, w0 = spectrum_and_truth(
    kind, g.dim, g.power_law_beta, g.power_law_source
  )
  reps = g.isotropic_reps if kind == "isotropic" else g.power_law_reps
  logging.info(
    "collapse_regression: %s chains (%d reps, d=%d, T0=%d)",
    kind,
    reps,
    g.dim,
    g.gen_num_samples,
  )
  models = simulate.simulate_chains(
    _stream_keys(config.seed, f"{kind}/generator", reps),
    w0,
    eigenvalues,
    g.gen_num_samples,
    g.gen_noise_std,
    g.max_generations,
    chunk_size=g.chunk_size,
  )
  lambdas = np.array((0.0,) + tuple(g.lambdas))
  errors = simulate.simulate_downstream(
    _stream_keys(config.seed, f"{kind}/downstream", reps),
    models,
    w0,
    eigenvalues,
    g.num_samples,
    g.noise_std,
    jnp.asarray(lambdas),
    chunk_size=g.chunk_size,
  )
  mean, standard_error = analysis.mean_and_standard_error(np.asarray(errors))
  generations = np.arange(g.max_generations + 1)
  table = lambda grid: np.asarray(
    _ridge_theory_table(
      jnp.asarray(grid),
      jnp.asarray(generations, jnp.float64),
      eigenvalues,
      w0**2,
      g.num_samples,
      g.noise_std**2,
      g.gen_num_samples,
      g.gen_noise_std**2,
    )
  )
  ols = np.asarray(
    theory.ols_test_error(
      g.dim,
      g.num_samples,
      g.noise_std**2,
      g.gen_num_samples,
      g.gen_noise_std**2,
      generations.astype(float),
    )
  )
  fine_lambdas = np.logspace(
    np.log10(lambdas[1]), np.log10(lambdas[-1]) + 0.5, 161
  )
  both = table(np.concatenate([lambdas[1:], fine_lambdas]))
  predicted = np.concatenate(
    [ols[:, None], both[:, : len(lambdas) - 1]], axis=1
  )
  return {
    "kind": kind,
    "reps": reps,
    "lambdas": lambdas,
    "generations": generations,
    "mean": mean,
    "standard_error": standard_error,
    "predicted": predicted,
    "fine_lambdas": fine_lambdas,
    "fine_predicted": both[:, len(lambdas) - 1 :],
  }


def gaussian_metrics(parts: dict, g) -> dict:
  """Metrics of A1-A4 from the two Gaussian settings."""
  checked = np.asarray(g.checked_generations)
  low, high = g.claim_lambda_range
  metrics, r_squared, slope_errors, step_ratios, retuned = {}, [], [], [], []
  ols_errors, ridge_errors = [], []
  for kind, part in parts.items():
    lambdas, mean, predicted = part["lambdas"], part["mean"], part["predicted"]
    ols_errors.append(
      analysis.max_relative_error(mean[checked, 0], predicted[checked, 0])
    )
    in_range = (
      (lambdas >= low * (1 - 1e-9))
      & (lambdas <= high * (1 + 1e-9))
      & (lambdas > 0)
    )
    ridge_errors.append(
      analysis.max_relative_error(
        mean[np.ix_(checked, in_range)], predicted[np.ix_(checked, in_range)]
      )
    )
    # A3: linear in n for OLS and for the lam tuned on clean data.
    clean_best = 1 + int(np.argmin(mean[0, 1:]))
    for index in (0, clean_best):
      _, slope, fit_r2 = analysis.linear_fit(
        part["generations"], mean[:, index]
      )
      predicted_slope = predicted[1, index] - predicted[0, index]
      r_squared.append(fit_r2)
      slope_errors.append(abs(slope / predicted_slope - 1.0))
      metrics[f"{kind}/slope_lambda_{lambdas[index]:.3g}"] = slope
      metrics[f"{kind}/theory_slope_lambda_{lambdas[index]:.3g}"] = (
        predicted_slope
      )
    # A4: the best lam on the grid at each checked n.
    grid = lambdas[1:]
    best = analysis.best_lambda(grid, mean[checked, 1:])
    theory_best = analysis.best_lambda(
      part["fine_lambdas"], part["fine_predicted"][checked]
    )
    for n, lam, lam_theory in zip(checked, best, theory_best, strict=True):
      metrics[f"{kind}/best_lambda_n{n}"] = float(lam)
      metrics[f"{kind}/theory_best_lambda_n{n}"] = float(lam_theory)
    step_ratios.append(analysis.min_step_ratio(best))
    metrics[f"lambda_star_ratio_{kind}"] = float(best[-1] / best[0])
    last = checked[-1]
    retuned.append(
      mean[last, 1 + np.argmin(mean[last, 1:])]
      / mean[last, 1 + np.argmin(mean[0, 1:])]
    )
    metrics[f"{kind}/retuned_error_ratio"] = float(retuned[-1])
    metrics[f"{kind}/ols_max_rel_error"] = ols_errors[-1]
    metrics[f"{kind}/ridge_max_rel_error"] = ridge_errors[-1]
    metrics[f"{kind}/ridge_max_rel_standard_error"] = float(
      np.max(
        part["standard_error"][np.ix_(checked, in_range)]
        / predicted[np.ix_(checked, in_range)]
      )
    )
  metrics.update(
    {
      "ols_max_rel_error": max(ols_errors),
      "ridge_max_rel_error": max(ridge_errors),
      "linear_min_r_squared": min(r_squared),
      "linear_max_slope_rel_error": max(slope_errors),
      "lambda_star_min_step_ratio": min(step_ratios),
      "retuned_error_ratio": float(max(retuned)),
    }
  )
  return metrics


def scaling_part(config) -> dict:
  """Setting (iii): errors over T for ridgeless, adaptive and grid lam."""
  s = config.scaling
  eigenvalues = theory.power_law_spectrum(s.dim, s.beta)
  w0_squared = theory.power_law_source(s.dim, s.beta, s.source)
  w0 = jnp.sqrt(w0_squared)
  exponent = theory.critical_exponent(s.beta, s.source)
  generations = np.asarray(s.generations)
  logging.info(
    "collapse_regression: scaling chains (%d reps, d=%d, T0=%d)",
    s.reps,
    s.dim,
    s.gen_num_samples,
  )
  models = simulate.simulate_chains(
    _stream_keys(config.seed, "scaling/generator", s.reps),
    w0,
    eigenvalues,
    s.gen_num_samples,
    s.gen_noise_std,
    int(generations.max()),
    chunk_size=s.chunk_size,
  )[:, generations]
  sizes = np.asarray(s.sample_sizes, float)
  grid = np.asarray(s.tuning_lambdas)
  lambdas = np.stack(
    [
      np.concatenate([[s.ridgeless_lambda, size**-exponent], grid])
      for size in sizes
    ]
  )  # [nT, L]
  means, errors, predicted, equivalent = [], [], [], []
  downstream = rng.stream(config.seed, "scaling/downstream")
  for size, size_lambdas in zip(s.sample_sizes, lambdas, strict=True):
    logging.info("collapse_regression: scaling downstream T=%d", size)
    keys = simulate.replica_keys(jax.random.fold_in(downstream, size), s.reps)
    # Padded to the largest T: one compiled function serves every T.
    samples = simulate.simulate_downstream(
      keys,
      models,
      w0,
      eigenvalues,
      max(s.sample_sizes),
      s.noise_std,
      jnp.asarray(size_lambdas),
      num_samples=float(size),
      chunk_size=s.chunk_size,
    )
    mean, standard_error = analysis.mean_and_standard_error(np.asarray(samples))
    means.append(mean)
    errors.append(standard_error)
    args = (
      jnp.asarray(size_lambdas),
      jnp.asarray(generations, jnp.float64),
      eigenvalues,
      w0_squared,
      float(size),
      s.noise_std**2,
      s.gen_num_samples,
      s.gen_noise_std**2,
    )
    predicted.append(np.asarray(_ridge_theory_table(*args)))
    equivalent.append(
      np.asarray(_ridge_theory_table(*args, noise_equivalent=True))
    )
  # Dense theory curves for the figure.
  dense = np.unique(
    np.round(np.geomspace(sizes[0], sizes[-1], s.theory_points))
  )
  dense_tables = np.stack(
    [
      np.asarray(
        _ridge_theory_table(
          jnp.asarray(
            np.concatenate([[s.ridgeless_lambda, size**-exponent], grid])
          ),
          jnp.asarray(generations, jnp.float64),
          eigenvalues,
          w0_squared,
          float(size),
          s.noise_std**2,
          s.gen_num_samples,
          s.gen_noise_std**2,
        )
      )
      for size in dense
    ]
  )
  return {
    "sizes": sizes,
    "generations": generations,
    "lambdas": lambdas,
    "grid": grid,
    "exponent": exponent,
    "mean": np.stack(means),
    "standard_error": np.stack(errors),
    "predicted": np.stack(predicted),
    "noise_equivalent": np.stack(equivalent),
    "dense_sizes": dense,
    "dense_predicted": dense_tables,
  }


def scaling_metrics(part: dict) -> dict:
  """Metrics of A6 and A7 (simulation) and their theory counterparts."""
  sizes, generations = part["sizes"], part["generations"]
  metrics = {}
  collapsed = generations > 0
  for prefix, errors in (("", part["mean"]), ("theory/", part["predicted"])):
    curves = analysis.scaling_curves(errors)
    slopes = {
      name: np.array(
        [
          analysis.log_log_slope(sizes, curve[:, i])
          for i in range(len(generations))
        ]
      )
      for name, curve in curves.items()
      if name != "fixed_index"
    }
    clean = int(np.flatnonzero(generations == 0)[0])
    metrics[prefix + "slope_clean_ridgeless"] = float(
      slopes["ridgeless"][clean]
    )
    metrics[prefix + "slope_collapsed_ridgeless_max_abs"] = float(
      np.max(np.abs(slopes["ridgeless"][collapsed]))
    )
    metrics[prefix + "slope_adaptive_max"] = float(
      np.max(slopes["adaptive"][collapsed])
    )
    metrics[prefix + "slope_adaptive_min"] = float(
      np.min(slopes["adaptive"][collapsed])
    )
    last = {
      name: curves[name][-1, collapsed]
      for name in ("ridgeless", "adaptive", "fixed", "oracle")
    }
    for name in ("ridgeless", "fixed", "oracle"):
      metrics[prefix + f"adaptive_over_{name}_max"] = float(
        np.max(last["adaptive"] / last[name])
      )
    for i, n in enumerate(generations):
      for name in ("ridgeless", "adaptive", "fixed", "oracle"):
        metrics[prefix + f"slope_{name}_n{n}"] = float(slopes[name][i])
      metrics[prefix + f"fixed_lambda_n{n}"] = float(
        part["grid"][curves["fixed_index"][i]]
      )
      metrics[prefix + f"oracle_lambda_largest_T_n{n}"] = float(
        part["grid"][np.argmin(errors[-1, i, 2:])]
      )
  first_two = slice(0, 2)  # ridgeless and adaptive lam.
  metrics["scaling_mc_theory_max_rel_gap_largest_T"] = (
    analysis.max_relative_error(
      part["mean"][-1, :, first_two], part["predicted"][-1, :, first_two]
    )
  )
  metrics["scaling_mc_theory_max_rel_gap_smallest_T"] = (
    analysis.max_relative_error(
      part["mean"][0, :, first_two], part["predicted"][0, :, first_two]
    )
  )
  for index, label in ((0, "smallest_T"), (-1, "largest_T")):
    metrics[f"noise_equivalence_max_rel_gap_{label}"] = (
      analysis.max_relative_error(
        part["noise_equivalent"][index, collapsed, first_two],
        part["predicted"][index, collapsed, first_two],
      )
    )
  return metrics


def overparam_part(config) -> dict:
  """Setting (iv): ||w_n - w0||^2 / ||w0||^2 of min-norm chains, T0 < d."""
  o = config.overparam
  eigenvalues, w0 = spectrum_and_truth("isotropic", o.dim, 0.0, 0.0)
  generations = np.arange(o.max_generations + 1)
  result = {"generations": generations}
  for label, noise_std in (
    ("noise_free", 0.0),
    ("noisy", o.noisy_gen_noise_std),
  ):
    logging.info("collapse_regression: over-parameterised chains (%s)", label)
    models = simulate.simulate_chains(
      _stream_keys(config.seed, f"overparam/{label}", o.reps),
      w0,
      eigenvalues,
      o.gen_num_samples,
      noise_std,
      o.max_generations,
      chunk_size=None,
    )
    errors = np.sum(
      (np.asarray(models) - np.asarray(w0)) ** 2, axis=-1
    )  # ||w0|| = 1.
    mean, standard_error = analysis.mean_and_standard_error(errors)
    result[label] = {
      "mean": mean,
      "standard_error": standard_error,
      "predicted": np.asarray(
        theory.overparameterised_generator_error(
          o.dim, o.gen_num_samples, generations.astype(float), 1.0, noise_std**2
        )
      ),
    }
  return result


def overparam_metrics(part: dict) -> dict:
  later = slice(1, None)  # n = 0 has zero error by definition.
  clean, noisy = part["noise_free"], part["noisy"]
  return {
    "overparam_max_rel_error": analysis.max_relative_error(
      clean["mean"][later], clean["predicted"][later]
    ),
    "overparam_error_last": float(clean["mean"][-1]),
    "overparam_noisy_max_rel_error": analysis.max_relative_error(
      noisy["mean"][later], noisy["predicted"][later]
    ),
  }


def kernel_part(config) -> dict:
  """Setting (v): KRR generations on images; test MSE and accuracy."""
  k = config.kernel
  pool_x, pool_labels = kernel_chain.load_images(
    k.dataset, k.pool_split, config.data_dir, k.pool_size
  )
  test_x, test_labels = kernel_chain.load_images(
    k.dataset, k.test_split, config.data_dir, k.test_size
  )
  pool_x, test_x = jnp.asarray(pool_x), jnp.asarray(test_x)
  bandwidth = jax.jit(kernels.median_bandwidth)(pool_x[: k.bandwidth_sample])
  logging.info(
    "collapse_regression: KRR on %s (pool %d, test %d, "
    "bandwidth %.3g, %d reps)",
    k.dataset,
    pool_x.shape[0],
    test_x.shape[0],
    float(bandwidth),
    k.reps,
  )
  lambdas = np.asarray(k.lambdas)
  mse, accuracy = kernel_chain.simulate_krr(
    _stream_keys(config.seed, "kernel", k.reps),
    pool_x,
    kernel_chain.centred_one_hot(jnp.asarray(pool_labels)),
    test_x,
    jnp.asarray(test_labels),
    bandwidth,
    k.gen_num_samples,
    k.gen_noise_std,
    k.gen_lambda,
    k.max_generations,
    k.num_samples,
    k.noise_std,
    jnp.asarray(lambdas),
  )
  mse_mean, mse_error = analysis.mean_and_standard_error(np.asarray(mse))
  accuracy_mean, _ = analysis.mean_and_standard_error(np.asarray(accuracy))
  return {
    "lambdas": lambdas,
    "generations": np.arange(k.max_generations + 1),
    "mse": mse_mean,
    "mse_standard_error": mse_error,
    "accuracy": accuracy_mean,
    "bandwidth": float(bandwidth),
    "pool_size": int(pool_x.shape[0]),
    "test_size": int(test_x.shape[0]),
  }


def kernel_metrics(part: dict) -> dict:
  lambdas, mse, accuracy = part["lambdas"], part["mse"], part["accuracy"]
  best = analysis.best_lambda(lambdas, mse)
  metrics = {
    "krr_min_step_ratio": analysis.min_step_ratio(mse[:, 0]),
    "krr_error_ratio_last": float(mse[-1, 0] / mse[0, 0]),
    "krr_best_lambda_ratio": float(best[-1] / best[0]),
    "krr_bandwidth": part["bandwidth"],
  }
  for n in part["generations"]:
    metrics[f"krr/mse_small_lambda_n{n}"] = float(mse[n, 0])
    metrics[f"krr/best_lambda_n{n}"] = float(best[n])
    metrics[f"krr/accuracy_best_lambda_n{n}"] = float(
      accuracy[n, np.argmin(mse[n])]
    )
  return metrics


def summary_curves(
  gaussian: dict, scaling: dict, overparam: dict, kernel: dict
) -> list[dict]:
  """Rows of metrics.jsonl: every simulated point beside its prediction."""
  rows = []
  for kind, part in gaussian.items():
    for n in part["generations"]:
      for j, lam in enumerate(part["lambdas"]):
        rows.append(
          {
            "part": kind,
            "generation": int(n),
            "lambda": lam,
            "mc_error": part["mean"][n, j],
            "mc_standard_error": part["standard_error"][n, j],
            "theory_error": part["predicted"][n, j],
          }
        )
  names = ("ridgeless", "adaptive")
  for t, size in enumerate(scaling["sizes"]):
    for i, n in enumerate(scaling["generations"]):
      for j, name in enumerate(names):
        rows.append(
          {
            "part": "scaling",
            "num_samples": int(size),
            "generation": int(n),
            "rule": name,
            "lambda": scaling["lambdas"][t, j],
            "mc_error": scaling["mean"][t, i, j],
            "mc_standard_error": scaling["standard_error"][t, i, j],
            "theory_error": scaling["predicted"][t, i, j],
          }
        )
  for label in ("noise_free", "noisy"):
    for n in overparam["generations"]:
      rows.append(
        {
          "part": f"overparam_{label}",
          "generation": int(n),
          "mc_error": overparam[label]["mean"][n],
          "theory_error": overparam[label]["predicted"][n],
        }
      )
  for n in kernel["generations"]:
    for j, lam in enumerate(kernel["lambdas"]):
      rows.append(
        {
          "part": "kernel",
          "generation": int(n),
          "lambda": lam,
          "test_mse": kernel["mse"][n, j],
          "test_accuracy": kernel["accuracy"][n, j],
        }
      )
  return rows
