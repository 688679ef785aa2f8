"""Full-batch GD from alpha-scaled initialisations (claim G7; paper Sec. 5).

Follows the official ``trainability.py``: Kaiming init times ``alpha``,
plain full-batch gradient descent with ``lr = base_lr / alpha^(L - 2)``
(keeps the relative update size independent of ``alpha`` for a network
homogeneous of degree ``L``), float32, no augmentation; every
``log_every`` steps: train/test accuracy, loss, ``||grad||``, ``||theta||``,
``cos(theta, grad)``, ``cos(theta, theta_0)`` (laziness) and the fraction
of exactly-zero logits (a dead network). Sharpness (top Hessian eigenvalue,
Lanczos) at the start and the end. All alphas run as one ``vmap`` of a
``lax.scan``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from repro.ops import hessian as hess
from repro.studies.goldilocks import sweeps
from repro.studies.goldilocks.problems import Problem, mean_cross_entropy


def _cosine(a, b):
  norms = jnp.linalg.norm(a) * jnp.linalg.norm(b)
  return jnp.where(norms > 0, jnp.dot(a, b) / jnp.where(norms > 0, norms, 1),
                   0.0)


def run_training(config, problem: Problem, theta0,
                 key) -> dict[str, np.ndarray]:
  """Trains the initialisation ``theta0`` at every ``training.log_alphas``.

  ``key`` draws the Lanczos starting vectors of the sharpness.

  Returns numpy arrays: ``log_alphas [A]``, ``steps [P]`` and
  ``<metric> [A, P]`` for the logged metrics, ``sharpness_init/final [A]``.
  """
  group = config.training
  if group.num_steps % group.log_every:
    raise ValueError("training.num_steps must be a multiple of log_every")
  num_blocks = group.num_steps // group.log_every
  log_alphas = np.asarray(group.log_alphas, np.float32)
  alphas = 10.0**log_alphas
  learning_rates = group.base_lr / alphas**(problem.num_layers - 2)
  theta0 = jnp.asarray(theta0, jnp.float32)
  sharpness_key = key
  data = tuple(jnp.asarray(a) for a in (
      problem.train_inputs, problem.train_labels, problem.test_inputs,
      problem.test_labels))

  def loss_fn(theta, data):
    train_x, train_y, _, _ = data
    return mean_cross_entropy(problem.apply_flat(theta, train_x), train_y)

  def logged(theta, start, data):
    train_x, train_y, test_x, test_y = data
    train_logits = problem.apply_flat(theta, train_x)
    grad = jax.grad(loss_fn)(theta, data)
    return {
        "train_loss": mean_cross_entropy(train_logits, train_y),
        "train_acc": jnp.mean(jnp.argmax(train_logits, -1) == train_y),
        "test_acc": jnp.mean(jnp.argmax(problem.apply_flat(theta, test_x), -1)
                             == test_y),
        "grad_norm": jnp.linalg.norm(grad),
        "param_norm": jnp.linalg.norm(theta),
        "cos_theta_grad": _cosine(theta, grad),
        "cos_theta_init": _cosine(theta, start),
        "zero_logit_frac": jnp.mean(train_logits == 0.0),
    }

  def sharpness(theta, data, key):
    matvec, dim = hess.flat_hvp(lambda t: loss_fn(t, data), theta)
    return hess.lanczos_eigenvalues(matvec, key, dim, group.sharpness_steps,
                                    jnp.float32)[-1]

  def train_one(alpha, lr, data, index):
    key = jax.random.fold_in(sharpness_key, index)
    start = alpha * theta0

    def block(theta, _):
      def step(theta, _):
        return theta - lr * jax.grad(loss_fn)(theta, data), None
      theta, _ = jax.lax.scan(step, theta, None, length=group.log_every)
      return theta, logged(theta, start, data)

    final, history = jax.lax.scan(block, start, None, length=num_blocks)
    first = logged(start, start, data)
    history = jax.tree.map(lambda a, h: jnp.concatenate([a[None], h]),
                           first, history)
    key_init, key_final = jax.random.split(key)
    history["sharpness_init"] = sharpness(start, data, key_init)
    history["sharpness_final"] = sharpness(final, data, key_final)
    return history

  logging.info("goldilocks: GD at %d alphas x %d steps (%s, D=%d)",
               len(alphas), group.num_steps, group.dataset,
               problem.num_params)
  history = sweeps.study_jit(config, jax.vmap(train_one, (0, 0, None, 0)))(
      jnp.asarray(alphas), jnp.asarray(learning_rates, jnp.float32), data,
      jnp.arange(len(alphas), dtype=jnp.int32))
  results = {name: np.asarray(values) for name, values in history.items()}
  results["log_alphas"] = log_alphas.astype(np.float64)
  results["steps"] = np.arange(num_blocks + 1) * group.log_every
  results["learning_rates"] = np.asarray(learning_rates, np.float64)
  return results
