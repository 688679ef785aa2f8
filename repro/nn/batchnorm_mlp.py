"""Fully connected Dense-BatchNorm-ReLU network with per-layer features.

The fully connected analogue of the conv-BN-ReLU blocks of VGG11-BN
(``repro.nn.vgg``), used by the neural-collapse study at CPU scale:
each hidden layer is a bias-free ``Dense`` (the BatchNorm shift replaces
the bias), ``BatchNorm`` and ``ReLU``; the classifier is a ``Dense`` with
bias. Weights and the classifier bias use PyTorch's ``nn.Linear`` default,
U(+-1/sqrt(fan_in)).

BatchNorm follows PyTorch: momentum 0.1 (Flax ``momentum=0.9``), eps 1e-5,
running statistics in the ``batch_stats`` collection; ``train=True``
normalises with batch statistics (and updates the running ones when
``batch_stats`` is mutable), ``train=False`` with the running ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from repro.nn.mlp import uniform_fan_in


def uniform_bias(fan_in: int):
  """Bias initializer U(+-1/sqrt(fan_in)) (PyTorch ``nn.Linear``)."""
  bound = 1.0 / fan_in**0.5

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)
  return init


class BatchNormMLP(nn.Module):
  """Dense-BN-ReLU hidden layers and a linear classifier.

  Attributes:
    hidden_sizes: widths of the hidden layers; the last one is the
      penultimate (feature) layer.
    num_classes: number of logits.
  """
  hidden_sizes: Sequence[int] = (256, 256, 128)
  num_classes: int = 10

  @nn.compact
  def __call__(self, inputs: jax.Array, train: bool = False,
               return_features: bool = False):
    """Logits, and with ``return_features`` every hidden ReLU output."""
    hidden = inputs.reshape(inputs.shape[0], -1)
    features = []
    for index, width in enumerate(self.hidden_sizes):
      hidden = nn.Dense(width, use_bias=False, kernel_init=uniform_fan_in(),
                        name=f"dense_{index}")(hidden)
      hidden = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                            epsilon=1e-5, name=f"batch_norm_{index}")(hidden)
      hidden = nn.relu(hidden)
      features.append(hidden)
    logits = nn.Dense(self.num_classes, kernel_init=uniform_fan_in(),
                      bias_init=uniform_bias(hidden.shape[-1]),
                      name="classifier")(hidden)
    if return_features:
      return logits, features
    return logits
