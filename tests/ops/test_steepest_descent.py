"""l1 and linf steepest descent as optax transformations."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from repro.core import train
from repro.ops import steepest_descent as sd

PARAMS = {"a": jnp.array([1.0, 2.0, 3.0]), "b": jnp.array([[0.5, -0.5]])}
GRADS = {"a": jnp.array([0.1, -0.4, 0.2]), "b": jnp.array([[0.3, -0.7]])}


def _step(optimizer, params=PARAMS, grads=GRADS):
  updates, _ = optimizer.update(grads, optimizer.init(params), params)
  return optax.apply_updates(params, updates)


def test_coordinate_descent_moves_only_the_largest_entry_over_all_leaves():
  new = _step(sd.greedy_coordinate_descent(0.5))
  chex.assert_trees_all_equal_shapes_and_dtypes(new, PARAMS)
  changed = jax.tree.map(lambda p, q: np.asarray(p != q), new, PARAMS)
  assert sum(int(c.sum()) for c in jax.tree.leaves(changed)) == 1
  # |g| is largest at b[0, 1] = -0.7: w -= 0.5 * (-0.7).
  assert float(new["b"][0, 1]) == pytest.approx(-0.5 + 0.35)
  np.testing.assert_array_equal(new["a"], PARAMS["a"])


def test_coordinate_descent_breaks_ties_by_first_entry():
  grads = {"a": jnp.array([1.0, -1.0]), "b": jnp.array([[1.0]])}
  params = jax.tree.map(jnp.zeros_like, grads)
  new = _step(sd.greedy_coordinate_descent(1.0), params, grads)
  np.testing.assert_array_equal(new["a"], [-1.0, 0.0])
  np.testing.assert_array_equal(new["b"], [[0.0]])


def test_sign_descent_plain_and_l1_scaled():
  plain = _step(sd.sign_descent(0.1))
  chex.assert_trees_all_equal_shapes_and_dtypes(plain, PARAMS)
  np.testing.assert_allclose(
    plain["a"], PARAMS["a"] - 0.1 * np.array([1.0, -1.0, 1.0])
  )
  scaled = _step(sd.sign_descent(0.1, scale_by_l1_norm=True))
  l1 = 0.1 + 0.4 + 0.2 + 0.3 + 0.7
  np.testing.assert_allclose(
    scaled["b"], PARAMS["b"] - 0.1 * l1 * np.array([[1.0, -1.0]]), rtol=1e-6
  )
  zero = _step(sd.sign_descent(0.1), grads=jax.tree.map(jnp.zeros_like, GRADS))
  chex.assert_trees_all_equal(zero, PARAMS)


def test_steepest_descent_l2_is_gradient_descent():
  new = _step(sd.steepest_descent("l2", 0.5))
  chex.assert_trees_all_equal_shapes_and_dtypes(new, PARAMS)
  np.testing.assert_allclose(new["a"], PARAMS["a"] - 0.5 * GRADS["a"])
  with pytest.raises(ValueError):
    sd.steepest_descent("l3", 0.1)


def test_stop_at_zero_crossing_lands_on_zero():
  params = jnp.array([0.2, -0.2, 0.0, 1.0])
  updates = jnp.array([-0.5, 0.5, 0.3, -0.5])
  clipped, _ = sd.stop_at_zero_crossing().update(
    updates, sd._Stateless(), params
  )
  chex.assert_shape(clipped, (4,))
  np.testing.assert_allclose(clipped, [-0.2, 0.2, 0.3, -0.5])


def test_coordinate_descent_trains_with_fit_and_vmaps():
  target = jnp.array([3.0, -1.0, 0.5])

  def loss_fn(w, key):
    del key
    return 0.5 * jnp.sum((w - target) ** 2), {}

  state, history = train.fit(
    loss_fn,
    sd.greedy_coordinate_descent(1.0),
    jnp.zeros(3),
    jax.random.key(0),
    3,
  )
  # Step size 1 on a unit quadratic solves one coordinate per step,
  # largest residual first.
  chex.assert_shape(state.params, (3,))
  chex.assert_shape(history["loss"], (3,))
  np.testing.assert_allclose(state.params, target)
  np.testing.assert_allclose(history["loss"], [5.125, 0.625, 0.125])
  batched = jax.vmap(
    lambda g: _step(sd.greedy_coordinate_descent(1.0), jnp.zeros(2), g)
  )(jnp.array([[1.0, 2.0], [3.0, 0.0]]))
  chex.assert_shape(batched, (2, 2))
  np.testing.assert_allclose(batched, [[0.0, -2.0], [-3.0, 0.0]])
