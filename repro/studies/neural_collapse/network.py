"""The classifier as pure functions: logits, per-layer features, weights.

Inputs stay in [0, 1] pixel space (the attack space, where eps is defined);
the network standardises them per channel with the training set's mean and
standard deviation as its first operation, as the official code does
inside ``forward``.

Features are the representations of the per-layer analysis (README, What
is run): for the MLPs (``bn_mlp``: Dense-BN-ReLU; ``mlp``: Dense-ReLU,
no normalisation) every hidden ReLU output, for VGG11-BN every
conv-BN-ReLU block (channel-pooled) but the last; the last entry is always
the penultimate layer, the input of the final linear classifier.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from repro.core.errors import UserError
from repro.nn.mlp import MLP
from repro.nn.vgg import vgg11_bn

MODELS = ("bn_mlp", "mlp", "vgg11_bn")


@dataclasses.dataclass(frozen=True)
class Network:
  """A Flax module with input standardisation and feature access.

  Variables are Flax's dict: ``{"params": ...}`` plus ``"batch_stats"`` when
  the module has BatchNorm.
  """

  module: nn.Module
  kind: str
  channel_mean: tuple[float, ...]
  channel_std: tuple[float, ...]

  @property
  def has_batch_norm(self) -> bool:
    return self.kind in ("bn_mlp", "vgg11_bn")

  def _standardise(self, images: jax.Array) -> jax.Array:
    mean = jnp.asarray(self.channel_mean, images.dtype)
    std = jnp.asarray(self.channel_std, images.dtype)
    return (images - mean) / std

  def init(self, key: jax.Array, sample: jax.Array) -> dict:
    """Initial variables from a batch ``sample`` of inputs."""
    variables = self.module.init(key, self._standardise(sample))
    return dict(variables)

  def logits(
    self, variables: dict, images: jax.Array, train: bool
  ) -> tuple[jax.Array, dict]:
    """Logits and the (possibly updated) variables.

    ``train=True`` normalises BatchNorm layers with batch statistics and
    returns updated running statistics; otherwise variables come back
    unchanged.
    """
    inputs = self._standardise(images)
    if not self.has_batch_norm:
      return self.module.apply(variables, inputs), variables
    if not train:
      return self.module.apply(variables, inputs, train=False), variables
    logits, updates = self.module.apply(
      variables, inputs, train=True, mutable=["batch_stats"]
    )
    return logits, {**variables, **updates}

  def features(
    self, variables: dict, images: jax.Array
  ) -> tuple[jax.Array, list[jax.Array]]:
    """Eval-mode logits and the per-layer features (last: penultimate)."""
    return self.module.apply(
      variables, self._standardise(images), train=False, return_features=True
    )

  def classifier(self, variables: dict) -> jax.Array:
    """Weights W [C, d] of the last linear layer."""
    params = variables["params"]
    if "classifier" in params:
      return params["classifier"]["kernel"].T
    return params[f"dense_{len(self.module.hidden_sizes)}"]["kernel"].T


def build(config, train_images: np.ndarray, num_classes: int) -> Network:
  """The network of ``config.model`` standardised on ``train_images``."""
  channel_mean = train_images.mean(axis=(0, 1, 2))
  channel_std = train_images.std(axis=(0, 1, 2))
  if config.model == "bn_mlp":
    module = MLP(
      hidden_sizes=tuple(config.hidden_sizes),
      num_outputs=num_classes,
      use_bias=True,
      batch_norm=True,
      output_name="classifier",
    )
  elif config.model == "mlp":
    module = MLP(
      hidden_sizes=tuple(config.hidden_sizes),
      num_outputs=num_classes,
      use_bias=True,
    )
  elif config.model == "vgg11_bn":
    if min(train_images.shape[1:3]) < 32:
      raise UserError(
        f"vgg11_bn needs images of at least 32x32, got "
        f"{train_images.shape[1:3]}; use model=mlp"
      )
    module = vgg11_bn(num_classes, config.width_multiplier)
  else:
    raise UserError(
      f"unknown model {config.model!r}; choose one of {', '.join(MODELS)}"
    )
  return Network(
    module,
    config.model,
    tuple(float(v) for v in channel_mean),
    tuple(float(v) for v in channel_std),
  )
