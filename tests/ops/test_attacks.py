"""PGD: feasibility of its points, exactness on linear models, options."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.nn.mlp import MLP
from repro.ops import attacks
from repro.ops import robust_linear as rl
from repro.ops.losses import cross_entropy


@functools.lru_cache
def _network():
  model = MLP(hidden_sizes=(16,), num_outputs=3, init_scale=3.0)
  params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 12)))
  return lambda x: model.apply(params, x)


def _images(n=32, d=12, seed=0):
  x = jax.random.uniform(jax.random.key(seed), (n, d))
  # Pixels exactly at the box edges, where a wrong projection shows.
  return x.at[:, 0].set(1.0).at[:, 1].set(0.0)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_points_stay_in_the_ball_and_the_box(norm):
  x = _images()
  labels = jnp.arange(32) % 3
  eps = 0.3 if norm == "linf" else 1.0
  x_adv = jax.jit(
    functools.partial(
      attacks.pgd,
      _network(),
      eps=eps,
      num_steps=7,
      step_size=eps / 2,
      norm=norm,
      random_init=True,
      num_restarts=2,
    )
  )(x, labels, key=jax.random.key(1))
  chex.assert_shape(x_adv, (32, 12))
  chex.assert_type(x_adv, jnp.float32)
  delta = np.asarray(x_adv - x)
  size = (
    np.abs(delta).max(1) if norm == "linf" else np.linalg.norm(delta, axis=1)
  )
  assert np.all(size <= eps + 1e-6)
  assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
  assert np.abs(delta).max() > 0.5 * min(eps, 0.3)  # it did move


def test_bright_pixels_can_decrease():
  # A tempting bug: the projection min(max(d, x - eps), x + eps) forces
  # d >= 1 - eps at a pixel x = 1, so bright pixels could never darken.
  w = jnp.ones(5)
  x = jnp.ones((2, 5))
  y = jnp.ones(2)
  x_adv = jax.jit(
    lambda: attacks.pgd(
      lambda z: z @ w,
      x,
      y,
      eps=0.25,
      num_steps=5,
      step_size=0.1,
      loss_fn=attacks.exponential_loss,
    )
  )()
  chex.assert_shape(x_adv, (2, 5))
  np.testing.assert_allclose(x_adv, 0.75, atol=1e-6)


@pytest.mark.parametrize("norm,random_init", [("linf", True), ("l2", False)])
def test_pgd_on_a_linear_model_reaches_the_closed_form(norm, random_init):
  with jax.enable_x64(True):
    generator = np.random.default_rng(0)
    w = jnp.asarray(generator.standard_normal(6))
    x = jnp.asarray(generator.standard_normal((50, 6)))
    y = jnp.asarray(np.where(generator.random(50) < 0.5, 1.0, -1.0))
    eps = 0.4
    x_adv = jax.jit(
      lambda: attacks.pgd(
        lambda z: z @ w,
        x,
        y,
        eps=eps,
        num_steps=100,
        step_size=2.5 * eps / 100,
        norm=norm,
        loss_fn=attacks.logistic_loss,
        key=jax.random.key(0),
        random_init=random_init,
        clip_min=None,
        clip_max=None,
      )
    )()
    np.testing.assert_allclose(
      y * (x_adv @ w), rl.robust_margin(w, x, y, eps, norm), atol=1e-10
    )


def test_restarts_keep_the_worst_case_per_example():
  network = _network()
  x = _images(seed=2)
  labels = jnp.arange(32) % 3
  common = dict(eps=0.1, num_steps=3, step_size=0.02)
  single = jax.jit(lambda: attacks.pgd(network, x, labels, **common))()
  restarted = jax.jit(
    lambda: attacks.pgd(
      network, x, labels, key=jax.random.key(5), num_restarts=3, **common
    )
  )()
  chex.assert_equal_shape([single, restarted, x])
  loss = jax.jit(lambda z: cross_entropy(network(z), labels))
  chex.assert_shape(loss(x), (32,))
  # The zero-start run is one candidate, so no example can get better.
  assert np.all(np.asarray(loss(restarted)) >= np.asarray(loss(single)) - 1e-6)
  assert np.any(np.asarray(loss(restarted)) > np.asarray(loss(single)))


def test_targeted_attack_raises_the_target_logit():
  network = _network()
  x = _images(seed=3)
  target = jnp.full(32, 2)
  x_adv = jax.jit(
    lambda: attacks.pgd(
      network, x, target, eps=0.3, num_steps=10, step_size=0.05, targeted=True
    )
  )()
  loss = jax.jit(lambda z: cross_entropy(network(z), target))
  before, after = loss(x), loss(x_adv)
  assert np.all(np.asarray(after) <= np.asarray(before) + 1e-6)
  assert float(jnp.mean(after)) < float(jnp.mean(before))


def test_zero_radius_returns_the_input_and_vmaps_over_eps():
  network = _network()
  x = _images(n=4)
  labels = jnp.arange(4) % 3
  attack = lambda eps: attacks.pgd(
    network, x, labels, eps=eps, num_steps=3, step_size=eps / 3
  )
  out = jax.jit(jax.vmap(attack))(jnp.array([0.0, 0.2]))
  chex.assert_shape(out, (2, 4, 12))
  np.testing.assert_array_equal(out[0], x)
  assert float(jnp.abs(out[1] - x).max()) == pytest.approx(0.2, abs=1e-6)


def test_project_clips_ball_then_box():
  x = jnp.array([[0.9, 0.1, 0.5]])
  delta = jnp.array([[0.5, -0.5, 0.05]])
  np.testing.assert_allclose(
    attacks.project(delta, x, 0.2, "linf"), [[0.1, -0.1, 0.05]], atol=1e-7
  )
  chex.assert_shape(attacks.project(delta, x, 0.2, "linf"), (1, 3))
  projected = attacks.project(
    jnp.array([[3.0, 4.0, 0.0]]), jnp.full((1, 3), 0.5), 1.0, "l2", None, None
  )
  np.testing.assert_allclose(projected, [[0.6, 0.8, 0.0]], atol=1e-7)


def test_random_start_lies_in_the_ball():
  x = jnp.zeros((200, 10))
  linf, l2 = jax.jit(
    lambda: (
      attacks.random_start(jax.random.key(0), x, 0.3, "linf"),
      attacks.random_start(jax.random.key(1), x, 0.3, "l2"),
    )
  )()
  chex.assert_shape([linf, l2], (200, 10))
  chex.assert_type([linf, l2], jnp.float32)
  assert float(jnp.abs(linf).max()) <= 0.3
  assert float(jnp.linalg.norm(l2, axis=1).max()) <= 0.3 + 1e-6
  with pytest.raises(ValueError):
    attacks.pgd(
      _network(),
      x[:, :12],
      jnp.zeros(200, int),
      eps=0.1,
      num_steps=1,
      step_size=0.1,
      random_init=True,
    )


def test_eot_gradient_equals_the_analytic_expectation():
  # Score s = exp(<w, x>) with w ~ N(m, sigma^2 I), loss = s: then
  # E_w[grad_x s] = E[w e^{<w,x>}] = (m + sigma^2 x) e^{<m,x> + sigma^2
  # |x|^2 / 2} (Gaussian moment generating function).
  mean = jnp.array([0.5, -0.3, 0.2])
  sigma = 0.4
  x = jnp.array([[0.3, 0.6, -0.2]])

  def stochastic_score(inputs, key):
    w = mean + sigma * jax.random.normal(key, mean.shape)
    return jnp.exp(inputs @ w)

  gradient = attacks.eot_gradient(
    stochastic_score,
    x,
    jnp.zeros(1),
    jax.random.key(0),
    num_draws=20000,
    loss_fn=lambda scores, labels: scores,
  )
  chex.assert_shape(gradient, (1, 3))
  expected = (mean + sigma**2 * x) * jnp.exp(
    x @ mean + sigma**2 * jnp.sum(x**2) / 2
  )
  np.testing.assert_allclose(gradient, expected, rtol=0.02)


def test_eot_passes_a_fresh_key_per_step_and_matches_without_noise():
  network = _network()
  x = _images(n=8)
  labels = jnp.arange(8) % 3
  options = dict(eps=0.2, num_steps=5, step_size=0.05)
  plain = attacks.pgd(network, x, labels, **options)
  # A model that ignores its key: EOT changes nothing.
  ignoring = attacks.pgd(
    lambda inputs, key: network(inputs),
    x,
    labels,
    eot=True,
    key=jax.random.key(0),
    **options,
  )
  chex.assert_equal_shape([ignoring, plain, x])
  np.testing.assert_allclose(ignoring, plain, atol=1e-6)
  # A model that records its key: every step sees a different one.
  seen = []

  def recording(inputs, key):
    jax.debug.callback(
      lambda k: seen.append(np.asarray(k)), jax.random.key_data(key)
    )
    return network(inputs)

  attacks.pgd(recording, x, labels, eot=True, key=jax.random.key(1), **options)
  jax.effects_barrier()
  steps = {tuple(k.ravel()) for k in seen}
  assert len(steps) == options["num_steps"] + 1  # steps + final score


def test_stop_on_success_freezes_at_the_first_flip():
  # Two classes split at x_0 = 0.5; x_0 = 0.55 starts 5 steps of 0.01
  # away. Unstopped PGD runs to the ball's edge, the stopped attack halts
  # at the first iterate past the boundary.
  w = jnp.array([1.0, 0.0])
  logits_fn = lambda inputs: jnp.stack([inputs @ w - 0.5, 0.5 - inputs @ w], -1)
  x = jnp.array([[0.55, 0.5]])
  labels = jnp.array([0])
  flipped = lambda logits, y: jnp.argmax(logits, -1) != y
  options = dict(eps=0.3, num_steps=30, step_size=0.01)
  full = attacks.pgd(logits_fn, x, labels, **options)
  stopped = attacks.pgd(
    logits_fn, x, labels, stop_on_success=flipped, **options
  )
  chex.assert_shape([full, stopped], (1, 2))
  assert float(full[0, 0]) == pytest.approx(0.25, abs=1e-6)
  assert 0.485 < float(stopped[0, 0]) < 0.5  # one step past 0.5
  assert bool(flipped(logits_fn(stopped), labels)[0])
