"""Zipf laws and the ways AI-generated data distorts them.

Dohmatob et al., "A Tale of Tails: Model Collapse as a Change of Scaling
Laws" (arXiv 2402.07043), Sections 2-3. Items i = 1, 2, ... have clean
probabilities p_i = i^-beta / zeta(beta) (paper convention: beta > 1 is the
tail exponent; Hutter's alpha is beta - 1). AI data replaces p by

- a tail cut (top-k, Thm 2.1): q_i proportional to p_i 1[i <= k];
- a narrowed tail (temperature < 1, Sec. 2): q_i proportional to
  i^-beta', beta' > beta (a temperature tau on Zipf(beta) gives
  beta' = beta / tau);
- a mixture with a fraction pi of clean data (Sec. 3.1, Thm 3.2).

Arrays hold the head i = 1..N; what lies beyond N is described by a
``PowerTail`` (q_i = scale * i^-exponent for i > N) so that the Hutter error
can add it analytically (``repro.ops.hutter``). Everything is ``jnp`` and
works in float32 or, inside ``jax.enable_x64()``, float64 (needed for the
sums: the probabilities span 1 to 1e-13).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy import special
from jax.typing import ArrayLike, DTypeLike


class PowerTail(NamedTuple):
  """A distribution's items beyond the head: q_i = scale * i^-exponent.

  ``scale = 0`` means the distribution has no mass beyond the head (a cut
  or an empirical distribution).
  """

  scale: jax.Array | float
  exponent: jax.Array | float


class ItemLaw(NamedTuple):
  """A distribution over items 1, 2, ...: the head array and its tail."""

  head: jax.Array
  tail: PowerTail


def item_ranks(num_items: int, dtype: DTypeLike | None = None) -> jax.Array:
  """The ranks 1..N as floats."""
  return jnp.arange(1, num_items + 1, dtype=dtype or jnp.result_type(float))


def zipf_law(num_items: int, beta: ArrayLike) -> ItemLaw:
  """Zipf(beta) on all items, head i <= N: p_i = i^-beta / zeta(beta)."""
  ranks = item_ranks(num_items)
  beta = jnp.asarray(beta, ranks.dtype)
  normaliser = special.zeta(beta, 1.0)
  return ItemLaw(ranks**-beta / normaliser, PowerTail(1.0 / normaliser, beta))


def tail_mass(law: ItemLaw) -> jax.Array:
  """sum_{i > N} q_i = scale * zeta(exponent, N + 1) (Hurwitz zeta)."""
  num_items = law.head.shape[-1]
  scale = jnp.asarray(law.tail.scale, law.head.dtype)
  exponent = jnp.asarray(law.tail.exponent, law.head.dtype)
  safe_exponent = jnp.where(scale > 0, exponent, 2.0)
  return jnp.where(
    scale > 0, scale * special.zeta(safe_exponent, num_items + 1.0), 0.0
  )


def zipf_tail_mass(k: ArrayLike, beta: ArrayLike) -> jax.Array:
  """sum_{i > k} i^-beta / zeta(beta): the mass a top-k cut removes."""
  k = jnp.asarray(k, jnp.result_type(float))
  beta = jnp.asarray(beta, k.dtype)
  return special.zeta(beta, k + 1.0) / special.zeta(beta, 1.0)


def top_k_cut(law: ItemLaw, k: int | jax.Array) -> ItemLaw:
  """Tail cutting (Thm 2.1): q_i = p_i 1[i <= k] / sum_{j <= k} p_j.

  ``k`` may be traced; it must not exceed the head size N.
  """
  ranks = item_ranks(law.head.shape[-1], law.head.dtype)
  kept = jnp.where(ranks <= k, law.head, 0.0)
  return ItemLaw(kept / jnp.sum(kept), PowerTail(0.0, 1.0))


def with_temperature(law: ItemLaw, temperature: ArrayLike) -> ItemLaw:
  """Sampling at temperature tau: q_i proportional to p_i^(1/tau).

  On Zipf(beta) this is Zipf(beta / tau): tau < 1 narrows the tail
  (Sec. 2, tail narrowing). The tail keeps the power form with exponent
  beta / tau; the normaliser is computed over head and tail together.
  """
  temperature = jnp.asarray(temperature, law.head.dtype)
  powered = law.head ** (1.0 / temperature)
  tail_scale = jnp.asarray(law.tail.scale, law.head.dtype) ** (
    1.0 / temperature
  )
  tail = PowerTail(tail_scale, law.tail.exponent / temperature)
  total = jnp.sum(powered) + tail_mass(ItemLaw(powered, tail))
  return ItemLaw(powered / total, PowerTail(tail_scale / total, tail.exponent))


def mix(
  clean: ItemLaw, synthetic: ItemLaw, clean_fraction: ArrayLike
) -> ItemLaw:
  """Mixing (Sec. 3.1): q = pi p_clean + (1 - pi) q_AI.

  The tail is represented exactly only when at most one of the two laws
  has mass beyond the head (true for a clean law mixed with a cut).
  """
  pi = jnp.asarray(clean_fraction, clean.head.dtype)
  head = pi * clean.head + (1.0 - pi) * synthetic.head
  clean_tail = jnp.asarray(clean.tail.scale, head.dtype) > 0
  tail = PowerTail(
    jnp.where(
      clean_tail, pi * clean.tail.scale, (1.0 - pi) * synthetic.tail.scale
    ),
    jnp.where(clean_tail, clean.tail.exponent, synthetic.tail.exponent),
  )
  return ItemLaw(head, tail)


def empirical_law(counts: jax.Array) -> ItemLaw:
  """The empirical distribution counts / sum(counts) (no tail)."""
  counts = jnp.asarray(counts)
  dtype = jnp.result_type(float)
  return ItemLaw(
    counts.astype(dtype) / jnp.sum(counts).astype(dtype), PowerTail(0.0, 1.0)
  )
