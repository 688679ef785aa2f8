"""The homogeneous ReLU MLP: shapes, init bounds, homogeneity."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.nn.mlp import MLP


def test_scalar_output_and_uniform_fan_in_init():
  model = MLP(hidden_sizes=(300,), init_scale=0.01)
  params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
  first = params["params"]["dense_0"]["kernel"]
  second = params["params"]["dense_1"]["kernel"]
  assert first.shape == (64, 300) and second.shape == (300, 1)
  assert "bias" not in params["params"]["dense_0"]
  for kernel, fan_in in ((first, 64), (second, 300)):
    bound = 0.01 / np.sqrt(fan_in)
    assert float(jnp.abs(kernel).max()) <= bound
    # Uniform on [-b, b]: the extremes are reached and the std is b/sqrt(3).
    assert float(jnp.abs(kernel).max()) > 0.95 * bound
    assert float(kernel.std()) == pytest.approx(bound / np.sqrt(3), rel=0.1)
  out = jax.jit(model.apply)(params, jnp.ones((5, 8, 8, 1)))
  assert out.shape == (5,)
  chex.assert_shape(out, (5,))
  chex.assert_type(out, jnp.float32)


def test_bias_free_network_is_two_homogeneous():
  x = jax.random.normal(jax.random.key(2), (6, 10))

  @jax.jit
  def outputs(key):
    results = []
    for hidden, scale in (((32,), 3.0), ((16, 16), 2.0)):
      model = MLP(hidden_sizes=hidden)
      params = model.init(key, x)
      scaled = jax.tree.map(lambda p, s=scale: s * p, params)
      results.append((model.apply(scaled, x), model.apply(params, x)))
    return results

  (shallow_scaled, shallow), (deep_scaled, deep) = outputs(jax.random.key(1))
  chex.assert_shape([shallow_scaled, shallow, deep_scaled, deep], (6,))
  np.testing.assert_allclose(shallow_scaled, 9.0 * shallow, rtol=1e-5)
  np.testing.assert_allclose(deep_scaled, 8.0 * deep, rtol=1e-5)


def test_biases_and_several_outputs():
  model = MLP(hidden_sizes=(4, 5), num_outputs=3, use_bias=True)
  params = jax.jit(model.init)(jax.random.key(4), jnp.zeros((1, 7)))
  shapes = jax.tree.map(jnp.shape, params["params"])
  assert shapes["dense_2"] == {"kernel": (5, 3), "bias": (3,)}
  bias = params["params"]["dense_0"]["bias"]
  assert float(jnp.abs(bias).max()) <= 1 / np.sqrt(7)
  assert float(jnp.abs(bias).max()) > 0
  out = jax.jit(model.apply)(params, jnp.ones((2, 7)))
  assert out.shape == (2, 3)
  chex.assert_shape(out, (2, 3))
  chex.assert_type(out, jnp.float32)


def test_dropout_only_in_train_mode_with_a_mask_per_key():
  model = MLP(
    hidden_sizes=(64,), num_outputs=3, use_bias=True, dropout_rate=0.5
  )
  x = jax.random.normal(jax.random.key(0), (4, 6))
  params = jax.jit(model.init)(jax.random.key(1), x)
  plain = MLP(hidden_sizes=(64,), num_outputs=3, use_bias=True)
  np.testing.assert_array_equal(model.apply(params, x), plain.apply(params, x))

  def dropped(key):
    return model.apply(
      params, x, train=True, rngs={"dropout": key}, return_features=True
    )[1][0]

  first, again, other = (dropped(jax.random.key(k)) for k in (2, 2, 3))
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first, other)
  # Inverted dropout: kept units are scaled by 1 / (1 - rate).
  kept = np.asarray(first) != 0
  hidden = plain.apply(params, x, return_features=True)[1][0]
  np.testing.assert_allclose(
    np.asarray(first)[kept], 2.0 * np.asarray(hidden)[kept], rtol=1e-6
  )


def test_features_and_no_output_layer():
  model = MLP(
    hidden_sizes=(5, 4), num_outputs=2, use_bias=True, activation=jnp.tanh
  )
  x = jax.random.normal(jax.random.key(0), (3, 7))
  params = jax.jit(model.init)(jax.random.key(1), x)["params"]
  logits, features = model.apply({"params": params}, x, return_features=True)
  assert [f.shape for f in features] == [(3, 5), (3, 4)]
  assert float(jnp.abs(features[0]).max()) < 1.0  # tanh
  body = MLP(
    hidden_sizes=(5, 4), num_outputs=None, use_bias=True, activation=jnp.tanh
  )
  body_params = {k: v for k, v in params.items() if k != "dense_2"}
  np.testing.assert_array_equal(
    body.apply({"params": body_params}, x), features[-1]
  )
  head = params["dense_2"]
  np.testing.assert_allclose(
    logits, features[-1] @ head["kernel"] + head["bias"], rtol=1e-5, atol=1e-6
  )


def test_kaiming_normal_init_has_zero_biases_and_unknown_init_fails():
  model = MLP(
    hidden_sizes=(400,),
    num_outputs=2,
    use_bias=True,
    weight_init="kaiming_normal",
    init_scale=2.0,
  )
  params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 300)))["params"]
  assert float(jnp.abs(params["dense_0"]["bias"]).max()) == 0.0
  assert float(params["dense_0"]["kernel"].std()) == pytest.approx(
    2.0 * np.sqrt(2 / 300), rel=0.02
  )
  with pytest.raises(ValueError, match="weight_init"):
    MLP(weight_init="xavier").init(jax.random.key(0), jnp.zeros((1, 3)))
