"""The Hutter-model experiments: exact curves and their Monte-Carlo checks.

Each ``*_experiment`` returns ``(metrics, curves, plot)``: scalar metrics
for the claims, rows for metrics.jsonl and arrays for the figures. All of
it runs in float64 (``jax.enable_x64()`` around ``run_theory``). Notation
as in the paper: p_i = i^-beta / zeta(beta), c = 1 - 1/beta (README).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import rng
from repro.ops import hutter, zipf

# Curves are evaluated in blocks of this many T values (the last padded),
# so one compiled program serves every curve of a run.
_CURVE_BLOCK = 16


def _as_arrays(law: zipf.ItemLaw) -> zipf.ItemLaw:
  """The law with float64 array leaves (stable jit cache keys)."""
  return jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), law)


@jax.jit
def _curve(test, train, sizes):
  return hutter.expected_error_curve(test, train, sizes)


def exact_curve(test: zipf.ItemLaw, train: zipf.ItemLaw, sizes) -> np.ndarray:
  """``hutter.expected_error`` at each T of ``sizes`` (float64, numpy)."""
  sizes = np.asarray(sizes, np.float64).reshape(-1)
  padded_length = -(-sizes.size // _CURVE_BLOCK) * _CURVE_BLOCK
  padded = np.concatenate(
    [sizes, np.full(padded_length - sizes.size, sizes[-1])]
  )
  with jax.enable_x64():
    test, train = _as_arrays(test), _as_arrays(train)
    values = [
      np.asarray(_curve(test, train, jnp.asarray(block)))
      for block in padded.reshape(-1, _CURVE_BLOCK)
    ]
  return np.concatenate(values)[: sizes.size]


def size_grid(config) -> np.ndarray:
  """Log-spaced T from 10^min to 10^max, ``sizes_per_decade`` per decade."""
  h = config.hutter
  decades = h.max_log10_size - h.min_log10_size
  count = int(round(decades * h.sizes_per_decade)) + 1
  return np.logspace(h.min_log10_size, h.max_log10_size, count)


def fit_slope(sizes: np.ndarray, errors: np.ndarray, log10_range) -> float:
  """Log-log slope of ``errors`` over T in [10^a, 10^b]."""
  low, high = log10_range
  inside = (sizes >= 10.0**low * (1 - 1e-9)) & (
    sizes <= 10.0**high * (1 + 1e-9)
  )
  return float(hutter.log_log_slope(sizes[inside], errors[inside]))


def _beta_tag(beta: float) -> str:
  return f"{beta:g}"


def clean_experiment(config, sizes):
  """B-C1: E_test(T) on clean data decays as T^-(1 - 1/beta); MC check."""
  h = config.hutter
  metrics, curves, plot = {}, [], {"sizes": sizes, "clean": {}, "mc": {}}
  slope_errors, mc_deviations, mc_z = [], [], []
  mc_key = rng.stream(config.seed, "monte_carlo")
  mc_sizes = tuple(int(t) for t in h.mc_sizes)
  for beta in h.betas:
    law = zipf.zipf_law(h.num_items, beta)
    errors = exact_curve(law, law, sizes)
    slope = fit_slope(sizes, errors, h.fit_log10_range)
    predicted = -(1.0 - 1.0 / beta)
    tag = _beta_tag(beta)
    metrics[f"clean/slope_beta{tag}"] = slope
    metrics[f"clean/slope_predicted_beta{tag}"] = predicted
    slope_errors.append(abs(slope / predicted - 1.0))
    plot["clean"][beta] = errors
    curves += [
      {"experiment": "clean", "beta": beta, "T": float(t), "error": float(e)}
      for t, e in zip(sizes, errors, strict=True)
    ]
    # Monte Carlo: nested training sets drawn once per trial.
    trials = np.asarray(
      _monte_carlo(
        jax.random.fold_in(mc_key, int(beta * 1000)),
        _as_arrays(law),
        mc_sizes,
        h.mc_trials,
      )
    )
    mean = trials.mean(axis=0)
    standard_error = trials.std(axis=0, ddof=1) / np.sqrt(h.mc_trials)
    exact = exact_curve(law, law, mc_sizes)
    mc_deviations.append(np.max(np.abs(mean / exact - 1.0)))
    mc_z.append(np.max(np.abs(mean - exact) / standard_error))
    plot["mc"][beta] = (np.asarray(mc_sizes), mean, standard_error)
    curves += [
      {
        "experiment": "monte_carlo",
        "beta": beta,
        "T": t,
        "error_mean": float(m),
        "error_se": float(s),
        "error_exact": float(e),
      }
      for t, m, s, e in zip(mc_sizes, mean, standard_error, exact, strict=True)
    ]
  metrics["clean/max_slope_rel_err"] = max(slope_errors)
  metrics["mc/max_rel_dev"] = float(max(mc_deviations))
  metrics["mc/max_abs_z"] = float(max(mc_z))
  return metrics, curves, plot


@functools.partial(jax.jit, static_argnums=(2, 3))
def _monte_carlo(key, law, sizes, trials):
  return hutter.monte_carlo_errors(key, law, law, sizes, trials)


def cut_experiment(config, sizes):
  """B-C2 (Thm 2.1): a top-k cut makes E_test plateau at sum_{i>k} p_i."""
  h, cut = config.hutter, config.cut
  metrics, curves = {}, []
  plot = {"cut": {}}
  plateau_deviations, slope_errors = [], []
  for beta in h.betas:
    law = zipf.zipf_law(h.num_items, beta)
    plateau_sizes = [cut.plateau_factor * k**beta for k in cut.ks]
    plateaus = []
    for k, size in zip(cut.ks, plateau_sizes, strict=True):
      cut_law = zipf.top_k_cut(law, k)
      error = exact_curve(law, cut_law, [size])[0]
      mass = float(zipf.zipf_tail_mass(k, beta))
      plateau_deviations.append(abs(error / mass - 1.0))
      plateaus.append(error)
      if beta == 2.0:
        plot["cut"][k] = (exact_curve(law, cut_law, sizes), mass)
      curves.append(
        {
          "experiment": "cut_plateau",
          "beta": beta,
          "k": k,
          "T": size,
          "error": error,
          "tail_mass": mass,
        }
      )
    slope = float(
      hutter.log_log_slope(np.asarray(cut.ks, float), np.asarray(plateaus))
    )
    tag = _beta_tag(beta)
    metrics[f"cut/plateau_slope_beta{tag}"] = slope
    slope_errors.append(abs(slope / -(beta - 1.0) - 1.0))
  for k, (errors, _) in plot["cut"].items():
    curves += [
      {
        "experiment": "cut",
        "beta": 2.0,
        "k": k,
        "T": float(t),
        "error": float(e),
      }
      for t, e in zip(sizes, errors, strict=True)
    ]
  metrics["cut/max_plateau_rel_dev"] = float(max(plateau_deviations))
  metrics["cut/max_plateau_slope_rel_err"] = float(max(slope_errors))
  return metrics, curves, plot


def narrow_experiment(config, sizes):
  """B-C3: training on Zipf(beta') tests at T^-(beta-1)/beta'."""
  h, narrow = config.hutter, config.narrow
  metrics, curves, plot = {}, [], {"narrow": {}}
  pairs = list(zip(narrow.betas, narrow.beta_primes, strict=True))
  pairs.append((narrow.temperature_beta, None))
  slope_errors = []
  for beta, beta_prime in pairs:
    law = zipf.zipf_law(h.num_items, beta)
    if beta_prime is None:  # temperature tau: beta' = beta / tau
      train = zipf.with_temperature(law, narrow.temperature)
      beta_prime = beta / narrow.temperature
      name = f"temperature{narrow.temperature:g}_beta{_beta_tag(beta)}"
    else:
      train = zipf.zipf_law(h.num_items, beta_prime)
      name = f"beta{_beta_tag(beta)}_to{_beta_tag(beta_prime)}"
    errors = exact_curve(law, train, sizes)
    slope = fit_slope(sizes, errors, h.fit_log10_range)
    predicted = -(beta - 1.0) / beta_prime
    metrics[f"narrow/slope_{name}"] = slope
    metrics[f"narrow/slope_predicted_{name}"] = predicted
    slope_errors.append(abs(slope / predicted - 1.0))
    if beta == 2.0:
      plot["narrow"][beta_prime] = errors
    curves += [
      {
        "experiment": "narrow",
        "beta": beta,
        "beta_prime": beta_prime,
        "T": float(t),
        "error": float(e),
      }
      for t, e in zip(sizes, errors, strict=True)
    ]
  metrics["narrow/max_slope_rel_err"] = float(max(slope_errors))
  return metrics, curves, plot


@functools.partial(jax.jit, static_argnums=(4,))
def _finite_sample(test, generator, generation_size, learner_size, max_count):
  return hutter.finite_sample_error(
    test, generator, generation_size, learner_size, max_count
  )


def finite_experiment(config):
  """B-C4 (eq. 6): a generator trained on T0 samples floors E at T0^-c."""
  h, finite = config.hutter, config.finite
  law = _as_arrays(zipf.zipf_law(h.num_items, finite.beta))
  generation_sizes = np.asarray(finite.generation_sizes, float)
  errors = np.asarray(
    [
      float(
        _finite_sample(
          law,
          law,
          jnp.float64(t0),
          jnp.float64(finite.learner_factor * t0),
          finite.max_count,
        )
      )
      for t0 in generation_sizes
    ]
  )
  slope = float(hutter.log_log_slope(generation_sizes, errors))
  predicted = -(1.0 - 1.0 / finite.beta)
  metrics = {
    "finite/slope": slope,
    "finite/slope_predicted": predicted,
    "finite/slope_rel_err": abs(slope / predicted - 1.0),
  }
  curves = [
    {
      "experiment": "finite_sample",
      "beta": finite.beta,
      "T0": t0,
      "T": finite.learner_factor * t0,
      "error": e,
    }
    for t0, e in zip(generation_sizes, errors, strict=True)
  ]
  return metrics, curves, {"finite": (generation_sizes, errors)}


@functools.partial(jax.jit, static_argnums=(2, 4))
def _wright_fisher(keys, law, generation_size, learner_size, num_generations):
  """Errors [chains, n] of ``hutter.wright_fisher_errors``, chains vmapped.

  The CDF of the law is built once for every chain.
  """
  sampler = hutter.item_sampler(law)
  return jax.vmap(
    lambda key: hutter.wright_fisher_errors(
      key, law, generation_size, num_generations, learner_size, sampler
    )
  )(keys)


@jax.jit
def _relabel(law, generation_size, learner_size, generations):
  return jax.vmap(
    lambda n: hutter.relabel_generations_error(
      law, generation_size, learner_size, n
    )
  )(generations)


def _growth_exponent(errors: np.ndarray) -> float:
  """Power of n in E^(n) - E^(0) over n = 1..G (1 = linear)."""
  generations = np.arange(1, errors.size)
  return float(hutter.log_log_slope(generations, errors[1:] - errors[0]))


def generations_experiment(config):
  """B-C6: E^(n) over generations for two generators.

  Wright-Fisher: each generation resamples T0 draws from the previous
  generation's samples (Monte Carlo over chains). Relabel: inputs from p,
  labels from the previous model (closed form).
  """
  h, g = config.hutter, config.generations
  law = _as_arrays(zipf.zipf_law(h.num_items, g.beta))
  keys = jax.random.split(rng.stream(config.seed, "generators"), g.trials)
  chains = np.asarray(
    _wright_fisher(
      keys,
      law,
      g.generation_size,
      jnp.float64(g.learner_size),
      g.num_generations,
    )
  )
  clean = exact_curve(law, law, [g.learner_size])[0]
  wright_fisher = np.concatenate([[clean], chains.mean(axis=0)])
  wright_fisher_se = np.concatenate(
    [[0.0], chains.std(axis=0, ddof=1) / np.sqrt(g.trials)]
  )
  relabel = np.asarray(
    _relabel(
      law,
      jnp.float64(g.generation_size),
      jnp.float64(g.learner_size),
      jnp.arange(g.num_generations + 1, dtype=jnp.float64),
    )
  )
  exact_first = float(
    _finite_sample(
      law, law, jnp.float64(g.generation_size), jnp.float64(g.learner_size), 3
    )
  )
  metrics = {}
  for name, errors in (("wright_fisher", wright_fisher), ("relabel", relabel)):
    metrics[f"generations/{name}_min_rel_increase"] = float(
      np.min(errors[1:] / errors[:-1] - 1.0)
    )
    metrics[f"generations/{name}_gen1_over_gen0"] = float(errors[1] / errors[0])
    metrics[f"generations/{name}_growth_exponent"] = _growth_exponent(errors)
    metrics[f"generations/{name}_last"] = float(errors[-1])
  metrics["generations/wright_fisher_gen1_mc_over_exact"] = float(
    wright_fisher[1] / exact_first
  )
  curves = [
    {
      "experiment": "generations",
      "n": n,
      "T0": g.generation_size,
      "T": g.learner_size,
      "wright_fisher": float(w),
      "wright_fisher_se": float(s),
      "relabel": float(r),
    }
    for n, (w, s, r) in enumerate(
      zip(wright_fisher, wright_fisher_se, relabel, strict=True)
    )
  ]
  plot = {"generations": (wright_fisher, wright_fisher_se, relabel)}
  return metrics, curves, plot


def mixing_experiment(config, sizes):
  """B-C5 (Thm 3.2): clean fraction pi turns the plateau into a delay.

  E stays at the cut plateau for 10 k^beta <= T <= 0.3 k^beta / pi, then
  follows the clean curve at pi T (E_mix(T) / E_clean(pi T) near 1 for
  T >= 10 k^beta / pi).
  """
  h, mixing = config.hutter, config.mixing
  beta, k = mixing.beta, mixing.k
  law = zipf.zipf_law(h.num_items, beta)
  cut_law = zipf.top_k_cut(law, k)
  plateau = float(zipf.zipf_tail_mass(k, beta))
  onset = 10.0 * k**beta
  plateau_devs, low_ratios, high_ratios = [], [], []
  plot = {"mixing": {}, "mixing_plateau": plateau, "mixing_k": k}
  curves = []
  for pi in (0.0, *mixing.clean_fractions, 1.0):
    errors = exact_curve(law, zipf.mix(law, cut_law, pi), sizes)
    plot["mixing"][pi] = errors
    curves += [
      {
        "experiment": "mixing",
        "beta": beta,
        "k": k,
        "pi": pi,
        "T": float(t),
        "error": float(e),
      }
      for t, e in zip(sizes, errors, strict=True)
    ]
    if pi in (0.0, 1.0):
      continue
    # The plateau window [10 k^beta, 0.3 k^beta / pi] is empty for
    # pi > 0.03 (e.g. pi = 0.1): the plateau is too short to check there.
    window = (sizes >= onset) & (sizes <= 0.3 * k**beta / pi)
    after = sizes >= onset / pi
    if not after.any():
      raise ValueError(
        f"mixing: the T grid ends before 10 k^beta / pi "
        f"for pi={pi}; raise hutter.max_log10_size"
      )
    if window.any():
      plateau_devs.append(np.max(np.abs(errors[window] / plateau - 1.0)))
    ratio = errors[after] / exact_curve(law, law, pi * sizes[after])
    low_ratios.append(ratio.min())
    high_ratios.append(ratio.max())
  if not plateau_devs:
    raise ValueError(
      "mixing: no clean fraction has a plateau window on "
      "the T grid; use a fraction below 0.03"
    )
  metrics = {
    "mixing/plateau": plateau,
    "mixing/max_plateau_rel_dev": float(max(plateau_devs)),
    "mixing/min_ratio_to_clean_at_pi_T": float(min(low_ratios)),
    "mixing/max_ratio_to_clean_at_pi_T": float(max(high_ratios)),
  }
  return metrics, curves, plot


def run_theory(config):
  """All Hutter-model experiments; returns (metrics, curves, plot data)."""
  metrics, curves, plot = {}, [], {}
  with jax.enable_x64():
    sizes = size_grid(config)
    steps = [
      ("clean scaling + Monte Carlo", lambda: clean_experiment(config, sizes)),
      ("tail cutting", lambda: cut_experiment(config, sizes)),
      ("tail narrowing", lambda: narrow_experiment(config, sizes)),
      ("finite-sample generator", lambda: finite_experiment(config)),
      ("generations", lambda: generations_experiment(config)),
      ("mixing", lambda: mixing_experiment(config, sizes)),
    ]
    for name, step in steps:
      logging.info("collapse_tails: Hutter model, %s", name)
      step_metrics, step_curves, step_plot = step()
      metrics.update(step_metrics)
      curves += step_curves
      plot.update(step_plot)
  plot["sizes"] = sizes
  return metrics, curves, plot
