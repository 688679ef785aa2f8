"""Steepest descent w.r.t. the l1 and linf norms as optax transformations.

Steepest descent w.r.t. ||.||_r moves along argmin_{||u||_r <= 1} <g, u>
scaled by ||g||_{r*} (Gunasekar et al. 2018; Tsilivis et al. 2024, arXiv
2406.04981, Section 3):

  r = 2:   w <- w - lr g                             (gradient descent)
  r = 1:   w_i <- w_i - lr g_i, i = argmax_j |g_j|   (greedy coordinate descent)
  r = inf: w <- w - lr ||g||_1 sign(g)               (sign descent; or the
                                                      plain w - lr sign(g))

The coordinate and sign rules act on the whole parameter pytree as one
vector: coordinate descent moves only the single entry of largest |g| over
ALL leaves, and the l1 norm of sign descent is taken over all leaves. Both
work with ``repro.core.train.fit`` and under ``jax.vmap``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree


class _Stateless(NamedTuple):
  """No state is needed by the direction transformations."""


def keep_largest_coordinate() -> optax.GradientTransformation:
  """Zeroes every update entry except the one of largest |value| overall.

  Ties go to the first entry in ``ravel_pytree`` order (leaves in pytree
  order, each in row-major order).
  """

  def init_fn(params):
    del params
    return _Stateless()

  def update_fn(updates, state, params=None):
    del params
    flat, unravel = ravel_pytree(updates)
    if flat.size == 0:
      return updates, state
    winner = jnp.argmax(jnp.abs(flat))
    kept = jnp.zeros_like(flat).at[winner].set(flat[winner])
    return unravel(kept), state

  return optax.GradientTransformation(init_fn, update_fn)


def scale_by_sign_times_l1_norm() -> optax.GradientTransformation:
  """Maps g to ||g||_1 sign(g), the linf steepest direction times ||g||_1.

  ||g||_1 is the sum over every leaf of the update pytree.
  """

  def init_fn(params):
    del params
    return _Stateless()

  def update_fn(updates, state, params=None):
    del params
    total = sum(jnp.sum(jnp.abs(leaf)) for leaf in jax.tree.leaves(updates))
    return jax.tree.map(lambda g: total * jnp.sign(g), updates), state

  return optax.GradientTransformation(init_fn, update_fn)


def stop_at_zero_crossing() -> optax.GradientTransformation:
  """Shortens an update that would flip a parameter's sign to land on 0.

  Steps on a loss with an l1 term overshoot its kink at 0 and can bounce
  across it forever (greedy coordinate descent then picks the same
  coordinate every step). Stopping at 0, as orthant-wise methods do, lets
  the minimum-norm subgradient (``robust_linear.l1_min_norm_subgradient``)
  decide whether the coordinate leaves 0 again. Needs ``params``.
  """

  def init_fn(params):
    del params
    return _Stateless()

  def update_fn(updates, state, params=None):
    if params is None:
      raise ValueError("stop_at_zero_crossing needs params")

    def clip(update, param):
      crosses = (param != 0) & (param * (param + update) < 0)
      return jnp.where(crosses, -param, update)

    return jax.tree.map(clip, updates, params), state

  return optax.GradientTransformation(init_fn, update_fn)


def greedy_coordinate_descent(
  learning_rate: optax.ScalarOrSchedule,
) -> optax.GradientTransformation:
  """l1 steepest descent: w_i <- w_i - lr g_i at i = argmax_j |g_j|.

  Greedy (Gauss-Southwell), not random or cyclic, as the paper's CD is;
  the argmax runs over all parameters of the pytree.
  """
  return optax.chain(
    keep_largest_coordinate(), optax.scale_by_learning_rate(learning_rate)
  )


def sign_descent(
  learning_rate: optax.ScalarOrSchedule, scale_by_l1_norm: bool = False
) -> optax.GradientTransformation:
  """linf steepest descent: w <- w - lr sign(g) (times ||g||_1 if asked).

  The plain form (``scale_by_l1_norm=False``) is what the paper's network
  experiments use (arXiv 2406.04981, Section 4); the scaled
  form is the exact steepest descent step.
  """
  direction = (
    scale_by_sign_times_l1_norm() if scale_by_l1_norm else optax.scale_by_sign()
  )
  return optax.chain(direction, optax.scale_by_learning_rate(learning_rate))


def steepest_descent(
  norm: str, learning_rate: optax.ScalarOrSchedule
) -> optax.GradientTransformation:
  """Steepest descent w.r.t. ``norm`` in {"l2", "l1", "linf"}.

  l2 is plain gradient descent, l1 greedy coordinate descent and linf sign
  descent in its exact form (direction sign(g) scaled by ||g||_1).
  """
  if norm == "l2":
    return optax.sgd(learning_rate)
  if norm == "l1":
    return greedy_coordinate_descent(learning_rate)
  if norm == "linf":
    return sign_descent(learning_rate, scale_by_l1_norm=True)
  raise ValueError(f"unknown norm {norm!r}; use 'l2', 'l1' or 'linf'")
