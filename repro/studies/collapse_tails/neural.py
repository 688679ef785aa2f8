"""A neural memoriser on Zipf data (claims C7, C8; README).

Items i = 1..N (p_i proportional to i^-beta on this finite support) carry
random labels y_i in 0..m-1. The learner is an embedding table [N, d] and
a linear readout [d, m]; trained on T draws it minimises the empirical
cross-entropy sum_i (c_i / T) CE(i) full-batch with Adam until every seen
item is fitted. Unseen rows keep their random initial embedding, so their
prediction is right with probability 1/m: the Hutter model predicts
E_test = (1 - 1/m) sum_i p_i (1 - q_i)^T.

Conditions (one vmapped training run over all of them and the seeds):
clean q = p, tail cut at k, a fraction pi of clean data mixed with the cut,
and the un-learning chain: generation 1 trained on inputs x ~ p labelled
by a clean learner of T0 draws (generation 0).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from repro.core import parallel, rng
from repro.ops import hutter, zipf
from repro.ops.losses import cross_entropy
from repro.studies.collapse_tails import theory


class Memoriser(NamedTuple):
  """Parameters of the embedding-table learner."""

  embedding: jax.Array  # [N, d]
  readout: jax.Array  # [d, m]
  bias: jax.Array  # [m]


def init_memoriser(
  key: jax.Array, num_items: int, width: int, num_labels: int
) -> Memoriser:
  """N(0, 1) embeddings, N(0, 1/d) readout, zero bias."""
  embedding_key, readout_key = jax.random.split(key)
  return Memoriser(
    jax.random.normal(embedding_key, (num_items, width)),
    jax.random.normal(readout_key, (width, num_labels)) / np.sqrt(width),
    jnp.zeros((num_labels,)),
  )


def memoriser_logits(params: Memoriser) -> jax.Array:
  """Logits of every item ``[N, m]``."""
  return params.embedding @ params.readout + params.bias


def weighted_cross_entropy(
  params: Memoriser, weights: jax.Array, labels: jax.Array
) -> jax.Array:
  """sum_i w_i CE(logits_i, y_i): the empirical risk with w = counts / T."""
  return jnp.sum(weights * cross_entropy(memoriser_logits(params), labels))


@functools.partial(
  jax.jit, static_argnames=("width", "num_labels", "steps", "learning_rate")
)
def train_memorisers(
  keys: jax.Array,
  weights: jax.Array,
  labels: jax.Array,
  *,
  width: int,
  num_labels: int,
  steps: int,
  learning_rate: float,
):
  """Trains one memoriser per row of ``weights`` / ``labels`` ([R, N]).

  Returns predictions ``[R, N]`` and the final losses ``[R]``.
  """
  optimizer = optax.adam(learning_rate)

  def train_one(key, item_weights, item_labels):
    params = init_memoriser(key, item_weights.shape[-1], width, num_labels)
    grad_fn = jax.value_and_grad(weighted_cross_entropy)

    def step(carry, _):
      params, opt_state = carry
      loss, grads = grad_fn(params, item_weights, item_labels)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.lax.scan(
      step, (params, optimizer.init(params)), None, length=steps
    )
    return jnp.argmax(memoriser_logits(params), axis=-1), losses[-1]

  return jax.vmap(train_one)(keys, weights, labels)


@functools.partial(jax.jit, static_argnums=(3,))
def _draw_counts(key, law, num_samples, max_samples):
  """Counts of the first T of ``max_samples`` draws (one compile for all T)."""
  num_items = law.head.shape[-1]
  indices = hutter.sample_items(key, law, max_samples)
  first = jnp.arange(max_samples) < num_samples
  return (
    jnp.zeros((num_items + 1,), jnp.int32)
    .at[indices]
    .add(first.astype(jnp.int32))[:num_items]
  )


def _counts(
  key, law: zipf.ItemLaw, num_samples: int, max_samples: int
) -> np.ndarray:
  """Counts of T draws from ``law`` (float64 CDF: p_N is ~1e-8)."""
  with jax.enable_x64():
    law = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), law)
    return np.asarray(_draw_counts(key, law, num_samples, max_samples))


def _support_law(num_items: int, beta: float) -> zipf.ItemLaw:
  """Zipf(beta) normalised on 1..N (no tail)."""
  with jax.enable_x64():
    weights = zipf.item_ranks(num_items) ** -beta
    return zipf.ItemLaw(
      np.asarray(weights / jnp.sum(weights)), zipf.PowerTail(0.0, 1.0)
    )


def _train_in_groups(config, keys, weights, labels, group_size):
  """``train_memorisers`` over groups of ``group_size`` runs (one compile).

  The last group is padded with copies of its first run.
  """
  n = config.neural
  predictions, losses = [], []
  for start in range(0, weights.shape[0], group_size):
    rows = np.arange(start, min(start + group_size, weights.shape[0]))
    padded = np.concatenate([rows, np.full(group_size - rows.size, rows[0])])
    # The runs of a group are the replica axis: sharded over the devices.
    group_keys, group_weights, group_labels = parallel.shard_replicas(
      (
        keys[padded],
        jnp.asarray(weights[padded]),
        jnp.asarray(labels[padded], jnp.int32),
      )
    )
    group_predictions, group_losses = train_memorisers(
      group_keys,
      group_weights,
      group_labels,
      width=n.width,
      num_labels=n.num_labels,
      steps=n.steps,
      learning_rate=n.learning_rate,
    )
    group_predictions, group_losses = parallel.gather(
      (group_predictions, group_losses)
    )
    predictions.append(group_predictions[: rows.size])
    losses.append(group_losses[: rows.size])
  return np.concatenate(predictions), np.concatenate(losses)


def run_neural(config):
  """Trains all memorisers; returns (metrics, curves, plot data)."""
  n = config.neural
  p_law = _support_law(n.num_items, n.beta)
  p = np.asarray(p_law.head)
  with jax.enable_x64():
    cut_law = zipf.top_k_cut(p_law, n.cut_k)
    mix_law = zipf.mix(p_law, cut_law, n.clean_fraction)
  train_laws = {"clean": p_law, "cut": cut_law, "mix": mix_law}
  sizes = [int(t) for t in n.sizes]
  max_samples = max(sizes + [n.generation_size, *n.relabel_sizes])
  data_key, init_key = (
    rng.stream(config.seed, "neural_data"),
    rng.stream(config.seed, "neural_init"),
  )
  label_keys = jax.random.split(
    rng.stream(config.seed, "neural_labels"), n.num_seeds
  )
  labels = np.stack(
    [
      np.asarray(jax.random.randint(k, (n.num_items,), 0, n.num_labels))
      for k in label_keys
    ]
  )
  # Runs are trained in groups of the generation-1 size (one compile).
  relabel_runs = [
    (seed, size) for seed in range(n.num_seeds) for size in n.relabel_sizes
  ]
  group_size = len(relabel_runs)

  # Phase 1: clean / cut / mix at every T, and generation 0 at T0.
  runs = [
    (name, seed, size)
    for name in train_laws
    for seed in range(n.num_seeds)
    for size in sizes
  ]
  runs += [("gen0", seed, n.generation_size) for seed in range(n.num_seeds)]
  weights = np.stack(
    [
      _counts(
        jax.random.fold_in(data_key, index),
        train_laws["clean" if name == "gen0" else name],
        size,
        max_samples,
      )
      / size
      for index, (name, _, size) in enumerate(runs)
    ]
  ).astype(np.float32)
  run_labels = labels[[seed for _, seed, _ in runs]]
  logging.info("collapse_tails: training %d memorisers", len(runs))
  predictions, losses = _train_in_groups(
    config,
    jax.random.split(init_key, len(runs)),
    weights,
    run_labels,
    group_size,
  )
  wrong = predictions != run_labels
  seen = weights > 0
  train_accuracy = 1.0 - (wrong & seen).sum(1) / seen.sum(1)
  test_error = wrong.astype(float) @ p

  # Phase 2: generation 1 learns generation 0's labels of inputs x ~ p.
  gen0_rows = [i for i, run in enumerate(runs) if run[0] == "gen0"]
  relabel_weights = np.stack(
    [
      _counts(
        jax.random.fold_in(data_key, len(runs) + i), p_law, size, max_samples
      )
      / size
      for i, (_, size) in enumerate(relabel_runs)
    ]
  ).astype(np.float32)
  ai_labels = predictions[[gen0_rows[seed] for seed, _ in relabel_runs]]
  logging.info(
    "collapse_tails: training %d generation-1 memorisers", len(relabel_runs)
  )
  gen1_predictions, _ = _train_in_groups(
    config,
    jax.random.split(jax.random.fold_in(init_key, 1), len(relabel_runs)),
    relabel_weights,
    ai_labels,
    group_size,
  )
  true_labels = labels[[seed for seed, _ in relabel_runs]]
  gen1_wrong = gen1_predictions != true_labels
  gen1_error = gen1_wrong.astype(float) @ p

  return _summarise(
    config,
    runs,
    test_error,
    train_accuracy,
    losses,
    relabel_runs,
    gen1_error,
    gen1_wrong,
    wrong,
    p,
    train_laws,
  )


def _summarise(
  config,
  runs,
  test_error,
  train_accuracy,
  losses,
  relabel_runs,
  gen1_error,
  gen1_wrong,
  wrong,
  p,
  train_laws,
):
  """Metrics, curves and plot data of the neural experiments."""
  n = config.neural
  sizes = [int(t) for t in n.sizes]
  miss_factor = 1.0 - 1.0 / n.num_labels
  mean_error = {}
  for name in train_laws:
    mean_error[name] = np.asarray(
      [
        np.mean(
          [
            e
            for (r, _, t), e in zip(runs, test_error, strict=True)
            if r == name and t == size
          ]
        )
        for size in sizes
      ]
    )
  predicted = {
    name: miss_factor * theory.exact_curve(train_laws["clean"], law, sizes)
    for name, law in train_laws.items()
  }
  beta = n.beta
  exponent = -(1.0 - 1.0 / beta)
  clean_slope = float(
    hutter.log_log_slope(np.asarray(sizes, float), mean_error["clean"])
  )
  tail_mass = float(np.sum(p[n.cut_k :]))
  cut_plateau = miss_factor * tail_mass
  largest_cut = mean_error["cut"][-1]
  largest_mix = mean_error["mix"][-1]

  # Un-learning: accuracy on the tail i > T0^(1/beta), p-weighted.
  tail_start = int(round(n.generation_size ** (1.0 / beta)))
  tail_p = p[tail_start:] / np.sum(p[tail_start:])
  gen0_rows = [i for i, run in enumerate(runs) if run[0] == "gen0"]
  gen0_tail_accuracy = np.mean(
    [1.0 - wrong[i, tail_start:] @ tail_p for i in gen0_rows]
  )
  gen0_error = np.mean(test_error[gen0_rows])
  largest_relabel = max(n.relabel_sizes)
  last_rows = [
    i for i, (_, t) in enumerate(relabel_runs) if t == largest_relabel
  ]
  gen1_tail_accuracy = np.mean(
    [1.0 - gen1_wrong[i, tail_start:] @ tail_p for i in last_rows]
  )
  gen1_mean_error = np.asarray(
    [
      np.mean(
        [
          e
          for (_, t), e in zip(relabel_runs, gen1_error, strict=True)
          if t == s
        ]
      )
      for s in n.relabel_sizes
    ]
  )

  metrics = {
    "neural/clean_slope": clean_slope,
    "neural/clean_slope_predicted": exponent,
    "neural/clean_slope_abs_dev": abs(clean_slope - exponent),
    "neural/hutter_clean_slope": float(
      hutter.log_log_slope(np.asarray(sizes, float), predicted["clean"])
    ),
    "neural/cut_error_largest_T": float(largest_cut),
    "neural/cut_plateau_predicted": cut_plateau,
    "neural/cut_plateau_rel_dev": float(abs(largest_cut / cut_plateau - 1.0)),
    "neural/mix_error_largest_T": float(largest_mix),
    "neural/mix_below_cut_fraction": float(1.0 - largest_mix / largest_cut),
    "neural/min_train_accuracy": float(np.min(train_accuracy)),
    "neural/max_final_loss": float(np.max(losses)),
    "neural/gen0_error": float(gen0_error),
    "neural/gen0_tail_accuracy": float(gen0_tail_accuracy),
    "neural/gen1_tail_accuracy": float(gen1_tail_accuracy),
    "neural/gen1_minus_gen0_tail_accuracy": float(
      gen1_tail_accuracy - gen0_tail_accuracy
    ),
    "neural/gen1_error_largest_T": float(gen1_mean_error[-1]),
    "neural/gen1_over_gen0_error": float(gen1_mean_error[-1] / gen0_error),
    "neural/clean_error_largest_T": float(mean_error["clean"][-1]),
  }
  curves = []
  for name in train_laws:
    curves += [
      {
        "experiment": f"neural_{name}",
        "T": t,
        "error": float(e),
        "hutter_prediction": float(h),
      }
      for t, e, h in zip(sizes, mean_error[name], predicted[name], strict=True)
    ]
  curves += [
    {
      "experiment": "neural_gen1",
      "T": int(t),
      "T0": n.generation_size,
      "error": float(e),
    }
    for t, e in zip(n.relabel_sizes, gen1_mean_error, strict=True)
  ]
  plot = {
    "neural": {
      "sizes": np.asarray(sizes),
      "error": mean_error,
      "predicted": predicted,
      "cut_plateau": cut_plateau,
      "gen0_error": gen0_error,
      "gen1": (np.asarray(n.relabel_sizes), gen1_mean_error),
    }
  }
  return metrics, curves, plot
