"""The five predictive models of the study and their per-draw logits.

README, What is run: DET (MAP), HMC, MFVI, MC dropout and
a deep ensemble, all on the same MLP and N(0, prior_std^2) prior. Every
model is a ``Predictor``: a function ``(x, key, num) -> logits [num, n,
C]`` of ``num`` posterior draws. HMC, DET and the ensemble hold a fixed
set of draws (``key`` and ``num`` are ignored: the sample set *is* the
model); MFVI and MC dropout draw ``num`` fresh parameter vectors / masks
from ``key`` (``stochastic``), so attacks on them use EOT and their
evaluation uses draws independent of the attack (reusing the attack's
draws would overstate its success).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.bayes import dropout, ensemble, hmc, vi
from repro.bayes.network import FlatMLP, flat_mlp
from repro.bayes.predictive import bma_log_probs, uncertainty_scores
from repro.core import rng

BNN_METHODS = ("hmc", "mfvi", "mcd")
METHODS = ("det",) + BNN_METHODS + ("ensemble",)


KINDS = ("fixed", "mean_field", "dropout", "dropout_one_mask")


@dataclasses.dataclass(frozen=True)
class Predictor:
  """A posterior predictive as a function of its draws.

  Attributes:
    name: one of ``METHODS`` (or a variant such as ``hmc_s10``).
    kind: ``fixed`` (params = draws ``[S, D]``), ``mean_field`` (params =
      ``(loc, scale)``), ``dropout`` (params = theta ``[D]``) or
      ``dropout_one_mask`` (params = ``(theta, mask_key)``, one frozen
      mask: the naive target of claim A4).
    model: the network (``FlatMLP``; the dropout network for MCD).
    params: arrays, passed to compiled functions as arguments so models of
      one kind and shape share a compilation.
  """

  name: str
  kind: str
  model: FlatMLP
  params: object

  @property
  def stochastic(self) -> bool:
    """Draws are random: attacks use EOT, evaluation fresh draws."""
    return self.kind in ("mean_field", "dropout")


def sample_logits(
  model: FlatMLP,
  kind: str,
  params,
  x: jax.Array,
  key: jax.Array | None,
  num: int,
) -> jax.Array:
  """Per-draw logits ``[num or S, n, C]`` of a predictor's draws."""
  if kind == "fixed":
    return jax.vmap(model.logits, in_axes=(0, None))(params, x)
  if kind == "mean_field":
    loc, scale = params
    thetas = vi.sample_mean_field(vi.MeanField(loc, scale, None), key, num)
    return jax.vmap(model.logits, in_axes=(0, None))(thetas, x)
  if kind == "dropout":
    return dropout.mc_dropout_logits(model, params, x, key, num)
  if kind == "dropout_one_mask":
    theta, mask_key = params
    return dropout.fixed_mask_logits(model, theta, x, mask_key)[None]
  raise ValueError(f"unknown predictor kind {kind!r}; one of {KINDS}")


def fixed_set(name: str, model: FlatMLP, samples: jax.Array) -> Predictor:
  """A model whose draws are the rows of ``samples`` ``[S, D]``."""
  return Predictor(name, "fixed", model, jnp.asarray(samples))


@dataclasses.dataclass
class Trained:
  """Everything inference produced for one training set."""

  model: FlatMLP
  dropout_model: FlatMLP
  members: jax.Array  # [M, D] MAP networks, member 0 is DET
  hmc: hmc.HMCResult
  mfvi: vi.MeanField | None
  mcd_theta: jax.Array | None
  predictors: dict[str, Predictor]
  history: dict[str, np.ndarray]


def train_all(
  config,
  x: jax.Array,
  labels: jax.Array,
  num_classes: int,
  stream_prefix: str = "",
  hmc_only: bool = False,
  checkpoints=None,
) -> Trained:
  """Runs MAP/ensemble, HMC (chains started at the members), MFVI, MCD.

  With ``hmc_only`` (the semantic-shift models of claim A6) MFVI and MC
  dropout are skipped.
  """
  keys = rng.streams(
    config.seed,
    *(stream_prefix + name for name in ("init", "train", "hmc", "mfvi", "mcd")),
  )
  key = lambda name: keys[stream_prefix + name]
  model = flat_mlp(x.shape[1], config.model.hidden_sizes, num_classes)
  prior_std = config.model.prior_std
  logging.info(
    "bnn_attacks%s: MAP ensemble of %d", stream_prefix, config.det.num_members
  )
  members, det_history = ensemble.fit_map(
    model,
    x,
    labels,
    prior_std=prior_std,
    init_key=key("init"),
    train_key=key("train"),
    num_members=config.det.num_members,
    num_steps=config.det.num_steps,
    learning_rate=config.det.learning_rate,
    description="map ensemble",
    checkpoints=checkpoints,
  )
  members = jax.device_get(members)
  history = {"det/loss": np.asarray(det_history["loss"][0])}

  cfg = config.hmc
  if cfg.num_chains > config.det.num_members:
    raise ValueError("hmc.num_chains must not exceed det.num_members")
  logging.info(
    "bnn_attacks%s: HMC, %d chains x (%d warm-up + %d x %d)",
    stream_prefix,
    cfg.num_chains,
    cfg.num_warmup,
    cfg.num_draws,
    cfg.thin,
  )
  log_posterior = hmc.classification_log_posterior(
    model.logits, x, labels, prior_std
  )
  chains = hmc.sample_chains(
    hmc.classification_log_density(model.logits, prior_std),
    members[: cfg.num_chains],
    key("hmc"),
    data=(x, labels),
    num_warmup=cfg.num_warmup,
    num_draws=cfg.num_draws,
    thin=cfg.thin,
    num_integration_steps=cfg.num_integration_steps,
    target_acceptance=cfg.target_acceptance,
    description=f"{stream_prefix}hmc",
    checkpoints=checkpoints,
  )
  chains = jax.device_get(chains)
  hmc_samples = chains.samples.reshape(-1, model.dim)
  predictors = {
    "det": fixed_set("det", model, members[:1]),
    "ensemble": fixed_set("ensemble", model, members),
    "hmc": fixed_set("hmc", model, hmc_samples),
  }
  dropout_model = flat_mlp(
    x.shape[1], config.model.hidden_sizes, num_classes, config.mcd.dropout_rate
  )
  q = mcd_theta = None
  if not hmc_only:
    logging.info("bnn_attacks: mean-field VI, %d steps", config.mfvi.num_steps)
    log_likelihood = lambda theta: (
      log_posterior(theta) + 0.5 * ((theta**2).sum() / prior_std**2)
    )
    q = vi.fit_mean_field(
      log_likelihood,
      model.dim,
      prior_std,
      key("mfvi"),
      num_steps=config.mfvi.num_steps,
      learning_rate=config.mfvi.learning_rate,
      init_loc=members[0],
      init_scale=config.mfvi.init_scale,
      checkpoints=checkpoints,
    )
    q = jax.device_get(q)
    history["mfvi/neg_elbo"] = np.asarray(q.losses)
    predictors["mfvi"] = Predictor(
      "mfvi", "mean_field", model, (q.loc, q.scale)
    )
    logging.info("bnn_attacks: MC dropout, %d steps", config.mcd.num_steps)
    mcd_members, mcd_history = ensemble.fit_map(
      dropout_model,
      x,
      labels,
      prior_std=prior_std,
      init_key=key("init"),
      train_key=key("mcd"),
      num_members=1,
      num_steps=config.mcd.num_steps,
      learning_rate=config.mcd.learning_rate,
      dropout=True,
      description="mc dropout",
      checkpoints=checkpoints,
    )
    mcd_theta = jax.device_get(mcd_members)[0]
    history["mcd/loss"] = np.asarray(mcd_history["loss"][0])
    predictors["mcd"] = Predictor("mcd", "dropout", dropout_model, mcd_theta)
  return Trained(
    model, dropout_model, members, chains, q, mcd_theta, predictors, history
  )


@functools.partial(jax.jit, static_argnames=("model", "kind", "num"))
def _predict(model, kind, params, x, key, num):
  per_draw_logits = sample_logits(model, kind, params, x, key, num)
  log_probs = bma_log_probs(per_draw_logits)
  return {
    "log_probs": log_probs,
    "prediction": jnp.argmax(log_probs, -1),
    **uncertainty_scores(per_draw_logits),
  }


def predict(
  predictor: Predictor, x: jax.Array, key: jax.Array | None, num: int
) -> dict[str, np.ndarray]:
  """BMA of ``num`` draws (all draws for a fixed set), as numpy arrays.

  Returns ``log_probs`` ``[n, C]`` (log p_bar), ``prediction`` ``[n]`` and
  the uncertainty scores ``entropy``, ``aleatoric``,
  ``mutual_information`` ``[n]``.
  """
  if not predictor.stochastic:
    key, num = None, 0
  return jax.tree.map(
    np.asarray,
    _predict(predictor.model, predictor.kind, predictor.params, x, key, num),
  )
