"""Robust ERM of linear models on synthetic data (paper, Section 3, Figs 1-2).

Every problem of a sweep is one (dataset, training size m, eps) triple and
is trained by one of four algorithms on the robust loss

  L(w) = log sum_{i <= m} exp(-(y_i <w, x_i> - eps ||w||_1))

(linf perturbations, closed form of eq. (1); its gradient is the summed
exponential loss's gradient divided by the loss, i.e. normalised steps):

  gd    gradient descent, step 1/B_inf^2
  cd    greedy coordinate descent (l1 steepest descent), step 1/B_inf^2
  sd    sign descent in exact l_inf steepest form, w -= lr ||g||_1 sign(g),
        step 1/B_1^2
  diag  gradient descent on a depth-2 diagonal network w = u^2 - v^2 from
        u = v = alpha/sqrt(2d), step 1/B_inf^2 / max(1, ||(u, v)||^2)

where B_q = max_i ||x_i||_q + eps ||1||_q bounds the q-norm of every
per-example gradient of the robust margin (for q = inf this is the
'proof' step 1/(x_max + eps)^2 of an unattributed public implementation).
Datasets share their inputs across the (m, eps) columns: m is a mask over
a pool of max(m) points, so one jitted scan trains every column of every
dataset with a batched matmul.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import threadpoolctl

from repro.nn import diagonal
from repro.ops import max_margin
from repro.ops import robust_linear as rl
from repro.ops import steepest_descent as sd

ALGORITHMS = ("gd", "cd", "sd", "diag")
# The limit direction each algorithm is expected to reach (Section 3).
REFERENCE_OF = {"gd": "l2", "cd": "l1", "sd": "linf", "diag": "l1"}


@dataclasses.dataclass
class LinearData:
  """Datasets stacked on a leading axis D; float64 numpy arrays."""

  teacher: np.ndarray  # [D, d]
  x_train: np.ndarray  # [D, M, d], the pool; the first m points train
  y_train: np.ndarray  # [D, M]
  x_test: np.ndarray  # [D, n, d]
  y_test: np.ndarray  # [D, n]


@dataclasses.dataclass
class Grid:
  """The (m, eps fraction) columns shared by every dataset."""

  train_sizes: np.ndarray  # [C] m of each column
  fractions: np.ndarray  # [C] eps / eps* of each column
  masks: np.ndarray  # [C, M] the training points of each column
  eps: np.ndarray  # [D, C] eps = fraction * eps*(dataset, m)
  eps_star: np.ndarray  # [D, C]


def make_data(
  keys,
  teacher_nonzero,
  input_nonzero,
  dim: int,
  rho: float,
  pool_size: int,
  num_test: int,
) -> LinearData:
  """Draws one teacher, train pool and test set per key (numpy, float64).

  Args:
    keys: ``D`` JAX keys, one per dataset (seeding numpy generators).
    teacher_nonzero: ``D`` values of k_w (exactly k_w entries +-1; k_w = d
      is a dense sign teacher).
    input_nonzero: ``D`` values of k_x; 0 means dense N(0, I_d) inputs.
    dim: d.
    rho: margin injection (``robust_linear.inject_margin``).
    pool_size: training points per dataset (the largest m).
    num_test: test points per dataset.
  """
  datasets = []
  for key, k_w, k_x in zip(keys, teacher_nonzero, input_nonzero, strict=True):
    generator = rl.numpy_generator(key)
    teacher = rl.sample_teacher(generator, dim, int(k_w))
    nonzero = float(k_x) if k_x else None
    train = rl.make_teacher_data(generator, teacher, pool_size, nonzero, rho)
    test = rl.make_teacher_data(generator, teacher, num_test, nonzero, rho)
    datasets.append((teacher, *train, *test))
  columns = zip(*datasets, strict=True)
  return LinearData(*(np.stack(arrays) for arrays in columns))


def make_grid(data: LinearData, train_sizes, fractions) -> Grid:
  """Columns (m, fraction) in row-major order, with eps per dataset."""
  sizes = np.repeat(np.asarray(train_sizes), len(fractions))
  column_fractions = np.tile(
    np.asarray(fractions, np.float64), len(train_sizes)
  )
  pool_size = data.x_train.shape[1]
  masks = np.arange(pool_size)[None, :] < sizes[:, None]
  margins = data.y_train * np.einsum("dmk,dk->dm", data.x_train, data.teacher)
  margins = margins / np.abs(data.teacher).sum(1, keepdims=True)
  # eps*(dataset, m): the teacher's linf-robust margin on the first m points.
  eps_star = np.min(np.where(masks[None], margins[:, None, :], np.inf), axis=2)
  return Grid(
    sizes, column_fractions, masks, column_fractions * eps_star, eps_star
  )


def weights_of(algorithm: str, params) -> jax.Array:
  """The linear predictor of an algorithm's parameters."""
  if algorithm == "diag":
    return diagonal.effective_weights(params, depth=2)
  return params


def initial_params(algorithm: str, dim: int, alpha: float):
  if algorithm == "diag":
    return diagonal.initial_weights(dim, alpha, jnp.float64)
  return jnp.zeros((dim,), jnp.float64)


def optimizer(algorithm: str, learning_rate) -> optax.GradientTransformation:
  """The update rule of ``algorithm`` (module docstring)."""
  if algorithm in ("gd", "diag"):
    return optax.sgd(learning_rate)
  if algorithm == "cd":
    # Gauss-Southwell on the minimum-norm subgradient, stopping at the l1
    # kink: plain subgradient CD cycles forever on one coordinate at 0.
    return optax.chain(
      sd.greedy_coordinate_descent(learning_rate), sd.stop_at_zero_crossing()
    )
  if algorithm == "sd":
    return sd.sign_descent(learning_rate, scale_by_l1_norm=True)
  raise ValueError(f"unknown algorithm {algorithm!r}")


def step_size(
  algorithm: str, x: jax.Array, mask: jax.Array, eps, scale: float = 1.0
) -> jax.Array:
  """1/B^2 with B bounding the per-example robust-margin gradients."""
  x = jnp.where(mask[:, None], x, 0.0)
  dim = x.shape[-1]
  if algorithm == "sd":
    bound = jnp.max(jnp.sum(jnp.abs(x), axis=1)) + eps * dim
  else:
    bound = jnp.max(jnp.abs(x)) + eps
  return scale / bound**2


def _loss_and_grad(algorithm, params, x, y, mask, eps):
  if algorithm == "cd":
    return rl.robust_logsumexp_loss_and_subgradient(params, x, y, eps, mask)
  # Autodiff with d||w||_1 = sign(w), 0 at 0 (rl.l1_norm): a nonzero choice
  # at 0 would push every coordinate alike at the first step from w = 0.
  loss_fn = lambda p: rl.robust_logsumexp_loss(
    weights_of(algorithm, p), x, y, eps, mask
  )
  return jax.value_and_grad(loss_fn)(params)


def _problem_step(algorithm, x, y, mask, eps, learning_rate, params, opt_state):
  """One step of one problem; returns (params, opt_state, loss)."""
  loss, grad = _loss_and_grad(algorithm, params, x, y, mask, eps)
  if algorithm == "diag":
    # Normalised step for the 2-homogeneous parameterisation (Section 3).
    squared_norm = sum(jnp.sum(leaf**2) for leaf in jax.tree.leaves(params))
    learning_rate = learning_rate / jnp.maximum(1.0, squared_norm)
  updates, opt_state = optimizer(algorithm, learning_rate).update(
    grad, opt_state, params
  )
  return optax.apply_updates(params, updates), opt_state, loss


def snapshot_steps(num_steps: int, num_snapshots: int) -> np.ndarray:
  """Log-spaced steps in [~num_steps/1000, num_steps], ending at num_steps."""
  first = max(1, num_steps // 1000)
  steps = np.unique(
    np.round(np.geomspace(first, num_steps, num_snapshots)).astype(int)
  )
  steps[-1] = num_steps
  return steps


@functools.partial(jax.jit, static_argnames=("algorithm", "dim", "alpha"))
def _train(
  algorithm, dim, alpha, x_train, y_train, masks, eps, lr_scale, segment_lengths
):
  """Trains every (dataset, column) problem; returns w and loss snapshots."""
  num_datasets, num_columns = eps.shape
  lr = jax.vmap(
    jax.vmap(
      functools.partial(step_size, algorithm), in_axes=(None, 0, 0, None)
    ),
    in_axes=(0, None, 0, None),
  )(x_train, masks, eps, lr_scale)
  params = jax.tree.map(
    lambda leaf: jnp.broadcast_to(
      leaf, (num_datasets, num_columns) + leaf.shape
    ),
    initial_params(algorithm, dim, alpha),
  )
  opt_state = jax.vmap(jax.vmap(optimizer(algorithm, 1.0).init))(params)
  step = jax.vmap(
    jax.vmap(
      functools.partial(_problem_step, algorithm),
      in_axes=(None, None, 0, 0, 0, 0, 0),
    ),
    in_axes=(0, 0, None, 0, 0, 0, 0),
  )

  def segment(carry, length):
    def body(_, state):
      params, opt_state, _ = state
      return step(x_train, y_train, masks, eps, lr, params, opt_state)

    carry = jax.lax.fori_loop(0, length, body, carry)
    return carry, (weights_of(algorithm, carry[0]), carry[2])

  init = (params, opt_state, jnp.zeros((num_datasets, num_columns)))
  _, (weights, losses) = jax.lax.scan(segment, init, segment_lengths)
  return weights, losses


def train(
  algorithm: str,
  data: LinearData,
  grid: Grid,
  num_steps: int,
  steps: np.ndarray,
  alpha: float = 1e-3,
  lr_scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
  """Runs ``algorithm`` on every problem; call inside an x64 scope.

  Returns:
    weights ``[K, D, C, d]`` and robust losses ``[K, D, C]`` at ``steps``.
  """
  del num_steps  # steps[-1] is the total.
  lengths = np.diff(np.concatenate([[0], steps])).astype(np.int32)
  weights, losses = _train(
    algorithm,
    data.x_train.shape[-1],
    alpha,
    jnp.asarray(data.x_train),
    jnp.asarray(data.y_train),
    jnp.asarray(grid.masks),
    jnp.asarray(grid.eps),
    lr_scale,
    jnp.asarray(lengths),
  )
  return np.asarray(weights), np.asarray(losses)


def robust_accuracies(
  weights: np.ndarray,
  x: np.ndarray,
  y: np.ndarray,
  eps: np.ndarray,
  masks: np.ndarray | None = None,
) -> np.ndarray:
  """Exact linf robust accuracy of ``weights [..., D, C, d]``; ``[..., D, C]``.

  ``x [D, n, d]``, ``y [D, n]``, ``eps [D, C]``; with ``masks [C, n]`` only
  the masked points count (training accuracy). One BLAS matmul per dataset.
  """
  out = np.zeros(weights.shape[:-1])
  for index in range(x.shape[0]):
    w = weights[..., index, :, :]  # [..., C, d]
    scores = (w @ x[index].T) * y[index]  # [..., C, n]
    robust = scores - (eps[index] * np.abs(w).sum(-1))[..., None]
    correct = robust > 0
    if masks is None:
      out[..., index, :] = correct.mean(-1)
    else:
      out[..., index, :] = (correct & masks).sum(-1) / masks.sum(-1)
  return out


def references(data: LinearData, grid: Grid) -> dict[str, np.ndarray]:
  """Min-norm robust separators (l1, l2, linf) of every problem; [D, C, d]."""
  num_datasets, num_columns = grid.eps.shape
  dim = data.x_train.shape[-1]
  solutions = {
    name: np.zeros((num_datasets, num_columns, dim))
    for name in ("l1", "l2", "linf")
  }
  # Small dense solves: multithreaded BLAS only adds overhead here.
  with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
    _solve_references(data, grid, solutions)
  return solutions


def _solve_references(data: LinearData, grid: Grid, solutions: dict):
  num_datasets, num_columns = grid.eps.shape
  for index in range(num_datasets):
    for column in range(num_columns):
      size = grid.train_sizes[column]
      x = data.x_train[index, :size]
      y = data.y_train[index, :size]
      eps = float(grid.eps[index, column])
      solutions["l1"][index, column] = max_margin.l1_max_margin(x, y, eps)
      solutions["l2"][index, column] = max_margin.l2_min_norm_robust_separator(
        x, y, eps
      )
      solutions["linf"][index, column] = max_margin.linf_min_norm_separator(
        x, y, eps
      )


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Cosine similarity along the last axis (0 where a vector is 0)."""
  norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
  return np.where(
    norms > 0, (a * b).sum(-1) / np.where(norms > 0, norms, 1), 0.0
  )
