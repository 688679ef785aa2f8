"""Iterative task generators against hand-written sequences."""

import chex
import numpy as np
import pytest

from repro.data import iterative_tasks as it


def test_parity_sequence_matches_the_official_notebook_example():
  # show_attention.ipynb (parity, L = 15, n_len = 16).
  inputs = np.array([[1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0]])
  states = it.iterate_states("parity", inputs)
  expected = [
    59,
    1,
    0,
    1,
    1,
    1,
    1,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    1,
    0,
    62,
    1,
    1,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    1,
    1,
    1,
    1,
    0,
    0,
    63,
    63,
    63,
  ]
  tokens = it.encode("parity", inputs, states, max_len=16)
  np.testing.assert_array_equal(tokens[0], expected)


def test_polynomial_states_by_hand():
  # s_1 = x_1 = 3; s_2 = 3*5+1 = 16 = 5 mod 11; s_3 = 5*2+1 = 11 = 0 mod 11.
  inputs = np.array([[3, 5, 2], [10, 10, 1]])
  np.testing.assert_array_equal(
    it.iterate_states("polynomial", inputs), [[3, 5, 0], [10, 2, 3]]
  )
  # mod 5: s = 4, 4*4+1 = 17 = 2.
  np.testing.assert_array_equal(
    it.iterate_states("polynomial", np.array([[4, 4]]), modulus=5), [[4, 2]]
  )


def test_binary_copy_states_are_the_inputs():
  inputs = np.array([[1, 0, 0, 1]])
  np.testing.assert_array_equal(
    it.iterate_states("binary_copy", inputs), inputs
  )


def test_layout_with_and_without_chain_of_thought():
  inputs = np.array([[3, 5, 2]])
  states = it.iterate_states("polynomial", inputs)
  cot = it.encode("polynomial", inputs, states, max_len=4)
  no_cot = it.encode(
    "polynomial", inputs, states, max_len=4, cot=False, prefix="task"
  )
  #                    task x1 x2 x3 EoI s1 s2 s3 EoS EoS EoS
  np.testing.assert_array_equal(cot[0], [58, 3, 5, 2, 62, 3, 5, 0, 63, 63, 63])
  np.testing.assert_array_equal(
    no_cot[0], [58, 3, 5, 2, 62, 0, 63, 63, 63, 63, 63]
  )
  assert cot.shape[1] == it.sequence_width(4) == 11


def test_first_token_follows_the_official_code_by_default():
  inputs = np.array([[3, 5, 2], [1, 1, 1]])
  states = it.iterate_states("polynomial", inputs)
  # Official: BoS (61) opens polynomial rows without chain-of-thought.
  no_cot = it.encode("polynomial", inputs, states, max_len=4, cot=False)
  chex.assert_shape(no_cot, (2, 11))
  chex.assert_type(no_cot, np.int32)
  np.testing.assert_array_equal(
    no_cot[0], [61, 3, 5, 2, 62, 0, 63, 63, 63, 63, 63]
  )
  np.testing.assert_array_equal(no_cot[:, 0], [61, 61])
  # With chain-of-thought, and for parity / binary copy either way: the
  # task token.
  cot = it.encode("polynomial", inputs, states, max_len=4)
  np.testing.assert_array_equal(cot[:, 0], [58, 58])
  for task, token in (("parity", 59), ("binary_copy", 60)):
    bits = np.array([[1, 0, 1]])
    for use_cot in (True, False):
      rows = it.encode(task, bits, it.iterate_states(task, bits), 4, use_cot)
      assert rows[0, 0] == token, (task, use_cot)
  data = it.make_dataset("polynomial", 3, 8, 4, seed=0, cot=False)
  assert (data.train_tokens[..., 0] == it.BOS_TOKEN).all()
  data = it.make_dataset(
    "polynomial", 3, 8, 4, seed=0, cot=False, prefix="task"
  )
  assert (data.train_tokens[..., 0] == it.POLYNOMIAL_TOKEN).all()
  with pytest.raises(ValueError, match="prefix"):
    it.encode("polynomial", inputs, states, 4, prefix="bos")


def test_target_mask_is_everything_after_eoi():
  mask = it.target_mask(3, max_len=4)
  np.testing.assert_array_equal(mask, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
  masks = it.target_mask(np.array([1, 4]), max_len=4)
  assert masks.shape == (2, 11)
  assert masks[0].sum() == 11 - 3 and masks[1].sum() == 11 - 6


def test_polynomial_inputs_never_zero_and_parity_inputs_binary():
  poly = it.make_dataset("polynomial", 5, 64, 16, seed=0)
  rows = poly.train_tokens[4]
  assert rows[:, 1:6].min() >= 1 and rows[:, 1:6].max() <= 10
  parity = it.make_dataset("parity", 5, 64, 8, seed=0)
  assert set(np.unique(parity.train_tokens[4][:, 1:6])) <= {0, 1}


@pytest.mark.parametrize(
  "task, max_len, train, test",
  [
    ("polynomial", 5, 256, 64),
    ("parity", 10, 1024, 256),
    ("parity", 6, 128, 16),
  ],
)
def test_train_and_test_strings_are_disjoint(task, max_len, train, test):
  data = it.make_dataset(task, max_len, train, test, seed=3)
  assert len(data.test_lengths)
  for index, length in enumerate(data.test_lengths):
    width = length + 1
    train_set = {tuple(r) for r in data.train_tokens[length - 1][:, :width]}
    test_rows = {tuple(r) for r in data.test_tokens[index][:, :width]}
    assert len(test_rows) == test  # distinct test strings
    assert not train_set & test_rows


def test_which_lengths_get_a_test_set():
  # Parity L = 10 has 1024 strings: halved (iteration_heads README); L < 10
  # has too few for 512 test strings.
  parity = it.make_dataset("parity", 10, 1024, 512, seed=0, min_test_len=4)
  np.testing.assert_array_equal(parity.test_lengths, [10])
  assert len({tuple(r) for r in parity.train_tokens[9]}) == 512
  # With 128 test strings, L = 8 (256 strings) is halved as well.
  smaller = it.make_dataset("parity", 10, 1024, 128, seed=0, min_test_len=4)
  np.testing.assert_array_equal(smaller.test_lengths, [8, 9, 10])
  # Polynomial L >= 4 has 10^L >= 10^4 strings; below min_test_len none.
  poly = it.make_dataset("polynomial", 6, 1024, 128, seed=0, min_test_len=4)
  np.testing.assert_array_equal(poly.test_lengths, [4, 5, 6])
  # Short lengths cycle evenly through every string (parity L = 2: 4).
  counts = np.unique(
    parity.train_tokens[1][:, 1:3], axis=0, return_counts=True
  )[1]
  np.testing.assert_array_equal(counts, [256] * 4)


def test_same_seed_same_strings_with_and_without_cot():
  cot = it.make_dataset("polynomial", 4, 32, 8, seed=5)
  no_cot = it.make_dataset("polynomial", 4, 32, 8, seed=5, cot=False)
  # Inputs and EoI agree; position 0 differs (official BoS without CoT).
  prompt = ~it.target_mask(np.arange(1, 5), 4)[:, None, :]
  prompt[..., 0] = False
  np.testing.assert_array_equal(
    np.where(prompt, cot.train_tokens, 0),
    np.where(prompt, no_cot.train_tokens, 0),
  )
  assert (cot.train_tokens != no_cot.train_tokens).any()
  again = it.make_dataset("polynomial", 4, 32, 8, seed=5)
  np.testing.assert_array_equal(cot.test_tokens, again.test_tokens)


def test_every_row_is_consistent_with_its_task():
  data = it.make_dataset("polynomial", 6, 64, 16, seed=1)
  for length in range(1, 7):
    rows = data.train_tokens[length - 1]
    inputs = rows[:, 1 : length + 1]
    np.testing.assert_array_equal(rows[:, length + 1], it.EOI_TOKEN)
    np.testing.assert_array_equal(
      rows[:, length + 2 : 2 * length + 2],
      it.iterate_states("polynomial", inputs),
    )
    assert (rows[:, 2 * length + 2 :] == it.EOS_TOKEN).all()


def test_long_strings_sampled_without_enumeration():
  # 10^25 strings: rejection sampling path, still distinct and disjoint.
  split = it.split_inputs("polynomial", 25, 20, 10, np.random.default_rng(0))
  rows = np.concatenate([split.train_inputs, split.test_inputs])
  assert len({tuple(r) for r in rows}) == 30


def test_unknown_task_and_bad_length():
  with pytest.raises(ValueError, match="unknown task"):
    it.input_alphabet("sorting")
  with pytest.raises(ValueError, match="input length"):
    it.encode("parity", np.zeros((1, 5), int), np.zeros((1, 5), int), 4)
