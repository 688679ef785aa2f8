"""Zipf laws, cuts, temperature and mixing against explicit sums."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import zipf


@pytest.mark.parametrize("beta", [1.5, 2.0, 3.0])
def test_zipf_law_is_normalised_with_its_tail(beta):
  with jax.enable_x64():
    law = zipf.zipf_law(1000, beta)
    chex.assert_shape(law.head, (1000,))
    chex.assert_type(law.head, jnp.float64)
    chex.assert_rank(zipf.tail_mass(law), 0)
    total = float(np.sum(law.head) + zipf.tail_mass(law))
    ranks = np.arange(1, 1001.0)
    np.testing.assert_allclose(
      law.head[:3] / law.head[0], ranks[:3] ** -beta, rtol=1e-12
    )
  assert total == pytest.approx(1.0, abs=1e-12)


def test_zipf_tail_mass_matches_explicit_sum():
  with jax.enable_x64():
    big = zipf.zipf_law(200_000, 2.0)
    mass = float(zipf.zipf_tail_mass(10, 2.0))
    explicit = float(np.sum(big.head[10:]) + zipf.tail_mass(big))
  assert mass == pytest.approx(explicit, rel=1e-10)
  # Hand value: sum_{i>10} i^-2 = pi^2/6 - H_10^(2).
  partial = sum(i**-2.0 for i in range(1, 11))
  assert mass == pytest.approx(
    (np.pi**2 / 6 - partial) / (np.pi**2 / 6), rel=1e-10
  )


def test_top_k_cut_keeps_the_head_proportions():
  with jax.enable_x64():
    law = zipf.zipf_law(50, 2.0)
    cut = zipf.top_k_cut(law, 7)
    chex.assert_shape(cut.head, (50,))
    chex.assert_type(cut.head, jnp.float64)
    head = np.asarray(cut.head)
    assert float(zipf.tail_mass(cut)) == 0.0
  assert head.sum() == pytest.approx(1.0, abs=1e-14)
  assert np.all(head[7:] == 0.0)
  np.testing.assert_allclose(
    head[:7] / head[0], np.arange(1, 8.0) ** -2.0, rtol=1e-12
  )


def test_temperature_on_zipf_is_zipf_with_divided_exponent():
  with jax.enable_x64():
    hot = zipf.with_temperature(zipf.zipf_law(300, 2.0), 0.5)
    direct = zipf.zipf_law(300, 4.0)
    chex.assert_trees_all_equal_shapes(hot, direct)
    np.testing.assert_allclose(hot.head, direct.head, rtol=1e-10)
    assert float(hot.tail.exponent) == pytest.approx(4.0)
    assert float(hot.tail.scale) == pytest.approx(
      float(direct.tail.scale), rel=1e-10
    )


def test_mix_of_clean_and_cut_is_normalised():
  with jax.enable_x64():
    law = zipf.zipf_law(100, 1.5)
    mixed = zipf.mix(law, zipf.top_k_cut(law, 10), 0.25)
    chex.assert_shape(mixed.head, (100,))
    total = float(np.sum(mixed.head) + zipf.tail_mass(mixed))
    assert float(mixed.tail.scale) == pytest.approx(
      0.25 * float(law.tail.scale)
    )
    assert float(mixed.head[50]) == pytest.approx(0.25 * float(law.head[50]))
  assert total == pytest.approx(1.0, abs=1e-12)


def test_empirical_law():
  law = zipf.empirical_law(np.array([3, 0, 1]))
  chex.assert_shape(law.head, (3,))
  np.testing.assert_allclose(law.head, [0.75, 0.0, 0.25])
