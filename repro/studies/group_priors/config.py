"""Presets of the group_priors study (README, What is run).

``cpu`` is the reference scale (README, What is run): synthetic Gaussian
spurious-correlation data (claims B0-B6) and digit dominoes (reported).
``smoke`` shrinks sizes; ``paper`` keeps the method and grids and changes
the data to Waterbirds (read from ``data_dir``), the sizes and the steps.
"""

from __future__ import annotations

import ml_collections

from repro.core import config as config_lib
from repro.core.errors import UserError
from repro.studies.group_priors import data as group_data


def _cpu_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""
  config.num_seeds = 5
  # The first dataset carries the claims; the others are reported.
  config.datasets = ("gaussian", "dominoes")

  # Group sizes (README, What is run): skewed training set, skewed annotated
  # set split into fit / select halves, balanced test and probe sets.
  data = config.data = ml_collections.ConfigDict()
  data.num_train = 4000
  data.majority_fraction = 0.95
  data.num_annotated = 1000  # fit half + select half
  data.annotated_majority_fraction = 0.95
  data.test_per_group = 1000
  data.probe_per_group = 250  # B0: balanced held-out probe set

  gaussian = config.gaussian = ml_collections.ConfigDict()
  gaussian.core_dim = 5
  gaussian.spurious_dim = 5
  gaussian.noise_dim = 50
  gaussian.core_mean = 0.5
  gaussian.spurious_mean = 1.0
  gaussian.spurious_std = 0.5

  dominoes = config.dominoes = ml_collections.ConfigDict()
  dominoes.core_classes = (3, 5)  # y: the harder digit pair
  dominoes.spurious_classes = (0, 1)  # a: the easy digit pair
  dominoes.core_noise = 1.0  # pixel noise: 0.3 gave no failure

  waterbirds = config.waterbirds = ml_collections.ConfigDict()
  waterbirds.image_size = 32

  # ERM base network (README, What is run): MLP, Adam, no decay.
  erm = config.erm = ml_collections.ConfigDict()
  erm.hidden_sizes = (256, 256)
  erm.learning_rate = 1e-3
  erm.batch_size = 128
  erm.epochs = 100

  # GAP (README, The prior; the official code's loss).
  gap = config.gap = ml_collections.ConfigDict()
  # lambda grid: the planned {5, 15, 50} extended upwards (README,
  # Deviations):
  # at N = 500 the prior's pull precision / (2 N) = 0.5 outweighs the
  # context weight lambda / |B| = 0.39 even at lambda = 50.
  gap.scales = (5.0, 15.0, 50.0, 150.0, 500.0)
  gap.rhos = (0.0, 0.15)  # SAM radius grid
  gap.group_scales = (1.0, 4.0)  # s grid of the GAP method
  gap.ablation_group_scale = 0.0  # B3: uniform context
  gap.precision = 500.0  # 1 / sigma0^2
  gap.learning_rate = 1e-2
  gap.momentum = 0.9
  gap.steps = 500
  gap.batch_size = 128
  gap.context_batch_size = 128
  gap.head_init_scale = 1.0

  # GAP on all layers from the ERM weights (B6), s fixed; lambda and rho
  # chosen on the select half like the last-layer grid.
  all_layers = config.all_layers = ml_collections.ConfigDict()
  all_layers.scales = (15.0, 150.0, 500.0)
  all_layers.rhos = (0.0, 0.15)
  all_layers.group_scale = 4.0
  all_layers.learning_rate = 1e-2
  all_layers.steps = 500

  dfr = config.dfr = ml_collections.ConfigDict()
  dfr.num_retrains = 20
  dfr.c_grid = (1.0, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01)
  return config


def get_config(preset: str = "cpu") -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` in {"smoke", "cpu", "paper"}."""
  return config_lib.from_cpu_config(
    preset, _cpu_config(), smoke=_smoke, paper=_paper
  )


def _smoke(config: ml_collections.ConfigDict) -> None:
  """Shrinks the cpu config to the seconds-long smoke preset."""
  config.num_seeds = 2
  config.data.num_train = 400
  config.data.num_annotated = 200
  config.data.annotated_majority_fraction = 0.8
  config.data.majority_fraction = 0.9
  config.data.test_per_group = 50
  config.data.probe_per_group = 20
  config.gaussian.noise_dim = 10
  config.erm.hidden_sizes = (16, 16)
  config.erm.epochs = 5
  config.gap.scales = (5.0, 150.0)
  config.gap.steps = 20
  config.gap.batch_size = 32
  config.gap.context_batch_size = 32
  config.all_layers.scales = (15.0,)
  config.all_layers.steps = 10
  config.dfr.num_retrains = 2
  config.dfr.c_grid = (1.0, 0.1)


def _paper(config: ml_collections.ConfigDict) -> None:
  """Grows the cpu config to the paper's scale."""
  config.datasets = ("waterbirds",)
  config.waterbirds.image_size = 64
  config.erm.hidden_sizes = (1024, 1024)
  config.erm.epochs = 100
  config.gap.steps = 4000
  config.all_layers.steps = 4000


def check_config(config) -> None:
  """Raises UserError for values the study cannot run or be judged with.

  At least one seed and one known dataset (the first carries the claims);
  the annotated halves hold every group (``data.split_counts``); the
  uniform-context ablation (claim B3) is not one of GAP's own group
  scales, or its heads would be chosen as GAP's.
  """
  if config.num_seeds < 1:
    raise UserError(f"num_seeds must be >= 1, got {config.num_seeds}")
  if not config.datasets:
    raise UserError("datasets must name at least one dataset")
  for name in config.datasets:
    if name not in group_data.BUILDERS:
      raise UserError(
        f"unknown dataset {name!r} in datasets; use one of "
        f"{', '.join(group_data.BUILDERS)}"
      )
  group_data.split_counts(config)
  if config.gap.ablation_group_scale in tuple(config.gap.group_scales):
    raise UserError(
      "gap.ablation_group_scale must not be one of "
      "gap.group_scales (claim B3 compares them)"
    )
