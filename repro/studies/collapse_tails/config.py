"""Presets of the collapse_tails study (README, What is reproduced).

``cpu`` is the CPU-scale plan: the Hutter model computed exactly on
N = 2e6 items with the analytic tail beyond, Monte-Carlo checks, tail
cutting, narrowing, finite-sample generators, generations and mixing, and
an embedding-table learner trained with Adam. The GCD transformer is the
``paper`` part (``gcd.enabled``); ``smoke`` runs it tiny so its code path
is tested. ``paper`` changes sizes only.
"""

from __future__ import annotations

import ml_collections

from repro.core.errors import UserError


def get_config(preset: str) -> ml_collections.ConfigDict:
  """Returns the config of ``preset`` (smoke | cpu | paper)."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data_dir = ""

  # The Hutter model (Sec. 2): items 1..num_items in arrays, the rest
  # analytically (beta = 1.5 misses 5e-4 of its mass at N = 2e6).
  hutter = config.hutter = ml_collections.ConfigDict()
  hutter.num_items = 2_000_000
  hutter.betas = (1.5, 2.0, 3.0)
  # Training-set sizes T of every exact curve: log-spaced, per decade.
  hutter.min_log10_size = 1.0
  hutter.max_log10_size = 8.0
  hutter.sizes_per_decade = 8
  # Exponent fits use T in [10^a, 10^b] (claim C1: 1e2..1e6).
  hutter.fit_log10_range = (2.0, 6.0)
  # Monte-Carlo confirmation of the exact curves (planned: >= 20 seeds).
  hutter.mc_trials = 64
  hutter.mc_sizes = (100, 1000, 10_000, 100_000)

  # Tail cutting (Thm 2.1): plateau at T = plateau_factor * k^beta.
  cut = config.cut = ml_collections.ConfigDict()
  cut.ks = (10, 100, 1000)
  cut.plateau_factor = 100.0

  # Tail narrowing: pairs (beta, beta'); temperature tau on Zipf(beta)
  # is beta' = beta / tau.
  narrow = config.narrow = ml_collections.ConfigDict()
  narrow.betas = (1.5, 2.0, 2.0)
  narrow.beta_primes = (2.25, 3.0, 4.0)
  narrow.temperature_beta = 2.0
  narrow.temperature = 0.9

  # Finite-sample generator (eq. 6): gen-1 learner with T = factor * T0.
  finite = config.finite = ml_collections.ConfigDict()
  finite.beta = 2.0
  finite.generation_sizes = (1000, 10_000, 100_000)
  finite.learner_factor = 100.0
  finite.max_count = 3

  # Generations (B-C6): beta = 2, T0 = 1e4, T = 1e6, n = 0..10.
  generations = config.generations = ml_collections.ConfigDict()
  generations.beta = 2.0
  generations.generation_size = 10_000
  generations.learner_size = 1_000_000
  generations.num_generations = 10
  generations.trials = 32  # Wright-Fisher chains (Monte Carlo)

  # Mixing clean and cut data (Thm 3.2).
  mixing = config.mixing = ml_collections.ConfigDict()
  mixing.beta = 2.0
  mixing.k = 30
  mixing.clean_fractions = (0.01, 0.1)

  # The neural learner (B-C7, B-C8): an embedding table and a linear
  # readout over num_labels random labels, trained full-batch with Adam on
  # the count-weighted cross-entropy of T draws.
  neural = config.neural = ml_collections.ConfigDict()
  neural.num_items = 5000
  neural.beta = 2.0
  neural.width = 64
  neural.num_labels = 16
  neural.sizes = (1000, 3000, 10_000, 30_000, 100_000)
  neural.cut_k = 50
  neural.clean_fraction = 0.1
  neural.num_seeds = 2
  neural.steps = 150
  neural.learning_rate = 0.05
  # Un-learning (B-C8): generation 1 learns labels of the clean learner
  # trained on generation_size draws; "tail" means i > T0^(1/beta).
  neural.generation_size = 1000
  neural.relabel_sizes = (10_000, 100_000)

  # GCD transformer (Sec. 6): generation 0 on clean data, generation 1 on
  # its greedy labels of fresh inputs, and a mix with clean labels.
  gcd = config.gcd = ml_collections.ConfigDict()
  gcd.enabled = False
  gcd.max_operand = 9999
  gcd.base = 10
  gcd.num_layers = 2
  gcd.num_heads = 4
  gcd.width = 64
  gcd.train_size = 100_000  # clean examples of generation 0
  gcd.ai_train_size = 100_000  # examples labelled by generation 0
  gcd.clean_fraction = 0.1  # of the mixed data set
  gcd.steps = 2000
  gcd.batch_size = 256
  gcd.learning_rate = 1e-3
  gcd.warmup_steps = 100
  gcd.eval_size = 20_000
  gcd.decode_batch_size = 4096
  gcd.max_reported_gcd = 100  # per-gcd accuracies for gcd 1..this
  gcd.learned_accuracy = 0.9  # a gcd counts as learned above this

  if preset == "smoke":
    hutter.num_items = 20_000
    hutter.max_log10_size = 7.0
    hutter.sizes_per_decade = 4
    hutter.fit_log10_range = (2.0, 4.0)
    hutter.mc_trials = 8
    hutter.mc_sizes = (100, 1000)
    cut.ks = (10, 30, 100)
    finite.generation_sizes = (100, 1000)
    generations.generation_size = 1000
    generations.learner_size = 100_000
    generations.num_generations = 4
    generations.trials = 4
    mixing.k = 10
    neural.num_items = 500
    neural.width = 16
    neural.sizes = (100, 1000, 10_000)
    neural.cut_k = 10
    neural.num_seeds = 1
    neural.steps = 30
    neural.generation_size = 100
    neural.relabel_sizes = (1000, 10_000)
    gcd.enabled = True
    gcd.max_operand = 99
    gcd.num_layers = 1
    gcd.num_heads = 2
    gcd.width = 16
    gcd.train_size = 512
    gcd.ai_train_size = 512
    gcd.steps = 20
    gcd.batch_size = 32
    gcd.warmup_steps = 5
    gcd.eval_size = 256
    gcd.decode_batch_size = 128
    gcd.max_reported_gcd = 10
  elif preset == "paper":
    hutter.num_items = 20_000_000
    hutter.mc_trials = 256
    generations.trials = 256
    neural.num_seeds = 8
    neural.steps = 400
    gcd.enabled = True
    gcd.max_operand = 999_999
    gcd.base = 1000
    gcd.num_layers = 4
    gcd.num_heads = 8
    gcd.width = 256
    gcd.train_size = 3_000_000
    gcd.ai_train_size = 3_000_000
    gcd.steps = 100_000
    gcd.batch_size = 256
    gcd.learning_rate = 1e-4
    gcd.warmup_steps = 1000
    gcd.eval_size = 100_000
  elif preset != "cpu":
    raise ValueError(f"unknown preset {preset!r}")
  return config


def check_config(config) -> None:
  """Raises UserError for values the theory or the figures cannot use.

  Every Zipf exponent exceeds 1 (a normalisable tail) and beta = 2 is
  among the Hutter exponents (the figures draw it); narrowing pairs each
  beta with a beta'; cuts keep fewer items than there are; the slope fit
  lies inside the size grid; mixed-in clean fractions are in (0, 1].
  """
  h = config.hutter
  betas = {
    "hutter.betas": tuple(h.betas),
    "narrow.betas": tuple(config.narrow.betas),
    "narrow.beta_primes": tuple(config.narrow.beta_primes),
    "narrow.temperature_beta": (config.narrow.temperature_beta,),
    "finite.beta": (config.finite.beta,),
    "generations.beta": (config.generations.beta,),
    "mixing.beta": (config.mixing.beta,),
    "neural.beta": (config.neural.beta,),
  }
  for name, values in betas.items():
    if min(values) <= 1.0:
      raise UserError(f"{name} must be > 1 (Zipf tail), got {values}")
  if 2.0 not in betas["hutter.betas"]:
    raise UserError("hutter.betas must contain 2.0 (the figures draw it)")
  if len(betas["narrow.betas"]) != len(betas["narrow.beta_primes"]):
    raise UserError("narrow.betas and narrow.beta_primes must pair up")
  if config.narrow.temperature <= 0:
    raise UserError("narrow.temperature must be > 0")
  if max(config.cut.ks) >= h.num_items or config.mixing.k >= h.num_items:
    raise UserError("cut.ks and mixing.k must be below hutter.num_items")
  if config.neural.cut_k >= config.neural.num_items:
    raise UserError("neural.cut_k must be below neural.num_items")
  low, high = h.fit_log10_range
  if not h.min_log10_size <= low < high <= h.max_log10_size:
    raise UserError(
      "hutter.fit_log10_range must be an interval inside "
      "[min_log10_size, max_log10_size]"
    )
  fractions = tuple(config.mixing.clean_fractions) + (
    config.neural.clean_fraction,
    config.gcd.clean_fraction,
  )
  if not all(0 < f <= 1 for f in fractions):
    raise UserError(f"clean fractions must be in (0, 1], got {fractions}")
  if config.gcd.width % config.gcd.num_heads:
    raise UserError("gcd.width must be a multiple of gcd.num_heads")
