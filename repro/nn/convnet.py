"""The "ConvNet" of dataset distillation (MTT; arXiv 2311.17967, official code).

``depth`` blocks of conv 3x3 (same padding) -> instance norm -> ReLU ->
2x2 average pooling, then one linear layer. Instance norm is GroupNorm with
one channel per group (the reference's ``GroupNorm(width, width)``) with a
learnt per-channel scale and shift; unlike BatchNorm it normalises every
image on its own, so the functional unroll of trajectory matching sees no
coupling between the images of a batch.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def conv3x3_patches(images: jax.Array) -> jax.Array:
  """im2col: [B, H, W, C] -> [B, H, W, 9 C] (3x3 neighbourhoods, zero pad).

  Convolution as patches @ kernel keeps every derivative a matrix product;
  XLA:CPU runs the second-order derivatives of a native convolution
  (needed by the unrolled gradient of trajectory matching) through slow
  grouped-convolution paths.
  """
  height, width = images.shape[1], images.shape[2]
  padded = jnp.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
  return jnp.concatenate(
    [
      padded[:, dy : dy + height, dx : dx + width]
      for dy in range(3)
      for dx in range(3)
    ],
    axis=-1,
  )


class Conv3x3(nn.Module):
  """3x3 'same' convolution with bias, as im2col + matmul.

  The kernel has nn.Conv's layout [3, 3, C_in, C_out] and init (LeCun
  normal); outputs equal nn.Conv(features, (3, 3), padding="SAME").
  """

  features: int

  @nn.compact
  def __call__(self, images: jax.Array) -> jax.Array:
    channels = images.shape[-1]
    kernel = self.param(
      "kernel", nn.initializers.lecun_normal(), (3, 3, channels, self.features)
    )
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    patches = conv3x3_patches(images)
    return patches @ kernel.reshape(9 * channels, self.features) + bias


class InstanceNorm(nn.Module):
  """Per-image, per-channel normalisation over H and W, learnt scale/shift.

  nn.GroupNorm(num_groups=None, group_size=1) in math, with the same
  parameters ("scale", "bias"), written out on [B, H, W, C]: no group
  reshape/repeat, and a two-pass variance E[(x - mean)^2] (flax's default
  E[x^2] - E[x]^2 cancels and made the float32 unroll's result depend on
  XLA's fusion choices at the 1e-5 level).
  """

  epsilon: float = 1e-5

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    channels = x.shape[-1]
    scale = self.param("scale", nn.initializers.ones, (channels,))
    bias = self.param("bias", nn.initializers.zeros, (channels,))
    mean = jnp.mean(x, axis=(1, 2), keepdims=True)
    centred = x - mean
    var = jnp.mean(jnp.square(centred), axis=(1, 2), keepdims=True)
    return centred * (jax.lax.rsqrt(var + self.epsilon) * scale) + bias


class ConvNet(nn.Module):
  """ConvNet-D{depth}W{width} with instance norm and average pooling.

  Attributes:
    num_classes: number of logits.
    depth: number of conv blocks (each halves the resolution).
    width: channels of every conv layer.
    norm: "instance" or "none".
  """

  num_classes: int = 9
  depth: int = 3
  width: int = 128
  norm: str = "instance"

  @nn.compact
  def __call__(self, images: jax.Array) -> jax.Array:
    hidden = images
    for block in range(self.depth):
      hidden = Conv3x3(self.width, name=f"conv_{block}")(hidden)
      if self.norm == "instance":
        hidden = InstanceNorm(name=f"norm_{block}")(hidden)
      elif self.norm != "none":
        raise ValueError(f"unknown norm {self.norm!r}")
      hidden = nn.relu(hidden)
      hidden = nn.avg_pool(hidden, (2, 2), strides=(2, 2))
    hidden = hidden.reshape(hidden.shape[0], -1)
    return nn.Dense(self.num_classes, name="classifier")(hidden)


def feature_size(image_size: int, depth: int, width: int) -> int:
  """Length of the flattened features before the classifier."""
  side = image_size
  for _ in range(depth):
    side //= 2
  return side * side * width
