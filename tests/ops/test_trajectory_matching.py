"""MTT's unrolled loop: hand case, finite differences, remat, HVP path."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from repro.nn.convnet import ConvNet
from repro.ops import diff_augment
from repro.ops import trajectory_matching as tm


def linear_apply(params, images):
  weights = params.reshape(images[0].size, 3)
  return images.reshape(images.shape[0], -1) @ weights


def test_one_step_is_sgd_by_hand():
  images = jax.random.normal(jax.random.key(0), (3, 2, 2, 1))
  labels = jnp.array([0, 1, 2])
  start = jax.random.normal(jax.random.key(1), (12,))
  final = tm.unroll_student(
    linear_apply, start, images, labels, 0.3, jax.random.key(2), syn_steps=1
  )
  grad = jax.grad(lambda p: tm.cross_entropy(linear_apply, p, images, labels))(
    start
  )
  chex.assert_shape(final, (12,))
  chex.assert_type(final, jnp.float32)
  np.testing.assert_allclose(final, start - 0.3 * grad, rtol=1e-6)
  assert tm.normalized_distance(start, start, start + 1.0) == 1.0


def test_chunks_cover_the_synthetic_set():
  images = jnp.arange(6.0)[:, None, None, None]
  labels = jnp.arange(6)
  batches = [
    tm.syn_batch(images, labels, jax.random.key(0), jnp.int32(s), 2)
    for s in range(3)
  ]
  for chunk_images, chunk_labels in batches:
    chex.assert_shape(chunk_images, (2, 1, 1, 1))
    chex.assert_shape(chunk_labels, (2,))
  seen = [chunk_labels for _, chunk_labels in batches]
  assert sorted(np.concatenate(seen).tolist()) == list(range(6))


def test_unrolled_gradient_matches_central_differences():
  with jax.enable_x64(True):
    net = ConvNet(num_classes=3, depth=1, width=2)
    images = jax.random.normal(jax.random.key(0), (3, 4, 4, 2), jnp.float64)
    params = jax.tree.map(
      lambda a: a.astype(jnp.float64), net.init(jax.random.key(1), images[:1])
    )
    start, unravel = ravel_pytree(params)
    target = start + 0.1 * jax.random.normal(
      jax.random.key(2), start.shape, jnp.float64
    )
    labels = jnp.arange(3)
    augment = functools.partial(diff_augment.augment, ops=("flip",))

    @jax.jit
    def loss(x, alpha):
      return tm.matching_loss(
        x,
        alpha,
        lambda p, z: net.apply(unravel(p), z),
        start,
        target,
        labels,
        jax.random.key(3),
        syn_steps=3,
        augment=augment,
      )

    alpha = jnp.float64(0.2)
    grad_x, grad_alpha = jax.grad(loss, argnums=(0, 1))(images, alpha)
    chex.assert_equal_shape([grad_x, images])
    chex.assert_rank(grad_alpha, 0)
    chex.assert_type([grad_x, grad_alpha], jnp.float64)
    h = 1e-6
    for k in range(3):
      v = jax.random.normal(jax.random.key(10 + k), images.shape, jnp.float64)
      numeric = (loss(images + h * v, alpha) - loss(images - h * v, alpha)) / (
        2 * h
      )
      np.testing.assert_allclose(
        jnp.sum(grad_x * v), numeric, rtol=1e-6, atol=1e-10
      )
    numeric = (loss(images, alpha + h) - loss(images, alpha - h)) / (2 * h)
    np.testing.assert_allclose(grad_alpha, numeric, rtol=1e-6)


def test_remat_does_not_change_the_gradient():
  images = jax.random.normal(jax.random.key(0), (3, 2, 2, 1))
  labels = jnp.arange(3)
  start = jax.random.normal(jax.random.key(1), (12,))
  target = start + 0.5

  def grads(remat):
    return jax.grad(
      lambda x, a: tm.matching_loss(
        x,
        a,
        linear_apply,
        start,
        target,
        labels,
        jax.random.key(2),
        syn_steps=5,
        remat=remat,
        reverse="autodiff",
      ),
      argnums=(0, 1),
    )(images, 0.1)

  with_remat = grads(True)
  chex.assert_equal_shape([with_remat[0], images])
  chex.assert_trees_all_close(with_remat, grads(False), rtol=1e-7, strict=True)


def test_hvp_reverse_matches_autodiff_reverse():
  """The custom VJP (forward-over-reverse HVPs) against JAX's transpose of
  the scan, with chunks, augmentation and a gradient to the start too (the
  ConvNet case is the finite-difference test above)."""
  with jax.enable_x64(True):
    images = jax.random.normal(jax.random.key(0), (4, 2, 2, 1), jnp.float64)
    labels = jnp.array([0, 1, 2, 1])
    start = jax.random.normal(jax.random.key(1), (12,), jnp.float64)
    target = start + 0.5
    augment = functools.partial(diff_augment.augment, ops=("flip",))

    def grads(reverse):
      loss = lambda x, alpha, theta: tm.matching_loss(
        x,
        alpha,
        linear_apply,
        theta,
        target,
        labels,
        jax.random.key(3),
        syn_steps=4,
        batch_syn=2,
        augment=augment,
        reverse=reverse,
      )
      return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(
        images, jnp.float64(0.3), start
      )

    hvp, autodiff = grads("hvp"), grads("autodiff")
    assert float(jnp.abs(hvp[1][0]).max()) > 0
    chex.assert_shape(hvp[1][0], images.shape)
    chex.assert_shape(hvp[1][2], start.shape)
    chex.assert_trees_all_close(
      hvp, autodiff, rtol=1e-10, atol=1e-12, strict=True
    )
