"""MLP with batch_norm: shapes, features, train/eval BatchNorm semantics."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from repro.nn.mlp import MLP


def _setup():
  model = MLP(
    hidden_sizes=(16, 8),
    num_outputs=3,
    use_bias=True,
    batch_norm=True,
    output_name="classifier",
  )
  inputs = jax.random.normal(jax.random.key(0), (32, 4, 4, 1)) * 2.0 + 1.0
  variables = jax.jit(model.init)(jax.random.key(1, impl="rbg"), inputs)
  return model, inputs, variables


def test_shapes_and_penultimate_features_feed_the_classifier():
  model, inputs, variables = _setup()
  logits, features = jax.jit(
    lambda v: model.apply(v, inputs, return_features=True)
  )(variables)
  assert logits.shape == (32, 3)
  chex.assert_shape(logits, (32, 3))
  chex.assert_type(logits, jnp.float32)
  assert [f.shape for f in features] == [(32, 16), (32, 8)]
  chex.assert_shape(features, [(32, 16), (32, 8)])
  assert all(float(f.min()) >= 0.0 for f in features)  # ReLU outputs
  classifier = variables["params"]["classifier"]
  np.testing.assert_allclose(
    logits,
    features[-1] @ classifier["kernel"] + classifier["bias"],
    rtol=1e-5,
    atol=1e-5,
  )


def test_train_mode_uses_batch_statistics_and_updates_running_ones():
  model, inputs, variables = _setup()
  (_, features), updates = jax.jit(
    lambda v: model.apply(
      v, inputs, train=True, return_features=True, mutable=["batch_stats"]
    )
  )(variables)
  chex.assert_trees_all_equal_shapes_and_dtypes(
    updates["batch_stats"], variables["batch_stats"]
  )
  # Momentum 0.1 as in PyTorch: running mean = 0.9 * 0 + 0.1 * batch mean.
  pre_activation = (
    inputs.reshape(32, -1) @ (variables["params"]["dense_0"]["kernel"])
  )
  np.testing.assert_allclose(
    updates["batch_stats"]["batch_norm_0"]["mean"],
    0.1 * pre_activation.mean(0),
    rtol=1e-4,
    atol=1e-5,
  )
  # In train mode a hidden unit is normalised over the batch: before the
  # ReLU every channel has mean beta = 0, so about half the units are on.
  active = np.mean(np.asarray(features[0]) > 0, axis=0)
  assert 0.2 < active.mean() < 0.8


def test_eval_mode_is_per_example():
  model, inputs, variables = _setup()
  apply = jax.jit(model.apply)
  full = apply(variables, inputs)
  chex.assert_shape(full, (32, 3))
  single = jnp.concatenate(
    [apply(variables, inputs[i : i + 1]) for i in range(4)]
  )
  np.testing.assert_allclose(full[:4], single, rtol=1e-5, atol=1e-6)
