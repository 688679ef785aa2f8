"""LeNet-300-100, LeNet-5 and bias-free ReLU MLPs with scaled Kaiming init.

The models of the official Goldilocks-zone code (arXiv 2402.03579,
``models/``): every layer bias-free by default, ReLU, no normalisation, so
the network is positively homogeneous of degree ``L`` (the number of weight
layers) in its weights: ``z(x; a theta) = a^L z(x; theta)``. Weights use
Kaiming-normal init (fan-in, gain sqrt(2), untruncated, as PyTorch's
``kaiming_normal_``) multiplied by ``init_scale`` (the paper's ``alpha``).

* ``relu_mlp((32, 32), num_classes=3)``: the paper's ``Demo`` net, the
  suite's ``repro.nn.mlp.MLP`` with ``weight_init="kaiming_normal"``.
* ``lenet300100()``: ``relu_mlp`` with hidden widths (300, 100), L = 3.
* ``LeNet5``: conv(6, 5x5) - avgpool - conv(16, 5x5) - avgpool - 120 - 84
  - classes, valid padding, L = 5 (average pooling is linear, so the
  network stays homogeneous); its logits are divided by ``temperature``.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from repro.nn.mlp import MLP, scaled_kaiming_normal


def relu_mlp(
  hidden_sizes: Sequence[int] = (32, 32),
  num_classes: int = 3,
  use_bias: bool = False,
  init_scale: float = 1.0,
) -> MLP:
  """Fully connected ReLU network (Kaiming-normal, zero biases if any).

  ``relu_mlp((32, 32), 3)`` is the official code's ``Demo`` net.
  """
  return MLP(
    hidden_sizes=tuple(hidden_sizes),
    num_outputs=num_classes,
    use_bias=use_bias,
    weight_init="kaiming_normal",
    init_scale=init_scale,
  )


def lenet300100(
  num_classes: int = 10, use_bias: bool = False, init_scale: float = 1.0
) -> MLP:
  """LeNet-300-100 (784-300-100-10 on 28x28 images), bias-free by default."""
  return relu_mlp((300, 100), num_classes, use_bias, init_scale)


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
      hidden = nn.Conv(
        channels,
        (5, 5),
        padding="VALID",
        use_bias=self.use_bias,
        kernel_init=init,
        name=f"conv_{index}",
      )(hidden)
      hidden = nn.avg_pool(nn.relu(hidden), (2, 2), strides=(2, 2))
    hidden = hidden.reshape(hidden.shape[0], -1)
    for index, width in enumerate((120, 84)):
      hidden = nn.relu(
        nn.Dense(
          width, use_bias=self.use_bias, kernel_init=init, name=f"dense_{index}"
        )(hidden)
      )
    logits = nn.Dense(
      self.num_classes, use_bias=self.use_bias, kernel_init=init, name="dense_2"
    )(hidden)
    return logits / self.temperature


def num_weight_layers(model: nn.Module) -> int:
  """``L``, the homogeneity degree: number of Dense/Conv layers."""
  if isinstance(model, LeNet5):
    return 5
  if isinstance(model, MLP):
    return len(model.hidden_sizes) + 1
  raise TypeError(f"unknown model {type(model).__name__}")


def scale_params(params, alpha):
  """``alpha * theta`` (the paper's rescaling of an initialisation)."""
  return jax.tree.map(
    lambda leaf: jnp.asarray(alpha, leaf.dtype) * leaf, params
  )
