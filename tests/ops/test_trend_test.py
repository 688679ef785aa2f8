"""STM's trend test on constructed sequences (official STM code)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from repro.ops import trend_test


def test_pearson_r_matches_numpy_on_the_prefix():
  values = np.random.RandomState(0).normal(size=20)
  for length in (5, 13, 20):
    r = trend_test.masked_pearson_r(jnp.asarray(values), length)
    chex.assert_rank(r, 0)
    expected = np.corrcoef(np.arange(length), values[:length])[0, 1]
    np.testing.assert_allclose(r, expected, rtol=1e-5)


def test_rising_falling_flat():
  n = 30
  rng = np.random.RandomState(1)
  noise = 0.1 * rng.normal(size=(200, n))
  ramp = 0.5 * np.arange(n) / n
  test = jax.vmap(lambda h: trend_test.trend_test(h, n, 3.0))
  falling = test(jnp.asarray(1.0 - ramp + noise))
  rising = test(jnp.asarray(1.0 + ramp + noise))
  flat = test(jnp.asarray(noise))
  chex.assert_shape(list(flat), (200,))
  chex.assert_type([flat.decreasing, flat.increasing], bool)
  assert np.mean(falling.decreasing) >= 0.95
  assert not np.any(falling.increasing)
  assert np.mean(rising.increasing) >= 0.95
  assert not np.any(rising.decreasing)
  assert np.mean(flat.decreasing) <= 0.05 and np.mean(flat.increasing) <= 0.05


def test_a_pass_needs_sqrt_n_minus_2_above_lambda():
  # A perfect line has r = -1; it passes iff -1 < -lambda / sqrt(n - 2).
  line = -jnp.arange(20, dtype=jnp.float32)
  chex.assert_rank(list(trend_test.trend_test(line, 11, 3.0)), 0)
  assert not trend_test.trend_test(line, 11, 3.0).decreasing  # sqrt(9) = 3
  assert trend_test.trend_test(line, 12, 3.0).decreasing
  assert not trend_test.trend_test(line, 2, 0.1).decreasing  # undefined
  # Entries beyond the length are ignored.
  tail = line.at[12:].set(100.0)
  assert trend_test.trend_test(tail, 12, 3.0).decreasing
