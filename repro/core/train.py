"""Optax training loops as ``jit`` + ``lax.scan``, vmapped over replicas.

``fit`` runs ``num_steps`` optimiser steps in compiled chunks of
``chunk_steps`` scanned steps each, through the one resumable loop
(``repro.core.loop.run``: NaN checks, progress bar and checkpoints between
chunks, never between steps). Step ``t`` always uses the key
``fold_in(key, t)``, so a resumed run draws the same numbers as an
uninterrupted one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from repro.core import checkpoint as checkpoint_lib
from repro.core import loop
from repro.core.rng import step_key

LossFn = Callable[..., tuple[jax.Array, dict]]


class TrainState(NamedTuple):
  """Parameters, optimiser state and the number of steps taken."""

  params: Any
  opt_state: Any
  step: jax.Array


def init_state(
  optimizer: optax.GradientTransformation, params: Any
) -> TrainState:
  """The state before the first step."""
  return TrainState(params, optimizer.init(params), jnp.zeros((), jnp.int32))


def make_chunk(
  loss_fn: LossFn, optimizer: optax.GradientTransformation, chunk_steps: int
) -> Callable[..., tuple[TrainState, dict[str, jax.Array]]]:
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


def fit(
  loss_fn: LossFn,
  optimizer: optax.GradientTransformation,
  params: Any,
  key: jax.Array,
  num_steps: int,
  *,
  data: tuple = (),
  replicated: bool = False,
  chunk_steps: int | None = None,
  checkpoints: checkpoint_lib.RunCheckpoints | None = None,
  description: str = "train",
) -> tuple[TrainState, dict[str, np.ndarray]]:
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
    checkpoints: the run's checkpointer (``repro.core.loop``); None: no
      resume.
    description: label of the progress bar and of the checkpoint folder.

  Returns:
    The final ``TrainState`` and ``{name: array}`` of per-step values with the
    step axis last (``[num_steps]`` or ``[R, num_steps]``).

  Raises:
    UserError: if the loss becomes NaN or infinite.
  """
  if chunk_steps is None:
    chunk_steps = max(1, -(-num_steps // 20))
  chunk_steps = min(chunk_steps, max(num_steps, 1))
  init = (
    jax.vmap(functools.partial(init_state, optimizer))
    if replicated
    else (functools.partial(init_state, optimizer))
  )
  chunks = {}

  def chunk(state, start, size):
    del start  # The state counts its own steps.
    if size not in chunks:
      compiled = make_chunk(loss_fn, optimizer, size)
      chunks[size] = jax.jit(jax.vmap(compiled) if replicated else compiled)
    return chunks[size](state, key, tuple(data))

  result = loop.run(
    chunk,
    init(params),
    num_steps,
    chunk_steps=chunk_steps,
    name=description,
    checkpoints=checkpoints,
  )
  return result.state, result.history
