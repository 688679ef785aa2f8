"""Flat parameter vectors: ravel_pytree order, one dtype, x64-safe."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from repro.nn import flat


def test_layout_of_a_hand_tree():
  tree = {
    "b": jnp.array([5.0]),
    "a": jnp.array([[1.0, 2.0], [3.0, 4.0]]),
    "c": [jnp.zeros((0, 3)), jnp.array(6.0)],
  }
  layout = flat.layout(tree)
  # Dict keys in sorted order, each leaf row-major, empty leaves skipped.
  vector = layout.ravel(tree)
  chex.assert_shape(vector, (6,))
  chex.assert_type(vector, jnp.float32)
  np.testing.assert_array_equal(vector, [1, 2, 3, 4, 5, 6])
  assert layout.num_params == 6
  assert layout.shapes == ((2, 2), (1,), (0, 3), ())
  back = layout.unravel(vector)
  chex.assert_trees_all_equal_shapes_and_dtypes(back, tree)
  chex.assert_trees_all_equal(back, tree)
  with pytest.raises(ValueError, match="parameters"):
    layout.unravel(jnp.zeros(5))
  with pytest.raises(ValueError, match="structure"):
    layout.ravel({"a": tree["a"]})


def test_float32_vectors_equal_ravel_pytree_bit_for_bit():
  module = nn.Sequential([nn.Dense(7), nn.relu, nn.Dense(3)])
  inputs = jax.random.normal(jax.random.key(0), (4, 5))
  params = module.init(jax.random.key(1), inputs)
  expected, unravel = ravel_pytree(params)
  model = flat.flat_model(module, inputs)
  got = model.init(jax.random.key(1))
  chex.assert_shape(got, (model.num_params,))
  chex.assert_type(got, jnp.float32)
  np.testing.assert_array_equal(got, expected)
  chex.assert_trees_all_equal(model.unravel(got), unravel(expected))
  np.testing.assert_array_equal(
    model.apply(got, inputs), module.apply(params, inputs)
  )


class _Mixed(nn.Module):
  """A float64-by-default parameter (under x64) next to nn.Dense's float32."""

  @nn.compact
  def __call__(self, x):
    scale = self.param("scale", nn.initializers.ones, (x.shape[-1],))
    return nn.Dense(2)(x * scale)


def test_float64_stays_float64_where_ravel_pytree_rounds_to_float32():
  with jax.enable_x64(True):
    inputs = jax.random.normal(jax.random.key(0), (3, 4), jnp.float64)
    module = _Mixed()
    params = module.init(jax.random.key(1), inputs)
    dtypes = {str(leaf.dtype) for leaf in jax.tree.leaves(params)}
    assert dtypes == {"float32", "float64"}  # the hazard
    model = flat.flat_model(module, inputs)  # default: float64 here
    theta = model.init(jax.random.key(1))
    chex.assert_type(theta, jnp.float64)
    # A perturbation below float32 resolution reaches the output.
    theta = theta + 1e-12 * jnp.arange(theta.size, dtype=jnp.float64)
    leaves = jax.tree.leaves(model.unravel(theta))
    assert all(leaf.dtype == jnp.float64 for leaf in leaves)
    got = model.apply(theta, inputs)
    chex.assert_shape(got, (3, 2))
    chex.assert_type(got, jnp.float64)
    # By hand: leaves in order bias [2], kernel [4, 2], scale [4].
    theta = np.asarray(theta)
    bias, kernel, scale = theta[:2], theta[2:10].reshape(4, 2), theta[10:]
    expected = (np.asarray(inputs) * scale) @ kernel + bias
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)
    # ravel_pytree's unravel casts the Dense leaves back to float32.
    _, unravel = ravel_pytree(params)
    rounded = module.apply(unravel(jnp.asarray(theta)), inputs)
    assert float(jnp.max(jnp.abs(rounded - expected))) > 1e-12
    # A float32 layout of the same module: init in float32.
    single = flat.flat_model(module, inputs, dtype=jnp.float32)
    chex.assert_type(single.init(jax.random.key(1)), jnp.float32)


def test_default_dtype_follows_x64():
  assert flat.default_float_dtype() == np.float32
  with jax.enable_x64(True):
    assert flat.default_float_dtype() == np.float64
