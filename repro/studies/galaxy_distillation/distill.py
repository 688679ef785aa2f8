"""MTT and STM distillation loops (official MTT and STM code; README).

Runs of one images-per-class value share the synthetic-set shape, so they
form a replica axis sharded over devices; each device runs its replicas
one after another (``parallel.map_replicas``: the unrolled second-order
steps amplify the last-bit differences a differently batched program
makes, so only unbatched replicas give the same result on any device
count). The loop runs in compiled chunks of ``chunk_iterations``
(``lax.scan`` over iterations) through the resumable loop: the states and
records are checkpointed at chunk ends on the run's schedule and a rerun
resumes (iteration k draws from ``fold_in(key, k)``, so a resumed run is
identical). MTT runs differ by their maximum start epoch T+, an STM run by
its controller. Each replica carries

* the synthetic images (init: ``ipc`` real images per class) and the step
  parameter p: alpha = p for MTT (raw), alpha = exp(p) for STM (log alpha,
  as in the official STM code), each updated by SGD with momentum 0.5;
* STM's controller: the start-epoch cap c (init 1), the history of the
  next-epoch loss (the loss of matching the not-yet-included epoch c -> c+1
  with the current images, forward only), the stage length, and the
  fine-tuning phase (lr_img x decay every few iterations, frozen once below
  ``exit_ratio`` of its start value; README, What runs).

Iteration k: expert e ~ U{0..X-1}; MTT: t ~ randint(0, T+), M = match
epochs; STM: t = k mod c, M = 1 (cyclic pool); loss and gradients from
``repro.ops.trajectory_matching.matching_loss``; SGD-momentum updates.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from repro.core import loop, parallel
from repro.core.errors import UserError
from repro.ops import diff_augment, trend_test
from repro.ops import trajectory_matching as tm


class RunSpec(NamedTuple):
  """Per-replica settings (arrays with a leading replica axis)."""

  is_stm: jax.Array  # bool
  max_start_epoch: jax.Array  # int, MTT's T+ (STM: the cap's ceiling)
  match_epochs: jax.Array  # int, M
  lr_img: jax.Array  # float
  lr_step: jax.Array  # float, lr of p (raw alpha or log alpha)


class State(NamedTuple):
  images: jax.Array
  step_param: jax.Array  # alpha (MTT) or log alpha (STM)
  images_velocity: jax.Array
  step_velocity: jax.Array
  lr_img: jax.Array
  cap: jax.Array  # STM start-epoch cap c (start epochs 0..c-1)
  history: jax.Array  # STM next-epoch losses of the current stage
  history_length: jax.Array
  stage_iterations: jax.Array
  finetune: jax.Array  # bool
  finetune_iterations: jax.Array
  frozen: jax.Array  # bool: STM exited
  levels: jax.Array  # number of cap increases


def step_size(spec: RunSpec, step_param):
  """alpha: exp(p) for STM, p for MTT."""
  return jnp.where(spec.is_stm, jnp.exp(step_param), step_param)


def init_state(
  spec: RunSpec, images, alpha_init: float, history_size: int
) -> State:
  step_param = jnp.where(spec.is_stm, jnp.log(alpha_init), alpha_init)
  return State(
    images=images,
    step_param=jnp.asarray(step_param, jnp.float32),
    images_velocity=jnp.zeros_like(images),
    step_velocity=jnp.zeros((), jnp.float32),
    lr_img=jnp.asarray(spec.lr_img, jnp.float32),
    cap=jnp.ones((), jnp.int32),
    history=jnp.zeros((history_size,), jnp.float32),
    history_length=jnp.zeros((), jnp.int32),
    stage_iterations=jnp.zeros((), jnp.int32),
    finetune=jnp.zeros((), bool),
    finetune_iterations=jnp.zeros((), jnp.int32),
    frozen=jnp.zeros((), bool),
    levels=jnp.zeros((), jnp.int32),
  )


def controller_update(
  state: State,
  next_loss,
  iteration,
  *,
  sigma: float,
  test_every: int,
  max_cap,
  max_duration: int,
  finetune_decay: float,
  finetune_every: int,
  exit_lr: jax.Array,
) -> State:
  """One STM controller step after an image update (official STM code).

  The next-epoch loss joins the history; every ``test_every`` iterations
  the trend test runs: a significant fall (r < -sigma sigma_r) or rise
  (r > 3 sigma_r) raises the cap by one (at most ``max_cap``) and resets
  the history. A stage longer than ``max_duration`` starts the terminal
  fine-tuning phase.
  """
  size = state.history.shape[0]
  index = jnp.minimum(state.history_length, size - 1)
  history = state.history.at[index].set(next_loss)
  length = jnp.minimum(state.history_length + 1, size)
  test = trend_test.trend_test(history, length, sigma)
  due = ((iteration + 1) % test_every == 0) & ~state.finetune
  level_up = due & (test.decreasing | test.increasing) & (state.cap < max_cap)
  stage = jnp.where(level_up, 0, state.stage_iterations + 1)
  start_finetune = ~state.finetune & (stage > max_duration)
  finetune = state.finetune | start_finetune
  ft_iterations = jnp.where(finetune, state.finetune_iterations + 1, 0)
  decay = finetune & (ft_iterations % finetune_every == 0) & (ft_iterations > 0)
  lr_img = jnp.where(decay, state.lr_img * finetune_decay, state.lr_img)
  return state._replace(
    cap=state.cap + level_up.astype(jnp.int32),
    history=jnp.where(level_up, jnp.zeros_like(history), history),
    history_length=jnp.where(level_up, 0, length),
    stage_iterations=stage,
    finetune=finetune,
    finetune_iterations=ft_iterations,
    lr_img=lr_img,
    frozen=state.frozen | (lr_img < exit_lr),
    levels=state.levels + level_up.astype(jnp.int32),
  )


def make_iteration(config, apply, labels, *, with_stm: bool):
  """Returns ``iteration(trajectories, spec, key, state, k)``.

  ``iteration`` returns ``(state, record)``; ``trajectories`` are the
  experts' [X, E + 1, P] parameters.
  """
  ops = tuple(config.augment_ops)
  augment = functools.partial(diff_augment.augment, ops=ops) if ops else None
  num_images = labels.shape[0]
  batch_syn = config.batch_syn or num_images
  loss_fn = functools.partial(
    tm.matching_loss,
    apply_flat=apply,
    labels=labels,
    syn_steps=config.syn_steps,
    batch_syn=batch_syn,
    augment=augment,
  )
  grad_fn = jax.value_and_grad(
    lambda images, param, spec, start, target, key: loss_fn(
      images, step_size(spec, param), start=start, target=target, key=key
    ),
    argnums=(0, 1),
  )
  momentum = config.momentum

  def iteration(trajectories, spec: RunSpec, key, state: State, k):
    num_experts = trajectories.shape[0]
    key = jax.random.fold_in(key, k)
    expert_key, start_key, loss_key, next_key = jax.random.split(key, 4)
    expert = jax.random.randint(expert_key, (), 0, num_experts)
    mtt_start = jax.random.randint(start_key, (), 0, spec.max_start_epoch)
    start_epoch = jnp.where(spec.is_stm, k % state.cap, mtt_start)
    start = trajectories[expert, start_epoch]
    target = trajectories[expert, start_epoch + spec.match_epochs]
    loss, (grad_images, grad_param) = grad_fn(
      state.images, state.step_param, spec, start, target, loss_key
    )
    active = ~state.frozen
    images_velocity = momentum * state.images_velocity + grad_images
    step_velocity = momentum * state.step_velocity + grad_param
    images = state.images - jnp.where(active, state.lr_img, 0.0) * (
      images_velocity
    )
    step_param = state.step_param - jnp.where(active, spec.lr_step, 0.0) * (
      step_velocity
    )
    new = state._replace(
      images=images,
      step_param=step_param,
      images_velocity=images_velocity,
      step_velocity=step_velocity,
    )
    record = {
      "loss": loss,
      "alpha": step_size(spec, state.step_param),
      "start_epoch": start_epoch,
      "cap": state.cap,
    }
    if with_stm:
      cap = state.cap
      next_loss = loss_fn(
        jax.lax.stop_gradient(images),
        jax.lax.stop_gradient(step_size(spec, step_param)),
        start=trajectories[expert, cap],
        target=trajectories[expert, cap + 1],
        key=next_key,
      )
      controlled = controller_update(
        new,
        next_loss,
        k,
        sigma=config.stm_sigma,
        test_every=config.stm_test_every,
        max_cap=spec.max_start_epoch,
        max_duration=config.stm_max_duration,
        finetune_decay=config.stm_finetune_decay,
        finetune_every=config.stm_finetune_every,
        exit_lr=spec.lr_img * config.stm_exit_ratio,
      )
      new = jax.tree.map(
        lambda a, b: jnp.where(spec.is_stm, a, b), controlled, new
      )
      record.update(
        next_loss=next_loss, finetune=new.finetune, frozen=new.frozen
      )
    return new, record

  return iteration


@functools.cache
def _compiled_chunk(
  config, apply, labels: tuple[int, ...], mesh, with_stm: bool
):
  """``jit`` of a chunk of iterations of every replica, one after another.

  Cached on its (hashable) arguments so reruns with the same settings in
  one process (a resumed loop, the tests) reuse one compilation.
  """
  iteration = make_iteration(
    config, apply, jnp.asarray(labels, jnp.int32), with_stm=with_stm
  )

  def chunk(spec, key, state, ks, trajectories):
    return jax.lax.scan(
      functools.partial(iteration, trajectories, spec, key), state, ks
    )

  return jax.jit(
    parallel.map_replicas(chunk, mesh, in_axes=(0, 0, 0, None, None))
  )


def distill(
  config,
  apply,
  images0,
  labels,
  trajectories,
  specs: RunSpec,
  key,
  num_iterations: int,
  description: str,
  checkpoints=None,
):
  """Runs every replica of ``specs`` for ``num_iterations``.

  Returns the final states (numpy) and the per-iteration records
  [replicas, iterations].
  """
  num_replicas = specs.is_stm.shape[0]
  with_stm = bool(np.any(np.asarray(specs.is_stm)))
  epochs = trajectories.shape[1] - 1
  needed = np.where(
    np.asarray(specs.is_stm),
    np.asarray(specs.max_start_epoch) + 1,
    np.asarray(specs.max_start_epoch) - 1 + np.asarray(specs.match_epochs),
  )
  if np.any(needed > epochs):
    raise UserError(
      f"{description}: start epoch + match epochs exceeds the "
      f"{epochs} expert epochs; lower max_start_epoch / "
      "start_epoch_sweep / stm_max_start_epoch"
    )
  history_size = config.stm_max_duration + config.stm_test_every + 1
  states = jax.vmap(
    functools.partial(
      init_state, alpha_init=config.alpha_init, history_size=history_size
    ),
    in_axes=(0, None),
  )(specs, images0)
  keys = jax.random.split(key, num_replicas)
  mesh = parallel.replica_mesh(num_replicas)
  specs, states, keys = parallel.shard_replicas((specs, states, keys), mesh)

  compiled = _compiled_chunk(
    ml_collections.FrozenConfigDict(config),
    apply,
    tuple(np.asarray(labels).tolist()),
    mesh,
    with_stm,
  )
  size = min(config.chunk_iterations, num_iterations)
  if size < 1 or num_iterations % size:
    raise UserError(
      f"{description}: iterations ({num_iterations}) must be "
      f"a multiple of chunk_iterations ({size})"
    )

  def advance(states, start, size):
    return compiled(
      specs, keys, states, jnp.arange(start, start + size), trajectories
    )

  result = loop.run(
    advance,
    states,
    num_iterations,
    chunk_steps=size,
    name=f"galaxy/distill {description}",
    checkpoints=checkpoints,
    history_axis=1,
    log_every_chunk=True,
  )
  return parallel.gather(result.state), result.history
