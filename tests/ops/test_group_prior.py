"""The GAP prior against a hand computation; the context sampler."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import group_prior
from repro.ops.losses import mean_cross_entropy

# A tiny binary logistic model: logits = [0, w . x + b].
X = np.array([[1.0, -2.0], [0.5, 1.0], [-1.5, 0.3]])
Y = np.array([1, 0, 1])
THETA = {"w": np.array([0.3, -0.7]), "b": np.array(0.2)}
THETA0 = {"w": np.array([0.1, 0.1]), "b": np.array(-0.4)}


def _logits(params, x):
  score = x @ params["w"] + params["b"]
  return jnp.stack([jnp.zeros_like(score), score], -1)


def _context_loss(params):
  return mean_cross_entropy(_logits(params, X), Y)


def _hand_nll_and_grad(w, b):
  """Mean NLL of the logistic model and its gradient, by hand (float64)."""
  score = X @ w + b
  prob = 1.0 / (1.0 + np.exp(-score))
  nll = np.mean(-(Y * np.log(prob) + (1 - Y) * np.log(1 - prob)))
  residual = prob - Y
  return nll, X.T @ residual / len(Y), residual.mean()


def test_log_prior_matches_hand_computation():
  precision, scale, rho, num_batches = 3.0, 15.0, 0.15, 4
  w, b = THETA["w"], float(THETA["b"])
  _, grad_w, grad_b = _hand_nll_and_grad(w, b)
  norm = np.sqrt(np.sum(grad_w**2) + grad_b**2)
  w_adv, b_adv = w + rho * grad_w / norm, b + rho * grad_b / norm
  sam_nll, sam_grad_w, sam_grad_b = _hand_nll_and_grad(w_adv, b_adv)
  distance = np.sum((w - THETA0["w"]) ** 2) + (b - THETA0["b"]) ** 2
  expected = -0.5 * precision * distance - scale * num_batches * sam_nll
  with jax.enable_x64(True):
    params = jax.tree.map(jnp.asarray, THETA)
    log_prior = lambda p: group_prior.gap_log_prior(
      p,
      _context_loss,
      THETA0,
      precision=precision,
      scale=scale,
      rho=rho,
      num_batches=num_batches,
    )
    value, grads = jax.value_and_grad(log_prior)(params)
  chex.assert_rank(value, 0)
  chex.assert_type(value, jnp.float64)
  chex.assert_trees_all_equal_shapes_and_dtypes(grads, params)
  assert float(value) == pytest.approx(expected, rel=1e-12)
  # SAM gradient: the ascent direction is a constant (stop-gradient), so
  # the gradient is the context gradient at the perturbed point.
  np.testing.assert_allclose(
    grads["w"],
    -precision * (w - THETA0["w"]) - scale * num_batches * sam_grad_w,
    rtol=1e-10,
  )
  np.testing.assert_allclose(
    grads["b"],
    -precision * (b - THETA0["b"]) - scale * num_batches * sam_grad_b,
    rtol=1e-10,
  )


def test_objective_is_nll_minus_log_prior_over_n():
  batch_size, num_train = 8, 32
  kwargs = dict(precision=500.0, scale=15.0, rho=0.15)
  with jax.enable_x64(True):
    params = jax.tree.map(jnp.asarray, THETA)
    batch_loss = lambda p: mean_cross_entropy(_logits(p, X[:2]), Y[:2])
    loss, aux = group_prior.gap_objective(
      params,
      batch_loss,
      _context_loss,
      THETA0,
      batch_size=batch_size,
      num_train=num_train,
      **kwargs,
    )
    log_prior = group_prior.gap_log_prior(
      params,
      _context_loss,
      THETA0,
      num_batches=num_train // batch_size,
      **kwargs,
    )
  chex.assert_rank([loss, aux["nll"], log_prior], 0)
  assert float(loss) == pytest.approx(
    float(aux["nll"]) - float(log_prior) / num_train, rel=1e-12
  )


def test_rho_zero_is_the_plain_context_loss():
  params = jax.tree.map(jnp.asarray, THETA)
  assert float(group_prior.sam_loss(_context_loss, params, 0.0)) == (
    pytest.approx(float(_context_loss(params)), rel=1e-6)
  )
  direction = group_prior.sam_direction(_context_loss, params)
  chex.assert_trees_all_equal_shapes(direction, params)
  norm = np.sqrt(sum(float(jnp.sum(d**2)) for d in jax.tree.leaves(direction)))
  assert norm == pytest.approx(1.0, rel=1e-5)  # global norm over leaves


@pytest.mark.parametrize("group_scale", [0.0, 1.0, 4.0])
def test_context_sampler_group_frequencies(group_scale):
  counts = np.array([400, 60, 30, 10])
  groups = jnp.asarray(np.repeat(np.arange(4), counts))
  probabilities = group_prior.context_probabilities(groups, 4, group_scale)
  chex.assert_shape(probabilities, (counts.sum(),))
  chex.assert_type(probabilities, jnp.float32)
  # Per-example weight (N / n_g)^s: group mass proportional to n_g^(1-s).
  mass = counts ** (1.0 - group_scale)
  mass = mass / mass.sum()
  if group_scale == 0.0:
    np.testing.assert_allclose(mass, counts / counts.sum())  # proportional
  if group_scale == 1.0:
    np.testing.assert_allclose(mass, 0.25)  # uniform
  exact = np.bincount(np.asarray(groups), weights=np.asarray(probabilities))
  np.testing.assert_allclose(exact, mass, rtol=1e-5, atol=1e-9)
  np.testing.assert_allclose(
    group_prior.context_group_mass(counts, group_scale),
    mass,
    rtol=1e-5,
    atol=1e-9,
  )
  draws = 200_000
  index = group_prior.sample_context(jax.random.key(0), probabilities, draws)
  chex.assert_shape(index, (draws,))
  chex.assert_type(index, int)
  frequency = (
    np.bincount(np.asarray(groups)[np.asarray(index)], minlength=4) / draws
  )
  tolerance = 5 * np.sqrt(mass * (1 - mass) / draws) + 1e-6
  assert np.all(np.abs(frequency - mass) <= tolerance), (frequency, mass)


def test_context_weights_do_not_overflow_at_s_10():
  groups = jnp.asarray(np.repeat(np.arange(4), [8535, 8276, 2874, 182]))
  mass = group_prior.context_group_mass(np.array([8535, 8276, 2874, 182]), 10.0)
  probabilities = group_prior.context_probabilities(groups, 4, 10.0)
  assert np.all(np.isfinite(np.asarray(probabilities)))
  chex.assert_shape(mass, (4,))
  assert float(mass[3]) > 0.999  # CelebA: essentially all blond males
