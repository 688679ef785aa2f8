"""Presets of the goldilocks study (README, What is reproduced).

``cpu`` is the reference scale: the curvature analysis (claims G1-G6) on
Circles with the paper's bias-free 2-32-32-3 ``Demo`` net, the training
sweep (G7) on the embedded digits with a bias-free 64-32-32-10 net.
``smoke`` and ``paper`` change sizes only; ``paper`` uses the official
section 5 setups (LeNet-300-100 on FashionMNIST, all of it). Curvature runs
in float64, training in float32 (the official default).
"""

from __future__ import annotations

import ml_collections

from repro import data as data_lib
from repro.core import config as config_lib
from repro.core.errors import UserError

MODELS = ("mlp", "lenet300100", "lenet5")  # problems.load_problem's


def _cpu_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""
  config.fast_compile = False  # smoke: XLA opt level 0 (compile time)

  # G1-G6: Hessian of the full-batch training loss at initialisation.
  curvature = config.curvature = ml_collections.ConfigDict()
  curvature.dataset = "circles"  # circles | digits | fashion_mnist | ...
  curvature.model = "mlp"  # mlp | lenet300100 | lenet5
  curvature.hidden = (32, 32)  # mlp only (the official Demo net)
  curvature.num_train = 0  # 0: the whole training split
  curvature.log_alpha_min = -2.0  # log10 alpha grid (Sec. 3 figures)
  curvature.log_alpha_max = 2.5
  curvature.log_alpha_step = 0.25
  curvature.num_seeds = 3  # initialisations per alpha
  curvature.subspace_dim = 50  # d of the random subspace (paper: 50)
  curvature.lanczos_steps = 40  # ||G||_2, ||H_term||_2 in full space
  # Exact (full-space) Hessians at these log10 alphas, seed 0; on
  # ``full_coordinates`` random coordinates (0: all, i.e. the D x D matrix).
  curvature.full_log_alphas = (-1.0, -0.5, 0.0, 0.5, 1.0)
  curvature.full_coordinates = 0
  curvature.zone_fraction = 0.5  # zone: curvature >= 0.5 x peak
  curvature.collapse_log_alpha = 2.0  # G4: softmax collapse for alpha >= 100
  curvature.vanish_log_alpha = -1.0  # G4: vanishing gradients, alpha <= 0.1
  curvature.saturated_confidence = 0.99  # G3a skips saturated alphas
  curvature.num_random_inits = 200  # G5: random inits inside the zone
  # Beside G5 (G5a/b-notes): inits over the planned range T in [0.1, 10].
  curvature.num_notes_inits = 100
  curvature.notes_log_temperature_range = (-1.0, 1.0)
  curvature.num_prior_inits = 200  # G6: random inits at alpha = 1, T = 1
  curvature.chunk_size = 1  # Hessian-vector products per batch

  # G7: full-batch GD from alpha-scaled inits (Sec. 5, trainability.py).
  training = config.training = ml_collections.ConfigDict()
  training.dataset = "digits"
  training.model = "mlp"
  training.hidden = (32, 32)
  training.num_train = 0
  training.log_alphas = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
  training.num_steps = 2000
  training.log_every = 100
  training.base_lr = 0.1  # lr = base_lr / alpha^(L - 2)
  training.sharpness_steps = 20  # Lanczos steps for lambda_max
  training.zone_seeds = 3  # seeds of this net's curvature zone
  training.good_alphas = (0.0, 0.5)  # "alpha ~ 1-3" of claim G7a
  return config


def get_config(preset: str = "cpu") -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` in {"smoke", "cpu", "paper"}."""
  return config_lib.from_cpu_config(
    preset, _cpu_config(), smoke=_smoke, paper=_paper
  )


def _smoke(config: ml_collections.ConfigDict) -> None:
  """Shrinks the cpu config to the seconds-long smoke preset."""
  config.fast_compile = True
  curvature = config.curvature
  curvature.hidden = (8, 8)
  curvature.num_train = 300
  curvature.log_alpha_step = 0.75
  curvature.num_seeds = 2
  curvature.subspace_dim = 8
  curvature.lanczos_steps = 10
  curvature.full_log_alphas = (-1.0, 0.0)
  curvature.num_random_inits = 12
  curvature.num_notes_inits = 6
  curvature.num_prior_inits = 12
  training = config.training
  training.hidden = (16, 16)
  training.num_train = 300
  training.log_alphas = (-2.0, 0.0, 2.5)
  training.num_steps = 100
  training.log_every = 50
  training.sharpness_steps = 5
  training.zone_seeds = 1
  training.good_alphas = (0.0,)


def _paper(config: ml_collections.ConfigDict) -> None:
  """Grows the cpu config to the paper's scale."""
  # Official setups: LeNet-300-100 on FashionMNIST for the curvature
  # analysis and training (5000 GD iterations, log every 100); exact
  # full-space traces on 256 random coordinates instead of all 266k.
  curvature = config.curvature
  curvature.dataset = "fashion_mnist"
  curvature.model = "lenet300100"
  curvature.log_alpha_min = -3.0
  curvature.log_alpha_max = 3.0
  curvature.full_coordinates = 256
  curvature.lanczos_steps = 60
  curvature.chunk_size = 10
  training = config.training
  training.dataset = "fashion_mnist"
  training.model = "lenet300100"
  training.num_steps = 5000


def check_config(config) -> None:
  """Raises UserError for values the claims cannot be measured with.

  Datasets and models must exist; the alpha grid must run upwards and
  reach both failure ends of claim G4; the zone is a fraction of the
  peak; G5 and G6 correlate at least two inits; GD logs on its steps and
  the "good" alphas of claim G7 are trained ones.
  """
  datasets = ("circles",) + tuple(data_lib.DATASETS)
  for name in ("curvature", "training"):
    group = config[name]
    if group.dataset not in datasets:
      raise UserError(
        f"{name}.dataset {group.dataset!r} is unknown; use "
        f"one of {', '.join(datasets)}"
      )
    if group.model not in MODELS:
      raise UserError(
        f"{name}.model {group.model!r} is unknown; use one of "
        f"{', '.join(MODELS)}"
      )
  curvature = config.curvature
  if (
    curvature.log_alpha_step <= 0
    or curvature.log_alpha_max <= curvature.log_alpha_min
  ):
    raise UserError(
      "curvature needs log_alpha_step > 0 and log_alpha_max > log_alpha_min"
    )
  if not (
    curvature.log_alpha_min <= curvature.vanish_log_alpha
    and curvature.collapse_log_alpha <= curvature.log_alpha_max
  ):
    raise UserError(
      "curvature.vanish_log_alpha and collapse_log_alpha must "
      "lie on the log alpha grid's range (claim G4)"
    )
  if not 0 < curvature.zone_fraction < 1:
    raise UserError("curvature.zone_fraction must be in (0, 1)")
  if min(curvature.num_random_inits, curvature.num_prior_inits) < 2:
    raise UserError(
      "curvature.num_random_inits and num_prior_inits must be "
      ">= 2 (claims G5 and G6 correlate across inits)"
    )
  training = config.training
  if training.log_every < 1 or training.num_steps % training.log_every:
    raise UserError("training.num_steps must be a multiple of log_every")
  missing = set(training.good_alphas) - set(training.log_alphas)
  if missing:
    raise UserError(
      f"training.good_alphas {sorted(missing)} are not in "
      "training.log_alphas (claim G7 reads them)"
    )
