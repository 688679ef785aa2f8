"""B5: the unrolled MTT gradient against central finite differences.

A tiny ConvNet-D1W4 on 8x8x2 images, 3 synthetic images, N = 3 unrolled
SGD steps with a flip augmentation, all in float64 (``jax.enable_x64``).
The directional derivatives of L along random unit directions of the
images, and dL/dalpha, are compared with central differences
(L(x + h v) - L(x - h v)) / 2h; the error is relative to the derivative's
scale.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from repro.nn.convnet import ConvNet
from repro.ops import diff_augment
from repro.ops import trajectory_matching as tm


def unrolled_gradient_errors(
  seed: int = 0, num_directions: int = 3, step: float = 1e-5
) -> dict[str, float]:
  """Relative errors of d/dimages (max over directions) and d/dalpha."""
  with jax.enable_x64(True):
    key = jax.random.key(seed)
    k_net, k_img, k_target, k_dir, k_loss = jax.random.split(key, 5)
    net = ConvNet(num_classes=3, depth=1, width=4)
    images = jax.random.normal(k_img, (3, 8, 8, 2), jnp.float64)
    params = net.init(k_net, images[:1])
    params = jax.tree.map(lambda a: a.astype(jnp.float64), params)
    start, unravel = ravel_pytree(params)
    target = start + 0.05 * jax.random.normal(
      k_target, start.shape, jnp.float64
    )
    labels = jnp.arange(3)
    augment = functools.partial(diff_augment.augment, ops=("flip",))

    def loss(x, alpha):
      return tm.matching_loss(
        x,
        alpha,
        lambda p, z: net.apply(unravel(p), z),
        start,
        target,
        labels,
        k_loss,
        syn_steps=3,
        augment=augment,
      )

    alpha = jnp.float64(0.1)
    grad_x, grad_alpha = jax.jit(jax.grad(loss, argnums=(0, 1)))(images, alpha)
    loss = jax.jit(loss)
    errors = []
    for direction_key in jax.random.split(k_dir, num_directions):
      v = jax.random.normal(direction_key, images.shape, jnp.float64)
      v = v / jnp.linalg.norm(v)
      numeric = (
        loss(images + step * v, alpha) - loss(images - step * v, alpha)
      ) / (2 * step)
      analytic = jnp.sum(grad_x * v)
      errors.append(
        abs(float(analytic - numeric))
        / max(float(jnp.linalg.norm(grad_x)), 1e-30)
      )
    numeric_alpha = (
      loss(images, alpha + step) - loss(images, alpha - step)
    ) / (2 * step)
    alpha_error = abs(float(grad_alpha - numeric_alpha)) / max(
      abs(float(numeric_alpha)), 1e-30
    )
  return {"images": float(np.max(errors)), "alpha": alpha_error}
