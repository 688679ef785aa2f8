"""Full-batch GD from alpha-scaled initialisations (claim G7; paper Sec. 5).

Follows the official ``trainability.py``: Kaiming init times ``alpha``,
plain full-batch gradient descent with ``lr = base_lr / alpha^(L - 2)``
(keeps the relative update size independent of ``alpha`` for a network
homogeneous of degree ``L``), float32, no augmentation; every
``log_every`` steps: train/test accuracy, loss, ``||grad||``, ``||theta||``,
``cos(theta, grad)``, ``cos(theta, theta_0)`` (laziness) and the fraction
of exactly-zero logits (a dead network). Sharpness (top Hessian eigenvalue,
Lanczos) at the start and the end. All alphas run as one ``vmap`` of a
``lax.scan``, in chunks of blocks through the resumable loop.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.core import checkpoint, loop
from repro.ops import hessian as hess
from repro.ops.losses import mean_cross_entropy
from repro.studies.goldilocks.problems import Problem


def _cosine(a, b):
  norms = jnp.linalg.norm(a) * jnp.linalg.norm(b)
  return jnp.where(
    norms > 0, jnp.dot(a, b) / jnp.where(norms > 0, norms, 1), 0.0
  )


def run_training(
  config, problem: Problem, theta0, key, checkpoints=None
) -> dict[str, np.ndarray]:
  """Trains the initialisation ``theta0`` at every ``training.log_alphas``.

  ``key`` draws the Lanczos starting vectors of the sharpness;
  ``checkpoints`` (the run's checkpointer or None) makes the GD loop
  resumable.

  Returns numpy arrays: ``log_alphas [A]``, ``steps [P]`` and
  ``<metric> [A, P]`` for the logged metrics, ``sharpness_init/final [A]``.
  """
  group = config.training
  if group.num_steps % group.log_every:
    raise ValueError("training.num_steps must be a multiple of log_every")
  num_blocks = group.num_steps // group.log_every
  log_alphas = np.asarray(group.log_alphas, np.float32)
  alphas = 10.0**log_alphas
  learning_rates = group.base_lr / alphas ** (problem.num_layers - 2)
  theta0 = jnp.asarray(theta0, jnp.float32)
  data = tuple(
    jnp.asarray(a)
    for a in (
      problem.train_inputs,
      problem.train_labels,
      problem.test_inputs,
      problem.test_labels,
    )
  )
  # The GD scan runs in chunks of blocks through the resumable loop: GD is
  # deterministic, so a resumed run is identical.
  chunk_blocks = checkpoint.chunk_count(num_blocks)
  begin, chunk, end = _compiled(
    problem.apply_flat,
    group.log_every,
    group.sharpness_steps,
    config.fast_compile,
    chunk_blocks,
  )
  logging.info(
    "goldilocks: GD at %d alphas x %d steps (%s, D=%d)",
    len(alphas),
    group.num_steps,
    group.dataset,
    problem.num_params,
  )
  indices = jnp.arange(len(alphas), dtype=jnp.int32)
  start, first = begin(jnp.asarray(alphas), theta0, data, key, indices)
  sharpness_init = first.pop("sharpness_init")
  lrs = jnp.asarray(learning_rates, jnp.float32)
  result = loop.run(
    lambda theta, step, size: chunk(theta, start, lrs, data),
    start,
    group.num_steps,
    chunk_steps=chunk_blocks * group.log_every,
    name="goldilocks/training",
    checkpoints=checkpoints,
    finite=("train_loss",),
    history_axis=1,
  )
  theta = result.state
  sharpness_final = end(theta, data, key, indices)
  results = {
    name: np.concatenate(
      [np.asarray(first[name])[:, None], result.history[name]], axis=1
    )
    for name in first
  }
  results["sharpness_init"] = np.asarray(sharpness_init)
  results["sharpness_final"] = np.asarray(sharpness_final)
  results["log_alphas"] = log_alphas.astype(np.float64)
  results["steps"] = np.arange(num_blocks + 1) * group.log_every
  results["learning_rates"] = np.asarray(learning_rates, np.float64)
  return results


@functools.cache
def _compiled(
  apply_flat,
  log_every: int,
  sharpness_steps: int,
  fast_compile: bool,
  chunk_blocks: int,
):
  """``(begin, chunk, end)``: jit(vmap over alphas) of the GD sweep.

  ``begin(alphas, theta0, data, key, indices)``: the scaled inits, their
  logged metrics and sharpness (step 0); ``chunk(theta, start, lrs,
  data)``: ``chunk_blocks`` blocks of ``log_every`` GD steps, logged after
  each; ``end(theta, data, key, indices)``: the final sharpness. Alpha
  ``i`` draws its Lanczos starts from ``fold_in(key, i)``. Cached on the
  network and sizes, so reruns (resume tests) compile once.
  """

  def loss_fn(theta, data):
    train_x, train_y, _, _ = data
    return mean_cross_entropy(apply_flat(theta, train_x), train_y)

  def logged(theta, start, data):
    train_x, train_y, test_x, test_y = data
    train_logits = apply_flat(theta, train_x)
    grad = jax.grad(loss_fn)(theta, data)
    return {
      "train_loss": mean_cross_entropy(train_logits, train_y),
      "train_acc": jnp.mean(jnp.argmax(train_logits, -1) == train_y),
      "test_acc": jnp.mean(jnp.argmax(apply_flat(theta, test_x), -1) == test_y),
      "grad_norm": jnp.linalg.norm(grad),
      "param_norm": jnp.linalg.norm(theta),
      "cos_theta_grad": _cosine(theta, grad),
      "cos_theta_init": _cosine(theta, start),
      "zero_logit_frac": jnp.mean(train_logits == 0.0),
    }

  def sharpness(theta, data, key):
    matvec, dim = hess.flat_hvp(lambda t: loss_fn(t, data), theta)
    return hess.lanczos_eigenvalues(
      matvec, key, dim, sharpness_steps, jnp.float32
    )[-1]

  def begin(alpha, theta0, data, key, index):
    key_init, _ = jax.random.split(jax.random.fold_in(key, index))
    start = alpha * theta0
    first = logged(start, start, data)
    first["sharpness_init"] = sharpness(start, data, key_init)
    return start, first

  def blocks(theta, start, lr, data):
    def block(theta, _):
      def step(theta, _):
        return theta - lr * jax.grad(loss_fn)(theta, data), None

      theta, _ = jax.lax.scan(step, theta, None, length=log_every)
      return theta, logged(theta, start, data)

    return jax.lax.scan(block, theta, None, length=chunk_blocks)

  def end(final, data, key, index):
    _, key_final = jax.random.split(jax.random.fold_in(key, index))
    return sharpness(final, data, key_final)

  options = {"xla_backend_optimization_level": 0} if fast_compile else None
  return tuple(
    jax.jit(jax.vmap(fn, axes), compiler_options=options)
    for fn, axes in (
      (begin, (0, None, None, None, 0)),
      (blocks, (0, 0, 0, None)),
      (end, (0, None, None, 0)),
    )
  )
