"""ERM, the last-layer baselines, DFR and GAP on one dataset; the metrics.

Per seed (a ``vmap``ped replica axis): the ERM MLP on the skewed training
set; every last-layer head on the penultimate features of the ``fit``
half (ERM-LL, the GAP grid and its ablations in one scan), DFR with
scikit-learn, GAP on all layers from the ERM weights; hyperparameters
chosen by worst-group accuracy on the ``select`` half; test groups
reported.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import threadpoolctl
from absl import logging

from repro.core import parallel, rng, train
from repro.ops import dfr
from repro.studies.group_priors import data as data_lib
from repro.studies.group_priors import training

NUM_GROUPS = 4
GROUP_NAMES = ("y0,a0", "y0,a1", "y1,a0", "y1,a1")


def head_grid(config):
  """Every last-layer configuration as (kind, GapHyper fields) rows.

  Rows: the GAP grid over (lambda, rho, s) including the s = 0 ablation,
  lambda = 0 (Gaussian prior around the ERM head only, B4) and ERM-LL
  (plain logistic regression: lambda = 0, precision = 0).
  """
  gap = config.gap
  rows = []
  group_scales = tuple(gap.group_scales) + (gap.ablation_group_scale,)
  for scale, rho, group_scale in itertools.product(
    gap.scales, gap.rhos, group_scales
  ):
    rows.append(("gap", (scale, rho, group_scale, gap.precision)))
  rows.append(("lambda0", (0.0, 0.0, max(gap.group_scales), gap.precision)))
  rows.append(("erm_ll", (0.0, 0.0, 0.0, 0.0)))
  return rows


def _hypers(rows) -> training.GapHyper:
  values = np.array([r[1] for r in rows], np.float32)
  return training.GapHyper(*[jnp.asarray(values[:, i]) for i in range(4)])


def _numpy_rng(config, replica, stream):
  return data_lib.seed_generator(config.seed, replica, stream, "")


def _select(select_wga, mask):
  """Per seed, the index of the best select-WGA configuration in ``mask``."""
  masked = np.where(np.asarray(mask)[None, :], select_wga, -np.inf)
  return np.argmax(masked, axis=1)


def _pick(values, index):
  return np.take_along_axis(
    values, index.reshape((-1, 1) + (1,) * (values.ndim - 2)), axis=1
  )[:, 0]


def _report(logits, split, weights):
  """Test numbers of logits with a leading [seed, (config,)] shape."""
  extra = logits.ndim - 2 - split["label"].ndim + 1
  labels = split["label"].reshape(
    split["label"].shape[:1] + (1,) * extra + split["label"].shape[1:]
  )
  groups = split["group"].reshape(labels.shape)
  predictions = np.argmax(logits, axis=-1)
  correct = (predictions == labels).astype(np.float64)
  member = groups[..., None, :] == np.arange(NUM_GROUPS)[:, None]
  counts = member.sum(-1)
  accuracy = np.where(
    counts > 0,
    (member * correct[..., None, :]).sum(-1) / np.maximum(counts, 1),
    np.nan,
  )
  # The same numbers as repro.ops.group_metrics (checked in the tests),
  # in numpy so that no evaluation shape needs a compile.
  return {
    "group_acc": accuracy,
    "wga": np.nanmin(accuracy, axis=-1),
    "avg_acc": np.nansum(accuracy * weights, axis=-1)
    / np.sum(np.where(np.isnan(accuracy), 0.0, weights), axis=-1),
    "mean_acc": np.nanmean(accuracy, axis=-1),
  }


def train_erm(config, sets, checkpoints=None):
  """Trains the ERM MLP per seed; returns params with a seed axis."""
  train_set = sets["train"]
  sizes = (
    (int(np.prod(train_set["x"].shape[2:])),)
    + tuple(config.erm.hidden_sizes)
    + (training.NUM_CLASSES,)
  )
  inits = [
    training.init_mlp(_numpy_rng(config, r, "init"), sizes)
    for r in range(config.num_seeds)
  ]
  params = jax.tree.map(lambda *leaves: np.stack(leaves), *inits)
  num_train = train_set["label"].shape[1]
  batch_size = min(config.erm.batch_size, num_train)
  steps = max(1, config.erm.epochs * num_train // batch_size)
  train_keys = rng.replica_keys(
    rng.stream(config.seed, "train"), config.num_seeds
  )
  params, x, y, train_keys = parallel.shard_replicas(
    (params, train_set["x"], train_set["label"], train_keys)
  )
  state, history = train.fit(
    functools.partial(training.erm_loss, batch_size=batch_size),
    optax.adam(config.erm.learning_rate),
    params,
    train_keys,
    steps,
    data=(x, y),
    replicated=True,
    chunk_steps=steps,
    description="ERM",
    checkpoints=checkpoints,
  )
  return jax.device_get(state.params), history["loss"]


@jax.jit
def _all_features(body, inputs):
  return {
    name: jax.vmap(training.features)(body, x) for name, x in inputs.items()
  }


def run_dataset(name, config, checkpoints=None):
  """All methods on one dataset; returns per-method test numbers etc."""
  num_seeds = config.num_seeds
  sets = data_lib.make_sets(name, config)
  train_counts = np.bincount(
    sets["train"]["group"][0], minlength=NUM_GROUPS
  ).astype(np.float64)
  weights = train_counts / train_counts.sum()
  logging.info("%s: train group sizes %s", name, train_counts.tolist())

  erm_params, erm_loss = train_erm(config, sets, checkpoints)
  body, erm_head = training.split_head(erm_params)
  feats = jax.device_get(
    _all_features(body, {split: sets[split]["x"] for split in data_lib.SPLITS})
  )
  results = {}  # method -> {"wga", "avg_acc", "mean_acc", "group_acc"}
  results["erm"] = _report(
    feats["test"] @ erm_head["kernel"] + erm_head["bias"][:, None],
    sets["test"],
    weights,
  )

  # Last-layer heads: the whole grid in one vmapped, jitted scan.
  rows = head_grid(config)
  width = feats["fit"].shape[-1]
  init_heads = {
    "kernel": np.stack(
      [
        _numpy_rng(config, r, "head")
        .uniform(-1.0, 1.0, (width, training.NUM_CLASSES))
        .astype(np.float32)
        * config.gap.head_init_scale
        / np.sqrt(width)
        for r in range(num_seeds)
      ]
    ),
    "bias": np.zeros((num_seeds, training.NUM_CLASSES), np.float32),
  }
  gap = config.gap
  train_kwargs = dict(
    steps=gap.steps,
    learning_rate=gap.learning_rate,
    momentum=gap.momentum,
    batch_size=gap.batch_size,
    context_batch_size=gap.context_batch_size,
    num_groups=NUM_GROUPS,
  )
  logging.info(
    "%s: %d last-layer configurations x %d seeds", name, len(rows), num_seeds
  )
  gap_keys = rng.replica_keys(rng.stream(config.seed, "gap"), num_seeds)
  inputs = parallel.shard_replicas(
    (
      init_heads,
      erm_head,
      feats["fit"],
      sets["fit"]["label"],
      sets["fit"]["group"],
      gap_keys,
    )
  )
  heads, head_losses = jax.jit(
    functools.partial(
      training.grid_train_gap, training.head_logits, **train_kwargs
    )
  )(*inputs[:5], _hypers(rows), inputs[5])
  heads = jax.device_get(heads)

  def head_report(split):
    logits = (
      np.einsum("snd,scdk->scnk", feats[split], heads["kernel"])
      + heads["bias"][:, :, None, :]
    )
    return _report(logits, sets[split], weights)

  on_select, on_test = head_report("select"), head_report("test")
  kind = np.array([r[0] for r in rows])
  values = np.array([r[1] for r in rows])
  masks = {
    "gap_ll": (kind == "gap") & np.isin(values[:, 2], gap.group_scales),
    "lambda0": kind == "lambda0",
    "erm_ll": kind == "erm_ll",
  }
  for s in tuple(gap.group_scales) + (gap.ablation_group_scale,):
    masks[f"gap_ll_s{s:g}"] = (kind == "gap") & (values[:, 2] == s)
  for rho in gap.rhos:
    masks[f"gap_ll_rho{rho:g}"] = masks["gap_ll"] & (values[:, 1] == rho)
  chosen = {}
  for method, mask in masks.items():
    chosen[method] = _select(on_select["wga"], mask)
    results[method] = {k: _pick(v, chosen[method]) for k, v in on_test.items()}
  logging.info(
    "%s: selected GAP configurations %s",
    name,
    [rows[i][1] for i in chosen["gap_ll"]],
  )

  with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
    results["probe"] = _probe(config, feats, sets, weights)
    results["dfr"] = _dfr(config, feats, sets, weights)
  results["gap_all"] = _all_layers(
    config, sets, erm_params, init_heads, weights, train_kwargs
  )
  sweep = {
    "rows": rows,
    "test_wga": on_test["wga"],
    "select_wga": on_select["wga"],
  }
  curves = {
    "erm_loss": np.asarray(erm_loss).mean(0),
    "gap_loss": np.asarray(head_losses)[
      np.arange(num_seeds), chosen["gap_ll"]
    ].mean(0),
  }
  return results, sweep, curves


def _stack_results(per_seed):
  return {k: np.stack([r[k] for r in per_seed]) for k in per_seed[0]}


def _probe(config, feats, sets, weights):
  """B0: logistic regression on the balanced held-out probe set."""
  from sklearn.linear_model import LogisticRegression  # pylint: disable=g-import-not-at-top

  per_seed = []
  for seed in range(config.num_seeds):
    model = LogisticRegression(max_iter=1000)
    model.fit(feats["probe"][seed], sets["probe"]["label"][seed])
    scores = model.decision_function(feats["test"][seed])
    logits = np.stack([np.zeros_like(scores), scores], -1)[None]
    per_seed.append(
      _report(
        logits,
        {k: v[seed : seed + 1] for k, v in sets["test"].items()},
        weights,
      )
    )
  return {k: v[:, 0] for k, v in _stack_results(per_seed).items()}


def _dfr(config, feats, sets, weights):
  """DFR per seed (numpy / scikit-learn), C chosen on the select half."""
  per_seed = []
  for seed in range(config.num_seeds):
    split = {
      name: (
        feats[name][seed],
        sets[name]["label"][seed],
        sets[name]["group"][seed],
      )
      for name in ("fit", "select")
    }
    head, _, _ = dfr.select_dfr_head(
      split["fit"],
      split["select"],
      NUM_GROUPS,
      training.NUM_CLASSES,
      config.dfr.num_retrains,
      seed=config.seed * 1000 + seed,
      c_grid=tuple(config.dfr.c_grid),
    )
    logits = (feats["test"][seed] @ head.weights + head.bias)[None]
    per_seed.append(
      _report(
        logits,
        {k: v[seed : seed + 1] for k, v in sets["test"].items()},
        weights,
      )
    )
  return {k: v[:, 0] for k, v in _stack_results(per_seed).items()}


def _all_layers(config, sets, erm_params, init_heads, weights, train_kwargs):
  """GAP on every layer from the ERM weights, head re-initialised (B6).

  The prior mean is the whole ERM network, its head included (as in the
  official code); lambda and rho are chosen on the select half.
  """
  cfg = config.all_layers
  rows = [
    ("gap", (scale, rho, cfg.group_scale, config.gap.precision))
    for scale, rho in itertools.product(cfg.scales, cfg.rhos)
  ]
  body, _ = training.split_head(erm_params)
  init = training.join_head(body, init_heads)
  kwargs = dict(train_kwargs, steps=cfg.steps, learning_rate=cfg.learning_rate)
  keys = rng.replica_keys(
    rng.stream(config.seed, "all_layers"), config.num_seeds
  )
  inputs = parallel.shard_replicas(
    (
      init,
      erm_params,
      sets["fit"]["x"],
      sets["fit"]["label"],
      sets["fit"]["group"],
      keys,
    )
  )
  params, _ = jax.jit(
    functools.partial(training.grid_train_gap, training.mlp_logits, **kwargs)
  )(*inputs[:5], _hypers(rows), inputs[5])
  body, head = training.split_head(jax.device_get(params))
  features = jax.jit(jax.vmap(jax.vmap(training.features, in_axes=(0, None))))
  # feats[split]: [seed, config, n, width]
  feats = {
    split: jax.device_get(features(body, sets[split]["x"]))
    for split in ("select", "test")
  }
  on = {
    split: _report(
      np.einsum("scnd,scdk->scnk", feats[split], head["kernel"])
      + head["bias"][:, :, None, :],
      sets[split],
      weights,
    )
    for split in ("select", "test")
  }
  index = _select(on["select"]["wga"], np.ones(len(rows), bool))
  return {k: _pick(v, index) for k, v in on["test"].items()}


def dataset_metrics(results, prefix: str) -> dict[str, float]:
  """Seed means of every method's test numbers, and the claim contrasts."""
  metrics = {}
  for method, result in results.items():
    for key in ("wga", "avg_acc", "mean_acc"):
      metrics[f"{prefix}{method}/{key}"] = float(np.mean(result[key]))
    metrics[f"{prefix}{method}/wga_seed_std"] = float(np.std(result["wga"]))
    for g, group in enumerate(GROUP_NAMES):
      metrics[f"{prefix}{method}/acc_{group}"] = float(
        np.mean(result["group_acc"][:, g])
      )

  def gap(a, b, key="wga"):
    return results[a][key] - results[b][key]

  gain = gap("gap_ll", "erm")
  metrics[f"{prefix}gap_ll/wga_gain_over_erm"] = float(gain.mean())
  metrics[f"{prefix}gap_ll/wga_gain_over_erm_per_std"] = float(
    gain.mean() / max(float(gain.std()), 1e-6)
  )
  metrics[f"{prefix}gap_ll/wga_minus_dfr"] = float(gap("gap_ll", "dfr").mean())
  metrics[f"{prefix}gap_ll_s0/wga_minus_erm_ll"] = float(
    gap("gap_ll_s0", "erm_ll").mean()
  )
  metrics[f"{prefix}gap_ll_s4/wga_minus_s0"] = float(
    gap("gap_ll_s4", "gap_ll_s0").mean()
  )
  metrics[f"{prefix}gap_ll/wga_minus_lambda0"] = float(
    gap("gap_ll", "lambda0").mean()
  )
  metrics[f"{prefix}gap_ll/avg_acc_minus_erm"] = float(
    gap("gap_ll", "erm", "avg_acc").mean()
  )
  metrics[f"{prefix}gap_ll/wga_minus_all_layers"] = float(
    gap("gap_ll", "gap_all").mean()
  )
  if "gap_ll_rho0.15" in results and "gap_ll_rho0" in results:
    metrics[f"{prefix}gap_ll/wga_rho0.15_minus_rho0"] = float(
      gap("gap_ll_rho0.15", "gap_ll_rho0").mean()
    )
  return metrics
