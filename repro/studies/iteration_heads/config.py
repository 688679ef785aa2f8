"""Presets of the iteration-head study.

``cpu`` is the CPU-scale plan (README, What is run) shrunk to fit 5 minutes
on 2 cores: width 32, inputs up to length 8, Adam 3e-3 with shuffled
batches of 128 (calibrated once, see README); ``paper`` restores the
official sizes (``grid_run_pretrain.py``: width 128, lengths 1..16, lr
3e-4, batch 256, 1000 epochs, length-ordered batches, embedding dropout
0.1, 1024 test sequences per length) and the transfer checkpoint at epoch
200.
"""

from __future__ import annotations

import ml_collections

from repro.core.errors import UserError


def get_config(preset: str) -> ml_collections.ConfigDict:
  """The config of ``preset`` (smoke, cpu or paper)."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""
  # Seeds are a vmapped replica axis of every run.
  config.num_seeds = 1

  config.task = ml_collections.ConfigDict()
  config.task.max_len = 8  # input lengths 1..max_len
  config.task.modulus = 11  # polynomial iteration mod p (official: 11)
  config.task.train_per_len = 1024  # training rows per length
  config.task.test_per_len = 128  # held-out sequences per scored length
  config.task.min_eval_len = 4  # official min_len of the figures

  config.model = ml_collections.ConfigDict()
  config.model.width = 32
  config.model.num_heads = 1
  config.model.ffn_width = 128  # 4 * width, as the official default
  config.model.emb_dropout = 0.0

  config.optim = ml_collections.ConfigDict()
  config.optim.lr = 3e-3
  config.optim.batch_size = 128
  # by_length: official single-length batches 1..max_len every epoch.
  config.optim.batch_order = "shuffled"

  # Steps of each run (R1..R6; README, What is run).
  config.steps = ml_collections.ConfigDict()
  config.steps.cot = 2000  # R1: polynomial, CoT, 2 layers
  config.steps.no_cot = 1000  # R2: polynomial, answer only
  config.steps.one_layer = 1000  # R3: polynomial, CoT, 1 layer
  config.steps.parity = 2000  # R4: parity from scratch
  config.steps.transfer = 2000  # R5: parity from R1, all weights
  config.steps.mlp2 = 1000  # R6: parity from R1, last MLP only
  config.eval_every = 100
  # R1 checkpoint that R5/R6 start from (a multiple of eval_every; -1 means
  # the end of R1).
  config.transfer_from_step = -1

  config.metrics = ml_collections.ConfigDict()
  config.metrics.peak_threshold = 0.5  # official peaky_thres
  config.metrics.accuracy_target = 0.9  # steps to 90% test accuracy
  config.metrics.crossing_level = 0.5  # emergence: both curves cross it

  if preset == "smoke":
    config.task.max_len = 5
    config.task.train_per_len = 64
    config.task.test_per_len = 8
    config.model.width = 16
    config.model.ffn_width = 64
    config.optim.batch_size = 32
    config.num_seeds = 2
    config.eval_every = 5
    for run in ("cot", "no_cot", "one_layer", "parity", "transfer", "mlp2"):
      config.steps[run] = 10
  elif preset == "paper":
    steps_per_epoch = 16 * 1024 // 256
    config.num_seeds = 10
    config.task.max_len = 16
    config.task.test_per_len = 1024
    config.model.width = 128
    config.model.ffn_width = 512
    config.model.emb_dropout = 0.1
    config.optim.lr = 3e-4
    config.optim.batch_size = 256
    config.optim.batch_order = "by_length"
    for run in ("cot", "no_cot", "one_layer", "parity", "transfer", "mlp2"):
      config.steps[run] = 1000 * steps_per_epoch
    config.eval_every = 10 * steps_per_epoch
    config.transfer_from_step = 200 * steps_per_epoch
  elif preset != "cpu":
    raise ValueError(f"unknown preset {preset!r}")
  return config


def check_config(config) -> None:
  """Raises UserError for values no run can train or be scored with.

  Every run (``steps.<run>``) evaluates at least once; the transfer start
  is a saved evaluation step of R1 (or -1: R1's end).
  """
  if config.num_seeds < 1:
    raise UserError("num_seeds must be >= 1")
  for name in config.steps:
    if config.steps[name] < config.eval_every:
      raise UserError(
        f"steps.{name}={config.steps[name]} must be at least "
        f"eval_every ({config.eval_every})"
      )
  start = config.transfer_from_step
  if start != -1 and (
    start < 0 or start > config.steps.cot or start % config.eval_every
  ):
    raise UserError(
      f"transfer_from_step={start} must be -1 or a multiple of eval_every "
      f"({config.eval_every}) in 0..steps.cot ({config.steps.cot})"
    )
  if config.task.min_eval_len > config.task.max_len:
    raise UserError("task.min_eval_len must be <= task.max_len")
