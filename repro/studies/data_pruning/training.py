"""Models and jitted training of many (subset, seed) replicas at once.

One replica trains a fresh model on one subset of the training set with
SGD + momentum, weight decay and a multi-step learning-rate schedule
(x``lr_drop_factor`` at the ``lr_drops`` fractions of its steps; official
``trainer.py``), reshuffling its subset every epoch (last partial batch
dropped). Replicas of every subset size train in one ``vmap``ped call:
subsets are padded to a common width with their size as data, every
replica has its own step budget (the epoch correction) and stops updating
after it, so the whole grid of methods x densities x seeds, or all the
query models, is one compiled ``lax.scan`` with its replica axis sharded
by ``shard_replicas``. The scan runs in chunks of blocks through the
resumable loop (a checkpoint between chunks; same numbers on CPU).

With ``record=True`` (query models on the full data, one block = one
epoch) every epoch also returns the training-pass correctness and
true-class probability of every point, taken from the forward pass of the
minibatch the point was in (a point left out of an epoch's last partial
batch keeps its previous value), and the per-class validation recall
(forgetting, dynamic uncertainty, DRoP).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from repro.core import checkpoint, loop, parallel
from repro.nn import mlp as mlp_lib
from repro.nn import vgg as vgg_lib
from repro.ops.losses import mean_cross_entropy
from repro.studies.data_pruning import data as data_module

# fmt: off
VGG_LAYERS = {
  "vgg11": vgg_lib.VGG11_LAYERS,
  # Simonyan & Zisserman cfg D / E without the last max-pool (as vgg.py).
  "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
            512, 512, 512, "M", 512, 512, 512),
  "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
            512, 512, 512, 512, "M", 512, 512, 512, 512),
}
# fmt: on


class Model(NamedTuple):
  """A classifier as pure functions of a variables dict."""

  init: callable  # (key, inputs) -> variables
  train_apply: callable  # (variables, inputs) -> (logits, state)
  eval_apply: callable  # (variables, inputs) -> logits
  features: callable  # (variables, inputs) -> penultimate [n, F]


def make_model(group, num_classes: int) -> Model:
  """The MLP (cpu preset) or VGG-BN (paper preset) of a dataset group."""
  if group.model == "mlp":
    module = mlp_lib.MLP(
      hidden_sizes=tuple(group.hidden_sizes),
      num_outputs=num_classes,
      use_bias=True,
    )
    return Model(
      init=lambda key, inputs: dict(module.init(key, inputs)),
      train_apply=lambda variables, inputs: (
        module.apply(variables, inputs),
        {},
      ),
      eval_apply=module.apply,
      features=lambda variables, inputs: module.apply(
        variables, inputs, return_features=True
      )[1][-1],
    )
  if group.model == "vgg":
    module = vgg_lib.VGG(
      VGG_LAYERS[group.vgg_layers], num_classes, group.width_multiplier
    )

    def train_apply(variables, inputs):
      logits, state = module.apply(
        variables, inputs, train=True, mutable=["batch_stats"]
      )
      return logits, dict(state)

    return Model(
      init=lambda key, inputs: dict(module.init(key, inputs)),
      train_apply=train_apply,
      eval_apply=lambda variables, inputs: module.apply(variables, inputs),
      features=lambda variables, inputs: module.apply(
        variables, inputs, return_features=True
      )[1][-1],
    )
  raise ValueError(f"unknown model {group.model!r}")


def class_recalls(logits, labels, num_classes: int):
  """Per-class recall [K] of argmax predictions (NaN-free: empty -> 0)."""
  correct = (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
  onehot = jax.nn.one_hot(labels, num_classes)
  return (correct @ onehot) / jnp.maximum(onehot.sum(0), 1.0)


def predict(model: Model, variables, inputs, batch_size: int):
  """Eval-mode logits in chunks of ``batch_size`` (one chunk if it fits)."""
  if inputs.shape[0] <= batch_size:
    return model.eval_apply(variables, inputs)
  return jax.lax.map(
    lambda x: model.eval_apply(variables, x[None])[0],
    inputs,
    batch_size=batch_size,
  )


def epochs_for_density(base_epochs: int, density: float) -> int:
  """E (0.5 + 0.5 d) / d: iterations = (0.5 + 0.5 d) x full training.

  Official ``utils.epochs_correction``: equal epochs would under-train
  subsets, equal iterations over-train them.
  """
  return max(1, int(round(base_epochs * (0.5 + 0.5 * density) / density)))


class Plan(NamedTuple):
  """What each replica trains on: padded subsets and step budgets."""

  subsets: np.ndarray  # [R, P] int32, the first sizes[r] are used
  sizes: np.ndarray  # [R] points in the subset
  num_steps: np.ndarray  # [R] optimiser steps
  boundaries: np.ndarray  # [R, B] steps at which the LR is multiplied


def make_plan(
  subsets,
  num_epochs,
  batch_size: int,
  lr_drops,
  constant_lr=False,
  pad_to: int | None = None,
) -> Plan:
  """A ``Plan`` from a list of index arrays and epochs per replica.

  ``num_epochs`` and ``constant_lr`` are scalars or one value per replica;
  the LR drops at the ``lr_drops`` fractions of each replica's steps (never,
  with ``constant_lr``: short query runs at the initial LR).
  """
  count = len(subsets)
  width = pad_to or max(len(s) for s in subsets)
  padded = np.zeros((count, width), np.int32)
  sizes = np.array([len(s) for s in subsets], np.int32)
  for r, subset in enumerate(subsets):
    padded[r, : len(subset)] = subset
  epochs = np.broadcast_to(np.asarray(num_epochs, np.int64), (count,))
  constant = np.broadcast_to(np.asarray(constant_lr, bool), (count,))
  num_steps = (epochs * (sizes // batch_size)).astype(np.int32)
  never = np.iinfo(np.int32).max
  boundaries = np.array(
    [
      [never if constant[r] else int(f * num_steps[r]) for f in lr_drops]
      for r in range(count)
    ],
    np.int32,
  ).reshape(count, len(lr_drops))
  return Plan(padded, sizes, num_steps, boundaries)


@functools.cache
def _compiled(
  model: Model,
  hyper: tuple,
  chunk_blocks: int,
  block_steps: int,
  min_steps_per_epoch: int,
  record: bool,
  augment: bool,
  num_classes: int,
):
  """jit(vmap(...)) of one replica's init, chunk of blocks and test recall.

  Returns ``(init, run_blocks, finish)`` for one shape of the grid
  (cached): ``init(init_key, subset, arrays) -> carry``, ``run_blocks(
  carry, first_block, key, subset, size, num_steps, boundaries, arrays) ->
  (carry, history of chunk_blocks blocks)``, ``finish(carry, arrays) ->
  (final variables, test recall)``. Chaining chunks equals one scan over
  every block (the loop is resumable between chunks).
  """
  hyper = dict(hyper)
  epochs_per_block = -(-(block_steps - 1) // min_steps_per_epoch) + 1

  def init(init_key, subset, arrays):
    variables = model.init(init_key, arrays[0][:1])
    momentum = jax.tree.map(jnp.zeros_like, variables["params"])
    width = subset.shape[0]
    return (
      variables,
      momentum,
      jnp.zeros(width, bool),
      jnp.zeros(width, jnp.float32),
    )

  run_blocks = _replica_blocks(
    model,
    hyper,
    chunk_blocks,
    block_steps,
    epochs_per_block,
    record,
    augment,
    num_classes,
  )

  def finish(carry, arrays):
    final = carry[0]
    return final, class_recalls(
      predict(model, final, arrays[4], hyper["eval_batch"]),
      arrays[5],
      num_classes,
    )

  return (
    jax.jit(jax.vmap(init, in_axes=(0, 0, None))),
    jax.jit(jax.vmap(run_blocks, in_axes=(0, None, 0, 0, 0, 0, 0, None))),
    jax.jit(jax.vmap(finish, in_axes=(0, None))),
  )


def _replica_blocks(
  model: Model,
  hyper: dict,
  chunk_blocks: int,
  block_steps: int,
  epochs_per_block: int,
  record: bool,
  augment: bool,
  num_classes: int,
):
  """One replica's ``run_blocks``: ``chunk_blocks`` scanned blocks of
  ``block_steps`` steps from ``first_block`` (see ``_compiled``)."""
  batch_size = hyper["batch_size"]

  def run_blocks(
    carry, first_block, key, subset, size, num_steps, boundaries, arrays
  ):
    train_x, train_y, val_x, val_y, _, _ = arrays
    width = subset.shape[0]
    steps_per_epoch = jnp.maximum(size // batch_size, 1)

    def step(carry, inputs):
      t, orders, first_epoch = inputs
      epoch = t // steps_per_epoch
      positions = jax.lax.dynamic_slice(
        orders[epoch - first_epoch],
        ((t % steps_per_epoch) * batch_size,),
        (batch_size,),
      )
      epoch_key = jax.random.fold_in(key, epoch)
      indices = subset[positions]
      batch = (positions, train_x[indices], train_y[indices])
      return _train_step(
        model,
        hyper,
        augment,
        record,
        carry,
        batch,
        t,
        epoch_key,
        num_steps,
        boundaries,
      )

    def block(carry, block_index):
      # Permutations of every epoch this block can touch, once per block
      # (not per step: sorting dominates small models otherwise).
      steps = block_index * block_steps + jnp.arange(block_steps)
      first_epoch = steps[0] // steps_per_epoch
      orders = jax.vmap(lambda epoch: _epoch_order(key, epoch, width, size))(
        first_epoch + jnp.arange(epochs_per_block)
      )
      carry, losses = jax.lax.scan(
        lambda c, t: step(c, (t, orders, first_epoch)), carry, steps
      )
      out = {"loss": jnp.sum(losses)}
      if record:
        out["correct"] = carry[2]
        out["true_prob"] = carry[3]
        out["val_recall"] = class_recalls(
          predict(model, carry[0], val_x, hyper["eval_batch"]),
          val_y,
          num_classes,
        )
      return carry, out

    return jax.lax.scan(
      block, carry, first_block + jnp.arange(chunk_blocks, dtype=jnp.int32)
    )

  return run_blocks


def _epoch_order(key, epoch, width: int, size):
  """The epoch's permutation of the subset (padding sorted last)."""
  ranks = jnp.where(
    jnp.arange(width) < size,
    jax.random.uniform(jax.random.fold_in(key, epoch), (width,)),
    2.0,
  )
  return jnp.argsort(ranks).astype(jnp.int32)


def _train_step(
  model: Model,
  hyper: dict,
  augment: bool,
  record: bool,
  carry,
  batch,
  t,
  epoch_key,
  num_steps,
  boundaries,
):
  """One SGD step of one replica on ``batch = (positions, x, y)``.

  A replica past its own ``num_steps`` keeps its variables and momentum
  and reports a loss of 0. With ``record`` the forward pass's correctness
  and true-class probability of the batch's points are kept.
  """
  positions, batch_x, batch_y = batch
  variables, momentum, correct_seen, prob_seen = carry
  if augment:
    batch_x = data_module.augment_images(
      batch_x, jax.random.fold_in(epoch_key, t + 1)
    )
  state = {k: v for k, v in variables.items() if k != "params"}

  def loss_fn(params):
    logits, new_state = model.train_apply({"params": params, **state}, batch_x)
    return mean_cross_entropy(logits, batch_y), (logits, new_state)

  (loss, (logits, new_state)), grads = jax.value_and_grad(
    loss_fn, has_aux=True
  )(variables["params"])
  params, new_momentum = _pytorch_sgd(
    hyper, t, boundaries, variables["params"], grads, momentum
  )
  new_variables = {**state, **new_state, "params": params}
  active = t < num_steps
  keep = functools.partial(
    jax.tree.map, lambda new, old: jnp.where(active, new, old)
  )
  variables, momentum = keep(
    (new_variables, new_momentum), (variables, momentum)
  )
  if record:
    correct_seen, prob_seen = _record_pass(
      correct_seen, prob_seen, positions, logits, batch_y, active
    )
  loss = jnp.where(active, loss, 0.0)
  return (variables, momentum, correct_seen, prob_seen), loss


def _pytorch_sgd(hyper: dict, t, boundaries, params, grads, momentum):
  """PyTorch SGD: g += wd p; m = mu m + g; p -= lr m.

  The learning rate drops by ``lr_drop_factor`` at each boundary passed.
  """
  lr = hyper["lr"] * hyper["lr_drop_factor"] ** jnp.sum(t >= boundaries)
  grads = jax.tree.map(
    lambda g, p: g + hyper["weight_decay"] * p, grads, params
  )
  new_momentum = jax.tree.map(
    lambda m, g: hyper["momentum"] * m + g, momentum, grads
  )
  new_params = jax.tree.map(lambda p, m: p - lr * m, params, new_momentum)
  return new_params, new_momentum


def _record_pass(correct_seen, prob_seen, positions, logits, batch_y, active):
  """Training-pass correctness and true-class probability of the batch's
  points (unchanged for a replica that has stopped)."""
  probs = jax.nn.softmax(logits)
  correct_seen = correct_seen.at[positions].set(
    jnp.where(
      active, jnp.argmax(logits, -1) == batch_y, correct_seen[positions]
    )
  )
  prob_seen = prob_seen.at[positions].set(
    jnp.where(
      active,
      jnp.take_along_axis(probs, batch_y[:, None], 1)[:, 0],
      prob_seen[positions],
    )
  )
  return correct_seen, prob_seen


HYPER_KEYS = (
  "lr",
  "momentum",
  "weight_decay",
  "batch_size",
  "lr_drop_factor",
  "eval_batch",
)


def train_replicas(
  model: Model,
  group,
  arrays: dict,
  init_keys,
  train_keys,
  plan: Plan,
  num_blocks: int,
  block_steps: int,
  *,
  record: bool = False,
  augment: bool = False,
  replica_chunk: int = 0,
  description: str = "train",
  checkpoints=None,
):
  """Trains one fresh model per replica of ``plan``; vmapped and sharded.

  Runs ``num_blocks * block_steps`` scanned steps (at least every
  replica's ``num_steps``; a replica stops updating after its own). With
  ``record`` (all replicas on the full data, ``block_steps`` = one epoch)
  every block returns the training-pass records and validation recalls.
  ``replica_chunk`` > 0 trains that many replicas per call (memory of the
  paper preset); the last chunk is padded by repeating replicas so every
  call has the same shapes (one compile).

  Returns:
    (final variables with a leading [R] axis, history dict of numpy
    arrays: ``loss`` [R, blocks], ``test_recall`` [R, K] and with
    ``record`` ``correct``/``true_prob`` [R, blocks, P], ``val_recall``
    [R, blocks, K]).

  Raises:
    UserError: when a loss is NaN or infinite.
  """
  if num_blocks * block_steps < int(plan.num_steps.max()):
    raise ValueError("the scan is shorter than a replica's step budget")
  if int(plan.sizes.min()) < group.batch_size:
    raise ValueError(
      f"a subset of {plan.sizes.min()} points is smaller "
      f"than the batch size {group.batch_size}"
    )
  hyper = tuple((k, group[k]) for k in HYPER_KEYS)
  chunk_blocks = checkpoint.chunk_count(num_blocks)
  init, run_blocks, finish = _compiled(
    model,
    hyper,
    chunk_blocks,
    block_steps,
    int(plan.sizes.min()) // group.batch_size,
    record,
    augment,
    arrays["num_classes"],
  )
  data = tuple(
    jnp.asarray(arrays[k])
    for k in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y")
  )
  count = len(plan.sizes)
  chunk = count if replica_chunk <= 0 else min(replica_chunk, count)
  finals, histories = [], []
  for start in range(0, count, chunk):
    rows = np.arange(start, start + chunk) % count
    final, history = _train_rows(
      (init, run_blocks, finish),
      plan,
      rows,
      init_keys,
      train_keys,
      data,
      num_blocks,
      block_steps,
      chunk_blocks,
      name=f"data_pruning/{description} replicas {start}",
      checkpoints=checkpoints,
    )
    finals.append(final)
    histories.append(history)
  final = jax.tree.map(lambda *a: jnp.concatenate(a)[:count], *finals)
  history = jax.tree.map(lambda *a: np.concatenate(a)[:count], *histories)
  return final, history


def _train_rows(
  compiled,
  plan: Plan,
  rows,
  init_keys,
  train_keys,
  data,
  num_blocks: int,
  block_steps: int,
  chunk_blocks: int,
  *,
  name: str,
  checkpoints,
):
  """Trains the replicas ``rows`` of ``plan`` through the resumable loop.

  Batches depend on the step and the epoch only (``fold_in``), so a resumed
  loop is identical; a finished one is restored, not rerun. Returns the
  final variables and the history with the test recalls.
  """
  init, run_blocks, finish = compiled
  mesh = parallel.replica_mesh(len(rows))
  inputs = (
    init_keys[rows],
    train_keys[rows],
    jnp.asarray(plan.subsets[rows]),
    jnp.asarray(plan.sizes[rows]),
    jnp.asarray(plan.num_steps[rows]),
    jnp.asarray(plan.boundaries[rows]),
  )
  init_key, key, subset, size, num_steps, boundaries = parallel.shard_replicas(
    inputs, mesh
  )

  def advance(carry, start, steps):
    del steps  # chunk_blocks blocks per call.
    return run_blocks(
      carry,
      jnp.int32(start // block_steps),
      key,
      subset,
      size,
      num_steps,
      boundaries,
      data,
    )

  result = loop.run(
    advance,
    init(init_key, subset, data),
    num_blocks * block_steps,
    chunk_steps=chunk_blocks * block_steps,
    name=name,
    checkpoints=checkpoints,
    history_axis=1,
  )
  final, test_recall = finish(result.state, data)
  history = dict(result.history)
  history["test_recall"] = np.asarray(test_recall)
  return final, history
