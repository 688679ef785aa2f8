"""Presets of the collapse_regression study (README, What is reproduced).

``cpu`` is the CPU-scale plan: (i) isotropic and (ii) power-law Gaussian
regression with d = 100, T = 300, T0 = 250 over n = 0..8 generations and a
grid of ridge parameters; (iii) the scaling law over T with d = 400,
T0 = 800; (iv) the over-parameterised noise-free chain d = 200, T0 = 100;
(v) kernel ridge regression on the embedded digits. ``paper`` changes sizes
only (and reads MNIST through TFDS for (v)); ``smoke`` is tiny.
"""

from __future__ import annotations

import ml_collections
import numpy as np

from repro.core.errors import UserError


def _log_grid(low: float, high: float, num: int) -> tuple[float, ...]:
  return tuple(float(v) for v in np.logspace(low, high, num))


def get_config(preset: str) -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` (smoke | cpu | paper)."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""

  # (i) isotropic and (ii) power-law spectra (README): OLS / ridge
  # downstream on data from generation n of an under-parameterised chain.
  gaussian = config.gaussian = ml_collections.ConfigDict()
  gaussian.dim = 100
  gaussian.num_samples = 300  # T, downstream.
  gaussian.gen_num_samples = 250  # T0, each generation.
  gaussian.noise_std = 0.5  # sigma, downstream labels.
  gaussian.gen_noise_std = 1.0  # sigma0, generator labels.
  gaussian.max_generations = 8
  # Generations of the claims A1, A2, A4 (A3 uses 0..max_generations).
  gaussian.checked_generations = (0, 1, 2, 4, 8)
  gaussian.lambdas = _log_grid(-3.0, 1.0, 9)
  # A2 compares simulation and theory for lambda in this range.
  gaussian.claim_lambda_range = (1e-3, 1.0)
  # (ii): lambda_j = j^-beta, (w0_j)^2 lambda_j = j^(-1 - 2 beta r);
  # beta = 2, r = 0.625 gives w0_j = j^-0.75 (w0_j^2 lam_j = j^-(1+2 beta r)).
  gaussian.power_law_beta = 2.0
  gaussian.power_law_source = 0.625
  # Repetitions: the power-law collapse term has few effective degrees of
  # freedom (df2 ~ 3-5), so it needs more repetitions for ~1.5% error bars.
  gaussian.isotropic_reps = 500
  gaussian.power_law_reps = 1500
  gaussian.chunk_size = 250

  # (iii) scaling law over T (paper Sec. 5; README, What is reproduced).
  scaling = config.scaling = ml_collections.ConfigDict()
  scaling.dim = 400
  scaling.gen_num_samples = 800
  scaling.noise_std = 0.0
  scaling.gen_noise_std = 1.0
  scaling.beta = 2.0
  scaling.source = 0.5
  scaling.sample_sizes = (10, 20, 40, 80, 160)
  scaling.generations = (0, 1, 4)
  scaling.ridgeless_lambda = 1e-10
  # Grid for the fixed lambda (tuned at the smallest T) and the oracle.
  scaling.tuning_lambdas = _log_grid(-6.0, 1.0, 29)
  scaling.reps = 100
  scaling.chunk_size = 50
  # Theory curves are drawn on this many log-spaced T between the ends.
  scaling.theory_points = 41

  # (iv) over-parameterised generator, isotropic, noise-free (README).
  overparam = config.overparam = ml_collections.ConfigDict()
  overparam.dim = 200
  overparam.gen_num_samples = 100
  overparam.max_generations = 8
  overparam.reps = 200
  # A second chain with label noise checks the noisy formula (no claim).
  overparam.noisy_gen_noise_std = 0.5

  # (v) kernel ridge regression on images (paper appendix; README).
  kernel = config.kernel = ml_collections.ConfigDict()
  kernel.dataset = "digits"
  kernel.pool_split = "train"
  kernel.test_split = "test"
  kernel.pool_size = 0  # 0: the whole split.
  kernel.test_size = 0
  kernel.bandwidth_sample = 2000  # median heuristic on the first points.
  kernel.gen_num_samples = 400
  kernel.num_samples = 400
  kernel.max_generations = 5
  # Centred one-hot targets have per-entry std 0.3: label-scale noise.
  kernel.gen_noise_std = 0.3
  kernel.noise_std = 0.0
  kernel.gen_lambda = 1e-4  # small: a near-interpolating generator.
  kernel.lambdas = _log_grid(-6.0, 0.0, 7)
  kernel.reps = 10

  if preset == "smoke":
    gaussian.dim = 20
    gaussian.num_samples = 60
    gaussian.gen_num_samples = 50
    gaussian.isotropic_reps = 16
    gaussian.power_law_reps = 16
    gaussian.chunk_size = 8
    scaling.dim = 60
    scaling.gen_num_samples = 120
    scaling.sample_sizes = (5, 10, 20)
    scaling.tuning_lambdas = _log_grid(-6.0, 1.0, 8)
    scaling.reps = 8
    scaling.chunk_size = 4
    scaling.theory_points = 5
    overparam.dim = 20
    overparam.gen_num_samples = 10
    overparam.reps = 8
    kernel.pool_size = 200
    kernel.test_size = 100
    kernel.gen_num_samples = 60
    kernel.num_samples = 60
    kernel.reps = 2
  elif preset == "paper":
    # Planned paper scale: d up to 1000, T up to 1e4-scale ratios, 100+
    # repetitions (the paper's own sizes were not checked).
    gaussian.dim = 300
    gaussian.num_samples = 900
    gaussian.gen_num_samples = 750
    gaussian.isotropic_reps = 1000
    gaussian.power_law_reps = 4000
    scaling.dim = 1000
    scaling.gen_num_samples = 2000
    scaling.sample_sizes = (10, 20, 40, 80, 160, 320, 640)
    scaling.reps = 200
    overparam.dim = 1000
    overparam.gen_num_samples = 500
    overparam.reps = 400
    kernel.dataset = "mnist"
    kernel.pool_size = 20_000
    kernel.test_size = 10_000
    kernel.gen_num_samples = 4000
    kernel.num_samples = 4000
    kernel.reps = 5
  elif preset != "cpu":
    raise ValueError(f"unknown preset {preset!r}")
  return config


def check_config(config) -> None:
  """Raises UserError for values the closed forms or the claims exclude.

  The under-parameterised generators need T0 > d + 1 (the OLS error
  sigma0^2 d / (T0 - d - 1) is finite only then) and setting (iv) needs
  T0 < d; the checked generations are simulated ones; the ridge claims
  read at least one lambda of ``claim_lambda_range``.
  """
  for name in ("gaussian", "scaling"):
    group = config[name]
    if group.gen_num_samples <= group.dim + 1:
      raise UserError(
        f"{name}.gen_num_samples must exceed {name}.dim + 1 "
        "(an under-parameterised generator)"
      )
  if config.overparam.gen_num_samples >= config.overparam.dim:
    raise UserError(
      "overparam.gen_num_samples must be below overparam.dim "
      "(setting (iv) is over-parameterised)"
    )
  g = config.gaussian
  checked = tuple(g.checked_generations)
  if min(checked) < 0 or max(checked) > g.max_generations:
    raise UserError(
      f"gaussian.checked_generations {checked} must lie in "
      f"0..max_generations ({g.max_generations})"
    )
  low, high = g.claim_lambda_range
  if not any(low <= lam <= high for lam in g.lambdas if lam > 0):
    raise UserError(
      "gaussian.lambdas must hold a lambda > 0 inside "
      "gaussian.claim_lambda_range"
    )
  if min(config.scaling.generations) < 0:
    raise UserError("scaling.generations must be >= 0")
