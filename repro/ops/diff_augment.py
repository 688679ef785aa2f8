"""Differentiable Siamese augmentation (DSA; Zhao & Bilen 2021), in JAX.

Used by trajectory matching (arXiv 2311.17967, following MTT):
the expert trajectories, every unrolled student step and every evaluation
net see augmented images, and the gradient flows through the augmentation
back to the synthetic pixels. All operations are differentiable in the
images (their random parameters are not learnt).

``augment(images, key, ops)`` applies, in the reference's single-op ("S")
mode, ONE operation drawn uniformly from ``ops`` to the whole batch, with
per-image random parameters:

* ``color``: brightness +U(-0.5, 0.5)/2, saturation x U(0, 2) around the
  grey level, contrast x U(0.5, 1.5) around the image mean (DSA's ratios);
* ``crop``: translation by up to 1/8 of the size (zero padding), integer
  pixels via one-hot shifts so the gradient is exact;
* ``cutout``: zero a square of half the size at a random centre;
* ``flip``: horizontal flip with probability 1/2;
* ``scale`` / ``rotate``: affine resampling (bilinear) with scale in
  [1/1.2, 1.2] and angle in [-15, 15] degrees;
* ``rot90``: rotation by a random multiple of 90 degrees (square images);
  exact symmetries of galaxy images.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

OPS = ("color", "crop", "cutout", "flip", "scale", "rotate", "rot90")
CROP_RATIO = 0.125
CUTOUT_RATIO = 0.5
SCALE_RATIO = 1.2
ROTATE_DEGREES = 15.0


def _per_image(key, images, shape=()):
  return jax.random.uniform(key, (images.shape[0],) + shape)


def color(images: jax.Array, key: jax.Array) -> jax.Array:
  """Brightness, saturation and contrast jitter (DSA's three colour ops)."""
  k1, k2, k3 = jax.random.split(key, 3)
  shape = (images.shape[0], 1, 1, 1)
  images = images + (jax.random.uniform(k1, shape) - 0.5) * 0.5
  grey = images.mean(axis=3, keepdims=True)
  images = grey + (images - grey) * jax.random.uniform(k2, shape) * 2.0
  mean = images.mean(axis=(1, 2, 3), keepdims=True)
  return mean + (images - mean) * (jax.random.uniform(k3, shape) + 0.5)


def _shift_matrix(shift, size):
  """[size, size] 0/1 matrix M with (M x)[i] = x[i - shift] (zero padded)."""
  rows = jnp.arange(size)[:, None]
  cols = jnp.arange(size)[None, :]
  return (rows - cols == shift).astype(jnp.float32)


def crop(images: jax.Array, key: jax.Array) -> jax.Array:
  """Random translation by up to CROP_RATIO of the size, zero padded."""
  _, height, width, _ = images.shape
  max_shift = int(round(CROP_RATIO * height))
  shifts = jax.random.randint(
    key, (images.shape[0], 2), -max_shift, max_shift + 1
  )

  def one(image, shift):
    rows = _shift_matrix(shift[0], height).astype(image.dtype)
    cols = _shift_matrix(shift[1], width).astype(image.dtype)
    return jnp.einsum("ij,jkc,lk->ilc", rows, image, cols)

  return jax.vmap(one)(images, shifts)


def cutout(images: jax.Array, key: jax.Array) -> jax.Array:
  """Zeroes a (size/2)^2 square at a random centre of every image."""
  _, height, width, _ = images.shape
  half_h = int(CUTOUT_RATIO * height / 2)
  half_w = int(CUTOUT_RATIO * width / 2)
  k1, k2 = jax.random.split(key)
  centre_r = jax.random.randint(k1, (images.shape[0], 1, 1), 0, height)
  centre_c = jax.random.randint(k2, (images.shape[0], 1, 1), 0, width)
  rows = jnp.arange(height)[None, :, None]
  cols = jnp.arange(width)[None, None, :]
  inside = (jnp.abs(rows - centre_r) < half_h) & (
    jnp.abs(cols - centre_c) < half_w
  )
  return images * (~inside)[..., None].astype(images.dtype)


def flip(images: jax.Array, key: jax.Array) -> jax.Array:
  """Mirror each image left-right with probability 1/2."""
  flips = _per_image(key, images) < 0.5
  return jnp.where(flips[:, None, None, None], images[:, :, ::-1], images)


def rot90(images: jax.Array, key: jax.Array) -> jax.Array:
  """Rotate each (square) image by k * 90 degrees, k uniform in 0..3."""
  turns = jax.random.randint(key, (images.shape[0],), 0, 4)
  rotations = jnp.stack([jnp.rot90(images, k, axes=(1, 2)) for k in range(4)])
  one_hot = jax.nn.one_hot(turns, 4, dtype=images.dtype)
  return jnp.einsum("kbhwc,bk->bhwc", rotations, one_hot)


def affine(images: jax.Array, matrices: jax.Array) -> jax.Array:
  """Bilinear resampling of every image by a 2x2 matrix about its centre.

  Output pixel p reads the input at ``A (p - c) + c``; outside is zero.
  """
  _, height, width, channels = images.shape
  centre = jnp.array([(height - 1) / 2.0, (width - 1) / 2.0])
  grid = (
    jnp.stack(
      jnp.meshgrid(jnp.arange(height), jnp.arange(width), indexing="ij"), -1
    ).reshape(-1, 2)
    - centre
  )

  def one(image, matrix):
    coords = grid @ matrix.T + centre

    def channel(plane):
      return jax.scipy.ndimage.map_coordinates(
        plane, [coords[:, 0], coords[:, 1]], order=1, mode="constant"
      )

    planes = jax.vmap(channel, in_axes=2, out_axes=1)(image)
    return planes.reshape(height, width, channels)

  return jax.vmap(one)(images, matrices)


def scale(images: jax.Array, key: jax.Array) -> jax.Array:
  """Random independent scaling of both axes in [1/1.2, 1.2]."""
  factors = jnp.exp(
    jax.random.uniform(
      key,
      (images.shape[0], 2),
      minval=-jnp.log(SCALE_RATIO),
      maxval=jnp.log(SCALE_RATIO),
    )
  )
  matrices = jax.vmap(jnp.diag)(1.0 / factors)
  return affine(images, matrices)


def rotate(images: jax.Array, key: jax.Array) -> jax.Array:
  """Random rotation in [-15, 15] degrees."""
  angles = jnp.radians(ROTATE_DEGREES) * (2.0 * _per_image(key, images) - 1.0)
  cos, sin = jnp.cos(angles), jnp.sin(angles)
  matrices = jnp.stack(
    [jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2
  )
  return affine(images, matrices)


_FUNCTIONS = {
  "color": color,
  "crop": crop,
  "cutout": cutout,
  "flip": flip,
  "scale": scale,
  "rotate": rotate,
  "rot90": rot90,
}


def validate(ops: Sequence[str]) -> tuple[str, ...]:
  ops = tuple(ops)
  unknown = [op for op in ops if op not in _FUNCTIONS]
  if unknown:
    raise ValueError(f"unknown augmentation ops {unknown}; use {OPS}")
  return ops


def augment(images: jax.Array, key: jax.Array, ops: Sequence[str]) -> jax.Array:
  """Applies one op drawn uniformly from ``ops`` (DSA's "S" mode).

  With ``ops`` empty the images are returned unchanged.
  """
  ops = validate(ops)
  if not ops:
    return images
  choice_key, op_key = jax.random.split(key)
  if len(ops) == 1:
    return _FUNCTIONS[ops[0]](images, op_key)
  index = jax.random.randint(choice_key, (), 0, len(ops))
  branches = [lambda x, k, op=op: _FUNCTIONS[op](x, k) for op in ops]
  return jax.lax.switch(index, branches, images, op_key)
