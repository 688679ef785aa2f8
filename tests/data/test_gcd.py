"""The GCD task: token layout, digits and the Zipf law of the gcd."""

import math

import numpy as np
import pytest

from repro.data import gcd


def test_layout_by_hand():
  task = gcd.GcdTask(max_operand=999, base=10)
  assert task.num_digits == 3 and task.sequence_length == 11
  rows = gcd.encode(np.array([12]), np.array([90]), np.array([6]), task)
  np.testing.assert_array_equal(rows[0], [0, 1, 2, 10, 0, 9, 0, 11, 0, 0, 6])
  assert task.prompt_length == 8
  np.testing.assert_array_equal(np.flatnonzero(task.target_mask()), [8, 9, 10])
  assert gcd.decode_answer(rows, task)[0] == 6


@pytest.mark.parametrize("max_operand, base", [(999_999, 1000), (100, 7)])
def test_digits_round_trip(max_operand, base):
  task = gcd.GcdTask(max_operand, base)
  values = np.array([0, 1, base - 1, base, max_operand // 3, max_operand])
  np.testing.assert_array_equal(
    gcd.from_digits(gcd.to_digits(values, task), task), values
  )
  assert base**task.num_digits > max_operand >= base ** (task.num_digits - 1)


def test_non_digit_tokens_decode_to_minus_one():
  task = gcd.GcdTask(99)
  assert gcd.from_digits(np.array([[task.sep_token, 1]]), task)[0] == -1


def test_clean_examples_carry_the_true_gcd():
  task = gcd.GcdTask(500)
  examples = gcd.clean_examples(np.random.default_rng(0), task, 200)
  assert examples["tokens"].dtype == np.int32
  assert examples["tokens"].shape == (200, task.sequence_length)
  for a, b, g, row in zip(
    examples["a"],
    examples["b"],
    examples["gcd"],
    examples["tokens"],
    strict=True,
  ):
    assert 1 <= a <= 500 and 1 <= b <= 500 and g == math.gcd(a, b)
    assert gcd.decode_answer(row[None], task)[0] == g


def test_gcd_probability_equals_brute_force_count():
  limit = 30
  a, b = np.meshgrid(np.arange(1, limit + 1), np.arange(1, limit + 1))
  counts = np.bincount(np.gcd(a, b).ravel(), minlength=limit + 1)
  ks = np.arange(1, limit + 1)
  np.testing.assert_allclose(
    gcd.gcd_probability(ks, limit), counts[1:] / limit**2, atol=1e-15
  )


def test_gcd_is_zipf_with_beta_two():
  ks = np.arange(1, 11)
  exact = gcd.gcd_probability(ks, 3000)
  np.testing.assert_allclose(exact, gcd.gcd_probability(ks), rtol=0.01)
  assert gcd.gcd_probability(1) == pytest.approx(6 / math.pi**2)
  task = gcd.GcdTask(10**6)
  sample = gcd.clean_examples(np.random.default_rng(1), task, 50_000)
  share_of_one = np.mean(sample["gcd"] == 1)
  assert abs(share_of_one - 6 / math.pi**2) < 4 * math.sqrt(0.25 / 50_000)
