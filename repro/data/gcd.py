"""The greatest-common-divisor task as token sequences (pure numpy).

Dohmatob et al., "A Tale of Tails" (arXiv 2402.07043), Sec. 6: transformers
learn gcd(a, b) of operand pairs; after Charton, "Learning the greatest
common divisor" (arXiv 2308.15594). For operands uniform on 1..M the gcd is
Zipf-distributed with beta = 2, P(gcd = k) -> 6 / (pi^2 k^2), so the task
has a heavy tail of rare answers that AI-generated labels cut.

A row is, with D digits per number in base B (most significant first,
left-padded with zeros):

====== ========= ===== ========= ==== ============
pos    0..D-1    D     D+1..2D   2D+1 2D+2..3D+1
token  a digits  SEP   b digits  EQ   gcd digits
====== ========= ===== ========= ==== ============

Tokens 0..B-1 are digits, B is SEP and B + 1 is EQ; the targets are the
answer digits (the last D positions).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt


@dataclasses.dataclass(frozen=True)
class GcdTask:
  """Operands uniform on 1..max_operand written in ``base``."""

  max_operand: int
  base: int = 10

  def __post_init__(self):
    if self.max_operand < 1 or self.base < 2:
      raise ValueError(f"invalid GCD task {self}")

  @property
  def num_digits(self) -> int:
    """Digits of the largest number (every number is padded to it)."""
    digits, value = 1, self.max_operand
    while value >= self.base:
      value //= self.base
      digits += 1
    return digits

  @property
  def sep_token(self) -> int:
    return self.base

  @property
  def eq_token(self) -> int:
    return self.base + 1

  @property
  def vocab_size(self) -> int:
    return self.base + 2

  @property
  def sequence_length(self) -> int:
    return 3 * self.num_digits + 2

  @property
  def prompt_length(self) -> int:
    """Positions before the answer: ``a SEP b EQ``."""
    return 2 * self.num_digits + 2

  def target_mask(self) -> np.ndarray:
    """bool ``[L]``: True at the answer digits."""
    mask = np.zeros(self.sequence_length, bool)
    mask[self.prompt_length :] = True
    return mask


def sample_operands(
  rng: np.random.Generator, task: GcdTask, num_examples: int
) -> tuple[np.ndarray, np.ndarray]:
  """``num_examples`` pairs (a, b) uniform on 1..max_operand (int64)."""
  operands = rng.integers(1, task.max_operand + 1, size=(2, num_examples))
  return operands[0], operands[1]


def to_digits(values: np.ndarray, task: GcdTask) -> np.ndarray:
  """int ``[n, D]`` base-B digits, most significant first."""
  values = np.asarray(values, np.int64)
  if values.size and (values.min() < 0 or values.max() > task.max_operand):
    raise ValueError(f"values outside 0..{task.max_operand}")
  powers = task.base ** np.arange(task.num_digits - 1, -1, -1, dtype=np.int64)
  return (values[..., None] // powers) % task.base


def from_digits(digits: np.ndarray, task: GcdTask) -> np.ndarray:
  """Inverse of ``to_digits``; digits >= B (non-digit tokens) give -1."""
  digits = np.asarray(digits, np.int64)
  powers = task.base ** np.arange(task.num_digits - 1, -1, -1, dtype=np.int64)
  values = np.sum(digits * powers, axis=-1)
  valid = np.all((digits >= 0) & (digits < task.base), axis=-1)
  return np.where(valid, values, -1)


def encode(
  a: np.ndarray, b: np.ndarray, answer: np.ndarray, task: GcdTask
) -> np.ndarray:
  """int32 rows ``a SEP b EQ answer`` ``[n, L]``."""
  a, b = np.asarray(a), np.asarray(b)
  sep = np.full(a.shape + (1,), task.sep_token)
  eq = np.full(a.shape + (1,), task.eq_token)
  return np.concatenate(
    [to_digits(a, task), sep, to_digits(b, task), eq, to_digits(answer, task)],
    axis=-1,
  ).astype(np.int32)


def clean_examples(
  rng: np.random.Generator, task: GcdTask, num_examples: int
) -> dict[str, np.ndarray]:
  """Rows with the true gcd: ``{"tokens", "a", "b", "gcd"}``."""
  a, b = sample_operands(rng, task, num_examples)
  gcd = np.gcd(a, b)
  return {"tokens": encode(a, b, gcd, task), "a": a, "b": b, "gcd": gcd}


def decode_answer(tokens: np.ndarray, task: GcdTask) -> np.ndarray:
  """The answer of full rows ``[n, L]`` as ints (-1 if not a number)."""
  return from_digits(np.asarray(tokens)[..., task.prompt_length :], task)


def gcd_probability(
  k: npt.ArrayLike, max_operand: int | None = None
) -> np.ndarray:
  """P(gcd(a, b) = k) for a, b uniform on 1..M (M None: the limit).

  The limit is 6 / (pi^2 k^2). For finite M it is exact by Moebius
  inversion: P(gcd = k) = sum_j mu(j) floor(M / jk)^2 / M^2.
  """
  k = np.asarray(k, np.int64)
  if max_operand is None:
    return 6.0 / (np.pi**2 * k.astype(float) ** 2)
  mobius = _mobius(max_operand)
  out = np.zeros(k.shape, float)
  for index, value in np.ndenumerate(k):
    multiples = np.arange(1, max_operand // value + 1)
    out[index] = (
      np.sum(mobius[multiples] * (max_operand // (multiples * value)) ** 2)
      / max_operand**2
    )
  return out


def _mobius(limit: int) -> np.ndarray:
  """mu(0..limit) by a sieve (mu(0) unused)."""
  mu = np.ones(limit + 1, np.int64)
  is_prime = np.ones(limit + 1, bool)
  is_prime[:2] = False
  for prime in range(2, limit + 1):
    if not is_prime[prime]:
      continue
    is_prime[2 * prime :: prime] = False
    mu[prime::prime] *= -1
    mu[prime * prime :: prime * prime] = 0
  return mu
