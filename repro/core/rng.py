"""Named PRNG streams from one root seed, folded in by step.

Every random draw of a run comes from ``streams(seed)[name]`` (``data``,
``init``, ``train``, ``attack``, ...), and per-step randomness from
``step_key(key, step)``, so a resumed run draws exactly the same numbers.
"""

from __future__ import annotations

import zlib

import jax


def stream(seed: int, name: str) -> jax.Array:
  """Returns the key of stream ``name`` under the root ``seed``.

  The name is hashed with CRC32 (stable across processes and Python
  versions, unlike ``hash``) and folded into the root key.
  """
  root = jax.random.key(seed)
  return jax.random.fold_in(root, zlib.crc32(name.encode()) & 0x7FFFFFFF)


def streams(seed: int, *names: str) -> dict[str, jax.Array]:
  """Returns ``{name: stream(seed, name)}`` for each name."""
  return {name: stream(seed, name) for name in names}


def step_key(key: jax.Array, step: int | jax.Array) -> jax.Array:
  """The key for training step ``step`` (an int or traced int)."""
  return jax.random.fold_in(key, step)


def replica_keys(key: jax.Array, num_replicas: int) -> jax.Array:
  """Splits ``key`` into a leading replica axis (seeds, chains, members)."""
  return jax.random.split(key, num_replicas)
