"""VGG11 with batch normalisation, as in Su et al. (arXiv 2311.07444).

The official ``vgg.py`` of ``JingtongSu/robust_neural_collapse`` uses VGG
"cfg A" (Simonyan & Zisserman 2015) with every 3x3 convolution followed by
BatchNorm and ReLU, **without the last max-pool**, then ``AvgPool2d(2)`` and
one ``Linear`` classifier with bias. On 32x32 inputs the four max-pools
leave 2x2 maps, so the penultimate features (the classifier's input) are
512-dimensional and non-negative.

``__call__(images, train, return_features=True)`` also returns the
activation after each conv-BN-ReLU block but the last, **globally
average-pooled per channel** (flattened conv maps are too large for
``Sigma_W``; neural_collapse README, Deviations from the paper), followed
by the penultimate features; these are the layers of the per-layer NC
analysis.

BatchNorm follows PyTorch: momentum 0.1 (Flax ``momentum=0.9``), eps 1e-5,
running statistics in ``batch_stats``; ``train=True`` normalises with batch
statistics and returns updated running statistics when ``batch_stats`` is
mutable.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

# "cfg A" without the final "M" (official vgg.py); "M" is a 2x2 max-pool.
VGG11_LAYERS = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512)


class VGG(nn.Module):
  """VGG-BN classifier with optional per-layer features.

  Attributes:
    layers: channel counts and "M" (max-pool) markers.
    num_classes: number of logits.
    width_multiplier: scales every channel count (tests use a small one).
  """

  layers: Sequence[int | str] = VGG11_LAYERS
  num_classes: int = 10
  width_multiplier: float = 1.0

  @nn.compact
  def __call__(
    self, images: jax.Array, train: bool = False, return_features: bool = False
  ):
    hidden = images
    features = []
    for item in self.layers:
      if item == "M":
        hidden = nn.max_pool(hidden, (2, 2), strides=(2, 2))
        continue
      channels = max(1, int(round(item * self.width_multiplier)))
      hidden = nn.Conv(
        channels,
        (3, 3),
        padding=1,
        kernel_init=nn.initializers.kaiming_normal(),
      )(hidden)
      hidden = nn.BatchNorm(
        use_running_average=not train, momentum=0.9, epsilon=1e-5
      )(hidden)
      hidden = nn.relu(hidden)
      features.append(jnp.mean(hidden, axis=(1, 2)))
    hidden = nn.avg_pool(hidden, (2, 2), strides=(2, 2))
    penultimate = hidden.reshape(hidden.shape[0], -1)
    logits = nn.Dense(self.num_classes, name="classifier")(penultimate)
    if return_features:
      # The last block's pooled map is the penultimate layer on 32x32 inputs.
      return logits, features[:-1] + [penultimate]
    return logits


def vgg11_bn(num_classes: int = 10, width_multiplier: float = 1.0) -> VGG:
  """The paper's VGG11-BN (cfg A without the last max-pool)."""
  return VGG(VGG11_LAYERS, num_classes, width_multiplier)
