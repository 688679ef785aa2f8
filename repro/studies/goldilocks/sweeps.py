"""The curvature analysis (claims G1-G6): sweeps over scale, temperature, inits.

All in float64 (``jax.enable_x64()``): at large ``alpha`` the softmax
saturates and float32 Gauss-Newton terms underflow to 0/0. Grids are
``lax.map``-ped inside one ``jit`` each, so every measurement compiles once.
With the run's checkpointer each grid is a resume point (``resumable``): a
rerun restores the grids already measured instead of measuring them again.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import loop, rng
from repro.ops import hessian as hess
from repro.studies.goldilocks import measurements
from repro.studies.goldilocks.problems import Problem


def log_alpha_grid(group) -> np.ndarray:
  """The log10 alpha grid ``min, min + step, ..., max``."""
  count = (
    int(
      round((group.log_alpha_max - group.log_alpha_min) / group.log_alpha_step)
    )
    + 1
  )
  return np.linspace(group.log_alpha_min, group.log_alpha_max, count)


def study_jit(config, function):
  """``jax.jit`` with the preset's compiler options.

  ``config.fast_compile`` (the smoke preset) lowers XLA's backend
  optimisation level: about half the compile time, slower execution.
  """
  options = (
    {"xla_backend_optimization_level": 0} if config.fast_compile else None
  )
  return jax.jit(function, compiler_options=options)


def resumable(checkpoints, name: str, measure) -> dict[str, np.ndarray]:
  """``measure()`` (a dict of arrays) as numpy, a resume point of its own.

  With the run's checkpointer the result is saved once measured (a grid of
  at least ``SaveSchedule.FINAL_SAVE_SECONDS`` with time-based saves) and a
  rerun restores it bit for bit (``loop.measure_once``).
  """
  return loop.measure_once(
    measure, name=f"goldilocks/{name}", checkpoints=checkpoints
  )


def initial_theta(problem: Problem, key) -> jax.Array:
  """Kaiming initialisation (``alpha = 1``) as a float64 flat vector."""
  return problem.init_flat(key).astype(jnp.float64)


def orthonormal_basis(problem: Problem, key, subspace_dim: int):
  """A random ``[D, d]`` orthonormal basis (float64)."""
  return hess.random_orthonormal_basis(
    key, problem.num_params, subspace_dim, jnp.float64
  )


def zone_edges(log_alphas: np.ndarray, curvature: np.ndarray, fraction: float):
  """Peak index and the log10 alphas where curvature crosses ``fraction``.

  Walks outwards from the peak to the first grid point below
  ``fraction * peak`` and interpolates linearly in log alpha; an edge that
  is never crossed is the grid's end. Returns ``(peak_index, lo, hi)``.
  """
  peak_index = int(np.argmax(curvature))
  threshold = fraction * curvature[peak_index]
  return (
    peak_index,
    _crossing(log_alphas, curvature - threshold, peak_index, -1),
    _crossing(log_alphas, curvature - threshold, peak_index, +1),
  )


def _crossing(log_alphas, values, start, direction):
  """First sign change of ``values`` (positive at ``start``) going one way."""
  index = start
  while 0 <= index + direction < len(values):
    nxt = index + direction
    if values[nxt] < 0:
      weight = values[index] / (values[index] - values[nxt])
      return float(
        log_alphas[index] + weight * (log_alphas[nxt] - log_alphas[index])
      )
    index = nxt
  return float(log_alphas[index])


def first_crossing(log_alphas, values, start, direction):
  """Like ``zone_edges``'s walk for any curve; None if never crossed or if
  ``values[start] < 0``."""
  if values[start] < 0:
    return None
  index = start
  while 0 <= index + direction < len(values):
    if values[index + direction] < 0:
      return _crossing(log_alphas, values, start, direction)
    index += direction
  return None


def item_key(stream_keys, stream_index, index):
  """``fold_in(stream_keys[stream_index], index)``: per-item keys are
  derived inside the jitted maps (eager key splits compile per shape)."""
  return jax.random.fold_in(stream_keys[stream_index], index)


def subspace_map(
  config,
  problem: Problem,
  data,
  stream_keys,
  items,
  keep_hessian: bool,
  name: str = "subspace_map",
  checkpoints=None,
):
  """``measurements.subspace_point`` over stacked items, one compile.

  Args:
    config: the study config (``curvature.subspace_dim``, ``chunk_size``).
    problem: the ``Problem``.
    data: ``measurements.training_data(problem)``.
    stream_keys: ``[n]`` keys; items refer to them by index.
    items: dict of equal-length int/float arrays: ``theta_stream``,
      ``theta_index`` (the init is drawn from
      ``fold_in(stream_keys[theta_stream], theta_index)``), ``basis_stream``,
      ``basis_index`` (the basis, likewise), ``log_alpha``, and
      ``log_temperature_lo``/``_hi``: log10 T is drawn uniformly in that
      range with the key ``fold_in(stream_keys[temperature_stream],
      temperature_index)`` (equal bounds: a fixed T).
    keep_hessian: also return the ``[d, d]`` subspace Hessians.
    name: the resume point's name (``resumable``).

  Returns:
    numpy arrays stacked over items, with ``log_temperature`` added.
    Inits and bases are drawn inside the map, so nothing ``[items, D, d]``
    is ever stored.
  """
  group = config.curvature

  def one(item):
    theta = initial_theta(
      problem, item_key(stream_keys, item["theta_stream"], item["theta_index"])
    )
    basis = orthonormal_basis(
      problem,
      item_key(stream_keys, item["basis_stream"], item["basis_index"]),
      group.subspace_dim,
    )
    log_temperature = jax.random.uniform(
      item_key(
        stream_keys, item["temperature_stream"], item["temperature_index"]
      ),
      (),
      jnp.float64,
      item["log_temperature_lo"],
      item["log_temperature_hi"],
    )
    point = measurements.subspace_point(
      problem,
      data,
      theta,
      item["log_alpha"],
      log_temperature,
      basis,
      group.chunk_size,
    )
    if not keep_hessian:
      point.pop("subspace_hessian")
    point["log_temperature"] = log_temperature
    return point

  items = {name: np.asarray(values) for name, values in items.items()}
  size = len(items["log_alpha"])
  defaults = {
    "temperature_stream": 0,
    "temperature_index": 0,
    "log_temperature_lo": 0.0,
    "log_temperature_hi": 0.0,
  }
  for field, value in defaults.items():
    items.setdefault(field, np.full(size, value))
  items = {
    name: jnp.asarray(
      values, jnp.float64 if values.dtype.kind == "f" else jnp.int32
    )
    for name, values in items.items()
  }
  return resumable(
    checkpoints,
    name,
    lambda: study_jit(config, lambda keys, items: jax.lax.map(one, items))(
      stream_keys, items
    ),
  )


def stream_keys(seed: int, *names: str) -> jax.Array:
  """``[len(names)]`` stream keys (``repro.core.rng``), stacked once."""
  return jnp.stack([rng.stream(seed, name) for name in names])


def matched_offset(logits, target, num_iterations: int = 50):
  """Output offset ``b`` with ``mean_s softmax(z_s + b) = target``.

  Fixed-point iteration ``b <- b + log target - log p_bar(b)`` (iterative
  proportional fitting of the mean softmax output).
  """

  def step(offset, _):
    mean_probs = jnp.mean(jax.nn.softmax(logits + offset, axis=-1), axis=0)
    return offset + jnp.log(target) - jnp.log(mean_probs), None

  offset, _ = jax.lax.scan(step, jnp.log(target), None, length=num_iterations)
  return offset - jnp.mean(offset)


# The named key streams of the curvature analysis, stacked once per run
# (``stream_keys``). Items of a jitted map refer to a stream by its index
# in this tuple (``item_key``), so the order fixes the draws.
CURVATURE_STREAMS = (
  "init",
  "basis",
  "lanczos",
  "random_inits",
  "random_bases",
  "random_temperatures",
  "prior_inits",
)
STREAM = {name: index for index, name in enumerate(CURVATURE_STREAMS)}
# Entropy word of the numpy generator ``default_rng([seed, 7])`` that picks
# the coordinates of the exact-Hessian check. It is not a JAX stream: a
# named ``rng.stream`` would draw other coordinates, so the word stays 7
# (one past the streams above) and the coordinates stay those of earlier
# runs.
FULL_COORDINATES_ENTROPY = 7
# The streams of the training net's zone (claim G7), indexed likewise.
TRAINING_STREAMS = ("train_init", "train_basis")
TRAINING_STREAM = {name: index for index, name in enumerate(TRAINING_STREAMS)}


def run_curvature_analysis(
  config, problem: Problem, checkpoints=None
) -> dict[str, np.ndarray]:
  """Runs every curvature measurement of claims G1-G6; returns numpy arrays.

  Keys: ``log_alphas``; ``sweep/<name>`` ``[seeds, alphas]`` (T = 1);
  ``scale/<name>`` and ``temperature/<name>`` ``[alphas]`` (seed 0 at
  ``(alpha, T = 1)`` and at ``(1, T = alpha^-L)``); ``full/<name>``
  ``[len(full_log_alphas)]`` (seed 0); ``inits/<name>`` (G5) and
  ``notes_inits/<name>`` (the planned fixed T range, G5a/b-notes);
  ``prior/<name>`` (G6).
  """
  log_alphas = log_alpha_grid(config.curvature)
  results = {"log_alphas": log_alphas}
  with jax.enable_x64():
    data = measurements.training_data(problem)
    keys = stream_keys(config.seed, *CURVATURE_STREAMS)
    results.update(
      _seed_sweep(config, problem, data, keys, log_alphas, checkpoints)
    )
    _, zone_lo, zone_hi = zone_edges(
      log_alphas,
      results["sweep/curvature"].mean(0),
      config.curvature.zone_fraction,
    )
    results["zone"] = np.array([zone_lo, zone_hi])
    results.update(
      _scale_temperature_inits(
        config, problem, data, keys, log_alphas, (zone_lo, zone_hi), checkpoints
      )
    )
    results.update(_full_hessians(config, problem, data, keys, checkpoints))
    results.update(_prior_mismatch(config, problem, data, keys, checkpoints))
  return results


def _seed_sweep(
  config, problem: Problem, data, keys, log_alphas, checkpoints
) -> dict[str, np.ndarray]:
  """G1, G3, G4, G5 (EG): the alpha x seed sweep at T = 1.

  Returns ``sweep/<name>`` ``[seeds, alphas]``.
  """
  group = config.curvature
  num_alphas, num_seeds = len(log_alphas), group.num_seeds
  logging.info(
    "goldilocks: curvature sweep, %d alphas x %d seeds, D=%d",
    num_alphas,
    num_seeds,
    problem.num_params,
  )
  seed_index = np.repeat(np.arange(num_seeds), num_alphas)
  alpha_values = np.tile(log_alphas, num_seeds)

  @functools.partial(study_jit, config)
  def sweep(data, keys, seeds, log_alpha_values, indices):
    def one(args):
      seed, log_alpha, index = args
      point = measurements.sweep_point(
        problem,
        data,
        initial_theta(problem, item_key(keys, STREAM["init"], seed)),
        log_alpha,
        orthonormal_basis(
          problem, item_key(keys, STREAM["basis"], seed), group.subspace_dim
        ),
        item_key(keys, STREAM["lanczos"], index),
        group.lanczos_steps,
        group.chunk_size,
      )
      point.pop("subspace_hessian")
      return point

    return jax.lax.map(one, (seeds, log_alpha_values, indices))

  swept = resumable(
    checkpoints,
    "sweep",
    lambda: sweep(
      data,
      keys,
      jnp.asarray(seed_index, jnp.int32),
      jnp.asarray(alpha_values),
      jnp.arange(seed_index.size, dtype=jnp.int32),
    ),
  )
  return {
    f"sweep/{name}": np.asarray(values).reshape(num_seeds, num_alphas)
    for name, values in swept.items()
  }


def _scale_temperature_items(
  group, log_alphas, num_layers: int, zone
) -> dict[str, np.ndarray]:
  """The ``subspace_map`` items of G2 and G5, in this order.

  Seed 0 at ``(alpha, T = 1)``, then at ``(1, T = alpha^-L)`` (same init
  and basis); then ``num_random_inits`` inits at alpha = 1 whose T puts
  the equivalent scale ``alpha_eq = T^(-1/L)`` log-uniformly inside the
  measured ``zone``; then ``num_notes_inits`` over the planned fixed T
  range (G5a/b-notes).
  """
  zone_lo, zone_hi = zone
  num_alphas = len(log_alphas)
  num_inits, num_notes = group.num_random_inits, group.num_notes_inits
  num_random = num_inits + num_notes
  random_index = np.arange(num_random)
  notes_lo, notes_hi = group.notes_log_temperature_range
  fixed = np.concatenate([np.zeros(num_alphas), -num_layers * log_alphas])
  items = {
    "theta_stream": np.r_[
      np.full(2 * num_alphas, STREAM["init"]),
      np.full(num_random, STREAM["random_inits"]),
    ],
    "theta_index": np.r_[np.zeros(2 * num_alphas), random_index],
    "basis_stream": np.r_[
      np.full(2 * num_alphas, STREAM["basis"]),
      np.full(num_random, STREAM["random_bases"]),
    ],
    "basis_index": np.r_[np.zeros(2 * num_alphas), random_index],
    "log_alpha": np.r_[log_alphas, np.zeros(num_alphas + num_random)],
    "temperature_stream": np.full(
      2 * num_alphas + num_random, STREAM["random_temperatures"]
    ),
    "temperature_index": np.r_[np.zeros(2 * num_alphas), random_index],
    "log_temperature_lo": np.r_[
      fixed,
      np.full(num_inits, -num_layers * zone_hi),
      np.full(num_notes, notes_lo),
    ],
    "log_temperature_hi": np.r_[
      fixed,
      np.full(num_inits, -num_layers * zone_lo),
      np.full(num_notes, notes_hi),
    ],
  }
  return {
    name: (
      values.astype(np.int32) if "stream" in name or "index" in name else values
    )
    for name, values in items.items()
  }


def _scale_temperature_inits(
  config, problem: Problem, data, keys, log_alphas, zone, checkpoints
) -> dict[str, np.ndarray]:
  """G2 (scale vs temperature, seed 0) and G5 (random inits), one map.

  Returns ``temperature/hessian_rel_diff``, ``scale/<name>``,
  ``temperature/<name>`` ``[alphas]`` and ``inits/<name>``,
  ``notes_inits/<name>`` with their ``log_alpha_eq``.
  """
  group = config.curvature
  num_alphas, num_inits = len(log_alphas), group.num_random_inits
  layers = problem.num_layers
  logging.info(
    "goldilocks: scale vs temperature, %d random inits in the "
    "zone [%.2f, %.2f]",
    num_inits,
    *zone,
  )
  items = _scale_temperature_items(group, log_alphas, layers, zone)
  mapped = subspace_map(
    config,
    problem,
    data,
    keys,
    items,
    keep_hessian=True,
    name="scale_temperature",
    checkpoints=checkpoints,
  )
  by_scale = {k: v[:num_alphas] for k, v in mapped.items()}
  by_temperature = {
    k: v[num_alphas : 2 * num_alphas] for k, v in mapped.items()
  }
  scaled = (10.0 ** (-2 * log_alphas))[:, None, None] * (
    by_temperature["subspace_hessian"]
  )
  difference = np.linalg.norm(
    by_scale["subspace_hessian"] - scaled, axis=(1, 2)
  )
  reference = np.linalg.norm(by_scale["subspace_hessian"], axis=(1, 2))
  results = {
    "temperature/hessian_rel_diff": difference
    / np.where(reference > 0, reference, 1.0)
  }
  for name in ("curvature", "entropy"):
    results[f"scale/{name}"] = by_scale[name]
    results[f"temperature/{name}"] = by_temperature[name]
  start = 2 * num_alphas
  for name, values in mapped.items():
    if name != "subspace_hessian":
      results[f"inits/{name}"] = values[start : start + num_inits]
      results[f"notes_inits/{name}"] = values[start + num_inits :]
  for prefix in ("inits", "notes_inits"):
    results[f"{prefix}/log_alpha_eq"] = (
      -results[f"{prefix}/log_temperature"] / layers
    )
  return results


def _full_coordinates(config, problem: Problem):
  """``[D, k]`` one-hot columns of the coordinates whose exact Hessian
  diagonal is measured, or None (``curvature.full_coordinates = 0``)."""
  count = config.curvature.full_coordinates
  if not count:
    return None
  chosen = np.random.default_rng(
    [config.seed, FULL_COORDINATES_ENTROPY]
  ).choice(problem.num_params, min(count, problem.num_params), replace=False)
  return jax.nn.one_hot(chosen, problem.num_params, dtype=jnp.float64).T


def _full_hessians(
  config, problem: Problem, data, keys, checkpoints
) -> dict[str, np.ndarray]:
  """G3 (exact traces) and full-space curvature of seed 0's init.

  Returns ``full/<name>`` ``[len(full_log_alphas)]`` and
  ``full/log_alphas``.
  """
  full_log_alphas = np.asarray(config.curvature.full_log_alphas, np.float64)
  results = {}
  if full_log_alphas.size:
    logging.info(
      "goldilocks: exact Hessians at %d alphas", full_log_alphas.size
    )
    coordinates = _full_coordinates(config, problem)
    chunk = config.curvature.chunk_size
    full = resumable(
      checkpoints,
      "full",
      lambda: study_jit(
        config,
        lambda data, keys, values: jax.lax.map(
          lambda la: measurements.full_point(
            problem,
            data,
            initial_theta(problem, item_key(keys, STREAM["init"], 0)),
            la,
            coordinates,
            chunk,
          ),
          values,
        ),
      )(data, keys, jnp.asarray(full_log_alphas)),
    )
    for name, values in full.items():
      results[f"full/{name}"] = np.asarray(values)
  results["full/log_alphas"] = full_log_alphas
  return results


def _prior_mismatch(
  config, problem: Problem, data, keys, checkpoints
) -> dict[str, np.ndarray]:
  """G6: gradient norm vs prior mismatch at alpha = T = 1.

  Each init is measured as is, and with output offsets that put p_bar
  exactly on Q or on a permutation of Q (the same entropy of p_bar,
  mismatched). Returns ``prior/<name>``, ``prior/matched_<name>`` and
  ``prior/mismatched_<name>`` ``[inits]``.
  """
  prior = jnp.asarray(problem.label_prior(), jnp.float64)

  @functools.partial(study_jit, config)
  def prior_points(data, keys, indices):
    def one(index):
      theta = initial_theta(
        problem, item_key(keys, STREAM["prior_inits"], index)
      )
      logits = problem.apply_flat(theta, data[0])
      offsets = jnp.stack(
        [
          jnp.zeros_like(prior),
          matched_offset(logits, prior),
          matched_offset(logits, jnp.roll(prior, 1)),
        ]
      )
      return jax.vmap(
        lambda offset: measurements.prior_point(problem, data, theta, offset)
      )(offsets)

    return jax.lax.map(one, indices)

  num_inits = config.curvature.num_prior_inits
  logging.info("goldilocks: %d inits for the prior mismatch", num_inits)
  prior_results = resumable(
    checkpoints,
    "prior",
    lambda: prior_points(data, keys, jnp.arange(num_inits, dtype=jnp.int32)),
  )
  results = {}
  for name, values in prior_results.items():
    values = np.asarray(values)  # [inits, offsets]
    results[f"prior/{name}"] = values[:, 0]
    results[f"prior/matched_{name}"] = values[:, 1]
    results[f"prior/mismatched_{name}"] = values[:, 2]
  return results


def training_zone(config, problem: Problem, seed: int, checkpoints=None):
  """Subspace curvature of the training net at its alphas (for claim G7).

  ``training.zone_seeds`` initialisations from the stream ``train_init``
  (index 0 is the one trained), float64, T = 1. Returns ``trained_theta
  [D]`` and ``curvature``/``normalized_entropy`` ``[seeds, alphas]``.
  """
  group = config.training
  log_alphas = np.asarray(group.log_alphas, np.float64)
  num_seeds, num_alphas = group.zone_seeds, len(log_alphas)
  with jax.enable_x64():
    data = measurements.training_data(problem)
    keys = stream_keys(seed, *TRAINING_STREAMS)
    logging.info("goldilocks: curvature zone of the training net")
    seeds = np.repeat(np.arange(num_seeds, dtype=np.int32), num_alphas)
    zone = subspace_map(
      config,
      problem,
      data,
      keys,
      {
        "theta_stream": np.full_like(seeds, TRAINING_STREAM["train_init"]),
        "theta_index": seeds,
        "basis_stream": np.full_like(seeds, TRAINING_STREAM["train_basis"]),
        "basis_index": seeds,
        "log_alpha": np.tile(log_alphas, num_seeds),
      },
      keep_hessian=False,
      name="training_zone",
      checkpoints=checkpoints,
    )
    zone = {
      name: zone[name].reshape(num_seeds, num_alphas)
      for name in ("curvature", "normalized_entropy")
    }
    trained_theta = np.asarray(
      study_jit(
        config,
        lambda keys: initial_theta(
          problem, item_key(keys, TRAINING_STREAM["train_init"], 0)
        ),
      )(keys)
    )
  return {"trained_theta": trained_theta, **zone}
