"""Query models and pruning scores of every method (README, "Scores").

* EL2N / GraNd: ``query_seeds`` models trained on the full data for
  ``query_epoch_fraction`` of the final-model epochs (constant learning
  rate: early training), scores averaged over them, eval mode; EL2N with
  the ``el2n_label`` of the official code (true label by default).
* Forgetting / dynamic uncertainty / CoreSet: one full-length query run
  (the full-data schedule); training-pass records; k-center on its final
  penultimate features; dynamic uncertainty in ``du_convention``.
* DRoP's class recalls (``drop_recall``): ``"official"`` averages the
  validation recalls of the first ``drop_query_models`` EL2N query models,
  each at its best overall-accuracy epoch (the official code's query
  models for DRoP, its README's ``--num_inits 5``); ``"full_run"`` takes
  the full-length query run at its best mean-recall epoch (v1 of the
  paper: "a preliminary model trained on the whole dataset").

``compute_scores`` also hands the selection conventions (``tie_break``,
``drop_quotas``) to ``grid`` inside its result.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import rng
from repro.ops import drop_quotas, pruning_scores
from repro.ops.losses import mean_cross_entropy
from repro.studies.data_pruning import training

SCORE_METHODS = (
  "el2n",
  "grand",
  "forgetting",
  "dynamic_uncertainty",
  "coreset",
)


def compute_scores(
  model, group, scores_config, arrays: dict, seed: int, checkpoints=None
) -> dict:
  """All pruning scores of one dataset and the DRoP validation recalls.

  Returns:
    ``{"scores": {method: [N]}, "val_recall": [K] (DRoP's recalls),
    "conventions": {"ties", "quotas"}, "query": {...}}`` with numpy
    arrays.
  """
  num_train = len(arrays["train_y"])
  full_subset = np.arange(num_train, dtype=np.int32)
  init_key = rng.stream(seed, "query_init")
  train_key = rng.stream(seed, "query_train")

  # The EL2N / GraNd query models (constant LR, short) and the
  # full-length query run train together, one epoch per scan block.
  num_query = scores_config.query_seeds
  query_epochs = max(
    1, int(round(scores_config.query_epoch_fraction * group.epochs))
  )
  logging.info(
    "data_pruning %s: %d EL2N/GraNd query models x %d epochs "
    "and one full-length query run (%d epochs)",
    arrays["name"],
    num_query,
    query_epochs,
    group.epochs,
  )
  plan = training.make_plan(
    [full_subset] * (num_query + 1),
    [query_epochs] * num_query + [group.epochs],
    group.batch_size,
    group.lr_drops,
    constant_lr=[True] * num_query + [False],
  )
  all_vars, history = training.train_replicas(
    model,
    group,
    arrays,
    jax.random.split(init_key, num_query + 1),
    jax.random.split(train_key, num_query + 1),
    plan,
    group.epochs,
    num_train // group.batch_size,
    record=True,
    replica_chunk=group.replica_chunk,
    description="query models",
    checkpoints=checkpoints,
  )
  train_x = jnp.asarray(arrays["train_x"])
  train_y = jnp.asarray(arrays["train_y"])
  el2n = _el2n_fn(model, num_query, group.eval_batch, scores_config.el2n_label)(
    all_vars, train_x, train_y
  )
  grand_fn = _grand_fn(model, scores_config.grand_batch)
  grand = np.mean(
    [
      np.asarray(grand_fn(all_vars, i, train_x, train_y))
      for i in range(num_query)
    ],
    axis=0,
  )
  val_sizes = np.bincount(arrays["val_y"], minlength=arrays["num_classes"])
  query_val_recall = history["val_recall"][:num_query, :query_epochs]

  # The full-length run (the last replica): training-pass records,
  # penultimate features for k-center, validation recalls for DRoP.
  history = jax.tree.map(lambda leaf: leaf[num_query:], history)
  embeddings = jax.jit(
    lambda v, x: model.features(
      jax.tree.map(lambda leaf: leaf[num_query], v), x
    )
  )(all_vars, train_x)
  correct = history["correct"][0]
  true_prob = history["true_prob"][0]
  forgetting = jax.jit(pruning_scores.forgetting_counts)(correct)
  uncertainty = jax.jit(
    pruning_scores.dynamic_uncertainty, static_argnums=(1, 2)
  )(true_prob, scores_config.du_window, scores_config.du_convention)
  coreset = jax.jit(pruning_scores.k_center_scores)(embeddings)
  val_recall = history["val_recall"][0]  # [E, K]
  recall, best_epoch, source = _drop_recalls(
    scores_config, query_val_recall, val_recall, val_sizes
  )
  return {
    "scores": {
      "el2n": np.asarray(el2n, np.float64),
      "grand": np.asarray(grand, np.float64),
      "forgetting": np.asarray(forgetting, np.float64),
      "dynamic_uncertainty": np.asarray(uncertainty, np.float64),
      "coreset": np.asarray(coreset, np.float64),
    },
    "val_recall": recall,
    "conventions": {
      "ties": scores_config.tie_break,
      "quotas": scores_config.drop_quotas,
    },
    "query": {
      "best_epoch": best_epoch,
      "drop_recall_source": source,
      "val_acc_curve": val_recall.mean(-1),
      "full_query_test_recall": history["test_recall"][0],
      "never_learned_fraction": float(np.mean(~correct.any(0))),
    },
  }


def _drop_recalls(scores_config, query_val_recall, full_val_recall, val_sizes):
  """DRoP's class recalls, the best epoch(s) and a line saying whose.

  Returns ``(recalls [K], best epoch (int, or [M] for the query models),
  description)``.
  """
  if scores_config.drop_recall == "official":
    count = scores_config.drop_query_models
    if not 1 <= count <= len(query_val_recall):
      raise ValueError(
        f"drop_query_models must be in 1..query_seeds "
        f"({len(query_val_recall)}), got {count}"
      )
    recall, best = drop_quotas.best_epoch_recalls(
      query_val_recall[:count], val_sizes, select_by="accuracy"
    )
    return (
      recall,
      best,
      (
        f"mean of {count} EL2N query models at their best validation-"
        f"accuracy epochs {best.tolist()}"
      ),
    )
  if scores_config.drop_recall == "full_run":
    recall, best = drop_quotas.best_epoch_recalls(
      full_val_recall[None], val_sizes, select_by="mean_recall"
    )
    return (
      recall,
      int(best[0]),
      (f"full-length query model, best epoch {int(best[0])}"),
    )
  raise ValueError(
    f"unknown drop_recall {scores_config.drop_recall!r}; "
    "choose official or full_run"
  )


def _el2n_fn(model, num_query: int, batch_size: int, label: str):
  """Jitted EL2N of the first ``num_query`` models, averaged (eval mode)."""

  @jax.jit
  def el2n(variables, inputs, labels):
    variables = jax.tree.map(lambda leaf: leaf[:num_query], variables)
    logits = jax.vmap(lambda v: training.predict(model, v, inputs, batch_size))(
      variables
    )
    return pruning_scores.el2n_over_models(logits, labels, label)

  return el2n


def _grand_fn(model, batch_size: int):
  """Jitted GraNd over all parameters, eval mode, of model ``index``."""

  @jax.jit
  def grand(all_variables, index, inputs, labels):
    variables = jax.tree.map(lambda leaf: leaf[index], all_variables)
    state = {k: v for k, v in variables.items() if k != "params"}

    def loss(params, x, y):
      logits = model.eval_apply({"params": params, **state}, x[None])
      return mean_cross_entropy(logits, y[None])

    return pruning_scores.grad_norms(
      loss, variables["params"], inputs, labels, batch_size
    )

  return grand
