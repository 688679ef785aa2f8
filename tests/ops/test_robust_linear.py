"""Closed-form robustness of linear models against brute force and autodiff."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import robust_linear as rl


@pytest.fixture(autouse=True)
def float64():
  with jax.enable_x64(True):
    yield


def _problem(seed=0, n=7, d=4):
  generator = np.random.default_rng(seed)
  w = generator.standard_normal(d)
  w[1] = 0.0  # a zero coordinate: sign(0) = 0 must not matter
  x = generator.standard_normal((n, d))
  y = np.where(generator.random(n) < 0.5, 1.0, -1.0)
  return jnp.asarray(w), jnp.asarray(x), jnp.asarray(y)


def test_linf_robust_margin_is_the_minimum_over_all_sign_vertices():
  w, x, y = _problem()
  eps = 0.3
  # The worst linf perturbation of a linear score is a vertex of the cube.
  vertices = np.array(list(itertools.product((-1.0, 1.0), repeat=4))) * eps
  brute = np.min(
    np.asarray(y)[:, None]
    * ((np.asarray(x)[:, None, :] + vertices[None]) @ np.asarray(w)),
    axis=1,
  )
  closed = rl.robust_margin(w, x, y, eps, "linf")
  chex.assert_shape(closed, (7,))
  chex.assert_type(closed, jnp.float64)
  np.testing.assert_allclose(closed, brute, atol=1e-12)


def test_l2_robust_margin_is_attained_and_never_beaten_on_the_sphere():
  w, x, y = _problem(seed=1)
  eps = 0.7
  closed = rl.robust_margin(w, x, y, eps, "l2")
  delta = rl.worst_case_perturbation(w, x, y, eps, "l2")
  chex.assert_equal_shape([delta, x])
  np.testing.assert_allclose(jnp.linalg.norm(delta, axis=1), eps, rtol=1e-12)
  np.testing.assert_allclose(y * ((x + delta) @ w), closed, atol=1e-12)
  directions = np.random.default_rng(2).standard_normal((2000, 4))
  directions *= eps / np.linalg.norm(directions, axis=1, keepdims=True)
  sampled = np.asarray(y)[:, None] * (
    (np.asarray(x)[:, None, :] + directions[None]) @ np.asarray(w)
  )
  assert np.all(sampled >= np.asarray(closed)[:, None] - 1e-12)


def test_linf_worst_case_perturbation_attains_the_closed_form():
  w, x, y = _problem(seed=3)
  delta = rl.worst_case_perturbation(w, x, y, 0.25, "linf")
  assert float(jnp.max(jnp.abs(delta))) == pytest.approx(0.25)
  np.testing.assert_allclose(
    y * ((x + delta) @ w), rl.robust_margin(w, x, y, 0.25), atol=1e-12
  )


def test_robust_accuracy_counts_strictly_positive_robust_margins():
  w = jnp.array([1.0, -1.0])
  x = jnp.array([[2.0, 0.0], [1.0, 0.0], [0.5, 0.0]])
  y = jnp.ones(3)
  # margins 2, 1, 0.5; eps ||w||_1 = 2 * 0.5 = 1 -> only the first is > 0.
  assert float(rl.robust_accuracy(w, x, y, 0.5)) == pytest.approx(1 / 3)


def test_l1_norm_gradient_is_sign_and_zero_at_zero():
  # jnp.abs differentiates to 1 at 0; l1_norm must give 0.
  assert float(jax.grad(lambda w: jnp.abs(w).sum())(jnp.zeros(1))[0]) == 1.0
  w = jnp.array([0.0, 2.0, -3.0])
  np.testing.assert_array_equal(jax.grad(rl.l1_norm)(w), [0.0, 1.0, -1.0])
  loss = lambda v: rl.robust_logsumexp_loss(v, jnp.eye(3), jnp.ones(3), 0.5)
  # At w = 0 the data part is -mean(x) and the eps term contributes 0.
  np.testing.assert_allclose(jax.grad(loss)(jnp.zeros(3)), -np.ones(3) / 3)


def test_l2_norm_gradient_is_finite_at_zero():
  grad = jax.grad(rl.l2_norm)(jnp.zeros(3))
  chex.assert_tree_all_finite(grad)
  np.testing.assert_array_equal(grad, 0.0)
  np.testing.assert_allclose(
    jax.grad(rl.l2_norm)(jnp.array([3.0, 4.0])), [0.6, 0.8]
  )


def test_masked_logsumexp_loss_equals_the_loss_on_the_subset():
  w, x, y = _problem(seed=4, n=9)
  mask = jnp.arange(9) < 5
  np.testing.assert_allclose(
    rl.robust_logsumexp_loss(w, x, y, 0.2, mask),
    rl.robust_logsumexp_loss(w, x[:5], y[:5], 0.2),
    rtol=1e-12,
  )
  np.testing.assert_allclose(
    rl.robust_logsumexp_loss(w, x, y, 0.2),
    jnp.log(rl.robust_exp_loss(w, x, y, 0.2)),
    rtol=1e-12,
  )


def test_min_norm_subgradient_matches_autodiff_off_zero_and_soft_thresholds():
  w, x, y = _problem(seed=5)
  loss, subgradient = rl.robust_logsumexp_loss_and_subgradient(w, x, y, 0.4)
  chex.assert_rank(loss, 0)
  chex.assert_shape(subgradient, (4,))
  chex.assert_type([loss, subgradient], jnp.float64)
  autodiff = jax.grad(lambda v: rl.robust_logsumexp_loss(v, x, y, 0.4))(w)
  np.testing.assert_allclose(loss, rl.robust_logsumexp_loss(w, x, y, 0.4))
  nonzero = np.asarray(w) != 0
  np.testing.assert_allclose(
    subgradient[nonzero], autodiff[nonzero], atol=1e-12
  )
  # At w_j = 0 the element of g_j + 0.4 [-1, 1] nearest 0.
  smooth = jax.grad(lambda v: rl.robust_logsumexp_loss(v, x, y, 0.0))(w)[1]
  expected = np.sign(smooth) * max(abs(float(smooth)) - 0.4, 0.0)
  assert float(subgradient[1]) == pytest.approx(expected, abs=1e-12)
  np.testing.assert_allclose(
    rl.l1_min_norm_subgradient(
      jnp.array([0.3, -0.9, 0.2]), jnp.array([0.0, 0.0, -1.0]), 0.5
    ),
    [0.0, -0.4, -0.3],
    atol=1e-12,
  )


def test_exact_sparse_teacher_has_k_sign_entries():
  generator = np.random.default_rng(0)
  for k in (1, 5, 50):
    teacher = rl.sample_teacher(generator, 50, k)
    assert np.count_nonzero(teacher) == k
    assert set(np.unique(teacher)) <= {-1.0, 0.0, 1.0}
  assert rl.sample_teacher(generator, 50).shape == (50,)
  with pytest.raises(ValueError):
    rl.sample_teacher(generator, 10, 11)


def test_sparse_inputs_have_no_zero_rows_and_expected_density():
  generator = np.random.default_rng(1)
  x = rl.sample_inputs(generator, 4000, 40, 2.0)
  assert set(np.unique(x)) == {-1.0, 0.0, 1.0}
  assert np.all(np.any(x != 0, axis=1))
  # Conditioned on a non-empty row: E[#nonzero] = 2 / (1 - (1 - 2/40)^40).
  expected = 2.0 / (1 - (1 - 2 / 40) ** 40)
  assert np.count_nonzero(x, axis=1).mean() == pytest.approx(expected, rel=0.05)
  assert np.mean(x == 1) == pytest.approx(np.mean(x == -1), abs=0.005)


def test_ties_get_label_minus_one_and_injection_fixes_them():
  teacher = np.array([1.0, -1.0, 0.0])
  x = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 5.0]])
  y = rl.teacher_labels(teacher, x)
  chex.assert_shape(y, (3,))
  np.testing.assert_array_equal(y, [-1.0, 1.0, -1.0])
  rho = 0.5
  moved = rl.inject_margin(x, y, teacher, rho)
  chex.assert_equal_shape([moved, x])
  # y <w*, x> rises by exactly rho ||w*||_1 = 1.
  np.testing.assert_allclose(y * (moved @ teacher) - y * (x @ teacher), 1.0)
  assert float(rl.eps_star(teacher, moved, y)) == pytest.approx(0.5)


def test_margin_injection_makes_the_teacher_robust_at_rho():
  generator = np.random.default_rng(2)
  teacher = rl.sample_teacher(generator, 30, 3)
  x, y = rl.make_teacher_data(generator, teacher, 500, None, rho=0.4)
  star = float(rl.eps_star(teacher, x, y))
  assert star >= 0.4
  assert (
    float(rl.robust_accuracy(jnp.asarray(teacher), x, y, 0.999 * star)) == 1.0
  )
  mask = np.arange(500) < 10
  assert float(rl.eps_star(teacher, x, y, mask)) >= star


def test_numpy_generator_is_deterministic_per_key():
  key = jax.random.key(3)
  a = rl.numpy_generator(key).standard_normal(4)
  b = rl.numpy_generator(key).standard_normal(4)
  c = rl.numpy_generator(jax.random.key(4)).standard_normal(4)
  np.testing.assert_array_equal(a, b)
  assert not np.allclose(a, c)
