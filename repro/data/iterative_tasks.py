"""Iterative tasks with and without chain-of-thought (arXiv 2406.02128).

An iterative problem (Algorithm 1 of the paper) reads inputs ``x_1..x_L``
and states ``s_t = F(s_{t-1}, x_t)``; the answer is ``s_L``. The sequences
follow the official code (``src/cot/data/data_processing.py``):

====== ====== ========== ===== ============ ===========
pos    0      1..L       L+1   L+2..2L+1    2L+2..
token  task   x_1..x_L   EoI   s_1..s_L     EoS padding
====== ====== ========== ===== ============ ===========

Rows of a dataset with lengths ``1..max_len`` share the width
``2 * max_len + 3`` (right-padded with EoS). Without chain-of-thought the
position ``L+2`` holds ``s_L`` and everything after it is EoS. The targets
(loss and accuracy) are all tokens after EoI, the EoS padding included.

Position 0 (``encode``'s ``prefix``): ``"official"`` (the default) writes
what the official code writes, the task token, except in polynomial rows
without chain-of-thought, which start with BoS (there the code looks up
the prefix "polynomial-no-cot", finds no such token and falls back to
BoS; parity and binary copy look up their class's prefix and keep the
task token); ``"task"`` writes the task token in every row.

Tasks:
* ``parity``: ``x_t`` uniform in {0, 1}, ``s_t = (x_1 + ... + x_t) mod 2``.
* ``binary_copy``: ``x_t`` uniform in {0, 1}, ``s_t = x_t``.
* ``polynomial``: ``x_t`` uniform in {1..p-1}, ``s_1 = x_1`` and
  ``s_t = (s_{t-1} x_t + 1) mod p`` (order-sensitive, unlike parity).

Train and test sequences are disjoint: where a length has enough distinct
input strings, the test strings are never in the training rows (the
official code samples with replacement and leaks; iteration_heads README).
"""

from __future__ import annotations

import dataclasses

import numpy as np

VOCAB_SIZE = 64
POLYNOMIAL_TOKEN = 58
PARITY_TOKEN = 59
BINARY_COPY_TOKEN = 60
BOS_TOKEN = 61
EOI_TOKEN = 62
EOS_TOKEN = 63
TASK_TOKENS = {
  "polynomial": POLYNOMIAL_TOKEN,
  "parity": PARITY_TOKEN,
  "binary_copy": BINARY_COPY_TOKEN,
}
DEFAULT_MODULUS = 11


def sequence_width(max_len: int) -> int:
  """Width of every row of a dataset with input lengths up to ``max_len``."""
  return 2 * max_len + 3


def eoi_position(input_len: int | np.ndarray) -> int | np.ndarray:
  """Position of the end-of-input token (``L + 1``)."""
  return input_len + 1


def _check_task(task: str) -> None:
  if task not in TASK_TOKENS:
    raise ValueError(
      f"unknown task {task!r}; choose from {', '.join(TASK_TOKENS)}"
    )


def input_alphabet(task: str, modulus: int = DEFAULT_MODULUS) -> np.ndarray:
  """The values an input ``x_t`` takes."""
  _check_task(task)
  if task == "polynomial":
    return np.arange(1, modulus)
  return np.arange(2)


def iterate_states(
  task: str, inputs: np.ndarray, modulus: int = DEFAULT_MODULUS
) -> np.ndarray:
  """States ``s_1..s_L`` for inputs ``[n, L]`` (Algorithm 1)."""
  _check_task(task)
  inputs = np.asarray(inputs, dtype=np.int64)
  if task == "binary_copy":
    return inputs.copy()
  if task == "parity":
    return np.cumsum(inputs, axis=1) % 2
  states = np.empty_like(inputs)
  if inputs.shape[1]:
    states[:, 0] = inputs[:, 0] % modulus
  for t in range(1, inputs.shape[1]):
    states[:, t] = (states[:, t - 1] * inputs[:, t] + 1) % modulus
  return states


PREFIXES = ("official", "task")


def first_token(task: str, cot: bool, prefix: str = "official") -> int:
  """The token at position 0 (module docstring: ``prefix``)."""
  _check_task(task)
  if prefix == "official":
    return BOS_TOKEN if task == "polynomial" and not cot else TASK_TOKENS[task]
  if prefix == "task":
    return TASK_TOKENS[task]
  raise ValueError(f"unknown prefix {prefix!r}; choose one of {PREFIXES}")


def encode(
  task: str,
  inputs: np.ndarray,
  states: np.ndarray,
  max_len: int,
  cot: bool = True,
  prefix: str = "official",
) -> np.ndarray:
  """Token rows ``[n, 2 max_len + 3]`` for inputs and states ``[n, L]``."""
  _check_task(task)
  n, length = inputs.shape
  if length > max_len or length < 1:
    raise ValueError(f"input length {length} not in 1..{max_len}")
  tokens = np.full((n, sequence_width(max_len)), EOS_TOKEN, dtype=np.int32)
  tokens[:, 0] = first_token(task, cot, prefix)
  tokens[:, 1 : length + 1] = inputs
  tokens[:, length + 1] = EOI_TOKEN
  if cot:
    tokens[:, length + 2 : 2 * length + 2] = states
  else:
    tokens[:, length + 2] = states[:, -1]
  return tokens


def target_mask(input_len: int | np.ndarray, max_len: int) -> np.ndarray:
  """Bool ``[..., width]``: the target tokens, everything after EoI.

  Works with an int or an array of input lengths (one row per length).
  """
  positions = np.arange(sequence_width(max_len))
  return positions > np.asarray(eoi_position(input_len))[..., None]


def _digits(codes: np.ndarray, base: int, length: int) -> np.ndarray:
  """Base-``base`` digits (most significant first) of integer codes."""
  powers = base ** np.arange(length - 1, -1, -1, dtype=np.int64)
  return (codes[:, None] // powers[None, :]) % base


def _distinct_strings(
  num_symbols: int, length: int, count: int, rng: np.random.Generator
) -> np.ndarray:
  """``count`` distinct random strings (symbol indices), random order."""
  total = float(num_symbols) ** length
  if total <= 2**62:
    codes = rng.choice(int(num_symbols**length), size=count, replace=False)
    return _digits(codes.astype(np.int64), num_symbols, length)
  rows = np.empty((0, length), dtype=np.int64)
  while rows.shape[0] < count:
    draws = rng.integers(0, num_symbols, size=(2 * count, length))
    rows = np.unique(np.concatenate([rows, draws]), axis=0)
  return rows[rng.permutation(rows.shape[0])[:count]]


def _fill(
  strings: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
  """``count`` rows cycling through ``strings`` evenly, shuffled."""
  rows = strings[np.arange(count) % strings.shape[0]]
  return rows[rng.permutation(count)]


@dataclasses.dataclass(frozen=True)
class LengthSplit:
  """Input strings of one length (symbol values, not yet tokens).

  Attributes:
    length: the input length ``L``.
    train_inputs: ``[n_train, L]`` training inputs.
    test_inputs: ``[n_test, L]`` held-out inputs, disjoint from the
      training ones; ``None`` when the length has too few strings.
  """

  length: int
  train_inputs: np.ndarray
  test_inputs: np.ndarray | None


def split_inputs(
  task: str,
  length: int,
  num_train: int,
  num_test: int,
  rng: np.random.Generator,
  modulus: int = DEFAULT_MODULUS,
  hold_out: bool = True,
) -> LengthSplit:
  """Disjoint train/test input strings of one length.

  * At least ``num_train + num_test`` distinct strings: both sets are
    drawn without replacement.
  * At least ``2 num_test`` distinct strings (parity ``L = 10`` with 1024
    training rows): all strings are shuffled and halved; the training half
    fills ``num_train`` rows evenly, ``num_test`` strings of the other half
    are the test set.
  * Fewer, or ``hold_out=False``: training rows cycle evenly through every
    string; no test set.
  """
  alphabet = input_alphabet(task, modulus)
  num_symbols = len(alphabet)
  total = float(num_symbols) ** length
  if hold_out and total >= num_train + num_test:
    strings = _distinct_strings(num_symbols, length, num_train + num_test, rng)
    train, test = strings[:num_train], strings[num_train:]
  elif hold_out and num_test and total >= 2 * num_test:
    strings = _distinct_strings(num_symbols, length, int(total), rng)
    half = strings.shape[0] // 2
    train = _fill(strings[:half], num_train, rng)
    test = strings[half : half + num_test]
  else:
    strings = _distinct_strings(num_symbols, length, int(total), rng)
    train, test = _fill(strings, num_train, rng), None
  return LengthSplit(
    length, alphabet[train], None if test is None else alphabet[test]
  )


@dataclasses.dataclass(frozen=True)
class IterativeDataset:
  """Token rows of one task for input lengths ``1..max_len``.

  Attributes:
    task: task name.
    cot: whether the states are written out (chain-of-thought).
    max_len: longest input length; rows have width ``2 max_len + 3``.
    train_tokens: int32 ``[max_len, num_train, width]``, index ``L - 1``
      holds length ``L`` (one length per block, for length-ordered batches).
    test_lengths: int32 ``[E]``: lengths with a held-out test set.
    test_tokens: int32 ``[E, num_test, width]``.
  """

  task: str
  cot: bool
  max_len: int
  train_tokens: np.ndarray
  test_lengths: np.ndarray
  test_tokens: np.ndarray

  @property
  def train_masks(self) -> np.ndarray:
    """Bool ``[max_len, width]`` target masks of the training blocks."""
    return target_mask(np.arange(1, self.max_len + 1), self.max_len)


def make_dataset(
  task: str,
  max_len: int,
  num_train: int,
  num_test: int,
  seed: int,
  cot: bool = True,
  modulus: int = DEFAULT_MODULUS,
  min_test_len: int = 1,
  prefix: str = "official",
) -> IterativeDataset:
  """Generates the dataset of ``task`` for lengths ``1..max_len``.

  Lengths below ``min_test_len`` (never evaluated) keep all their strings
  for training; other lengths without enough distinct strings for a
  disjoint split (see ``split_inputs``) have no test set either. The same
  ``seed`` gives the same input strings with and without chain-of-thought.
  ``prefix`` picks the first token (module docstring; the iteration_heads
  study uses the default, the official code's).
  """
  rng = np.random.default_rng(seed)
  train, test_lengths, test = [], [], []
  for length in range(1, max_len + 1):
    split = split_inputs(
      task,
      length,
      num_train,
      num_test,
      rng,
      modulus,
      hold_out=length >= min_test_len,
    )
    states = iterate_states(task, split.train_inputs, modulus)
    train.append(encode(task, split.train_inputs, states, max_len, cot, prefix))
    if split.test_inputs is not None:
      states = iterate_states(task, split.test_inputs, modulus)
      test.append(encode(task, split.test_inputs, states, max_len, cot, prefix))
      test_lengths.append(length)
  width = sequence_width(max_len)
  test_tokens = (
    np.stack(test) if test else np.zeros((0, num_test, width), np.int32)
  )
  return IterativeDataset(
    task,
    cot,
    max_len,
    np.stack(train),
    np.asarray(test_lengths, np.int32),
    test_tokens,
  )
