"""Optax training loops as ``jit`` + ``lax.scan``, vmapped over replicas.

``fit`` runs ``num_steps`` optimiser steps in compiled chunks of
``chunk_steps`` scanned steps each. Between chunks (never between steps) the
host checks the loss for NaN, updates the progress bar and, when asked,
writes a checkpoint, so a long run is visible and resumable without a host
round trip per step. Step ``t`` always uses the key ``fold_in(key, t)``, so
a resumed run draws the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import tqdm
from absl import logging

from repro.core import checkpoint as checkpoint_lib
from repro.core import parallel
from repro.core.errors import UserError
from repro.core.rng import step_key

LossFn = Callable[..., tuple[jax.Array, dict]]


class TrainState(NamedTuple):
  """Parameters, optimiser state and the number of steps taken."""
  params: Any
  opt_state: Any
  step: jax.Array


def init_state(optimizer: optax.GradientTransformation, params) -> TrainState:
  """The state before the first step."""
  return TrainState(params, optimizer.init(params), jnp.zeros((), jnp.int32))


def make_chunk(loss_fn: LossFn, optimizer: optax.GradientTransformation,
               chunk_steps: int):
  """Returns ``chunk(state, key, data) -> (state, history)`` scanning steps.

  ``loss_fn(params, key, *data)`` returns ``(loss, aux)`` where ``aux`` is a
  dict of scalars recorded per step next to ``loss``.
  """
  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

  def one_step(key, data, state: TrainState, step):
    (loss, aux), grads = grad_fn(state.params, step_key(key, step), *data)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    return TrainState(params, opt_state, state.step + 1), {"loss": loss, **aux}

  def chunk(state: TrainState, key: jax.Array, data: tuple = ()):
    steps = state.step + jnp.arange(chunk_steps, dtype=jnp.int32)
    return jax.lax.scan(functools.partial(one_step, key, data), state, steps)

  return chunk


def fit(loss_fn: LossFn,
        optimizer: optax.GradientTransformation,
        params,
        key: jax.Array,
        num_steps: int,
        *,
        data: tuple = (),
        replicated: bool = False,
        chunk_steps: int | None = None,
        checkpoint_dir: str | None = None,
        description: str = "train") -> tuple[TrainState, dict[str, np.ndarray]]:
  """Trains ``params`` for ``num_steps`` steps; returns state and history.

  Args:
    loss_fn: ``(params, key, *data) -> (loss, aux_dict)`` for one replica.
    optimizer: an optax transformation.
    params: initial parameters; with ``replicated`` every leaf has a leading
      replica axis (seeds, members), and ``key`` is one key per replica.
    key: the ``train`` stream key (``[R]`` keys when replicated).
    num_steps: total number of steps, counted from step 0.
    data: extra arrays passed to ``loss_fn`` (a training set, an epsilon);
      when replicated, each has the leading replica axis too, so replicas
      may train on different data.
    replicated: vmap over the leading axis of ``params``, ``key`` and
      ``data``. Shard that axis first (``parallel.shard_replicas``) to spread
      it over devices.
    chunk_steps: steps per compiled chunk (default: about 20 chunks).
    checkpoint_dir: if given, resume from its latest checkpoint and save one
      after every chunk. If None and the launcher opened
      ``checkpoint.run_checkpoints`` (a launched run), the loop gets its own
      directory there and saves on the run's schedule (``--checkpoint_every``).
    description: label of the progress bar.

  Returns:
    The final ``TrainState`` and ``{name: array}`` of per-step values with the
    step axis last (``[num_steps]`` or ``[R, num_steps]``).

  Raises:
    UserError: if the loss becomes NaN or infinite.
  """
  if chunk_steps is None:
    chunk_steps = max(1, -(-num_steps // 20))
  chunk_steps = min(chunk_steps, max(num_steps, 1))
  init = jax.vmap(functools.partial(init_state, optimizer)) if replicated else (
      functools.partial(init_state, optimizer))
  state = init(params)
  history: list[dict[str, np.ndarray]] = []
  schedule = checkpoint_lib.SaveSchedule()
  if checkpoint_dir is None and checkpoint_lib.active_run() is not None:
    run = checkpoint_lib.active_run()
    checkpoint_dir = checkpoint_lib.loop_dir(description)
    schedule = checkpoint_lib.SaveSchedule(run.every_steps, run.every_seconds)
  if checkpoint_dir is not None:
    restored = checkpoint_lib.restore_latest(
        checkpoint_dir, {"state": state, "history": None})
    if restored is not None:
      state = restored["state"]
      history = [restored["history"]]
      schedule.last_step = _steps_done(state)
      logging.info("%s: resuming from step %d of %s (--noresume starts "
                   "over)", description, _steps_done(state), checkpoint_dir)

  chunks = {}

  def compiled_chunk(size):
    if size not in chunks:
      chunk = make_chunk(loss_fn, optimizer, size)
      chunks[size] = jax.jit(jax.vmap(chunk) if replicated else chunk)
    return chunks[size]

  done = _steps_done(state)
  with tqdm.tqdm(total=num_steps, initial=done, desc=description,
                 disable=None, leave=False) as bar:
    while done < num_steps:
      size = min(chunk_steps, num_steps - done)
      state, chunk_history = compiled_chunk(size)(state, key, tuple(data))
      chunk_history = parallel.gather(chunk_history)
      check_finite(chunk_history["loss"], done, description)
      history.append(chunk_history)
      done += size
      bar.update(size)
      if checkpoint_dir is not None and schedule.due(done, done >= num_steps):
        checkpoint_lib.save(checkpoint_dir, done, {
            "state": state, "history": _concat(history)})
  return state, _concat(history)


def _steps_done(state: TrainState) -> int:
  return int(np.max(parallel.gather(state.step)))


def _concat(history: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
  history = [h for h in history if h]
  if not history:
    return {}
  return {k: np.concatenate([np.asarray(h[k]) for h in history], axis=-1)
          for k in history[0]}


def check_finite(values: np.ndarray, first_step: int, description: str,
                 metric: str = "loss") -> None:
  """Raises UserError naming the first step where ``values`` is NaN/inf.

  ``values`` has the step axis last (``[steps]`` or ``[R, steps]``); the
  replica is named too when there is a replica axis. Custom scanned loops of
  the studies call this on each chunk's history, as ``fit`` does.
  """
  values = np.asarray(values)
  finite = np.isfinite(values)
  if finite.all():
    return
  per_step = finite.reshape(-1, finite.shape[-1]).all(axis=0)
  offset = int(np.argmin(per_step))
  bad_step = first_step + offset
  where = ""
  if values.ndim > 1:
    replica = int(np.argmin(finite.reshape(-1, finite.shape[-1])[:, offset]))
    where = f" (replica {replica})"
  raise UserError(
      f"{description}: the metric '{metric}' became NaN/inf at step "
      f"{bad_step}{where}; lower the learning rate (see --list for the "
      "config keys, set with --set)")


_check_finite = check_finite  # The name used before it became public.
