"""Presets of the bnn_attacks study (README, What is run; Paper preset).

``cpu`` is the reference: the embedded 8x8 digits, an MLP 64-32-10 and
a CPU plan sized to run in a few minutes on 2 cores. ``smoke`` shrinks
every size; ``paper`` moves to MNIST and paper-scale sampler and attack
budgets (README, Paper preset). Only sizes change between presets.
"""

from __future__ import annotations

import ml_collections

from repro.core import config as config_lib
from repro.core.errors import UserError


def _cpu_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""

  data = config.data = ml_collections.ConfigDict()
  data.dataset = "digits"
  data.max_train = 0  # 0: the whole training split
  data.num_attack = 300  # fixed test subset that is attacked
  data.ood_classes = (5, 6, 7, 8, 9)  # A6: held out; ID = the other classes

  model = config.model = ml_collections.ConfigDict()
  model.hidden_sizes = (32,)
  model.prior_std = 1.0  # N(0, 1) prior, weight decay 1

  # DET (MAP) and the deep ensemble: member 0 is DET; members seed HMC.
  det = config.det = ml_collections.ConfigDict()
  det.num_members = 4
  det.num_steps = 500
  det.learning_rate = 1e-2

  hmc = config.hmc = ml_collections.ConfigDict()
  hmc.num_chains = 4
  hmc.num_warmup = 400
  hmc.num_draws = 50  # kept per chain
  hmc.thin = 10
  hmc.num_integration_steps = 20
  hmc.target_acceptance = 0.8

  mfvi = config.mfvi = ml_collections.ConfigDict()
  mfvi.num_steps = 3000
  mfvi.learning_rate = 1e-2
  mfvi.init_scale = 1e-3

  mcd = config.mcd = ml_collections.ConfigDict()
  mcd.dropout_rate = 0.2
  mcd.num_steps = 1000
  mcd.learning_rate = 1e-2

  attack = config.attack = ml_collections.ConfigDict()
  attack.eps = (0.05, 0.1, 0.2, 0.3)
  attack.num_steps = 50
  attack.step_factor = 2.5  # step = factor * eps / num_steps
  attack.eot_draws = 20  # K fresh draws per step (MFVI, MCD)
  attack.eval_draws = 200  # independent draws for evaluation
  attack.sample_counts = (1, 10, 100)  # A3, HMC
  attack.compare_eps = 0.1  # A3, A4, A7
  attack.carbone_step = 2.0  # A4 exploratory: alpha = 2 / max(x)
  attack.carbone_num_steps = 40

  detect = config.detect = ml_collections.ConfigDict()
  detect.eps = 0.2
  detect.num_steps = 100
  detect.entropy_weight = 1.0  # beta of the adaptive objective
  detect.exploratory_eps = (0.3,)  # adaptive attack, reported, no claim

  ood = config.ood = ml_collections.ConfigDict()
  ood.eps = 0.1
  ood.exploratory_eps = (0.2,)  # reported, no claim
  ood.num_steps = 50
  return config


def get_config(preset: str = "cpu") -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` in {"smoke", "cpu", "paper"}."""
  return config_lib.from_cpu_config(
    preset, _cpu_config(), smoke=_smoke, paper=_paper
  )


def _smoke(config: ml_collections.ConfigDict) -> None:
  """Shrinks the cpu config to the seconds-long smoke preset."""
  config.data.max_train = 300
  config.data.num_attack = 24
  config.model.hidden_sizes = (8,)
  config.det.num_members = 2
  config.det.num_steps = 30
  config.hmc.num_chains = 2
  config.hmc.num_warmup = 20
  config.hmc.num_draws = 6
  config.hmc.thin = 2
  config.hmc.num_integration_steps = 4
  config.mfvi.num_steps = 30
  config.mcd.num_steps = 30
  config.attack.num_steps = 3
  config.attack.eot_draws = 3
  config.attack.eval_draws = 8
  config.attack.sample_counts = (1, 2, 12)
  config.attack.carbone_num_steps = 2
  config.detect.num_steps = 3
  config.ood.num_steps = 3


def _paper(config: ml_collections.ConfigDict) -> None:
  """Grows the cpu config to the paper's scale."""
  config.data.dataset = "mnist"
  config.data.num_attack = 1000
  config.model.hidden_sizes = (512, 512)
  config.det.num_members = 8
  config.det.num_steps = 5000
  config.hmc.num_chains = 8
  config.hmc.num_warmup = 2000
  config.hmc.num_draws = 200
  config.hmc.thin = 10
  config.hmc.num_integration_steps = 100
  config.mfvi.num_steps = 20000
  config.mcd.num_steps = 5000
  config.attack.num_steps = 200
  config.attack.eval_draws = 1000
  config.attack.sample_counts = (1, 10, 100, 1000)
  config.detect.num_steps = 200
  config.ood.num_steps = 200


def check_config(config) -> None:
  """Raises UserError for values the study cannot run or be judged with.

  Counts and step numbers must be positive; the eps grid must hold the
  radii claims A2-A4 and A7 read; HMC cannot draw more samples than its
  chains hold, and each chain starts at one MAP member.
  """
  for key, value in config_lib.leaves(config):
    name = key.rsplit(".", 1)[-1]
    counts = name.startswith("num_") or name.endswith("steps")
    if counts and isinstance(value, int) and value < 1:
      raise UserError(f"{key} must be >= 1, got {value}")
  eps = tuple(config.attack.eps)
  for needed in (config.attack.compare_eps, 0.2, 0.3):
    if needed not in eps:
      raise UserError(
        f"attack.eps must contain {needed} (claims A2-A4, "
        f"A7 read it); got {eps}"
      )
  total = config.hmc.num_chains * config.hmc.num_draws
  if max(config.attack.sample_counts) > total:
    raise UserError(
      f"attack.sample_counts must not exceed the {total} HMC "
      "draws (hmc.num_chains * hmc.num_draws)"
    )
  if config.hmc.num_chains > config.det.num_members:
    raise UserError(
      "hmc.num_chains must not exceed det.num_members (each "
      "chain starts at one MAP member)"
    )
