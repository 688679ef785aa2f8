"""Presets of the data_pruning study (README, What is run).

``cpu`` is the reference scale: the synthetic 10-class Gaussian
mixture (claims) and the embedded 8x8 digits (secondary), MLPs. ``paper``
switches the datasets to CIFAR-10 (VGG-16) and CIFAR-100 (VGG-19) with the
official hyperparameters; ``smoke`` shrinks everything and runs the mixture
only (digits differ from it only in the loader). Every dataset group
exists in every preset; ``datasets`` picks the ones that run (the first
one feeds the claims, the second the ``secondary/`` metrics).
"""

from __future__ import annotations

import ml_collections

from repro.core import config as config_lib
from repro.core.errors import UserError
from repro.ops.drop_quotas import CONVENTIONS
from repro.studies.data_pruning.grid import METHODS


def _dataset_group(**overrides) -> ml_collections.ConfigDict:
  group = ml_collections.ConfigDict()
  group.source = "mixture"  # "mixture" or a repro.data name
  # Mixture generator (repro.data.gaussian_mixture; README, What is run).
  group.num_classes = 10
  group.dim = 20
  group.train_per_class = 400
  group.test_per_class = 400  # split 50/50 into val / test
  group.mean_distance = 5.0
  group.sigma_min = 0.6
  group.sigma_max = 2.0
  group.noisy_classes = 3
  group.label_noise = 0.05
  group.max_train_per_class = 0  # 0: all (named datasets)
  # Model.
  group.model = "mlp"  # "mlp" or "vgg"
  group.hidden_sizes = (128, 128)
  group.vgg_layers = "vgg16"
  group.width_multiplier = 1.0
  # Training (official trainer.py: SGD m 0.9, LR x0.2 at milestones).
  group.lr = 0.05
  group.momentum = 0.9
  group.weight_decay = 5e-4
  group.batch_size = 128
  group.epochs = 40  # full-data epochs E
  group.lr_drops = (0.5, 0.75)
  group.lr_drop_factor = 0.2
  group.eval_batch = 2000
  group.augment = False  # flip + shift, final models only
  group.error_floor = 0.0  # DRoP error floor (README)
  group.replica_chunk = 0  # replicas per call (0: all)
  group.update(overrides)
  return group


def _cpu_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""
  config.datasets = ("mixture", "digits")

  config.data = ml_collections.ConfigDict()
  # The easiest mixture class (sigma 0.6) and several digits reach 100%
  # validation recall, which would give them no DRoP quota at all (README,
  # Deviations): floor the error at 0.02.
  config.data.mixture = _dataset_group(error_floor=0.02)
  config.data.digits = _dataset_group(
    source="digits", error_floor=0.02, eval_batch=600
  )
  config.data.cifar10 = _dataset_group(
    source="cifar10",
    model="vgg",
    vgg_layers="vgg16",
    lr=0.1,
    weight_decay=1e-4,
    epochs=160,
    augment=True,
    eval_batch=500,
    replica_chunk=3,
  )
  config.data.cifar100 = _dataset_group(
    source="cifar100",
    model="vgg",
    vgg_layers="vgg19",
    lr=0.1,
    weight_decay=5e-4,
    epochs=160,
    augment=True,
    eval_batch=500,
    replica_chunk=3,
  )

  scores = config.scores = ml_collections.ConfigDict()
  scores.query_seeds = 5  # EL2N / GraNd query models
  scores.query_epoch_fraction = 0.1  # of the full-data epochs (App. A)
  scores.du_window = 10  # dynamic uncertainty J
  scores.grand_batch = 256  # examples per per-example-grad chunk
  # Conventions (README, "Conventions"): the official code's by default,
  # since the paper's numbers come from it.
  scores.el2n_label = "oracle"  # true label (official DP default)
  scores.du_convention = "official"  # J - 1 epochs, ddof 1, / (T - J)
  # DRoP's class recalls: "official" = the mean over the first
  # drop_query_models EL2N query models, each at its best overall
  # validation-accuracy epoch; "full_run" = the full-length query run at
  # its best mean-recall epoch.
  scores.drop_recall = "official"
  scores.drop_query_models = 5  # official README: --num_inits 5
  scores.drop_quotas = "official"  # class counts (or "paper": densities)
  scores.tie_break = "higher_index"  # official stable sort, keep the last

  pruning = config.pruning = ml_collections.ConfigDict()
  pruning.methods = METHODS
  pruning.densities = (0.3, 0.5, 0.8)
  pruning.num_seeds = 3
  pruning.spc_density = 0.1  # C1: min samples per class of DU

  theory = config.theory = ml_collections.ConfigDict()
  theory.mu = 4.0  # class 1 ~ N(mu, sigma^2)
  theory.sigma = 1.5
  theory.ssp_margin = 0.5  # SSP removes |x - mean| < margin
  theory.grid_size = 400_001
  theory.curve_points = 61  # prior sweep of the figure
  return config


def get_config(preset: str = "cpu") -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` in {"smoke", "cpu", "paper"}."""
  return config_lib.from_cpu_config(
    preset, _cpu_config(), smoke=_smoke, paper=_paper
  )


def _smoke(config: ml_collections.ConfigDict) -> None:
  """Shrinks the cpu config to the seconds-long smoke preset."""
  mixture = config.data.mixture
  mixture.train_per_class = 30
  mixture.test_per_class = 20
  mixture.hidden_sizes = (16,)
  mixture.epochs = 10
  mixture.batch_size = 32
  mixture.eval_batch = 300
  digits = config.data.digits
  digits.max_train_per_class = 20
  digits.hidden_sizes = (16,)
  digits.epochs = 10
  digits.batch_size = 32
  digits.eval_batch = 300
  config.datasets = ("mixture",)
  config.scores.query_seeds = 2
  config.scores.drop_query_models = 2
  config.scores.du_window = 3
  config.scores.grand_batch = 64
  config.pruning.num_seeds = 2
  config.theory.grid_size = 20_001
  config.theory.curve_points = 11


def _paper(config: ml_collections.ConfigDict) -> None:
  """Grows the cpu config to the paper's scale."""
  config.datasets = ("cifar10", "cifar100")
  config.scores.grand_batch = 16


def check_config(config) -> None:
  """Raises UserError for values the grid or DRoP cannot run with.

  Datasets are configured groups with a known model; methods are known
  and densities are fractions in (0, 1]; DRoP's recalls come from a
  known source, averaged over 1..query_seeds query models, and its quotas
  follow a known convention.
  """
  for name in config.datasets:
    if name not in config.data:
      raise UserError(f"datasets: {name!r} has no config.data.{name}")
    if config.data[name].model not in ("mlp", "vgg"):
      raise UserError(f"data.{name}.model must be mlp or vgg")
  unknown = set(config.pruning.methods) - set(METHODS)
  if unknown:
    raise UserError(
      f"pruning.methods: unknown {sorted(unknown)}; use {', '.join(METHODS)}"
    )
  if not all(0 < d <= 1 for d in config.pruning.densities):
    raise UserError("pruning.densities must be in (0, 1]")
  if config.pruning.num_seeds < 1:
    raise UserError("pruning.num_seeds must be >= 1")
  scores = config.scores
  if scores.drop_recall not in ("official", "full_run"):
    raise UserError(
      f"scores.drop_recall {scores.drop_recall!r}: use official or full_run"
    )
  if (
    scores.drop_recall == "official"
    and not 1 <= scores.drop_query_models <= scores.query_seeds
  ):
    raise UserError(
      "scores.drop_query_models must be in "
      f"1..query_seeds ({scores.query_seeds})"
    )
  if scores.drop_quotas not in CONVENTIONS:
    raise UserError(
      f"scores.drop_quotas {scores.drop_quotas!r}: use one of "
      f"{', '.join(CONVENTIONS)}"
    )
