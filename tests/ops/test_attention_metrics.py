"""Iteration-head and EoI-locator scores on hand-built attention matrices."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import attention_metrics as am

MAX_LEN = 4
WIDTH = 2 * MAX_LEN + 3


def ideal_attention(length, eoi_weight=1.0, diag_weight=1.0):
  """[T, T] causal rows: layer-1 style (rows s_t -> EoI) and layer-2 style
  (row L+t -> x_t), the rest uniform over the prefix."""
  eoi = length + 1
  first = np.tril(np.ones((WIDTH, WIDTH)))
  first /= first.sum(axis=1, keepdims=True)
  second = first.copy()
  for t in range(1, length + 1):
    row = eoi + t  # holds s_t
    first[row] = 0
    first[row, eoi] = eoi_weight
    first[row, 0] += 1 - eoi_weight
    query = length + t
    second[query] = 0
    second[query, t] = diag_weight
    second[query, 0] = 1 - diag_weight
  return first, second


def test_weights_pick_the_expected_entries():
  length = 3
  attention = jnp.asarray(np.random.default_rng(0).random((2, WIDTH, WIDTH)))
  weights, valid = am.iteration_head_weights(attention, length, MAX_LEN)
  chex.assert_shape(weights, (2, MAX_LEN))
  chex.assert_shape(valid, (MAX_LEN,))
  chex.assert_type(valid, bool)
  np.testing.assert_array_equal(valid, [True, True, True, False])
  for t in range(1, length + 1):  # A[L+t, t]
    np.testing.assert_allclose(weights[:, t - 1], attention[:, length + t, t])
  np.testing.assert_array_equal(weights[:, 3], 0)
  weights, _ = am.eoi_locator_weights(attention, length, MAX_LEN)
  for t in range(1, length + 1):  # A[L+1+t, L+1]
    np.testing.assert_allclose(
      weights[:, t - 1], attention[:, length + 1 + t, length + 1]
    )


def test_ideal_circuit_scores_one():
  first, second = ideal_attention(3)
  attention = jnp.asarray(np.stack([first, second])[None, :, None])  # N=1
  attention = jnp.repeat(attention, 5, axis=0)  # [5, layers, heads, T, T]
  scores = am.circuit_scores(attention, 3, MAX_LEN)
  assert scores["eoi/frac_above"].shape == (2, 1)
  np.testing.assert_allclose(scores["eoi/frac_above"][0, 0], 1.0)
  np.testing.assert_allclose(scores["eoi/mean"][0, 0], 1.0)
  np.testing.assert_allclose(scores["iter/frac_above"][1, 0], 1.0)
  np.testing.assert_allclose(scores["iter/mean"][1, 0], 1.0)
  np.testing.assert_allclose(scores["iter/invariance"][1, 0], 1.0)
  # The uniform layer-2 rows are not an EoI locator.
  assert scores["eoi/frac_above"][1, 0] == 0


def test_peakiness_thresholds_and_invariance_by_hand():
  # Two sequences, L = 2 valid positions (max_len 4).
  weights = jnp.array([[0.9, 0.4, 0.0, 0.0], [0.7, 0.6, 0.0, 0.0]])
  valid = jnp.array([True, True, False, False])
  scores = am.peakiness_scores(weights, valid)
  np.testing.assert_allclose(scores["mean"], (0.9 + 0.4 + 0.7 + 0.6) / 4)
  np.testing.assert_allclose(scores["frac_above"], 3 / 4)
  # Unbiased std over the two sequences (official): |a - b| / sqrt(2):
  # position 1: 0.2 / sqrt(2), position 2: 0.2 / sqrt(2).
  chex.assert_shape(scores["invariance"], ())
  chex.assert_type(scores["invariance"], jnp.float32)
  np.testing.assert_allclose(
    scores["invariance"], 1 - 0.2 / np.sqrt(2), rtol=1e-6
  )
  # Population std: |a - b| / 2 = 0.1 at both positions -> 1 - 0.1.
  population = am.peakiness_scores(weights, valid, ddof=0)
  np.testing.assert_allclose(population["invariance"], 0.9, rtol=1e-6)
  # Exactly 0.5 is not above the threshold (strict, as the official code).
  half = am.peakiness_scores(jnp.full((1, 4), 0.5), valid)
  assert half["frac_above"] == 0


def test_scores_vmap_over_traced_lengths():
  def score(length):
    first, second = ideal_attention(int(length), diag_weight=0.8)
    return first, second

  stacked = [score(length) for length in (2, 3, 4)]
  attention = jnp.asarray(np.stack([np.stack(s) for s in stacked]))
  attention = attention[:, None, :, None]  # [E, N=1, layers, heads, T, T]
  scores = jax.vmap(lambda a, n: am.circuit_scores(a, n, MAX_LEN))(
    attention, jnp.array([2, 3, 4])
  )
  np.testing.assert_allclose(scores["iter/mean"][:, 1, 0], 0.8, rtol=1e-6)
  np.testing.assert_allclose(scores["iter/frac_above"][:, 1, 0], 1.0)


@pytest.mark.parametrize("shift", [0, 1])
def test_shifted_diagonal_override(shift):
  length = 3
  rows, weights = am.shifted_diagonal_override(length, WIDTH, shift)
  chex.assert_shape(rows, (WIDTH,))
  chex.assert_shape(weights, (WIDTH, WIDTH))
  np.testing.assert_array_equal(np.flatnonzero(rows), [4, 5, 6])  # L+1..2L
  for t in range(1, length + 1):
    expected = np.zeros(WIDTH)
    expected[t + shift] = 1
    np.testing.assert_array_equal(weights[length + t], expected)
  assert float(jnp.sum(weights[~rows])) == 0
  # Causal: the replaced weights never look ahead.
  assert float(jnp.sum(jnp.triu(weights, 1))) == 0
