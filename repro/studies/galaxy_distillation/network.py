"""The ConvNet as a function of a flat parameter vector (ReparamModule)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from repro.nn.convnet import ConvNet


@dataclasses.dataclass(frozen=True)
class FlatNet:
  """``init(key) -> flat params``; ``apply(flat, images) -> logits``."""
  init: Callable[[jax.Array], jax.Array]
  apply: Callable[[jax.Array, jax.Array], jax.Array]
  num_params: int


def build(config, num_classes: int, image_shape: tuple[int, ...]) -> FlatNet:
  net = ConvNet(num_classes=num_classes, depth=config.depth,
                width=config.width)
  example = jnp.zeros((1,) + tuple(image_shape), jnp.float32)
  template = jax.eval_shape(net.init, jax.random.key(0), example)
  zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), template)
  flat, unravel = ravel_pytree(zeros)

  def init(key):
    return ravel_pytree(net.init(key, example))[0]

  def apply(flat_params, images):
    return net.apply(unravel(flat_params), images)

  return FlatNet(init=init, apply=apply, num_params=int(flat.size))


def accuracy(apply, flat_params, images, labels) -> jax.Array:
  return jnp.mean(jnp.argmax(apply(flat_params, images), -1) == labels)
