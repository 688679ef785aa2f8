"""The one resumable loop: compiled chunks, checkpoints, NaN checks, progress.

Every long loop of the suite (training, distillation, sampling, sweeps) runs
through ``run``. The study supplies the state and a compiled function that
advances it by a chunk of steps; the loop owns the rest:

* it restores the newest checkpoint of the loop (state, the per-step history
  so far and the evaluations so far) and goes on from there;
* after each chunk it checks the named history entries for NaN/inf (a
  ``UserError`` naming the metric and the step), records the chunk's history,
  calls the evaluation hook when an evaluation is due, updates the progress
  bar and saves a checkpoint when the run's schedule says so;
* the last chunk is saved too, so a rerun of a finished run skips the loop.

Chunk sizes are the caller's choice and never depend on whether a run
checkpoints, so the compiled programs, and the numbers, are the same inside
and outside a launched run. A chunk's steps must use keys derived from the
step number (``repro.core.rng.step_key``) so a resumed loop draws what an
uninterrupted one would.

The checkpointer is passed in (``checkpoints``: the run's
``checkpoint.RunCheckpoints``, or None for no resume), never read from a
global. The state may be any pytree (NamedTuples, optax states, BatchNorm
statistics, sampler states); only its array leaves are saved, other leaves
(Python numbers, strings) are static and kept from the live state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import tqdm
from absl import logging

from repro.core import checkpoint as checkpoint_lib
from repro.core import parallel
from repro.core.errors import UserError

ChunkFn = Callable[[Any, int, int], tuple[Any, Mapping[str, Any]]]
EvalFn = Callable[[Any, int], Any]


@dataclasses.dataclass
class LoopResult:
  """What ``run`` returns.

  Attributes:
    state: the state after the last step.
    history: the chunks' records as numpy arrays, concatenated along the
      loop's ``history_axis`` (e.g. ``loss [R, steps]``).
    evals: the evaluation hook's results by step, in step order.
  """

  state: Any
  history: dict[str, np.ndarray]
  evals: dict[int, Any]


def run(
  chunk: ChunkFn,
  state: Any,
  num_steps: int,
  *,
  chunk_steps: int,
  name: str,
  checkpoints: checkpoint_lib.RunCheckpoints | None = None,
  evaluate: EvalFn | None = None,
  eval_every: int = 0,
  eval_steps: Collection[int] = (),
  eval_at_start: bool = False,
  finite: Sequence[str] = ("loss",),
  history_axis: int = -1,
  log_every_chunk: bool = False,
) -> LoopResult:
  """Advances ``state`` by ``num_steps`` steps in chunks (module docstring).

  Args:
    chunk: ``chunk(state, start, size) -> (state, record)``: advances the
      state by ``size`` steps starting at step ``start`` (usually a jitted
      ``lax.scan``); ``record`` is a dict of arrays whose ``history_axis``
      indexes the chunk's steps (or is any per-chunk summary).
    state: the state at step 0 (it also gives the structure, dtypes and
      shardings a checkpoint is restored into).
    num_steps: steps in all.
    chunk_steps: steps per chunk (the last chunk may be shorter).
    name: the loop's name (progress bar, log lines, checkpoint folder).
    checkpoints: the run's checkpointer, or None (no resume).
    evaluate: ``evaluate(state, step)`` called after the chunks that end on
      a multiple of ``eval_every``, on one of ``eval_steps`` or at the last
      step; returns a dict (nested dicts allowed) of arrays or numbers,
      kept in ``LoopResult.evals`` (restored from a checkpoint as numpy
      arrays).
    eval_every: steps between evaluations (0: only at the last step).
    eval_steps: further steps to evaluate at (chunk ends).
    eval_at_start: also evaluate the initial state at step 0.
    finite: record entries that must stay finite.
    history_axis: the step axis of the records.
    log_every_chunk: log a line per chunk with the checked entries.

  Returns:
    A ``LoopResult``.

  Raises:
    UserError: when a checked entry becomes NaN or infinite.
  """
  if chunk_steps < 1:
    raise ValueError(f"{name}: chunk_steps must be >= 1, got {chunk_steps}")
  saver = checkpoint_lib.loop_checkpoints(checkpoints, name)
  done, state, history, evals = _resume(saver, state, evaluate, eval_at_start)

  def items():
    return {
      "state": _array_leaves(state),
      "history": _concat(history, history_axis) or None,
      "evals": _pack_evals(evals),
    }

  with tqdm.tqdm(
    total=num_steps, initial=done, desc=name, disable=None, leave=False
  ) as bar:
    while done < num_steps:
      size = min(chunk_steps, num_steps - done)
      state, record = chunk(state, done, size)
      record = _checked_record(record, done, name, finite, history_axis)
      history.append(record)
      done += size
      bar.update(size)
      if log_every_chunk:
        logging.info(
          "%s: step %d/%d %s",
          name,
          done,
          num_steps,
          {k: np.round(np.mean(record[k]), 4) for k in finite if k in record},
        )
      if evaluate is not None and _eval_due(
        done, num_steps, eval_every, eval_steps
      ):
        evals[done] = jax.device_get(evaluate(state, done))
      saver.save(done, items, final=done >= num_steps)
  return LoopResult(state, _concat(history, history_axis), evals)


def _resume(saver, state, evaluate: EvalFn | None, eval_at_start: bool):
  """``(done, state, history, evals)`` from the loop's newest checkpoint,
  or step 0 (evaluated there with ``eval_at_start``) when there is none."""
  done, history, evals = 0, [], {}
  restored = saver.restore(_template(state))
  if restored[1] is not None:
    done, saved = restored
    state = _restored_state(state, saved["state"])
    if saved.get("history"):
      history = [saved["history"]]
    evals = _unpack_evals(saved.get("evals"))
  elif evaluate is not None and eval_at_start:
    evals[0] = jax.device_get(evaluate(state, 0))
  return done, state, history, evals


def _checked_record(
  record, first_step: int, name: str, finite: Sequence[str], history_axis: int
):
  """A chunk's record as host numpy arrays, its ``finite`` entries checked
  (``check_finite``)."""
  record = {k: np.asarray(v) for k, v in parallel.gather(record).items()}
  for key in finite:
    if key in record:
      check_finite(record[key], first_step, name, key, history_axis)
  return record


def _eval_due(
  done: int, num_steps: int, eval_every: int, eval_steps: Collection[int]
) -> bool:
  """Whether the chunk ending at ``done`` is evaluated: the last step, a
  listed step, or a multiple of ``eval_every``."""
  return bool(
    done == num_steps
    or done in eval_steps
    or (eval_every and done % eval_every == 0)
  )


def measure_once(
  measure: Callable[[], Mapping[str, Any]],
  *,
  name: str,
  checkpoints: checkpoint_lib.RunCheckpoints | None = None,
) -> dict[str, np.ndarray]:
  """``measure()`` (a dict, maybe nested, of arrays) as numpy, as a loop of
  one step.

  A resume point for a long measurement that is not a loop of steps (a
  sweep compiled as one ``lax.map``): with a checkpointer the result is
  saved once measured and a rerun restores it bit for bit instead of
  measuring again.
  """

  def chunk(state, start, size):
    del start, size
    return state, {}

  result = run(
    chunk,
    jnp.zeros((), jnp.int32),
    1,
    chunk_steps=1,
    name=name,
    checkpoints=checkpoints,
    finite=(),
    evaluate=lambda state, step: jax.tree.map(np.asarray, measure()),
  )
  return jax.tree.map(np.asarray, dict(result.evals[1]))


def scan_chunk(step: Callable, size: int) -> Callable:
  """``chunk(state, start) -> (state, record)`` scanning ``step`` ``size``
  times: ``step(state, t) -> (state, record_t)`` with ``t`` the global step
  (an int32 array), records stacked along axis 0."""

  def chunk(state, start):
    steps = start + jnp.arange(size, dtype=jnp.int32)
    return jax.lax.scan(step, state, steps)

  return chunk


def check_finite(
  values: np.ndarray,
  first_step: int,
  description: str,
  metric: str = "loss",
  step_axis: int = -1,
) -> None:
  """Raises UserError naming the first step where ``values`` is NaN/inf.

  ``values`` indexes steps along ``step_axis``; the replica is named too
  when there is a leading replica axis.
  """
  values = np.moveaxis(np.asarray(values), step_axis, -1)
  finite = np.isfinite(values)
  if finite.all():
    return
  rows = (
    finite.reshape(-1, finite.shape[-1])
    if values.ndim
    else (finite.reshape(1, 1))
  )
  offset = int(np.argmin(rows.all(axis=0)))
  where = ""
  if values.ndim > 1:
    replica = int(np.argmin(rows[:, offset]))
    if values.ndim == 2:
      where = f" (replica {replica})"
  raise UserError(
    f"{description}: the metric '{metric}' became NaN/inf at step "
    f"{first_step + offset}{where}; lower the learning rate (see --list "
    "for the config keys, set with --set)"
  )


def _is_array(leaf) -> bool:
  return isinstance(leaf, (jax.Array, np.ndarray, np.generic))


def _is_key(leaf) -> bool:
  return isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(
    leaf.dtype, jax.dtypes.prng_key
  )


def _array_leaves(state) -> dict[str, Any]:
  """The array leaves of ``state`` by position (what a checkpoint holds).

  Typed PRNG keys are stored as their raw key data.
  """
  leaves = jax.tree.leaves(state)
  return {
    f"{i:05d}": jax.random.key_data(leaf) if _is_key(leaf) else leaf
    for i, leaf in enumerate(leaves)
    if _is_array(leaf)
  }


def _template(state) -> dict:
  arrays = _array_leaves(state)
  return {"state": arrays or None, "history": None, "evals": None}


def _restored_state(live, saved: Mapping[str, Any] | None):
  """``live`` with its array leaves replaced by the saved ones."""
  leaves, treedef = jax.tree.flatten(live)
  saved = saved or {}
  merged = []
  for i, leaf in enumerate(leaves):
    if not _is_array(leaf):
      merged.append(leaf)
    elif _is_key(leaf):
      merged.append(
        jax.random.wrap_key_data(
          jnp.asarray(saved[f"{i:05d}"]), impl=jax.random.key_impl(leaf)
        )
      )
    else:
      merged.append(saved[f"{i:05d}"])
  return jax.tree.unflatten(treedef, merged)


def _concat(chunks: list[dict], axis: int) -> dict[str, np.ndarray]:
  chunks = [c for c in chunks if c]
  if not chunks:
    return {}
  return {
    k: np.concatenate([np.asarray(c[k]) for c in chunks], axis=axis)
    for k in chunks[0]
  }


def _pack_evals(evals: dict[int, Any]) -> dict | None:
  packed = {
    f"{step:012d}": tree
    for step, tree in evals.items()
    if jax.tree.leaves(tree)
  }
  return packed or None


def _unpack_evals(packed: Mapping[str, Any] | None) -> dict[int, Any]:
  if not packed:
    return {}
  return {int(key): packed[key] for key in sorted(packed)}
