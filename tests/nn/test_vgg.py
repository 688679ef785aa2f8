"""VGG11-BN (cfg A without the last max-pool): shapes and features."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from repro.nn.vgg import VGG11_LAYERS, vgg11_bn


def _init_and_features(images):
  model = vgg11_bn(num_classes=10, width_multiplier=1 / 16)

  @jax.jit
  def run(key):
    variables = model.init(key, images)
    logits, features = model.apply(variables, images, return_features=True)
    _, updates = model.apply(
      variables, images, train=True, mutable=["batch_stats"]
    )
    return variables, logits, features, updates

  # An rbg key: threefry init of eight conv kernels compiles ~5x slower.
  return run(jax.random.key(1, impl="rbg"))


def test_vgg11_bn_penultimate_is_512_channels_after_pooling():
  images = jax.random.uniform(jax.random.key(0), (2, 32, 32, 3))
  variables, logits, features, updates = _init_and_features(images)
  assert logits.shape == (2, 10)
  chex.assert_shape(logits, (2, 10))
  chex.assert_type(logits, jnp.float32)
  num_convs = sum(1 for item in VGG11_LAYERS if item != "M")
  assert num_convs == 8
  # Seven pooled conv blocks, then the penultimate layer (512 / 16 = 32).
  assert len(features) == num_convs
  assert features[-1].shape == (2, 32)
  chex.assert_shape(features[-1], (2, 32))
  chex.assert_rank(features, 2)  # globally pooled (batch, channels)
  classifier = variables["params"]["classifier"]
  np.testing.assert_allclose(
    logits,
    features[-1] @ classifier["kernel"] + classifier["bias"],
    rtol=1e-4,
    atol=1e-5,
  )
  # Train mode normalises with batch statistics and moves the running ones.
  before = jax.tree.leaves(variables["batch_stats"])
  after = jax.tree.leaves(updates["batch_stats"])
  chex.assert_trees_all_equal_shapes_and_dtypes(
    updates["batch_stats"], variables["batch_stats"]
  )
  assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
