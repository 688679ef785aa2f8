"""The Hutter model against brute force, simulation and big explicit sums."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import hutter, zipf


def _head_law(probs):
  return zipf.ItemLaw(jnp.asarray(probs, jnp.float64), zipf.PowerTail(0.0, 1.0))


@pytest.mark.parametrize("num_samples", [0, 1, 2, 4])
def test_expected_error_equals_enumeration_of_training_sets(num_samples):
  test_probs = np.array([0.5, 0.3, 0.2])
  train_probs = np.array([0.6, 0.1, 0.3])
  brute = 0.0
  for draws in itertools.product(range(3), repeat=num_samples):
    weight = np.prod(train_probs[list(draws)])
    unseen = [i for i in range(3) if i not in draws]
    brute += weight * test_probs[unseen].sum()
  with jax.enable_x64():
    error = hutter.expected_error(
      _head_law(test_probs), _head_law(train_probs), num_samples
    )
    chex.assert_rank(error, 0)
    chex.assert_type(error, jnp.float64)
    exact = float(error)
  assert exact == pytest.approx(brute, rel=1e-12)


def test_certain_item_has_no_error_once_sampled():
  with jax.enable_x64():
    law = _head_law([1.0, 0.0])
    assert float(hutter.expected_error(law, law, 0)) == 1.0
    assert float(hutter.expected_error(law, law, 3)) == 0.0


def test_analytic_tail_matches_a_longer_explicit_sum():
  kinds = ("clean", "narrow", "mix", "temperature")

  def laws(num_items):
    test = zipf.zipf_law(num_items, 1.5)
    trains = {
      "clean": test,
      "narrow": zipf.zipf_law(num_items, 2.25),
      "mix": zipf.mix(test, zipf.top_k_cut(test, 20), 0.3),
      "temperature": zipf.with_temperature(test, 0.8),
    }
    stacked = jax.tree.map(
      lambda *leaves: jnp.stack(
        [jnp.asarray(x, test.head.dtype) for x in leaves]
      ),
      *[trains[k] for k in kinds],
    )
    return test, stacked

  @jax.jit
  def curves(sizes):
    results = []
    for num_items in (1000, 1_000_000):
      test, trains = laws(num_items)
      results.append(
        jax.vmap(
          lambda train, test=test: (
            hutter.expected_error_curve(test, train, sizes),
            hutter.tail_error(test, train, sizes[-1]),
          )
        )(trains)
      )
    return results

  with jax.enable_x64():
    (short, tail), (long, _) = jax.tree.map(
      np.asarray, curves(jnp.asarray([1e2, 1e4, 1e6]))
    )
  chex.assert_shape([short, long], (len(kinds), 3))
  chex.assert_shape(tail, (len(kinds),))
  assert np.all(tail / short[:, -1] > 0.1)  # the tail matters at N = 1000
  for row, kind in enumerate(kinds):
    np.testing.assert_allclose(short[row], long[row], rtol=2e-4, err_msg=kind)


def test_tail_error_at_zero_samples_is_the_tail_mass():
  with jax.enable_x64():
    law = zipf.zipf_law(100, 2.0)
    assert float(hutter.tail_error(law, law, 0)) == pytest.approx(
      float(zipf.tail_mass(law)), rel=1e-12
    )


def test_expected_error_curve_equals_pointwise_values():
  @jax.jit
  def both(sizes):
    test, train = zipf.zipf_law(500, 2.0), zipf.zipf_law(500, 3.0)
    return (
      hutter.expected_error_curve(test, train, sizes),
      jax.vmap(lambda t: hutter.expected_error(test, train, t))(sizes),
    )

  with jax.enable_x64():
    curve, points = both(jnp.asarray([0.0, 10.0, 1e3, 1e5, 1e7]))
  chex.assert_shape([curve, points], (5,))
  chex.assert_type(curve, jnp.float64)
  np.testing.assert_allclose(curve, points, rtol=1e-12)
  assert float(curve[0]) == pytest.approx(1.0, abs=1e-12)


def test_sample_items_frequencies_and_tail_bucket():
  with jax.enable_x64():
    law = zipf.zipf_law(4, 1.5)
    draws = hutter.sample_items(jax.random.key(0), law, 200_000)
    chex.assert_shape(draws, (200_000,))
    chex.assert_type(draws, int)
    draws = np.asarray(draws)
    probs = np.append(np.asarray(law.head), float(zipf.tail_mass(law)))
  frequencies = np.bincount(draws, minlength=5) / draws.size
  standard_error = np.sqrt(probs * (1 - probs) / draws.size)
  assert np.all(np.abs(frequencies - probs) < 5 * standard_error)


def test_first_draw_times_by_hand():
  times = hutter.first_draw_times(jnp.asarray([2, 0, 2, 4, 1]), 4)
  chex.assert_shape(times, (4,))
  np.testing.assert_array_equal(times, [1, 4, 0, 5])  # 4 = beyond head


def test_monte_carlo_mean_agrees_with_exact():
  sizes = (10, 100, 1000)

  @jax.jit
  def both(key):
    law = zipf.zipf_law(200, 1.5)
    return (
      hutter.monte_carlo_errors(key, law, law, sizes, 600),
      hutter.expected_error_curve(law, law, jnp.asarray(sizes)),
    )

  with jax.enable_x64():
    trials, exact = map(np.asarray, both(jax.random.key(1)))
  chex.assert_shape(trials, (600, len(sizes)))
  chex.assert_shape(exact, (len(sizes),))
  standard_error = trials.std(0, ddof=1) / np.sqrt(trials.shape[0])
  assert np.all(np.abs(trials.mean(0) - exact) < 4 * standard_error)
  assert np.all(standard_error < 0.04 * exact)


def test_empirical_training_error_matches_dense_counts():
  with jax.enable_x64():
    law = zipf.zipf_law(30, 2.0)
    samples = jnp.asarray([3, 0, 3, 30, 7, 0, 0, 12])  # 30: beyond head
    error = float(hutter.empirical_training_error(law, samples, 5.0))
    beyond = float(zipf.tail_mass(law))
  counts = np.bincount(np.asarray(samples), minlength=31)[:30]
  dense = (np.asarray(law.head) * (1 - counts / 8.0) ** 5).sum()
  assert error == pytest.approx(dense + beyond, rel=1e-12)


def test_finite_sample_error_equals_enumeration():
  # Generator: empirical law of T0 = 3 draws from q; learner: T = 2 draws.
  test_probs, train_probs = np.array([0.5, 0.5]), np.array([0.8, 0.2])
  brute = 0.0
  for draws in itertools.product(range(2), repeat=3):
    weight = np.prod(train_probs[list(draws)])
    counts = np.bincount(draws, minlength=2)
    brute += weight * (test_probs * (1 - counts / 3) ** 2).sum()
  with jax.enable_x64():
    exact = float(
      hutter.finite_sample_error(
        _head_law(test_probs), _head_law(train_probs), 3.0, 2.0, 3
      )
    )
  assert exact == pytest.approx(brute, rel=1e-12)


def test_wright_fisher_first_generation_agrees_with_exact_and_shrinks():
  # Also: wright_fisher_errors equals the per-generation path.
  generation_size, learner_size, chains = 20, 30.0, 1000

  @jax.jit
  def simulate(keys):
    law = zipf.zipf_law(40, 1.5)

    def chain(key):
      samples = hutter.wright_fisher_samples(key, law, generation_size, 3)
      errors = jax.vmap(
        lambda s: hutter.empirical_training_error(law, s, learner_size)
      )(samples)
      return samples, errors

    samples, errors = jax.lax.map(chain, keys)
    # The study's path: the same draws, one sort per chain, chains vmapped.
    sorted_once = jax.vmap(
      lambda key: hutter.wright_fisher_errors(
        key, law, generation_size, 3, learner_size
      )
    )(keys)
    exact = hutter.finite_sample_error(
      law, law, generation_size, learner_size, generation_size
    )
    return samples, errors, sorted_once, exact

  with jax.enable_x64():
    samples, errors, sorted_once, exact = simulate(
      jax.random.split(jax.random.key(2), chains)
    )
  chex.assert_shape([sorted_once, errors], (chains, 3))
  chex.assert_shape(samples, (chains, 3, generation_size))
  chex.assert_rank(exact, 0)
  np.testing.assert_allclose(sorted_once, errors, rtol=1e-13)
  first = np.asarray(errors[:, 0])
  standard_error = first.std(ddof=1) / np.sqrt(chains)
  assert abs(first.mean() - float(exact)) < 4 * standard_error
  samples = np.asarray(samples)
  for later in (1, 2):  # resampling never creates new items
    assert all(
      set(samples[c, later]) <= set(samples[c, later - 1]) for c in range(20)
    )
  assert np.all(np.diff(np.asarray(errors).mean(0)) > 0)


def test_relabel_closed_form_matches_simulation():
  probs = np.array([0.55, 0.25, 0.15, 0.05])
  generation_size, learner_size, generations, chains = 4, 6, 3, 40_000
  rng = np.random.default_rng(0)

  def seen(size):
    draws = rng.choice(4, size=(chains, size), p=probs)
    return np.stack([(draws == i).any(1) for i in range(4)], 1)

  correct = seen(generation_size)  # generation 0, clean labels
  for _ in range(generations - 1):
    correct = correct & seen(generation_size)
  final = correct & seen(learner_size)
  errors = ((~final) * probs).sum(1)
  with jax.enable_x64():
    exact = float(
      hutter.relabel_generations_error(
        _head_law(probs), generation_size, learner_size, generations
      )
    )
  standard_error = errors.std(ddof=1) / np.sqrt(chains)
  assert abs(errors.mean() - exact) < 4 * standard_error


def test_log_log_slope_of_a_power_law():
  x = np.logspace(1, 5, 9)
  assert float(hutter.log_log_slope(x, 3.0 * x**-0.37)) == pytest.approx(
    -0.37, rel=1e-5
  )
