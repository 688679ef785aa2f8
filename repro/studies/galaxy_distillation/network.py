"""The ConvNet as a function of a flat parameter vector (ReparamModule).

Built on ``repro.nn.flat``: the vector has one dtype (``build``'s
``dtype``) and ``apply`` runs every layer in the dtype of the vector it
is given, so a float64 run (``jax.enable_x64``) is float64 throughout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from repro.nn import flat
from repro.nn.convnet import ConvNet


@dataclasses.dataclass(frozen=True)
class FlatNet:
  """``init(key) -> flat params``; ``apply(flat, images) -> logits``."""

  init: Callable[[jax.Array], jax.Array]
  apply: Callable[[jax.Array, jax.Array], jax.Array]
  num_params: int


def build(
  config, num_classes: int, image_shape: tuple[int, ...], dtype=None
) -> FlatNet:
  """The ConvNet of ``config`` (depth, width) on images of ``image_shape``.

  ``dtype``: of the flat parameters; ``None`` is the default float type
  (float32, or float64 inside ``jax.enable_x64``).
  """
  net = ConvNet(num_classes=num_classes, depth=config.depth, width=config.width)
  model = flat.flat_model(
    net, jnp.zeros((1,) + tuple(image_shape)), dtype=dtype
  )
  return FlatNet(
    init=model.init, apply=model.apply, num_params=model.num_params
  )


def accuracy(apply, flat_params, images, labels) -> jax.Array:
  return jnp.mean(jnp.argmax(apply(flat_params, images), -1) == labels)
