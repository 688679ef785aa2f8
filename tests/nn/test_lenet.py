"""Tests of repro.nn.lenet: shapes, bias-free layers, homogeneity, init."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.nn import lenet


def _num_params(params):
  return sum(leaf.size for leaf in jax.tree.leaves(params))


def test_relu_mlp_is_bias_free_and_homogeneous_of_degree_L():
  model = lenet.relu_mlp((32, 32), num_classes=3)
  inputs = jnp.asarray(
    np.random.default_rng(0).normal(size=(17, 2)), jnp.float32
  )
  params = jax.jit(model.init)(jax.random.key(1), inputs)["params"]
  assert _num_params(params) == 2 * 32 + 32 * 32 + 32 * 3  # 1184
  assert all(
    "kernel" in jax.tree_util.keystr(path)
    for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]
  )
  assert lenet.num_weight_layers(model) == 3
  logits = model.apply({"params": params}, inputs)
  assert logits.shape == (17, 3)
  chex.assert_shape(logits, (17, 3))
  chex.assert_type(logits, jnp.float32)
  scaled_params = lenet.scale_params(params, 2.5)
  chex.assert_trees_all_equal_shapes_and_dtypes(scaled_params, params)
  scaled = model.apply({"params": scaled_params}, inputs)
  np.testing.assert_allclose(scaled, 2.5**3 * logits, rtol=1e-5, atol=1e-6)
  with_bias = lenet.relu_mlp((4,), num_classes=2, use_bias=True)
  assert (
    _num_params(
      jax.eval_shape(with_bias.init, jax.random.key(0), inputs)["params"]
    )
    == 2 * 4 + 4 + 4 * 2 + 2
  )


def test_scaled_kaiming_normal_std():
  model = lenet.relu_mlp((300,), num_classes=10, init_scale=3.0)
  params = jax.jit(model.init)(jax.random.key(1), jnp.zeros((1, 400)))["params"]
  chex.assert_shape(params["dense_0"]["kernel"], (400, 300))
  chex.assert_shape(params["dense_1"]["kernel"], (300, 10))
  kernel = np.asarray(params["dense_0"]["kernel"])
  # std = scale * sqrt(2 / fan_in), untruncated normal.
  expected = 3.0 * np.sqrt(2 / 400)
  assert kernel.std() == pytest.approx(expected, rel=0.01)
  # Not truncated at 2 sigma (Flax's truncated_normal would be).
  assert np.abs(kernel).max() > 2.5 * expected
  assert np.asarray(params["dense_1"]["kernel"]).std() == pytest.approx(
    3.0 * np.sqrt(2 / 300), rel=0.05
  )


def test_lenet300100_and_lenet5_shapes_and_homogeneity():
  mlp = lenet.lenet300100()
  images = jax.random.uniform(jax.random.key(0), (3, 28, 28, 1))
  shapes = jax.eval_shape(mlp.init, jax.random.key(1), images)["params"]
  assert _num_params(shapes) == 784 * 300 + 300 * 100 + 100 * 10
  assert jax.eval_shape(mlp.apply, {"params": shapes}, images).shape == (3, 10)
  assert lenet.num_weight_layers(mlp) == 3

  conv = lenet.LeNet5()
  images = jax.random.uniform(jax.random.key(2), (2, 32, 32, 3))
  shapes = jax.eval_shape(conv.init, jax.random.key(3), images)["params"]
  assert _num_params(shapes) == (
    5 * 5 * 3 * 6 + 5 * 5 * 6 * 16 + 400 * 120 + 120 * 84 + 84 * 10
  )
  assert lenet.num_weight_layers(conv) == 5
  # Random kernels (numpy: no compile per shape); one compiled apply.
  rng = np.random.default_rng(0)
  params = jax.tree.map(
    lambda leaf: jnp.asarray(rng.normal(size=leaf.shape) * 0.2, jnp.float32),
    shapes,
  )
  apply = jax.jit(conv.apply)
  logits = apply({"params": params}, images)
  assert logits.shape == (2, 10)
  chex.assert_shape(logits, (2, 10))
  chex.assert_type(logits, jnp.float32)
  scaled = apply({"params": lenet.scale_params(params, 1.5)}, images)
  np.testing.assert_allclose(scaled, 1.5**5 * logits, rtol=1e-4, atol=1e-6)
