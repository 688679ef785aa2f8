"""Presets of the neural-collapse study (README, What is run; Calibration).

``cpu`` is the CPU-scale plan: a 64-256-256-128-10 ReLU MLP on the
embedded 8x8 digits, trained three ways (standard, PGD-AT, TRADES) with
SGD and a piecewise learning rate; linf PGD with eps = 0.1 in [0, 1] pixel
units. ``paper`` changes sizes only: CIFAR-10, VGG11-BN, eps = 8/255,
400 epochs, three seeds. ``smoke`` shrinks ``cpu`` to seconds.
"""

from __future__ import annotations

import ml_collections

from repro.core.errors import UserError
from repro.ops.adversarial_training import TRADES_STARTS
from repro.studies.neural_collapse.training import MODES


def get_config(preset: str) -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` (smoke | cpu | paper)."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""

  config.dataset = "digits"
  # Examples per class kept from each split (0: all). Training uses
  # floor(N / batch_size) batches per epoch from a fresh permutation.
  config.train_per_class = 0
  config.test_per_class = 0
  config.model = "bn_mlp"  # bn_mlp | mlp (no BatchNorm) | vgg11_bn
  config.hidden_sizes = (256, 256, 128)  # mlp; the last is penultimate
  config.width_multiplier = 1.0  # vgg11_bn channel scale
  config.num_seeds = 1  # replicas vmapped over a leading axis

  # SGD with momentum and coupled weight decay (official code).
  config.batch_size = 128
  config.learning_rate = 0.1
  config.momentum = 0.9
  config.weight_decay = 5e-4
  # The learning rate is divided by 10 at each fraction of training.
  config.lr_decay_fractions = (0.5, 0.75)
  config.standard_epochs = 600
  config.adversarial_epochs = 400  # PGD-AT and TRADES
  # Training runs in compiled chunks of chunk_epochs epochs; NC is evaluated
  # after the first chunk (the reference of claims B1a, B5a, B5b) and every
  # eval_every_epochs (a multiple of chunk_epochs) after that.
  config.chunk_epochs = 10
  config.eval_every_epochs = 20
  config.eval_batch_size = 2048

  # Threat model, in [0, 1] pixel units; standardisation is in the model.
  config.norm = "linf"
  config.eps = 0.2
  config.attack_steps = 10  # evaluation PGD (untargeted and targeted)
  config.attack_step_size = 0.05
  config.train_attack_steps = 10  # PGD-AT and TRADES inner maximisation
  config.train_attack_step_size = 0.05
  config.trades_beta = 6.0
  # TRADES attack start: "official" x + 0.001 N(0, I) (the reference
  # trades_loss); "uniform": a uniform point of the eps-ball.
  config.trades_start = "official"
  # Training modes run (training.MODES). trades_official is TRADES with the
  # official code's BatchNorm eval-mode quirk (README, What is run), an
  # ablation; the claims read standard, pgd_at and trades.
  config.modes = ("standard", "pgd_at", "trades", "trades_official")
  config.pinv_rtol = 1e-8  # NC1 pseudo-inverse tolerance on Sigma_B

  if preset == "smoke":
    config.train_per_class = 16
    config.test_per_class = 8
    config.hidden_sizes = (32, 32, 16)
    config.batch_size = 32
    config.standard_epochs = 4
    config.adversarial_epochs = 4
    config.chunk_epochs = 2
    config.eval_every_epochs = 2
    config.attack_steps = 2
    config.train_attack_steps = 2
    config.attack_step_size = 0.06
    config.train_attack_step_size = 0.06
    config.num_seeds = 2
    # trades_official differs from trades by one flag; unit-tested instead.
    config.modes = ("standard", "pgd_at", "trades")
  elif preset == "paper":
    config.dataset = "cifar10"
    config.model = "vgg11_bn"
    config.num_seeds = 3
    config.learning_rate = 0.1
    config.lr_decay_fractions = (0.25, 0.375)
    config.standard_epochs = 400
    config.adversarial_epochs = 400
    config.eval_every_epochs = 10
    config.eval_batch_size = 1000
    config.eps = 8 / 255
    config.attack_step_size = 2 / 255
    config.train_attack_step_size = 2 / 255
  elif preset != "cpu":
    raise ValueError(f"unknown preset {preset!r}")
  return config


def check_config(config) -> None:
  """Raises UserError for modes or schedules the loop cannot run.

  Modes and the TRADES start are known; every training length and the
  evaluation interval are whole chunks, and training lengths whole
  evaluation intervals (the NC metrics are read at those epochs).
  """
  for mode in config.modes:
    if mode not in MODES:
      raise UserError(
        f"unknown mode {mode!r} in modes; choose from {', '.join(MODES)}"
      )
  if config.trades_start not in TRADES_STARTS:
    raise UserError(
      f"trades_start {config.trades_start!r}: use one of "
      f"{', '.join(TRADES_STARTS)}"
    )
  for name in ("standard_epochs", "adversarial_epochs", "eval_every_epochs"):
    if config[name] % config.chunk_epochs:
      raise UserError(
        f"{name}={config[name]} must be a multiple of "
        f"chunk_epochs={config.chunk_epochs}"
      )
  for name in ("standard_epochs", "adversarial_epochs"):
    if config[name] % config.eval_every_epochs:
      raise UserError(
        f"{name}={config[name]} must be a multiple of "
        f"eval_every_epochs={config.eval_every_epochs}"
      )
