"""Presets of the goldilocks study (paper notes, Sections 5 and 6).

``cpu`` is the reference scale: the curvature analysis (claims G1-G6) on
Circles with the paper's bias-free 2-32-32-3 ``Demo`` net, the training
sweep (G7) on the embedded digits with a bias-free 64-32-32-10 net.
``smoke`` and ``paper`` change sizes only; ``paper`` uses the official
section 5 setups (LeNet-300-100 on FashionMNIST, all of it). Curvature runs
in float64, training in float32 (the official default).
"""

from __future__ import annotations

import ml_collections

from repro.core import config as config_lib


def _cpu_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""
  config.fast_compile = False         # smoke: XLA opt level 0 (compile time)

  # G1-G6: Hessian of the full-batch training loss at initialisation.
  curvature = config.curvature = ml_collections.ConfigDict()
  curvature.dataset = "circles"       # circles | digits | fashion_mnist | ...
  curvature.model = "mlp"             # mlp | lenet300100 | lenet5
  curvature.hidden = (32, 32)         # mlp only (the official Demo net)
  curvature.num_train = 0             # 0: the whole training split
  curvature.log_alpha_min = -2.0      # log10 alpha grid (Sec. 3 figures)
  curvature.log_alpha_max = 2.5
  curvature.log_alpha_step = 0.25
  curvature.num_seeds = 3             # initialisations per alpha
  curvature.subspace_dim = 50         # d of the random subspace (paper: 50)
  curvature.lanczos_steps = 40        # ||G||_2, ||H_term||_2 in full space
  # Exact (full-space) Hessians at these log10 alphas, seed 0; on
  # ``full_coordinates`` random coordinates (0: all, i.e. the D x D matrix).
  curvature.full_log_alphas = (-1.0, -0.5, 0.0, 0.5, 1.0)
  curvature.full_coordinates = 0
  curvature.zone_fraction = 0.5       # zone: curvature >= 0.5 x peak
  curvature.collapse_log_alpha = 2.0  # G4: softmax collapse for alpha >= 100
  curvature.vanish_log_alpha = -1.0   # G4: vanishing gradients, alpha <= 0.1
  curvature.saturated_confidence = 0.99  # G3a skips saturated alphas
  curvature.num_random_inits = 200    # G5: random inits inside the zone
  # Reported beside G5: inits over the notes' fixed range T in [0.1, 10].
  curvature.num_notes_inits = 100
  curvature.notes_log_temperature_range = (-1.0, 1.0)
  curvature.num_prior_inits = 200     # G6: random inits at alpha = 1, T = 1
  curvature.chunk_size = 1            # Hessian-vector products per batch

  # G7: full-batch GD from alpha-scaled inits (Sec. 5, trainability.py).
  training = config.training = ml_collections.ConfigDict()
  training.dataset = "digits"
  training.model = "mlp"
  training.hidden = (32, 32)
  training.num_train = 0
  training.log_alphas = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
  training.num_steps = 2000
  training.log_every = 100
  training.base_lr = 0.1              # lr = base_lr / alpha^(L - 2)
  training.sharpness_steps = 20       # Lanczos steps for lambda_max
  training.zone_seeds = 3             # seeds of this net's curvature zone
  training.good_alphas = (0.0, 0.5)   # "alpha ~ 1-3" of claim G7a
  return config


def get_config(preset: str = "cpu") -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` in {"smoke", "cpu", "paper"}."""
  return config_lib.from_cpu_config(preset, _cpu_config(), smoke=_smoke,
                                    paper=_paper)


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
