"""The bnn_attacks evaluations: clean sanity (A1), label attacks (A2-A4,
A7), adversarial-example detection (A5) and semantic shift (A6).

Each fills the shared ``metrics`` dict and returns what the figures draw.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.bayes import hmc
from repro.core import rng
from repro.ops.losses import cross_entropy, log_likelihood
from repro.ops.roc import auroc
from repro.studies.bnn_attacks import bma_attacks, posteriors
from repro.studies.bnn_attacks.posteriors import (
  BNN_METHODS,
  METHODS,
  Predictor,
  fixed_set,
)


def _tag(eps: float) -> str:
  return f"eps{eps:.2f}"


# ------------------------------------------------------------------ A1


def _accuracy(predictor: Predictor, x, labels, key, draws) -> float:
  predictions = posteriors.predict(predictor, x, key, draws)["prediction"]
  return float(np.mean(predictions == np.asarray(labels)))


def _mean_nll(predictor: Predictor, x, labels, key, draws) -> float:
  log_probs = posteriors.predict(predictor, x, key, draws)["log_probs"]
  return float(jnp.mean(cross_entropy(log_probs, labels)))


def sanity(config, trained, x_test, y_test, metrics, curves) -> None:
  """Clean accuracy and NLL of every method; HMC diagnostics (A1)."""
  key = rng.stream(config.seed, "eval")
  draws = config.attack.eval_draws
  for name, predictor in trained.predictors.items():
    metrics[f"clean_acc/{name}"] = _accuracy(
      predictor, x_test, y_test, key, draws
    )
    metrics[f"test_nll/{name}"] = _mean_nll(
      predictor, x_test, y_test, key, draws
    )
  if trained.mfvi is not None:
    metrics["mfvi/mean_posterior_std"] = float(trained.mfvi.scale.mean())
    metrics["mfvi/median_posterior_std"] = float(np.median(trained.mfvi.scale))
  chains = trained.hmc
  metrics["hmc/acceptance_min"] = float(chains.acceptance_rate.min())
  metrics["hmc/acceptance_max"] = float(chains.acceptance_rate.max())
  metrics["hmc/acceptance_mean"] = float(chains.acceptance_rate.mean())
  metrics["hmc/step_size_mean"] = float(chains.step_size.mean())
  metrics["hmc/divergent"] = float(chains.num_divergent.sum())
  # Split R-hat of a function-space scalar per draw: the mean test
  # log-likelihood log p(y|x, theta_s) (weights themselves are not
  # identifiable under hidden-unit permutations).
  model = trained.model

  def test_loglik(theta):
    return jnp.mean(log_likelihood(model.logits(theta, x_test), y_test))

  per_draw = jax.jit(jax.vmap(jax.vmap(test_loglik)))(chains.samples)
  metrics["hmc/rhat_test_loglik"] = float(hmc.split_rhat(per_draw))
  for step, value in enumerate(np.asarray(per_draw).mean(0)):
    curves.append({"step": step, "hmc/test_loglik_chain_mean": float(value)})
  for name, values in trained.history.items():
    stride = max(1, len(values) // 100)
    for step in range(0, len(values), stride):
      curves.append({"step": step, name: float(values[step])})


# ------------------------------------------------------------ A2-A4, A7


def _robust_acc(predictor, x_adv, labels, key, draws) -> float:
  predictions = posteriors.predict(predictor, x_adv, key, draws)
  return float(np.mean(predictions["prediction"] == np.asarray(labels)))


def _label_attack(config, predictor, x, labels, key, eps, **options):
  """The label attack (README, What is run): steps of 2.5 eps / num_steps."""
  cfg = config.attack
  return bma_attacks.pgd_on(
    predictor,
    x,
    labels,
    key,
    eps=eps,
    num_steps=cfg.num_steps,
    step_size=cfg.step_factor * eps / cfg.num_steps,
    draws=cfg.eot_draws,
    **options,
  )


def label_attacks(config, trained, x, labels, metrics) -> dict:
  cfg = config.attack
  eps_grid = tuple(cfg.eps)
  attack_key = rng.stream(config.seed, "attack")
  eval_key = rng.stream(config.seed, "eval_attack")
  curves, adversarial = {}, {}
  for method_index, name in enumerate(METHODS):
    predictor = trained.predictors[name]
    logging.info("bnn_attacks: label attack on %s", name)
    adversarial[name] = [
      _label_attack(
        config,
        predictor,
        x,
        labels,
        jax.random.fold_in(attack_key, 100 * method_index + eps_index),
        eps,
      )
      for eps_index, eps in enumerate(eps_grid)
    ]
    curves[name] = np.array(
      [
        _robust_acc(predictor, x_adv, labels, eval_key, cfg.eval_draws)
        for x_adv in adversarial[name]
      ]
    )
    for eps, value in zip(eps_grid, curves[name], strict=True):
      metrics[f"robust_acc/{name}/{_tag(eps)}"] = float(value)
    metrics[f"robust_acc/{name}/max_increase_in_eps"] = float(
      np.max(np.diff(curves[name]))
    )
  index = {eps: i for i, eps in enumerate(eps_grid)}
  compare = cfg.compare_eps
  metrics["robust_acc/bnn_max/eps0.30"] = float(
    max(curves[m][index[0.3]] for m in BNN_METHODS)
  )
  metrics["robust_acc/max_increase_in_eps"] = float(
    max(metrics[f"robust_acc/{m}/max_increase_in_eps"] for m in METHODS)
  )
  metrics[f"robust_acc/max_abs_bnn_minus_det/{_tag(compare)}"] = float(
    max(
      abs(curves[m][index[compare]] - curves["det"][index[compare]])
      for m in BNN_METHODS
    )
  )

  # A7: EOT examples judged by a draw set of the attack's size vs by
  # eval_draws independent draws.
  for name in ("mfvi", "mcd"):
    x_adv = adversarial[name][index[compare]]
    fresh = 1 - _robust_acc(
      trained.predictors[name], x_adv, labels, eval_key, cfg.eval_draws
    )
    small = 1 - _robust_acc(
      trained.predictors[name],
      x_adv,
      labels,
      jax.random.fold_in(eval_key, 1),
      cfg.eot_draws,
    )
    metrics[f"a7/{name}/success_fresh_draws"] = fresh
    metrics[f"a7/{name}/success_attack_size_draws"] = small
    metrics[f"a7/{name}/success_ratio"] = fresh / max(small, 1e-9)

  _sample_counts(config, trained, x, labels, metrics)
  _naive_attacks(
    config,
    trained,
    x,
    labels,
    metrics,
    proper={m: curves[m][index[compare]] for m in METHODS},
  )
  clean = {name: metrics[f"clean_acc/{name}"] for name in METHODS}
  return {"eps": eps_grid, "curves": curves, "clean": clean}


def _sample_counts(config, trained, x, labels, metrics) -> None:
  """A3: HMC with S evenly spaced draws, attacked and evaluated alike."""
  cfg = config.attack
  samples = trained.hmc.samples.reshape(-1, trained.model.dim)
  key = rng.stream(config.seed, "attack_counts")
  accuracy = {}
  for count in cfg.sample_counts:
    chosen = samples[np.linspace(0, samples.shape[0] - 1, count).astype(int)]
    predictor = fixed_set(f"hmc_s{count}", trained.model, chosen)
    x_adv = _label_attack(
      config,
      predictor,
      x,
      labels,
      jax.random.fold_in(key, count),
      cfg.compare_eps,
    )
    accuracy[count] = _robust_acc(predictor, x_adv, labels, None, 0)
    metrics[f"a3/hmc_s{count}/robust_acc"] = accuracy[count]
    metrics[f"a3/hmc_s{count}/clean_acc"] = _accuracy(
      predictor, x, labels, None, 0
    )
  counts = sorted(accuracy)
  metrics["a3/robust_acc_most_minus_one_sample"] = (
    accuracy[counts[-1]] - accuracy[counts[0]]
  )


def _naive_attacks(config, trained, x, labels, metrics, proper) -> None:
  """A4: attack the wrong object (prior work's error), evaluate the BMA."""
  cfg = config.attack
  eps = cfg.compare_eps
  key = rng.stream(config.seed, "attack_naive")
  eval_key = rng.stream(config.seed, "eval_attack")
  model = trained.model
  hmc_predictor = trained.predictors["hmc"]
  hmc_samples = hmc_predictor.params
  one_mask = Predictor(
    "mcd_one_mask",
    "dropout_one_mask",
    trained.dropout_model,
    (trained.mcd_theta, jax.random.fold_in(key, 99)),
  )
  label = bma_attacks.LABEL_ATTACK
  objective = bma_attacks.objective
  default_step = cfg.step_factor * eps / cfg.num_steps
  variants = {
    # name: (attacked model, evaluated method, objective, step, steps)
    "hmc_one_sample": (
      fixed_set("one", model, hmc_samples[:1]),
      "hmc",
      label,
      default_step,
      cfg.num_steps,
    ),
    "mfvi_mean_weights": (
      fixed_set("mean", model, trained.mfvi.loc[None]),
      "mfvi",
      label,
      default_step,
      cfg.num_steps,
    ),
    "mcd_one_mask": (one_mask, "mcd", label, default_step, cfg.num_steps),
    # Exploratory (no claim): the errors of Carbone et al.'s public code.
    "hmc_averaged_logits": (
      hmc_predictor,
      "hmc",
      objective(averaged_logits_nll=1.0),
      default_step,
      cfg.num_steps,
    ),
    "hmc_double_softmax": (
      hmc_predictor,
      "hmc",
      objective(double_softmax_nll=1.0),
      default_step,
      cfg.num_steps,
    ),
    "hmc_step_2": (
      hmc_predictor,
      "hmc",
      label,
      cfg.carbone_step,
      cfg.carbone_num_steps,
    ),
  }
  for index, (name, (attacked, method, weights, step, steps)) in enumerate(
    variants.items()
  ):
    logging.info("bnn_attacks: naive attack %s", name)
    x_adv = bma_attacks.pgd_on(
      attacked,
      x,
      labels,
      jax.random.fold_in(key, index),
      eps=eps,
      num_steps=steps,
      step_size=step,
      draws=cfg.eot_draws,
      weights=weights,
    )
    value = _robust_acc(
      trained.predictors[method], x_adv, labels, eval_key, cfg.eval_draws
    )
    metrics[f"a4/{name}/robust_acc"] = value
    metrics[f"a4/{name}/minus_proper"] = value - float(proper[method])


# ----------------------------------------------------------------- A5


def _scores_auroc(
  clean: dict, attacked: dict, success: np.ndarray, score: str
) -> float:
  """AUROC of ``score``: successful adversarial (positive) vs clean."""
  if not success.any():
    return float("nan")
  return float(auroc(clean[score], np.asarray(attacked[score])[success]))


def detection(config, trained, x, labels, metrics) -> dict:
  cfg = config.detect
  eval_draws = config.attack.eval_draws
  key = rng.stream(config.seed, "attack_detect")
  eval_key = rng.stream(config.seed, "eval_detect")
  rocs = {}
  for index, name in enumerate(("hmc", "mcd")):
    predictor = trained.predictors[name]
    clean = posteriors.predict(predictor, x, eval_key, eval_draws)
    # Runner-up class of the clean BMA: the "confidently wrong" target.
    runner_up = jnp.asarray(np.argsort(clean["log_probs"], -1)[:, -2])
    adaptive = bma_attacks.objective(bma_nll=-1.0, entropy=-cfg.entropy_weight)
    # name: (eps, targets, objective, stop at the first flip); the
    # claimed eps first, then exploratory larger budgets (no claim).
    runs = {
      "nonadaptive": (cfg.eps, labels, bma_attacks.LABEL_ATTACK, True),
      "adaptive": (cfg.eps, runner_up, adaptive, False),
    }
    for eps in cfg.exploratory_eps:
      runs[f"adaptive_{_tag(eps)}"] = (eps, runner_up, adaptive, False)
    rocs[name] = {"clean": clean}
    for run_index, (kind, (eps, targets, weights, stop)) in enumerate(
      runs.items()
    ):
      logging.info("bnn_attacks: %s detection attack on %s", kind, name)
      x_adv = bma_attacks.pgd_on(
        predictor,
        x,
        targets,
        jax.random.fold_in(key, 10 * index + run_index),
        eps=eps,
        num_steps=cfg.num_steps,
        step_size=config.attack.step_factor * eps / cfg.num_steps,
        draws=config.attack.eot_draws,
        weights=weights,
        stop_at_flip=stop,
      )
      attacked = posteriors.predict(predictor, x_adv, eval_key, eval_draws)
      success = attacked["prediction"] != np.asarray(labels)
      prefix = f"a5/{name}/{kind}"
      metrics[f"{prefix}/success"] = float(success.mean())
      for score in ("entropy", "mutual_information"):
        metrics[f"{prefix}/auroc_{score}"] = _scores_auroc(
          clean, attacked, success, score
        )
      metrics[f"{prefix}/median_entropy_adv"] = (
        float(np.median(attacked["entropy"][success]))
        if success.any()
        else (float("nan"))
      )
      rocs[name][kind] = (attacked, success)
    metrics[f"a5/{name}/median_entropy_clean"] = float(
      np.median(clean["entropy"])
    )
  return rocs


# ----------------------------------------------------------------- A6


def semantic_shift(
  config, x_train, y_train, x_test, y_test, order, metrics, checkpoints=None
) -> dict:
  """HMC on the ID classes; OOD = held-out classes (README, What is run)."""
  ood_classes = np.asarray(config.data.ood_classes)
  id_classes = np.setdiff1d(np.arange(int(y_train.max()) + 1), ood_classes)
  relabel = np.full(int(y_train.max()) + 1, -1)
  relabel[id_classes] = np.arange(id_classes.size)
  is_id = np.isin(np.asarray(y_train), id_classes)
  x_id_train = x_train[is_id]
  y_id_train = jnp.asarray(relabel[np.asarray(y_train)[is_id]])
  logging.info("bnn_attacks: semantic shift, HMC on classes %s", id_classes)
  trained = posteriors.train_all(
    config,
    x_id_train,
    y_id_train,
    id_classes.size,
    stream_prefix="ood_",
    hmc_only=True,
    checkpoints=checkpoints,
  )
  predictor = trained.predictors["hmc"]
  y_test_np = np.asarray(y_test)[order]
  x_ordered = x_test[order]
  count = config.data.num_attack
  test_is_id = np.isin(y_test_np, id_classes)
  x_id, x_ood = x_ordered[test_is_id][:count], x_ordered[~test_is_id][:count]
  y_id = jnp.asarray(relabel[y_test_np[test_is_id][:count]])
  metrics["a6/id_clean_acc"] = _accuracy(predictor, x_id, y_id, None, 0)
  metrics["a6/hmc_acceptance_mean"] = float(trained.hmc.acceptance_rate.mean())
  cfg = config.ood
  key = rng.stream(config.seed, "attack_ood")

  def entropy_attack(inputs, attack_key, direction, eps):
    return bma_attacks.pgd_on(
      predictor,
      inputs,
      jnp.zeros(inputs.shape[0], jnp.int32),
      attack_key,
      eps=eps,
      num_steps=cfg.num_steps,
      step_size=config.attack.step_factor * eps / cfg.num_steps,
      draws=0,
      weights=bma_attacks.objective(entropy=direction),
    )

  score = lambda inputs: posteriors.predict(predictor, inputs, None, 0)
  pairs = {
    "clean": ("id", "ood"),
    "ood_attacked": ("id", "ood_attacked"),
    "both_attacked": ("id_attacked", "ood_attacked"),
  }
  # The claimed eps first, then exploratory larger budgets (no claim).
  for index, eps in enumerate((cfg.eps,) + tuple(cfg.exploratory_eps)):
    x_ood_adv = entropy_attack(
      x_ood, jax.random.fold_in(key, 2 * index), -1.0, eps
    )
    x_id_adv = entropy_attack(
      x_id, jax.random.fold_in(key, 2 * index + 1), 1.0, eps
    )
    scores = {
      "id": score(x_id),
      "ood": score(x_ood),
      "id_attacked": score(x_id_adv),
      "ood_attacked": score(x_ood_adv),
    }
    prefix = "a6" if index == 0 else f"a6/{_tag(eps)}"
    for name, (negative, positive) in pairs.items():
      if index and name == "clean":
        continue
      for kind in ("entropy", "mutual_information"):
        metrics[f"{prefix}/{name}/auroc_{kind}"] = float(
          auroc(scores[negative][kind], scores[positive][kind])
        )
    if index == 0:
      claimed = scores
  return {"scores": claimed, "pairs": pairs}
