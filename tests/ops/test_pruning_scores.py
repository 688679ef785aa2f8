"""Pruning scores on hand-checkable cases and against brute force."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.nn.mlp import MLP
from repro.ops import pruning_scores


def test_el2n_of_a_perfect_prediction_is_zero_and_hand_values():
  labels = jnp.array([0, 2])
  confident = jnp.array([[60.0, 0.0, 0.0], [0.0, 0.0, 60.0]])
  np.testing.assert_allclose(
    pruning_scores.el2n(confident, labels), 0.0, atol=1e-6
  )
  # Uniform over 2 classes: ||(0.5, 0.5) - (1, 0)|| = sqrt(0.5).
  uniform = jnp.zeros((1, 2))
  np.testing.assert_allclose(
    pruning_scores.el2n(uniform, jnp.array([1])), np.sqrt(0.5), rtol=1e-6
  )
  # Completely wrong and confident: ||(1, 0) - (0, 1)|| = sqrt(2).
  wrong = jnp.array([[60.0, 0.0]])
  np.testing.assert_allclose(
    pruning_scores.el2n(wrong, jnp.array([1])), np.sqrt(2.0), rtol=1e-6
  )
  # Averaged over query models.
  stacked = jnp.stack([jnp.zeros((1, 2)), jnp.array([[60.0, 0.0]])])
  np.testing.assert_allclose(
    pruning_scores.el2n_over_models(stacked, jnp.array([1])),
    0.5 * (np.sqrt(0.5) + np.sqrt(2.0)),
    rtol=1e-6,
  )


def _tiny_mlp():
  module = MLP(hidden_sizes=(5,), num_outputs=3, use_bias=True)
  inputs = jax.random.normal(jax.random.key(0), (7, 4))
  labels = jnp.array([0, 1, 2, 0, 1, 2, 2])
  params = module.init(jax.random.key(1), inputs)

  def loss(params, x, y):
    logits = module.apply(params, x[None])[0]
    return -jax.nn.log_softmax(logits)[y]

  return loss, params, inputs, labels


def test_per_example_grads_and_grand_equal_a_python_loop():
  loss, params, inputs, labels = _tiny_mlp()
  batched = jax.jit(pruning_scores.per_example_grads, static_argnums=0)(
    loss, params, inputs, labels
  )
  norms = jax.jit(pruning_scores.grad_norms, static_argnums=(0, 4))(
    loss, params, inputs, labels, 3
  )  # 7 = 2 x 3 + 1
  grad_fn = jax.jit(jax.grad(loss))
  for i in range(len(labels)):
    single = grad_fn(params, inputs[i], labels[i])
    jax.tree.map(
      lambda a, b, i=i: np.testing.assert_allclose(
        a[i], b, rtol=1e-5, atol=1e-7
      ),
      batched,
      single,
    )
    flat = np.concatenate([np.ravel(g) for g in jax.tree.leaves(single)])
    np.testing.assert_allclose(norms[i], np.linalg.norm(flat), rtol=1e-5)


def test_forgetting_counts_on_a_scripted_accuracy_sequence():
  # Rows: epochs; columns: points.
  correct = np.array(
    [
      [0, 1, 0, 1, 1],
      [1, 1, 0, 0, 1],
      [0, 1, 0, 0, 0],
      [1, 1, 0, 1, 1],
      [0, 1, 0, 1, 0],
    ],
    bool,
  )
  # point 0: 1->0 twice; point 1: learned, never forgotten; point 2: never
  # learned (0 by the official convention); point 3: 1->0 once (t=1);
  # point 4: 1->0 at t=2 and t=4.
  np.testing.assert_array_equal(
    pruning_scores.forgetting_counts(correct), [2, 0, 0, 1, 2]
  )


def test_el2n_label_variants_by_hand():
  # p = (0.5, 0.25, 0.25) from logits log p; true label 1.
  probs = np.array([[0.5, 0.25, 0.25]])
  logits = jnp.log(jnp.asarray(probs, jnp.float32))
  distance = {c: np.linalg.norm(probs[0] - np.eye(3)[c]) for c in range(3)}
  expected = {
    "oracle": distance[1],
    "max": distance[0],
    "avg": 0.5 * distance[0] + 0.25 * distance[1] + 0.25 * distance[2],
  }
  for label, value in expected.items():
    got = pruning_scores.el2n(logits, jnp.array([1]), label)
    chex.assert_shape(got, (1,))
    chex.assert_type(got, jnp.float32)
    np.testing.assert_allclose(got, [value], rtol=1e-6)
  # Over models: the mean, also for the label-free variants.
  stacked = jnp.stack([logits, jnp.zeros((1, 3))])
  uniform_avg = np.linalg.norm(np.full(3, 1 / 3) - np.eye(3)[0])
  got = pruning_scores.el2n_over_models(stacked, label="avg")
  chex.assert_shape(got, (1,))
  np.testing.assert_allclose(
    got, [0.5 * (expected["avg"] + uniform_avg)], rtol=1e-6
  )
  with pytest.raises(ValueError, match="labels"):
    pruning_scores.el2n(logits)
  with pytest.raises(ValueError, match="unknown EL2N label"):
    pruning_scores.el2n(logits, jnp.array([1]), "min")


def _official_du_by_loop(probs, window):
  """The official scorer's bookkeeping replayed epoch by epoch."""
  stored, total = [], np.zeros(probs.shape[1])
  for epoch in range(1, len(probs) + 1):
    if epoch >= window:
      total += np.std(np.array(stored), axis=0, ddof=1)
      stored = stored[1:]
    stored.append(probs[epoch - 1])
  return total / (len(probs) - window)


def test_dynamic_uncertainty_both_conventions_by_hand():
  probs = np.array([[0.1, 0.5], [0.3, 0.5], [0.9, 0.5], [0.5, 0.5], [0.2, 0.5]])
  # Paper, J = 2: population std of a pair is |a - b| / 2, 4 windows.
  got = pruning_scores.dynamic_uncertainty(jnp.asarray(probs), 2, "paper")
  chex.assert_shape(got, (2,))
  chex.assert_type(got, jnp.float32)
  np.testing.assert_allclose(
    got, [np.mean([0.1, 0.3, 0.2, 0.15]), 0.0], rtol=1e-5, atol=1e-7
  )
  got3 = pruning_scores.dynamic_uncertainty(jnp.asarray(probs), 3, "paper")
  np.testing.assert_allclose(
    got3[0], np.mean([np.std(probs[k : k + 3, 0]) for k in range(3)]), rtol=1e-5
  )
  # Official, J = 3: windows of 2 epochs, unbiased std |a - b| / sqrt(2),
  # epochs (1, 2), (2, 3), (3, 4); the last epoch never enters; / (5 - 3).
  official = pruning_scores.dynamic_uncertainty(jnp.asarray(probs), 3)
  chex.assert_shape(official, (2,))
  chex.assert_type(official, jnp.float32)
  by_hand = (0.2 + 0.6 + 0.4) / np.sqrt(2.0) / 2.0
  np.testing.assert_allclose(official, [by_hand, 0.0], rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(
    official, _official_du_by_loop(probs, 3), rtol=1e-5, atol=1e-7
  )
  rng = np.random.default_rng(0)
  probs = rng.uniform(size=(12, 6))
  for window in (3, 4, 7):
    np.testing.assert_allclose(
      pruning_scores.dynamic_uncertainty(
        jnp.asarray(probs), window, "official"
      ),
      _official_du_by_loop(probs, window),
      rtol=1e-5,
    )
  with pytest.raises(ValueError):
    pruning_scores.dynamic_uncertainty(jnp.asarray(probs), 13, "paper")
  with pytest.raises(ValueError):  # T = J divides by zero officially.
    pruning_scores.dynamic_uncertainty(jnp.asarray(probs), 12, "official")
  with pytest.raises(ValueError):
    pruning_scores.dynamic_uncertainty(jnp.asarray(probs), 2, "official")
  with pytest.raises(ValueError, match="unknown convention"):
    pruning_scores.dynamic_uncertainty(jnp.asarray(probs), 3, "clean")


def _greedy_reference(points, count):
  distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
  first = int(np.argmin(np.linalg.norm(points - points.mean(0), axis=-1)))
  order = [first]
  while len(order) < count:
    min_dist = distances[:, order].min(1)
    min_dist[order] = -1.0
    order.append(int(np.argmax(min_dist)))
  return order, distances


def test_k_center_matches_brute_force_on_a_tiny_set():
  points = np.asarray(jax.random.normal(jax.random.key(3), (9, 2)), np.float64)
  order = np.asarray(pruning_scores.k_center_order(jnp.asarray(points)))
  reference, distances = _greedy_reference(points, 9)
  np.testing.assert_array_equal(order, reference)
  assert sorted(order.tolist()) == list(range(9))
  for k in (2, 3, 4):
    greedy_radius = distances[:, order[:k]].min(1).max()
    optimum = min(
      distances[:, list(c)].min(1).max()
      for c in itertools.combinations(range(9), k)
    )
    assert optimum <= greedy_radius <= 2.0 * optimum + 1e-9
  # Scores: the first k centres are the k highest scores.
  scores = pruning_scores.k_center_scores(jnp.asarray(points, jnp.float32))
  for k in (1, 4, 9):
    np.testing.assert_array_equal(
      pruning_scores.keep_hardest(scores, k), np.sort(order[:k])
    )


def test_keep_hardest_keeps_the_highest_scores():
  scores = np.array([0.1, 0.9, 0.5, 0.9, 0.2])
  np.testing.assert_array_equal(pruning_scores.keep_hardest(scores, 2), [1, 3])
  np.testing.assert_array_equal(
    pruning_scores.keep_hardest(scores, 3), [1, 2, 3]
  )
  assert pruning_scores.keep_hardest(scores, 0).size == 0


def _official_selection(scores, num_keep):
  """Python's stable ``sorted`` by score, the last ``num_keep``."""
  order = sorted(range(len(scores)), key=lambda i: scores[i])
  return sorted(order[len(order) - num_keep :])


def test_keep_hardest_breaks_ties_as_the_official_selection():
  # Forgetting-like integer scores: three points tie at the cut.
  scores = np.array([2, 1, 1, 0, 1, 3])
  kept = pruning_scores.keep_hardest(scores, 3)
  chex.assert_shape(kept, (3,))
  chex.assert_type(kept, np.int32)
  # 5 (score 3), 0 (score 2), then the highest index among the 1s (at
  # 1, 2, 4): 4.
  np.testing.assert_array_equal(kept, [0, 4, 5])
  np.testing.assert_array_equal(
    pruning_scores.keep_hardest(scores, 3, ties="lower_index"), [0, 1, 5]
  )
  rng = np.random.default_rng(0)
  for _ in range(20):
    scores = rng.integers(0, 4, 30)
    num_keep = int(rng.integers(0, 31))
    np.testing.assert_array_equal(
      pruning_scores.keep_hardest(scores, num_keep),
      _official_selection(scores, num_keep),
    )
  with pytest.raises(ValueError, match="tie rule"):
    pruning_scores.keep_hardest(scores, 3, ties="random")
