"""LeNet-300-100, LeNet-5 and bias-free ReLU MLPs with scaled Kaiming init.

The models of the official Goldilocks-zone code (arXiv 2402.03579,
``models/``): every layer bias-free by default, ReLU, no normalisation, so
the network is positively homogeneous of degree ``L`` (the number of weight
layers) in its weights: ``z(x; a theta) = a^L z(x; theta)``. Weights use
Kaiming-normal init (fan-in, gain sqrt(2), untruncated, as PyTorch's
``kaiming_normal_``) multiplied by ``init_scale`` (the paper's ``alpha``).
Logits are divided by ``temperature``.

* ``ReluMLP(hidden=(32, 32), num_classes=3)``: the paper's ``Demo`` net.
* ``LeNet300100``: ``ReluMLP`` with hidden widths (300, 100), L = 3.
* ``LeNet5``: conv(6, 5x5) - avgpool - conv(16, 5x5) - avgpool - 120 - 84
  - classes, valid padding, L = 5 (average pooling is linear, so the
  network stays homogeneous).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


def scaled_kaiming_normal(init_scale: float = 1.0):
  """Kaiming-normal init (std ``sqrt(2 / fan_in)``) times ``init_scale``."""
  return nn.initializers.variance_scaling(2.0 * init_scale**2, "fan_in",
                                          "normal")


class ReluMLP(nn.Module):
  """Fully connected ReLU network; inputs are flattened per example.

  Attributes:
    hidden: widths of the hidden layers.
    num_classes: number of logits.
    use_bias: add biases (zero-initialised); False keeps homogeneity.
    init_scale: multiplies the Kaiming-normal weights (``alpha``).
    temperature: logits are divided by it.
  """
  hidden: Sequence[int] = (32, 32)
  num_classes: int = 3
  use_bias: bool = False
  init_scale: float = 1.0
  temperature: float = 1.0

  @nn.compact
  def __call__(self, inputs: jax.Array) -> jax.Array:
    hidden = inputs.reshape(inputs.shape[0], -1)
    init = scaled_kaiming_normal(self.init_scale)
    for index, width in enumerate(self.hidden):
      hidden = nn.Dense(width, use_bias=self.use_bias, kernel_init=init,
                        name=f"dense_{index}")(hidden)
      hidden = nn.relu(hidden)
    logits = nn.Dense(self.num_classes, use_bias=self.use_bias,
                      kernel_init=init,
                      name=f"dense_{len(self.hidden)}")(hidden)
    return logits / self.temperature


class LeNet300100(ReluMLP):
  """LeNet-300-100 (784-300-100-10 on 28x28 images), bias-free by default."""
  hidden: Sequence[int] = (300, 100)
  num_classes: int = 10


class LeNet5(nn.Module):
  """LeNet-5 with average pooling, bias-free by default (official code).

  Attributes:
    num_classes: number of logits.
    use_bias: add biases (zero-initialised); False keeps homogeneity.
    init_scale: multiplies the Kaiming-normal weights (``alpha``).
    temperature: logits are divided by it.
  """
  num_classes: int = 10
  use_bias: bool = False
  init_scale: float = 1.0
  temperature: float = 1.0

  @nn.compact
  def __call__(self, images: jax.Array) -> jax.Array:
    init = scaled_kaiming_normal(self.init_scale)
    hidden = images
    for index, channels in enumerate((6, 16)):
      hidden = nn.Conv(channels, (5, 5), padding="VALID",
                       use_bias=self.use_bias, kernel_init=init,
                       name=f"conv_{index}")(hidden)
      hidden = nn.avg_pool(nn.relu(hidden), (2, 2), strides=(2, 2))
    hidden = hidden.reshape(hidden.shape[0], -1)
    for index, width in enumerate((120, 84)):
      hidden = nn.relu(nn.Dense(width, use_bias=self.use_bias,
                                kernel_init=init,
                                name=f"dense_{index}")(hidden))
    logits = nn.Dense(self.num_classes, use_bias=self.use_bias,
                      kernel_init=init, name="dense_2")(hidden)
    return logits / self.temperature


def num_weight_layers(model: nn.Module) -> int:
  """``L``, the homogeneity degree: number of Dense/Conv layers."""
  if isinstance(model, LeNet5):
    return 5
  if isinstance(model, ReluMLP):
    return len(model.hidden) + 1
  raise TypeError(f"unknown model {type(model).__name__}")


def scale_params(params, alpha):
  """``alpha * theta`` (the paper's rescaling of an initialisation)."""
  return jax.tree.map(lambda leaf: jnp.asarray(alpha, leaf.dtype) * leaf,
                      params)
