"""Compute plan of bnn_attacks (``launch --plan``): one step per phase.

Inference: a MAP-ensemble step (``ensemble.map_loss`` in ``train.fit``), an
HMC transition (BlackJAX, ``hmc.classification_log_density``, full batch;
warm-up and kept draws alike), a mean-field VI step (``vi._svi``) and an
MC-dropout step. Attacks: one PGD iteration of ``bma_attacks._pgd`` on each
posterior, times its steps and its eps grid (the label attacks of Fig. 2);
the sample-count, detection and semantic-shift attacks are not counted.
A6 repeats the MAP ensemble and HMC on the in-distribution classes.
"""

from __future__ import annotations

import functools

import blackjax
import jax
import numpy as np
import optax

from repro.bayes import ensemble, hmc, vi
from repro.bayes.network import flat_mlp
from repro.core import plan as plan_lib
from repro.core import train
from repro.data import shapes
from repro.studies.bnn_attacks import bma_attacks

NUM_CLASSES = 10


def map_phase(
  name: str,
  model,
  num_train: int,
  prior_std: float,
  members: int,
  num_steps: int,
  learning_rate: float,
  dropout: bool = False,
) -> plan_lib.Phase:
  """One full-batch Adam step of every ensemble member."""
  optimizer = optax.adam(learning_rate)

  def step(state, keys, x, labels):
    chunk = train.make_chunk(
      ensemble.map_loss(model, x, labels, prior_std, dropout), optimizer, 1
    )
    return jax.vmap(chunk)(state, keys)

  params = plan_lib.struct((members, model.dim))
  state = jax.eval_shape(
    jax.vmap(functools.partial(train.init_state, optimizer)), params
  )
  return plan_lib.Phase(
    name,
    step,
    (
      state,
      plan_lib.keys(members),
      plan_lib.struct((num_train, model.input_dim)),
      plan_lib.struct((num_train,), np.int32),
    ),
    steps=num_steps,
    params=model.dim,
    replicas=members,
  )


def hmc_phase(name: str, model, num_train: int, config) -> plan_lib.Phase:
  """One HMC transition of every chain (``num_integration_steps`` leapfrogs)."""
  cfg = config.hmc
  log_density = hmc.classification_log_density(
    model.logits, config.model.prior_std
  )

  def transition(states, keys, step_size, inverse_mass, x, labels):
    def one(state, key, step_size, inverse_mass):
      sampler = blackjax.hmc(
        lambda theta: log_density(theta, x, labels),
        step_size=step_size,
        inverse_mass_matrix=inverse_mass,
        num_integration_steps=cfg.num_integration_steps,
      )
      return sampler.step(key, state)

    return jax.vmap(one)(states, keys, step_size, inverse_mass)

  chains = cfg.num_chains
  states = jax.eval_shape(
    jax.vmap(
      lambda theta: blackjax.hmc.init(
        theta,
        lambda t: log_density(
          t,
          np.zeros((1, model.input_dim), np.float32),
          np.zeros((1,), np.int32),
        ),
      )
    ),
    plan_lib.struct((chains, model.dim)),
  )
  return plan_lib.Phase(
    name,
    transition,
    (
      states,
      plan_lib.keys(chains),
      plan_lib.struct((chains,)),
      plan_lib.struct((chains, model.dim)),
      plan_lib.struct((num_train, model.input_dim)),
      plan_lib.struct((num_train,), np.int32),
    ),
    steps=cfg.num_warmup + cfg.num_draws * cfg.thin,
    params=model.dim,
    replicas=chains,
    note="warm-up transitions counted as sampling ones",
  )


def mfvi_phase(model, num_train: int, config) -> plan_lib.Phase:
  """One SVI update (one reparameterised draw, full batch)."""
  cfg, prior_std = config.mfvi, config.model.prior_std

  def svi_of(x, labels):
    log_posterior = hmc.classification_log_posterior(
      model.logits, x, labels, prior_std
    )
    log_likelihood = lambda theta: (
      log_posterior(theta) + 0.5 * ((theta**2).sum() / prior_std**2)
    )
    return vi._svi(
      log_likelihood,
      model.dim,
      prior_std,
      cfg.learning_rate,
      None,
      cfg.init_scale,
    )

  data = (
    plan_lib.struct((num_train, model.input_dim)),
    plan_lib.struct((num_train,), np.int32),
  )
  state = jax.eval_shape(
    lambda key, x, labels: svi_of(x, labels).init(key), plan_lib.keys(), *data
  )

  def step(state, x, labels):
    svi = svi_of(x, labels)
    jax.eval_shape(svi.init, plan_lib.keys())  # Sets svi's transforms only.
    return svi.update(state)

  return plan_lib.Phase(
    "MFVI step",
    step,
    (state,) + data,
    steps=cfg.num_steps,
    params=2 * model.dim,
  )


def attack_phase(
  name: str, model, kind: str, params, draws: int, config
) -> plan_lib.Phase:
  """One PGD iteration on a posterior's predictive (the loop is traced)."""
  cfg = config.attack
  num = config.data.num_attack
  fn = functools.partial(bma_attacks._pgd, model, kind, draws)
  return plan_lib.Phase(
    name,
    lambda *args: fn(*args),
    (
      params,
      plan_lib.struct((num, model.input_dim)),
      plan_lib.struct((num,), np.int32),
      plan_lib.keys(),
      plan_lib.struct(()),
      plan_lib.struct(()),
      plan_lib.struct((), np.int32),
      plan_lib.struct((len(bma_attacks.TERMS),)),
      plan_lib.struct((), bool),
    ),
    steps=cfg.num_steps * len(cfg.eps),
    note="one iteration planned, times the iterations of every eps",
  )


def plan(config) -> list[plan_lib.Phase]:
  """The phases of a bnn_attacks run at ``config``'s shapes."""
  data = config.data
  image = shapes.image_shape(data.dataset)
  num_train = data.max_train or shapes.split_size(data.dataset, "train")
  # A6 keeps the in-distribution classes (about their share of the data).
  num_id = num_train * (NUM_CLASSES - len(data.ood_classes)) // NUM_CLASSES
  model = flat_mlp(int(np.prod(image)), config.model.hidden_sizes, NUM_CLASSES)
  dropout_model = flat_mlp(
    model.input_dim,
    config.model.hidden_sizes,
    NUM_CLASSES,
    config.mcd.dropout_rate,
  )
  det, prior_std = config.det, config.model.prior_std
  hmc_draws = config.hmc.num_chains * config.hmc.num_draws
  phases = [
    map_phase(
      "MAP ensemble step",
      model,
      num_train,
      prior_std,
      det.num_members,
      det.num_steps,
      det.learning_rate,
    ),
    hmc_phase("HMC transition", model, num_train, config),
    mfvi_phase(model, num_train, config),
    map_phase(
      "MC dropout step",
      dropout_model,
      num_train,
      prior_std,
      1,
      config.mcd.num_steps,
      config.mcd.learning_rate,
      True,
    ),
    map_phase(
      "A6 MAP ensemble step",
      model,
      num_id,
      prior_std,
      det.num_members,
      det.num_steps,
      det.learning_rate,
    ),
    hmc_phase("A6 HMC transition", model, num_id, config),
  ]
  vector = plan_lib.struct((model.dim,))
  posteriors = (
    ("det", "fixed", plan_lib.struct((1, model.dim)), 0),
    ("ensemble", "fixed", plan_lib.struct((det.num_members, model.dim)), 0),
    (
      f"HMC ({hmc_draws} draws)",
      "fixed",
      plan_lib.struct((hmc_draws, model.dim)),
      0,
    ),
    ("MFVI (EOT)", "mean_field", (vector, vector), config.attack.eot_draws),
    ("MC dropout (EOT)", "dropout", vector, config.attack.eot_draws),
  )
  for name, kind, params, draws in posteriors:
    phases.append(
      attack_phase(
        f"PGD iteration on {name}",
        dropout_model if kind == "dropout" else model,
        kind,
        params,
        draws,
        config,
      )
    )
  return phases
