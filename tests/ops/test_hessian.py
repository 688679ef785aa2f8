"""Tests of repro.ops.hessian against independent answers.

Finite differences, a quadratic with a known spectrum, eigh, explicit
per-sample Jacobians, and (when ../shared/oracles/ is present) the values of
the official Goldilocks-zone implementation.
"""

import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.nn import lenet
from repro.ops import curvature as curv
from repro.ops import hessian as hess

ORACLE = os.path.join(
  os.path.dirname(__file__),
  "..",
  "..",
  "..",
  "shared",
  "oracles",
  "goldilocks_curvature.npz",
)


def _quadratic(spectrum, seed=0):
  """``L(params) = 1/2 theta^T A theta`` over a two-leaf pytree."""
  dim = len(spectrum)
  rotation, _ = np.linalg.qr(
    np.random.default_rng(seed).normal(size=(dim, dim))
  )
  matrix = rotation @ np.diag(spectrum) @ rotation.T
  matrix = jnp.asarray(0.5 * (matrix + matrix.T))
  split = dim // 3
  params = {
    "a": jnp.linspace(-1.0, 1.0, split),
    "b": jnp.linspace(0.5, 2.0, dim - split).reshape(-1, 1),
  }

  def loss_fn(tree):
    theta = jnp.concatenate([tree["a"], tree["b"].ravel()])
    return 0.5 * theta @ matrix @ theta

  return loss_fn, params, matrix


def _tanh_net_loss(seed=0):
  """A smooth non-quadratic loss over a pytree (finite differences work)."""
  rng = np.random.default_rng(seed)
  inputs = jnp.asarray(rng.normal(size=(20, 3)))
  labels = jnp.asarray(rng.integers(0, 2, size=20))
  params = {
    "w1": jnp.asarray(rng.normal(size=(3, 4)) * 0.7),
    "w2": jnp.asarray(rng.normal(size=(4, 2)) * 0.7),
  }

  def loss_fn(tree):
    logits = jnp.tanh(inputs @ tree["w1"]) @ tree["w2"]
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(20), labels])

  return loss_fn, params


def test_hessian_matches_finite_differences_of_the_gradient():
  with jax.enable_x64():
    loss_fn, params = _tanh_net_loss()
    flat_loss, theta, _ = hess.flatten_loss(loss_fn, params)
    grad = jax.grad(flat_loss)
    step = 1e-6
    finite = jax.jit(
      jax.vmap(
        lambda e: (
          (grad(theta + step * e) - grad(theta - step * e)) / (2 * step)
        ),
        out_axes=1,
      )
    )(jnp.eye(theta.size))
    exact = jax.jit(hess.hessian, static_argnums=0)(loss_fn, params)
    chex.assert_shape(exact, (theta.size, theta.size))
    chex.assert_type(exact, jnp.float64)
    np.testing.assert_allclose(exact, finite, atol=1e-8)
    np.testing.assert_allclose(exact, exact.T, atol=1e-14)
    # Chunked Hessian-vector products give the same matrix.
    np.testing.assert_allclose(
      hess.hessian(loss_fn, params, chunk_size=3), exact, atol=1e-14
    )


def test_quadratic_with_known_spectrum():
  spectrum = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.0, -0.25, -1.0, -4.0])
  with jax.enable_x64():
    loss_fn, params, matrix = _quadratic(spectrum)
    matvec, dim = hess.flat_hvp(loss_fn, params)
    vector = jnp.arange(dim, dtype=jnp.float64)

    @jax.jit
    def compute(params, vector):
      full = hess.hessian(loss_fn, params)
      # Hessian-vector products on pytrees and flat vectors.
      product = hess.hvp(loss_fn, params, jax.tree.map(jnp.ones_like, params))
      return (
        full,
        jnp.concatenate([product["a"], product["b"].ravel()]),
        matvec(vector),
        hess.spectral_norm(full),
        curv.trace_over_frobenius(full),
      )

    full, tree_product, flat_product, norm, ratio = compute(params, vector)
    chex.assert_shape(full, (dim, dim))
    chex.assert_shape([tree_product, flat_product], (dim,))
    chex.assert_rank([norm, ratio], 0)
    matrix = np.asarray(matrix)
    np.testing.assert_allclose(full, matrix, atol=1e-12)
    np.testing.assert_allclose(
      np.linalg.eigvalsh(full), np.sort(spectrum), atol=1e-12
    )
    np.testing.assert_allclose(tree_product, matrix.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(
      flat_product, matrix @ np.arange(dim), atol=1e-12
    )
    assert float(norm) == pytest.approx(5.0)
    assert float(ratio) == pytest.approx(
      spectrum.sum() / np.linalg.norm(spectrum)
    )


def test_subspace_hessian_is_projection_and_jax_hessian_of_restriction():
  with jax.enable_x64():
    loss_fn, params = _tanh_net_loss(seed=1)
    flat_loss, theta, _ = hess.flatten_loss(loss_fn, params)
    basis = hess.random_orthonormal_basis(
      jax.random.key(0), theta.size, 5, jnp.float64
    )

    @jax.jit
    def all_ways(params, basis):
      return (
        hess.subspace_hessian(loss_fn, params, basis),
        jax.hessian(lambda u: flat_loss(theta + basis @ u))(jnp.zeros(5)),
        hess.hessian(loss_fn, params),
        hess.subspace_hessian(loss_fn, params, basis, chunk_size=1),
      )

    projected, restricted, full, chunked = map(
      np.asarray, all_ways(params, basis)
    )
    chex.assert_shape([projected, restricted, chunked], (5, 5))
    chex.assert_shape(full, (theta.size, theta.size))
    chex.assert_shape(basis, (theta.size, 5))
    chex.assert_type(basis, jnp.float64)
    basis = np.asarray(basis)
    np.testing.assert_allclose(basis.T @ basis, np.eye(5), atol=1e-13)
    np.testing.assert_allclose(projected, restricted, atol=1e-12)
    np.testing.assert_allclose(projected, basis.T @ full @ basis, atol=1e-12)
    np.testing.assert_allclose(chunked, projected, atol=1e-14)


def test_orthonormal_basis_is_deterministic_and_spreads_over_coordinates():
  draw = jax.jit(hess.random_orthonormal_basis, static_argnums=(1, 2))
  first = np.asarray(draw(jax.random.key(3), 200, 10))
  chex.assert_shape(first, (200, 10))
  chex.assert_type(first, np.float32)
  second = np.asarray(draw(jax.random.key(3), 200, 10))
  np.testing.assert_array_equal(first, second)
  np.testing.assert_allclose(first.T @ first, np.eye(10), atol=1e-5)
  # A Haar basis puts about d / D of each coordinate's mass in the span.
  leverage = np.sum(first**2, axis=1)
  assert leverage.mean() == pytest.approx(10 / 200, rel=1e-4)
  with pytest.raises(ValueError):
    hess.random_orthonormal_basis(jax.random.key(0), 3, 4)


def test_hutchinson_estimates_match_exact_trace_and_frobenius():
  spectrum = np.linspace(-2.0, 6.0, 24)
  num_probes = 4000
  with jax.enable_x64():
    loss_fn, params, matrix = _quadratic(spectrum, seed=2)
    matvec, dim = hess.flat_hvp(loss_fn, params)
    trace = hess.hutchinson_trace(
      matvec, jax.random.key(0), dim, num_probes, jnp.float64
    )
    frobenius = hess.hutchinson_frobenius(
      matvec, jax.random.key(1), dim, num_probes, jnp.float64
    )
  chex.assert_rank([trace, frobenius], 0)
  chex.assert_type([trace, frobenius], jnp.float64)
  matrix = np.asarray(matrix)
  # Rademacher variance of v^T A v: 2 (||A||_F^2 - sum_i A_ii^2).
  std = np.sqrt(
    2 * (np.sum(matrix**2) - np.sum(np.diag(matrix) ** 2)) / num_probes
  )
  assert abs(float(trace) - np.trace(matrix)) < 4 * std
  assert float(frobenius) == pytest.approx(np.linalg.norm(matrix), rel=0.03)
  # Diagonal matrices: every Rademacher probe gives the exact trace.
  diagonal = lambda v: jnp.asarray(spectrum) * v
  exact = hess.hutchinson_trace(diagonal, jax.random.key(2), 24, 3)
  assert float(exact) == pytest.approx(spectrum.sum(), rel=1e-5)


def test_lanczos_matches_eigh():
  rng = np.random.default_rng(4)
  dim = 60
  random = rng.normal(size=(dim, dim))
  matrix = (random + random.T) / 2
  matrix[0, 0] += 25.0  # a separated top eigenvalue
  exact = np.linalg.eigvalsh(matrix)
  with jax.enable_x64():
    operator = jnp.asarray(matrix)
    matvec = lambda v: operator @ v
    ritz = hess.lanczos_eigenvalues(
      matvec, jax.random.key(0), dim, 30, jnp.float64
    )
    # Full Krylov space: all eigenvalues.
    complete = hess.lanczos_eigenvalues(
      matvec, jax.random.key(1), dim, dim, jnp.float64
    )
    alphas, betas, basis = hess.lanczos_tridiagonal(
      matvec, jax.random.key(1), dim, 20, jnp.float64
    )
  chex.assert_shape(ritz, (30,))
  chex.assert_shape(complete, (dim,))
  chex.assert_shape(alphas, (20,))
  chex.assert_shape(betas, (19,))
  chex.assert_shape(basis, (20, dim))
  assert float(ritz[-1]) == pytest.approx(exact[-1], rel=1e-10)
  assert float(ritz[0]) == pytest.approx(exact[0], rel=1e-3)
  np.testing.assert_allclose(np.sort(complete), exact, atol=1e-9)
  # Q is orthonormal and Q A Q^T is the tridiagonal matrix.
  basis = np.asarray(basis)
  np.testing.assert_allclose(basis @ basis.T, np.eye(20), atol=1e-12)
  tridiagonal = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
  np.testing.assert_allclose(basis @ matrix @ basis.T, tridiagonal, atol=1e-10)


def test_lanczos_on_a_low_rank_operator_stops_cleanly():
  vectors = np.linalg.qr(np.random.default_rng(5).normal(size=(30, 3)))[0]
  matrix = vectors @ np.diag([3.0, -2.0, 1.0]) @ vectors.T
  with jax.enable_x64():
    operator = jnp.asarray(matrix)
    ritz = hess.lanczos_eigenvalues(
      lambda v: operator @ v, jax.random.key(0), 30, 10, jnp.float64
    )
  chex.assert_shape(ritz, (10,))
  ritz = np.asarray(ritz)
  assert np.all(np.isfinite(ritz))
  np.testing.assert_allclose(ritz[[0, -1]], [-2.0, 3.0], atol=1e-10)
  assert np.sum(np.abs(ritz) > 1e-8) == 3


def _relu_problem(seed=0, num=40, classes=3):
  """A bias-free one-hidden-layer ReLU net (homogeneous) on random data."""
  rng = np.random.default_rng(seed)
  inputs = jnp.asarray(rng.normal(size=(num, 4)))
  labels = jnp.asarray(rng.integers(0, classes, size=num))
  params = {
    "w1": jnp.asarray(rng.normal(size=(4, 5))),
    "w2": jnp.asarray(rng.normal(size=(5, classes)) * 0.5),
  }
  outputs_fn = lambda tree: jax.nn.relu(inputs @ tree["w1"]) @ tree["w2"]

  def output_loss(logits):
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(num), labels])

  return outputs_fn, output_loss, params, labels


def test_gauss_newton_matches_explicit_jacobians():
  with jax.enable_x64():
    outputs_fn, output_loss, params, _ = _relu_problem()
    theta, unravel = jax.flatten_util.ravel_pytree(params)
    basis = hess.random_orthonormal_basis(
      jax.random.key(1), theta.size, 6, jnp.float64
    )
    matvec, _ = hess.gauss_newton_vector_product(
      outputs_fn, output_loss, params
    )

    @jax.jit
    def compute(theta, basis):
      # Per-sample Jacobians J_s = dz_s/dtheta, [S, K, D].
      jacobians = jax.jacrev(lambda t: outputs_fn(unravel(t)))(theta)
      probs = jax.nn.softmax(outputs_fn(unravel(theta)))
      covariances = jax.vmap(lambda p: jnp.diag(p) - jnp.outer(p, p))(probs)
      explicit = (
        jnp.einsum("skd,skl,sle->de", jacobians, covariances, jacobians)
        / probs.shape[0]
      )
      params = unravel(theta)
      return (
        explicit,
        hess.gauss_newton_in_basis(outputs_fn, output_loss, params),
        hess.gauss_newton_in_basis(outputs_fn, output_loss, params, basis),
        matvec(basis[:, 0]),
      )

    explicit, full, projected, product = map(np.asarray, compute(theta, basis))
    chex.assert_equal_shape([explicit, full])
    chex.assert_shape(projected, (6, 6))
    chex.assert_shape(product, (theta.size,))
    basis = np.asarray(basis)
  np.testing.assert_allclose(full, explicit, atol=1e-13)
  assert np.linalg.eigvalsh(full).min() > -1e-12
  np.testing.assert_allclose(projected, basis.T @ explicit @ basis, atol=1e-13)
  np.testing.assert_allclose(product, explicit @ basis[:, 0], atol=1e-13)


def test_residual_term_is_sum_of_weighted_logit_hessians_and_traceless():
  with jax.enable_x64():
    outputs_fn, output_loss, params, labels = _relu_problem(seed=1)
    theta, unravel = jax.flatten_util.ravel_pytree(params)
    inputs = jnp.asarray(np.random.default_rng(2).normal(size=(10, 4)))

    @jax.jit
    def compute(theta):
      params = unravel(theta)
      logits = outputs_fn(params)
      weights = (jax.nn.softmax(logits) - jax.nn.one_hot(labels, 3)) / len(
        labels
      )
      # H_term = sum_{s,k} (p_sk - y_sk)/S d^2 z_sk / dtheta^2.
      explicit = jax.hessian(
        lambda t: jnp.sum(
          jax.lax.stop_gradient(weights) * outputs_fn(unravel(t))
        )
      )(theta)
      # A model linear in its parameters has no residual term at all.
      _, _, linear_residual = hess.gauss_newton_split(
        lambda w: inputs @ w,
        lambda z: jnp.sum(jax.nn.logsumexp(z, axis=-1)),
        jnp.ones((4, 3)) * 0.1,
      )
      return (
        *hess.gauss_newton_split(outputs_fn, output_loss, params),
        explicit,
        linear_residual,
      )

    full, gauss_newton, residual, explicit, linear_residual = map(
      np.asarray, compute(theta)
    )
  chex.assert_equal_shape([full, gauss_newton, residual, explicit])
  chex.assert_shape(linear_residual, (12, 12))
  np.testing.assert_allclose(residual, explicit, atol=1e-13)
  np.testing.assert_allclose(full, gauss_newton + residual, atol=1e-15)
  # Piecewise-linear, bias-free: zero diagonal, so Tr H = Tr G.
  np.testing.assert_allclose(np.diag(residual), 0.0, atol=1e-15)
  assert np.trace(full) == pytest.approx(np.trace(gauss_newton), rel=1e-12)
  assert np.abs(residual).max() > 1e-3  # but H_term itself is not 0
  np.testing.assert_allclose(linear_residual, 0.0, atol=1e-14)


def _oracle_problem(oracle):
  """The official Demo net (2-32-32-3, bias-free) as our relu_mlp."""
  inputs = jnp.asarray(oracle["X"])
  labels = jnp.asarray(oracle["y"])
  model = lenet.relu_mlp((32, 32), num_classes=3)
  sizes = [oracle[name].size for name in ("W1_0", "W2_0", "W3_0")]
  shapes = [oracle[name].shape for name in ("W1_0", "W2_0", "W3_0")]

  def to_params(theta):
    # Official layout: PyTorch (out, in) row-major per layer; Flax kernels
    # are (in, out).
    pieces = jnp.split(theta, np.cumsum(sizes)[:-1])
    kernels = [
      piece.reshape(shape).T
      for piece, shape in zip(pieces, shapes, strict=True)
    ]
    return {f"dense_{i}": {"kernel": k} for i, k in enumerate(kernels)}

  def loss_fn(theta):
    logits = model.apply({"params": to_params(theta)}, inputs)
    return -jnp.mean(
      jax.nn.log_softmax(logits)[jnp.arange(len(labels)), labels]
    )

  return loss_fn


@pytest.mark.skipif(
  not os.path.exists(ORACLE), reason="../shared/oracles/ not present"
)
def test_matches_official_goldilocks_implementation():
  oracle = np.load(ORACLE)
  with jax.enable_x64():
    loss_fn = _oracle_problem(oracle)
    basis = jnp.asarray(oracle["R"])
    loss = jax.jit(loss_fn)
    sub = jax.jit(
      lambda theta: hess.subspace_hessian(loss_fn, theta, basis, chunk_size=1)
    )
    for index, theta in enumerate(oracle["theta_alpha"]):
      theta = jnp.asarray(theta)
      assert float(loss(theta)) == pytest.approx(
        oracle["loss_at_init"][index], rel=1e-12
      )
      projected = np.asarray(sub(theta))
      np.testing.assert_allclose(
        projected,
        oracle["sub_hessian"][index],
        rtol=1e-9,
        atol=1e-12 * np.abs(oracle["sub_hessian"][index]).max(),
      )
      eigenvalues = np.linalg.eigvalsh(0.5 * (projected + projected.T))
      assert float(curv.positive_curvature(eigenvalues)) == pytest.approx(
        oracle["sub_trace_over_fro"][index], rel=1e-8, abs=1e-10
      )
      assert float(curv.fraction_positive(eigenvalues)) == pytest.approx(
        oracle["sub_frac_pos"][index], abs=1e-12
      )
    # The full Hessian (1184 x 1184) at alpha = 1 (the zone's peak).
    full = jax.jit(lambda theta: hess.hessian(loss_fn, theta, chunk_size=1))
    for index in (2,):
      matrix = np.asarray(full(jnp.asarray(oracle["theta_alpha"][index])))
      eigenvalues = np.linalg.eigvalsh(0.5 * (matrix + matrix.T))
      top = np.abs(eigenvalues).max()
      np.testing.assert_allclose(
        eigenvalues[::-1], oracle["full_eigs"][index], atol=1e-10 * top
      )
      assert float(curv.trace_over_frobenius(matrix)) == pytest.approx(
        oracle["full_trace_over_fro"][index], abs=1e-8
      )
      tolerance = float(oracle["full_tol_rel"]) * top
      assert (
        int(np.sum(eigenvalues > tolerance))
        == (oracle["full_n_pos_tol"][index])
      )
      assert (
        int(np.sum(eigenvalues < -tolerance))
        == (oracle["full_n_neg_tol"][index])
      )
