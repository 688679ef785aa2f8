"""The study's data sets with groups, one per seed (leading seed axis).

Every set is ``{"x", "label", "attribute", "group"}``; the splits are
``train`` (skewed), ``fit`` and ``select`` (the two halves of the skewed
group-annotated set), ``test`` and ``probe`` (group-balanced).
"""

from __future__ import annotations

import zlib

import numpy as np

from repro import data as data_lib
from repro.core.errors import UserError
from repro.data import groups as groups_lib

SPLITS = ("train", "fit", "select", "test", "probe")


def split_counts(config) -> dict[str, tuple[int, ...]]:
  """Exact group sizes of every split (README, What is run)."""
  data = config.data
  half = groups_lib.skewed_group_counts(
    data.num_annotated // 2, data.annotated_majority_fraction
  )
  if min(half) < 2:
    raise UserError(
      "the fit/select halves need >= 2 examples per group; "
      "raise data.num_annotated or lower "
      "data.annotated_majority_fraction"
    )
  return {
    "train": groups_lib.skewed_group_counts(
      data.num_train, data.majority_fraction
    ),
    "fit": half,
    "select": half,
    "test": (data.test_per_group,) * groups_lib.NUM_GROUPS,
    "probe": (data.probe_per_group,) * groups_lib.NUM_GROUPS,
  }


def seed_generator(
  seed: int, replica: int, stream: str, split: str
) -> np.random.Generator:
  """The numpy generator of one (root seed, replica, stream, split)."""
  return np.random.default_rng(
    [seed, replica, zlib.crc32(stream.encode()), zlib.crc32(split.encode())]
  )


def _stack(sets: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
  return {k: np.stack([s[k] for s in sets]) for k in sets[0]}


def gaussian_sets(config) -> dict[str, dict[str, np.ndarray]]:
  """Synthetic core / spurious / noise Gaussians for every seed."""
  params = dict(config.gaussian)
  return {
    split: _stack(
      [
        groups_lib.gaussian_groups(
          seed_generator(config.seed, r, "gaussian", split), counts, **params
        )
        for r in range(config.num_seeds)
      ]
    )
    for split, counts in split_counts(config).items()
  }


def dominoes_sets(config) -> dict[str, dict[str, np.ndarray]]:
  """Digit dominoes; train/fit/select/probe from the digits train split,
  test from the digits test split (disjoint images)."""
  data_dir = config.data_dir or None
  pools = {}
  for source in ("train", "test"):
    digits = data_lib.load("digits", source, data_dir)
    pools[source] = tuple(
      groups_lib.digit_pools(digits["image"], digits["label"], tuple(classes))
      for classes in (
        config.dominoes.core_classes,
        config.dominoes.spurious_classes,
      )
    )
  return {
    split: _stack(
      [
        groups_lib.dominoes(
          seed_generator(config.seed, r, "dominoes", split),
          counts,
          *pools["test" if split == "test" else "train"],
          core_noise=config.dominoes.core_noise,
        )
        for r in range(config.num_seeds)
      ]
    )
    for split, counts in split_counts(config).items()
  }


def waterbirds_sets(config) -> dict[str, dict[str, np.ndarray]]:
  """Waterbirds (paper preset): val split into fit / select halves.

  The data are the same for every seed (tiled); seeds change the halves'
  split, the initialisation and the training draws.
  """
  from repro.data import waterbirds  # pylint: disable=g-import-not-at-top

  size = config.waterbirds.image_size
  splits = {
    name: waterbirds.load(name, config.data_dir or None, size)
    for name in ("train", "val", "test")
  }
  num_seeds = config.num_seeds
  # The B0 probe trains on the whole (group-annotated) val split, never
  # on test data.
  sets = {
    name: _tile(_as_set(splits[source]), num_seeds)
    for name, source in (("train", "train"), ("test", "test"), ("probe", "val"))
  }
  fit, select = [], []
  val = _as_set(splits["val"])
  for seed in range(num_seeds):
    rng = seed_generator(config.seed, seed, "waterbirds", "val")
    first = np.zeros(len(val["group"]), bool)
    for g in range(groups_lib.NUM_GROUPS):
      members = rng.permutation(np.flatnonzero(val["group"] == g))
      first[members[: len(members) // 2]] = True
    fit.append({k: v[first] for k, v in val.items()})
    select.append({k: v[~first] for k, v in val.items()})
  # Every seed's halves have the same group sizes, so they stack.
  sets["fit"] = {k: np.stack([s[k] for s in fit]) for k in val}
  sets["select"] = {k: np.stack([s[k] for s in select]) for k in val}
  return sets


def _as_set(split):
  labels = np.asarray(split["label"], np.int32)
  attributes = np.asarray(split["attribute"], np.int32)
  return {
    "x": np.asarray(split["image"], np.float32),
    "label": labels,
    "attribute": attributes,
    "group": 2 * labels + attributes,
  }


def _tile(data, num_seeds):
  return {
    k: np.broadcast_to(v, (num_seeds,) + v.shape) for k, v in data.items()
  }


BUILDERS = {
  "gaussian": gaussian_sets,
  "dominoes": dominoes_sets,
  "waterbirds": waterbirds_sets,
}


def make_sets(name: str, config) -> dict[str, dict[str, np.ndarray]]:
  """The splits of dataset ``name``, each leaf with a leading seed axis."""
  if name not in BUILDERS:
    raise UserError(
      f"unknown dataset {name!r} in datasets; use one of {', '.join(BUILDERS)}"
    )
  sets = BUILDERS[name](config)
  return {split: sets[split] for split in SPLITS}
