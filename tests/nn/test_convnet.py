"""The distillation ConvNet: im2col conv, instance norm, shapes."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from repro.nn import convnet


def test_conv3x3_matches_lax_convolution():
  images = jax.random.normal(jax.random.key(0), (2, 6, 6, 3))
  layer = convnet.Conv3x3(5)
  params = layer.init(jax.random.key(1), images)
  reference = nn.Conv(5, (3, 3), padding="SAME")
  out = layer.apply(params, images)
  chex.assert_shape(out, (2, 6, 6, 5))
  chex.assert_type(out, jnp.float32)
  expected = reference.apply(params, images)
  np.testing.assert_allclose(out, expected, atol=1e-5)


def test_shapes_and_parameter_count():
  net = convnet.ConvNet(num_classes=9, depth=3, width=8)
  images = jnp.zeros((4, 16, 16, 3))
  params = net.init(jax.random.key(0), images)
  logits = net.apply(params, images)
  assert logits.shape == (4, 9)
  chex.assert_shape(logits, (4, 9))
  chex.assert_type(logits, jnp.float32)
  count = sum(p.size for p in jax.tree.leaves(params))
  convs = (27 * 8 + 8) + 2 * (72 * 8 + 8)
  norms = 3 * 16
  linear = convnet.feature_size(16, 3, 8) * 9 + 9
  assert count == convs + norms + linear


def test_instance_norm_keeps_images_independent():
  net = convnet.ConvNet(num_classes=3, depth=2, width=4)
  images = jax.random.normal(jax.random.key(0), (3, 8, 8, 3))
  params = net.init(jax.random.key(1), images)
  logits = net.apply(params, images)
  chex.assert_shape(logits, (3, 3))
  changed = images.at[1:].multiply(5.0).at[2].add(3.0)
  np.testing.assert_allclose(
    net.apply(params, changed)[0], logits[0], atol=1e-5
  )
  # Instance norm: a per-image affine change of the input that is uniform
  # over pixels and channels leaves the first normalised layer unchanged
  # only up to the conv bias, so logits of image 0 alone stay fixed above.


class _FlaxConvNet(nn.Module):
  """The same network from flax layers (nn.Conv, nn.GroupNorm, avg_pool)."""

  @nn.compact
  def __call__(self, images):
    hidden = images
    for block in range(2):
      hidden = nn.Conv(4, (3, 3), padding="SAME", name=f"conv_{block}")(hidden)
      hidden = nn.GroupNorm(
        num_groups=None, group_size=1, epsilon=1e-5, name=f"norm_{block}"
      )(hidden)
      hidden = nn.avg_pool(nn.relu(hidden), (2, 2), strides=(2, 2))
    hidden = hidden.reshape(hidden.shape[0], -1)
    return nn.Dense(3, name="classifier")(hidden)


def test_convnet_matches_flax_layers():
  net = convnet.ConvNet(num_classes=3, depth=2, width=4)
  images = jax.random.normal(jax.random.key(0), (3, 8, 8, 3))
  params = net.init(jax.random.key(1), images)
  params = jax.tree.map(  # non-trivial norm scale and shift
    lambda a: a + 0.1 * jax.random.normal(jax.random.key(2), a.shape), params
  )
  np.testing.assert_allclose(
    net.apply(params, images), _FlaxConvNet().apply(params, images), atol=1e-5
  )
