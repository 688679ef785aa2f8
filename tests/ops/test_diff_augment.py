"""Differentiable augmentation: exact ops, gradients, single-op mode."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import diff_augment as da


def images(n=4, size=8):
  return jax.random.uniform(jax.random.key(0), (n, size, size, 3))


def test_rot90_and_flip_are_exact_symmetries():
  x = images()
  out = da.rot90(x, jax.random.key(1))
  chex.assert_shape(out, (4, 8, 8, 3))
  chex.assert_type(out, jnp.float32)
  turns = jax.random.randint(jax.random.key(1), (4,), 0, 4)
  for i in range(4):
    np.testing.assert_allclose(
      out[i], jnp.rot90(x[i], int(turns[i])), atol=1e-6
    )
  flipped = da.flip(x, jax.random.key(2))
  chex.assert_equal_shape([flipped, x])
  for i in range(4):
    assert np.allclose(flipped[i], x[i]) or np.allclose(
      flipped[i], x[i, :, ::-1]
    )


def test_crop_is_a_zero_padded_integer_shift():
  x = images(n=16)
  out = np.asarray(da.crop(x, jax.random.key(3)))
  chex.assert_shape(out, (16, 8, 8, 3))
  shifts = jax.random.randint(jax.random.key(3), (16, 2), -1, 2)
  for i, (dy, dx) in enumerate(np.asarray(shifts)):
    expected = np.zeros_like(np.asarray(x[i]))
    src = np.asarray(x[i])
    h = src.shape[0]
    for r in range(h):
      for c in range(h):
        if 0 <= r - dy < h and 0 <= c - dx < h:
          expected[r, c] = src[r - dy, c - dx]
    np.testing.assert_allclose(out[i], expected, atol=1e-6)


def test_affine_identity_and_cutout_fraction():
  x = images()
  eye = jnp.broadcast_to(jnp.eye(2), (4, 2, 2))
  np.testing.assert_allclose(da.affine(x, eye), x, atol=1e-5)
  ones = jnp.ones((64, 16, 16, 1))
  chex.assert_equal_shape([da.affine(x, eye), x])
  cut = da.cutout(ones, jax.random.key(4))
  chex.assert_shape(cut, (64, 16, 16, 1))
  kept = cut.mean((1, 2, 3))
  assert np.all(kept < 1.0) and np.all(kept >= 0.75 - 1e-6)


@pytest.mark.parametrize("op", da.OPS)
def test_every_op_is_differentiable(op):
  x = images()
  weights = jax.random.normal(jax.random.key(5), x.shape)
  grad = jax.grad(
    lambda z: jnp.sum(da.augment(z, jax.random.key(6), (op,)) * weights)
  )(x)
  assert grad.shape == x.shape
  chex.assert_equal_shape([grad, x])
  chex.assert_type(grad, jnp.float32)
  assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


def test_single_op_mode_and_identity():
  x = images()
  np.testing.assert_array_equal(da.augment(x, jax.random.key(0), ()), x)
  out = da.augment(x, jax.random.key(0), ("flip", "rot90"))
  chex.assert_shape(out, (4, 8, 8, 3))
  again = da.augment(x, jax.random.key(0), ("flip", "rot90"))
  np.testing.assert_array_equal(out, again)
  with pytest.raises(ValueError):
    da.augment(x, jax.random.key(0), ("mixup",))
