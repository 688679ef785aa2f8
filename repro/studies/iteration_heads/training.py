"""Training with evaluation every few steps, vmapped over seeds.

One run trains a transformer on one ``IterativeDataset`` with Adam on the
loss masked to the tokens after EoI (official ``cot_mask``). Batches hold a
single input length and walk through lengths ``1..max_len`` in order every
epoch (the official ``DataLoader(shuffle=False)`` over length-sorted data),
unless ``batch_order="shuffled"``. Every ``eval_every`` steps the held-out
test sets of the evaluation lengths are scored: exact-sequence accuracy under
teacher forcing and the attention scores of ``repro.ops.attention_metrics``.

The steps of one evaluation interval are a ``lax.scan`` under one ``jit``
(vmapped over the seed axis); the host loop over intervals only logs
progress and keeps the parameter snapshots asked for. Data arrays are
arguments, not constants, so runs of the same shapes share one compilation.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from repro.core import loop, parallel
from repro.core.errors import UserError
from repro.data import iterative_tasks
from repro.nn.transformer import (
  AttentionOverride,
  Transformer,
  exact_match,
  masked_next_token_loss,
)
from repro.ops import attention_metrics


class EvalSet(NamedTuple):
  """Sequences scored during training (device arrays, lengths >= min).

  Attributes:
    lengths: int32 ``[E]`` input lengths.
    test_tokens: int32 ``[E, n, width]`` held-out sequences per length.
    train_tokens: int32 ``[E, n, width]`` training sequences of the same
      lengths (to tell memorisation from generalisation).
  """

  lengths: jax.Array
  test_tokens: jax.Array
  train_tokens: jax.Array


def make_eval_set(
  dataset: iterative_tasks.IterativeDataset, min_len: int
) -> EvalSet:
  """The test lengths ``>= min_len`` and as many training rows of each."""
  keep = dataset.test_lengths >= min_len
  lengths = dataset.test_lengths[keep]
  if not len(lengths):
    raise UserError(
      f"{dataset.task}: no input length >= {min_len} has a "
      "held-out test set; raise max_len or train_per_len"
    )
  test = dataset.test_tokens[keep]
  train = dataset.train_tokens[lengths - 1, : test.shape[1]]
  return EvalSet(jnp.asarray(lengths), jnp.asarray(test), jnp.asarray(train))


def trainable_mask(params, trainable: str, num_layers: int):
  """1.0/0.0 per leaf: ``all`` leaves, or only ``mlp2`` (the last MLP).

  Gradients are multiplied by it. With a fresh Adam state a leaf whose
  gradients are always zero keeps zero moments and never moves, so this is
  exactly training the other leaves alone (official ``finetune_mlp2``).
  """
  if trainable not in ("all", "mlp2"):
    raise UserError(f"trainable must be all or mlp2, got {trainable!r}")

  def label(path, _):
    names = [getattr(p, "key", str(p)) for p in path]
    last_mlp = f"block_{num_layers - 1}" in names and "mlp" in names
    return jnp.float32(trainable == "all" or last_mlp)

  return jax.tree_util.tree_map_with_path(label, params)


class ShuffledOrder:
  """Epoch-wise random order of all training rows (``DataLoader(shuffle)``).

  Epoch ``e`` of replica ``r`` visits the ``num_lengths * rows`` rows in the
  order ``default_rng((seed_r, e)).permutation``; step ``s`` takes the
  ``s % steps_per_epoch``-th block of ``batch_size`` of them. Drawn on the
  host so the compiled step holds no random-number generator (on CPU the
  threefry kernels dominate compilation), and a resumed run sees the same
  batches.
  """

  def __init__(self, replica_seeds: np.ndarray, num_rows: int, batch_size: int):
    self.replica_seeds = [int(s) for s in replica_seeds]
    self.num_rows = num_rows
    self.batch_size = batch_size
    self.steps_per_epoch = num_rows // batch_size
    self._epochs = {}

  def _permutation(self, replica: int, epoch: int) -> np.ndarray:
    if (replica, epoch) not in self._epochs:
      generator = np.random.default_rng((self.replica_seeds[replica], epoch))
      self._epochs[(replica, epoch)] = generator.permutation(self.num_rows)
    return self._epochs[(replica, epoch)]

  def rows(self, start: int, num_steps: int) -> np.ndarray:
    """Flat row indices ``[R, num_steps, batch_size]`` of steps
    ``start..start+num_steps-1``."""
    out = np.empty(
      (len(self.replica_seeds), num_steps, self.batch_size), np.int32
    )
    for replica in range(len(self.replica_seeds)):
      for offset in range(num_steps):
        epoch, position = divmod(start + offset, self.steps_per_epoch)
        block = slice(
          position * self.batch_size, (position + 1) * self.batch_size
        )
        out[replica, offset] = self._permutation(replica, epoch)[block]
    if len(self._epochs) > 4 * len(self.replica_seeds):
      self._epochs = {
        k: v
        for k, v in self._epochs.items()
        if k[1] >= (start // self.steps_per_epoch)
      }
    return out


def batch_at(
  step, train_tokens, train_masks, batch_size: int, order: str, shuffled_rows
):
  """The batch of ``step``: tokens ``[B, W]`` and target mask ``[B, W]``.

  ``by_length``: epoch = lengths 1..max_len in order, each split into
  consecutive blocks of ``batch_size`` rows (fixed order every epoch).
  ``shuffled``: the flat row indices ``shuffled_rows [B]`` over all lengths
  (from ``ShuffledOrder``).
  """
  num_lengths, rows, width = train_tokens.shape
  if order == "by_length":
    per_length = rows // batch_size
    position = step % (num_lengths * per_length)
    length_index = position // per_length
    start = (position % per_length) * batch_size
    tokens = jax.lax.dynamic_slice(
      train_tokens[length_index], (start, 0), (batch_size, width)
    )
    return tokens, jnp.broadcast_to(
      train_masks[length_index], (batch_size, width)
    )
  if order == "shuffled":
    length_index = shuffled_rows // rows
    return (
      train_tokens[length_index, shuffled_rows % rows],
      train_masks[length_index],
    )
  raise UserError(f"batch_order must be by_length or shuffled, got {order!r}")


def evaluate(
  model: Transformer,
  params,
  eval_set: EvalSet,
  max_len: int,
  threshold: float,
  ablation=None,
) -> dict[str, jax.Array]:
  """Scores of one replica, averaged over the evaluation lengths.

  Returns ``test_acc``, ``train_acc``, per-length ``test_acc_by_len
  [E]`` and the attention scores ``eoi/...``, ``iter/...`` as
  ``[layers, heads]``. With ``ablation = (shift, enabled)`` (may be
  traced) and ``enabled`` True, the last layer's rows ``L+1..2L`` attend
  one-hot to key ``t + shift``
  (``attention_metrics.shifted_diagonal_override``).
  """

  def one_length(length, test_tokens, train_tokens):
    width = test_tokens.shape[-1]
    overrides = None
    if ablation is not None:
      shift, enabled = ablation
      rows, weights = attention_metrics.shifted_diagonal_override(
        length, width, shift
      )
      overrides = [None] * (model.num_layers - 1) + [
        AttentionOverride(rows & enabled, weights)
      ]
    mask = jnp.arange(width) > length + 1
    logits, attention = model.apply(
      params, test_tokens, return_attention=True, attention_overrides=overrides
    )
    scores = attention_metrics.circuit_scores(
      attention, length, max_len, threshold
    )
    scores["test_acc"] = jnp.mean(exact_match(logits, test_tokens, mask))
    train_logits = model.apply(
      params, train_tokens, attention_overrides=overrides
    )
    scores["train_acc"] = jnp.mean(
      exact_match(train_logits, train_tokens, mask)
    )
    return scores

  per_length = jax.vmap(one_length)(
    eval_set.lengths, eval_set.test_tokens, eval_set.train_tokens
  )
  scores = {k: jnp.mean(v, axis=0) for k, v in per_length.items()}
  scores["test_acc_by_len"] = per_length["test_acc"]
  return scores


@functools.cache
def compiled_eval(model: Transformer, max_len: int, threshold: float):
  """``fn(params, eval_set, shift=0, enabled=False)``: jitted, vmapped
  ``evaluate`` (one compilation for plain and ablated evaluations)."""
  fn = jax.jit(
    jax.vmap(
      lambda params, eval_set, shift, enabled: evaluate(
        model, params, eval_set, max_len, threshold, (shift, enabled)
      ),
      in_axes=(0, None, None, None),
    )
  )
  return lambda params, eval_set, shift=0, enabled=False: fn(
    params, eval_set, jnp.int32(shift), jnp.bool_(enabled)
  )


@dataclasses.dataclass(frozen=True)
class RunResult:
  """One run over all seeds.

  Attributes:
    params: final parameters (leading seed axis).
    eval_steps: int ``[K]``: steps of the evaluations (0 = before training).
    evals: ``{name: [R, K, ...]}`` scores of ``evaluate`` at ``eval_steps``.
    loss: ``[R, steps]`` training loss per step.
    snapshots: ``{step: params}`` kept at the requested steps.
  """

  params: object
  eval_steps: np.ndarray
  evals: dict[str, np.ndarray]
  loss: np.ndarray
  snapshots: dict


def train(
  model: Transformer,
  dataset: iterative_tasks.IterativeDataset,
  params,
  key: jax.Array,
  *,
  num_steps: int,
  eval_every: int,
  batch_size: int,
  lr: float,
  min_eval_len: int,
  batch_order: str = "by_length",
  trainable: str = "all",
  threshold: float = 0.5,
  snapshot_steps=(),
  description: str = "train",
  checkpoints=None,
) -> RunResult:
  """Trains ``params`` (leading seed axis ``R``) on ``dataset``.

  Args:
    model: the transformer (its ``emb_dropout`` uses the train key).
    dataset: training rows and held-out test sets.
    params: initial parameters with a leading seed axis.
    key: ``[R]`` training keys (dropout; seeds of the shuffled order).
    num_steps: optimiser steps, a multiple of ``eval_every``.
    eval_every: steps between evaluations.
    batch_size: rows per batch; must divide the rows per length.
    lr: Adam learning rate (a fresh Adam state every call).
    min_eval_len: shortest input length scored.
    batch_order: ``by_length`` (official) or ``shuffled``.
    trainable: ``all`` or ``mlp2`` (only the last block's MLP).
    threshold: attention weight counted as a peak.
    snapshot_steps: steps whose parameters are returned in ``snapshots``.
    description: progress label and checkpoint name.
    checkpoints: the run's checkpointer (resume) or None.
  """
  rows = dataset.train_tokens.shape[1]
  _check_schedule(description, num_steps, eval_every, batch_size, rows)
  eval_set = make_eval_set(dataset, min_eval_len)
  train_tokens = jnp.asarray(dataset.train_tokens)
  train_masks = jnp.asarray(dataset.train_masks)
  interval, init_opt = _compiled_interval(
    model, lr, eval_every, batch_size, batch_order
  )
  # Every replica-axis input is sharded alike, so every interval call hits
  # the same compilation (an unsharded Adam state would recompile once).
  mesh = parallel.replica_mesh(key.shape[0])
  params, key = parallel.shard_replicas((params, key), mesh)
  opt_state = parallel.shard_replicas(init_opt(params), mesh)
  grad_mask = trainable_mask(
    jax.tree.map(lambda x: x[0], params), trainable, model.num_layers
  )
  evaluate_all = compiled_eval(model, dataset.max_len, threshold)
  num_seeds = key.shape[0]
  order = _shuffled_order(
    batch_order, key, train_tokens.shape[0] * rows, batch_size
  )

  def chunk(state, start, size):
    params, opt_state = state
    shuffled_rows = (
      order.rows(start, size)
      if order is not None
      else np.zeros((num_seeds, size, batch_size), np.int32)
    )
    shuffled_rows = parallel.shard_replicas(shuffled_rows, mesh)
    params, opt_state, loss = interval(
      params,
      opt_state,
      jnp.int32(start),
      key,
      shuffled_rows,
      grad_mask,
      train_tokens,
      train_masks,
    )
    return (params, opt_state), {"loss": loss}

  def scores_and_snapshot(state, step):
    kept = {"scores": evaluate_all(state[0], eval_set)}
    if step in snapshot_steps:
      kept["snapshot"] = state[0]
    return kept

  # Resumable: the batches of step s depend on s only (ShuffledOrder,
  # fold_in of the key), so a resumed run is identical.
  result = loop.run(
    chunk,
    (params, opt_state),
    num_steps,
    chunk_steps=eval_every,
    name=description,
    checkpoints=checkpoints,
    evaluate=scores_and_snapshot,
    eval_every=eval_every,
    eval_at_start=True,
    history_axis=1,
  )
  params = result.state[0]
  stacked, snapshots = _scores_and_snapshots(result.evals, mesh)
  logging.info(
    "%s: test acc %s, iteration-head peak %s after %d steps",
    description,
    np.round(stacked["test_acc"][:, -1], 3),
    np.round(stacked["iter/frac_above"][:, -1, -1, 0], 3),
    num_steps,
  )
  return RunResult(
    params,
    np.arange(0, num_steps + 1, eval_every),
    stacked,
    result.history["loss"],
    snapshots,
  )


def _check_schedule(
  description: str, num_steps: int, eval_every: int, batch_size: int, rows: int
) -> None:
  """Raises UserError unless evaluations tile the steps and batches tile
  the ``rows`` training rows of each length."""
  if num_steps % eval_every:
    raise UserError(
      f"{description}: steps {num_steps} must be a multiple "
      f"of eval_every {eval_every}"
    )
  if batch_size > rows or rows % batch_size:
    raise UserError(
      f"{description}: batch_size {batch_size} must divide train_per_len {rows}"
    )


def _shuffled_order(batch_order: str, key, num_rows: int, batch_size: int):
  """The seeded ``ShuffledOrder`` of each replica (seeded by the last word
  of its key), or None for the official by-length order."""
  if batch_order != "shuffled":
    return None
  num_seeds = key.shape[0]
  seeds = np.asarray(jax.random.key_data(key)).reshape(num_seeds, -1)[:, -1]
  return ShuffledOrder(seeds, num_rows, batch_size)


def _scores_and_snapshots(evals: dict, mesh):
  """``loop.run``'s evaluations as ``{name: [R, K, ...]}`` scores in step
  order, and the kept snapshots (sharded like the replicas)."""
  scores = [evals[step]["scores"] for step in sorted(evals)]
  snapshots = {
    step: parallel.shard_replicas(kept["snapshot"], mesh)
    for step, kept in evals.items()
    if "snapshot" in kept
  }
  stacked = {k: np.stack([e[k] for e in scores], axis=1) for k in scores[0]}
  return stacked, snapshots


@functools.cache
def _compiled_interval(model, lr, eval_every, batch_size, batch_order):
  """``jit(vmap(...))`` of ``eval_every`` training steps.

  Cached on its (hashable) arguments so runs of the same model, optimiser
  and shapes reuse one compilation (the trainable mask is an argument).
  Also returns the vmapped ``init`` of the Adam state.
  """
  optimizer = optax.adam(lr)

  def loss_fn(params, tokens, mask, key):
    logits = model.apply(params, tokens, train=True, rngs={"dropout": key})
    return masked_next_token_loss(logits, tokens, mask)

  grad_fn = jax.value_and_grad(loss_fn)

  def one_replica(
    params,
    opt_state,
    start,
    key,
    shuffled_rows,
    grad_mask,
    train_tokens,
    train_masks,
  ):
    def step(carry, index):
      params, opt_state = carry
      index, shuffled_rows = index
      tokens, mask = batch_at(
        index, train_tokens, train_masks, batch_size, batch_order, shuffled_rows
      )
      dropout_key = jax.random.fold_in(key, index)
      loss, grads = grad_fn(params, tokens, mask, dropout_key)
      grads = jax.tree.map(jnp.multiply, grads, grad_mask)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    (params, opt_state), loss = jax.lax.scan(
      step, (params, opt_state), (start + jnp.arange(eval_every), shuffled_rows)
    )
    return params, opt_state, loss

  interval = jax.jit(
    jax.vmap(one_replica, in_axes=(0, 0, None, 0, 0, None, None, None))
  )
  return interval, jax.jit(jax.vmap(optimizer.init))
