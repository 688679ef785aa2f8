"""TRADES and PGD-AT losses against hand computations."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

from repro.ops import adversarial_training as at
from repro.ops.losses import mean_cross_entropy


def _softmax(logits):
  exp = np.exp(logits - logits.max(-1, keepdims=True))
  return exp / exp.sum(-1, keepdims=True)


def test_kl_matches_scipy_and_handles_zero_probabilities():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(5, 4))
  reference = _softmax(rng.normal(size=(5, 4)))
  reference[0] = [0.0, 0.5, 0.5, 0.0]
  expected = special.rel_entr(reference, _softmax(logits)).sum(-1)
  got = jax.jit(at.kl_from_probabilities)(
    jnp.asarray(logits, jnp.float32), jnp.asarray(reference, jnp.float32)
  )
  np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-6)


def test_trades_loss_by_hand():
  clean = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
  adversarial = np.array([[1.0, 1.0, -1.0], [0.0, 2.0, 0.0]])
  labels = np.array([0, 1])
  p, q = _softmax(clean), _softmax(adversarial)
  cross_entropy = -np.mean(np.log(p[np.arange(2), labels]))
  kl = np.sum(p * np.log(p / q)) / 2  # summed KL divided by the batch
  value, aux = jax.jit(at.trades_loss, static_argnums=3)(
    jnp.asarray(clean), jnp.asarray(adversarial), jnp.asarray(labels), 6.0
  )
  np.testing.assert_allclose(float(value), cross_entropy + 6.0 * kl, rtol=1e-6)
  np.testing.assert_allclose(float(aux["robust_kl"]), kl, rtol=1e-6)


def test_trades_gradient_flows_through_both_logits():
  clean = jnp.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
  adversarial = jnp.array([[1.0, 1.0, -1.0], [0.0, 2.0, 0.0]])
  labels = jnp.array([0, 1])
  grad_adversarial = jax.jit(
    jax.grad(lambda a: at.trades_loss(clean, a, labels, 6.0)[0])
  )(adversarial)
  # d/da of beta * mean_i KL(p_i || softmax(a_i)) = beta/B (softmax(a) - p).
  expected = (
    6.0 / 2 * (_softmax(np.asarray(adversarial)) - _softmax(np.asarray(clean)))
  )
  np.testing.assert_allclose(
    np.asarray(grad_adversarial), expected, rtol=1e-5, atol=1e-6
  )
  grad_clean = jax.jit(
    jax.grad(lambda c: at.trades_loss(c, adversarial, labels, 6.0)[0])
  )(clean)
  assert float(jnp.abs(grad_clean).sum()) > 0


def _linear_model():
  weights = jax.random.normal(jax.random.key(0), (6, 4))
  return lambda inputs: inputs.reshape(inputs.shape[0], -1) @ weights


def test_trades_attack_stays_in_ball_and_box_and_raises_kl():
  logits_fn = _linear_model()
  x = jax.random.uniform(jax.random.key(1), (16, 6))
  eps = 0.1

  @jax.jit
  def attack_and_score(x):
    adversarial = at.trades_adversarial(
      logits_fn,
      x,
      jax.random.key(2),
      eps=eps,
      num_steps=10,
      step_size=0.025,
      start="uniform",
    )
    reference = jax.nn.softmax(logits_fn(x))
    attacked = at.kl_from_probabilities(logits_fn(adversarial), reference)
    noise = x + 0.001 * jax.random.normal(jax.random.key(3), x.shape)
    start = at.kl_from_probabilities(logits_fn(noise), reference)
    return adversarial, attacked, start

  adversarial, attacked, start = attack_and_score(x)
  assert float(jnp.max(jnp.abs(adversarial - x))) <= eps + 1e-6
  assert float(adversarial.min()) >= 0.0 and float(adversarial.max()) <= 1.0
  assert bool(jnp.all(attacked > start))


def test_pgd_adversarial_raises_cross_entropy_within_the_ball():
  logits_fn = _linear_model()
  x = jax.random.uniform(jax.random.key(1), (16, 6))
  labels = jnp.argmax(logits_fn(x), axis=1)

  @jax.jit
  def attack_and_score(x, labels):
    adversarial = at.pgd_adversarial(
      logits_fn,
      x,
      labels,
      jax.random.key(4),
      eps=0.1,
      num_steps=10,
      step_size=0.025,
    )
    return (
      adversarial,
      mean_cross_entropy(logits_fn(x), labels),
      mean_cross_entropy(logits_fn(adversarial), labels),
    )

  adversarial, before, after = attack_and_score(x, labels)
  assert float(jnp.max(jnp.abs(adversarial - x))) <= 0.1 + 1e-6
  assert float(after) > float(before)


def _trades_linf_by_hand(weights, x, start, eps, step_size, num_steps):
  """The reference TRADES linf loop for logits x @ W, numpy float64.

  d KL(p || softmax(z)) / dz = softmax(z) - p, so the input gradient is
  (q - p) W^T.
  """
  reference = _softmax(x @ weights)
  adversarial = start.copy()
  for _ in range(num_steps):
    grad = (_softmax(adversarial @ weights) - reference) @ weights.T
    adversarial = adversarial + step_size * np.sign(grad)
    adversarial = np.clip(adversarial, x - eps, x + eps)
    adversarial = np.clip(adversarial, 0.0, 1.0)
  return adversarial


def test_trades_attack_starts_by_convention_as_the_reference_loop():
  weights = np.asarray(jax.random.normal(jax.random.key(0), (6, 4)), np.float64)
  logits_fn = lambda inputs: inputs @ jnp.asarray(weights, jnp.float32)
  # Inputs on the box edges: the official start leaves it.
  x = np.asarray(
    jax.random.bernoulli(jax.random.key(1), 0.5, (16, 6)), np.float32
  )
  key, eps, step = jax.random.key(2), 0.1, 0.025
  attack = jax.jit(
    at.trades_adversarial, static_argnames=("logits_fn", "num_steps", "start")
  )
  official = attack(
    logits_fn, jnp.asarray(x), key, eps=eps, num_steps=3, step_size=step
  )
  chex.assert_shape(official, x.shape)
  chex.assert_type(official, jnp.float32)
  noise = np.asarray(jax.random.normal(key, x.shape), np.float64)
  start = x + 0.001 * noise  # official: not clipped to [0, 1]
  assert (start < 0).any() and (start > 1).any()
  np.testing.assert_allclose(
    official, _trades_linf_by_hand(weights, x, start, eps, step, 3), atol=1e-6
  )
  # Zero steps return the unclipped start itself.
  zero = attack(
    logits_fn, jnp.asarray(x), key, eps=eps, num_steps=0, step_size=step
  )
  np.testing.assert_allclose(zero, start, atol=1e-7)
  # Uniform: a uniform point of the ball (pgd's first split key), clipped.
  # Inside the box here: a start clipped back onto x has a zero KL
  # gradient, whose sign is float noise.
  x = np.asarray(
    jax.random.uniform(jax.random.key(3), (16, 6), jnp.float32, 0.2, 0.8)
  )
  uniform = attack(
    logits_fn,
    jnp.asarray(x),
    key,
    eps=eps,
    num_steps=3,
    step_size=step,
    start="uniform",
  )
  chex.assert_shape(uniform, x.shape)
  offset = np.asarray(
    jax.random.uniform(
      jax.random.split(key, 1)[0], x.shape, jnp.float32, -eps, eps
    )
  )
  start = np.clip(x + offset, 0.0, 1.0)
  np.testing.assert_allclose(
    uniform, _trades_linf_by_hand(weights, x, start, eps, step, 3), atol=1e-6
  )
  with pytest.raises(ValueError, match="TRADES start"):
    at.trades_adversarial(
      logits_fn,
      jnp.asarray(x),
      key,
      eps=eps,
      num_steps=1,
      step_size=step,
      start="zero",
    )
