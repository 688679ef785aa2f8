"""Data with groups: class y x spurious attribute a, group g = 2 y + a.

Two embedded generators for subpopulation-shift studies (the group_priors
README, What is run):

* ``gaussian_groups``: x = [core, spurious, noise] with core ~ N((2y - 1)
  mu_c, I), spurious ~ N((2a - 1) mu_s, sigma_s^2 I) and noise ~ N(0, I)
  (Sagawa et al. 2020b style). The spurious block is nearly separable, the
  core block only partly, so a network prefers the spurious one.
* ``dominoes``: a spurious digit image (a) stacked on top of a core digit
  image (y) from the embedded sklearn digits, 16 x 8 pixels. Image pools are
  split per class before pairing, so no image is shared between the
  training pools and the test pool.

Group sizes are exact (``skewed_group_counts``): each class has half of the
examples, of which a fraction ``majority_fraction`` has a = y. Balanced sets
use ``majority_fraction`` = 0.5. Generators are numpy functions of a
``np.random.Generator`` (cheap, nothing to compile); a study stacks one set
per seed into a leading replica axis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NUM_GROUPS = 4
NUM_CLASSES = 2


def skewed_group_counts(
  num_examples: int, majority_fraction: float
) -> tuple[int, int, int, int]:
  """Exact sizes of groups (y, a) = (0,0), (0,1), (1,0), (1,1).

  Each class gets half of ``num_examples``; within a class round(
  majority_fraction * half) examples have a = y.
  """
  half = num_examples // 2
  majority = int(round(majority_fraction * half))
  minority = half - majority
  return (majority, minority, minority, majority)


def group_labels(
  counts: Sequence[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Static (y, a, g) int32 arrays, group by group, for ``counts``."""
  groups = np.repeat(np.arange(len(counts)), counts).astype(np.int32)
  return groups // 2, groups % 2, groups


def _shuffled_labels(rng: np.random.Generator, counts):
  labels, attributes, groups = group_labels(counts)
  order = rng.permutation(len(groups))
  return labels[order], attributes[order], groups[order]


def gaussian_groups(
  rng: np.random.Generator,
  counts: Sequence[int],
  *,
  core_dim: int,
  spurious_dim: int,
  noise_dim: int,
  core_mean: float,
  spurious_mean: float,
  spurious_std: float,
) -> dict[str, np.ndarray]:
  """One set of the synthetic core / spurious / noise data.

  Returns:
    ``{"x": float32 [n, core + spurious + noise], "label", "attribute",
    "group"}`` (int32 [n]) in shuffled order, n = sum(counts).
  """
  labels, attributes, groups = _shuffled_labels(rng, counts)
  num = groups.shape[0]
  sign_y = (2.0 * labels - 1.0)[:, None]
  sign_a = (2.0 * attributes - 1.0)[:, None]
  core = core_mean * sign_y + rng.standard_normal((num, core_dim))
  spurious = spurious_mean * sign_a + spurious_std * rng.standard_normal(
    (num, spurious_dim)
  )
  noise = rng.standard_normal((num, noise_dim))
  x = np.concatenate([core, spurious, noise], axis=1).astype(np.float32)
  return {"x": x, "label": labels, "attribute": attributes, "group": groups}


def digit_pools(
  images: np.ndarray, digit_labels: np.ndarray, classes: tuple[int, int]
) -> list[np.ndarray]:
  """The [n_c, H, W] images of each class of ``classes``, in order."""
  images = np.asarray(images, np.float32)
  if images.ndim == 4:
    images = images[..., 0]
  pools = [images[digit_labels == c] for c in classes]
  if any(len(p) == 0 for p in pools):
    raise ValueError(f"no images of classes {classes} in the pool")
  return pools


def dominoes(
  rng: np.random.Generator,
  counts: Sequence[int],
  core_pools: Sequence[np.ndarray],
  spurious_pools: Sequence[np.ndarray],
  *,
  core_noise: float = 0.0,
) -> dict[str, np.ndarray]:
  """Dominoes: the spurious digit of class a above the core digit of y.

  Args:
    rng: numpy generator.
    counts: group sizes.
    core_pools: ``digit_pools`` of the two core classes (label y).
    spurious_pools: ``digit_pools`` of the two spurious classes (a).
    core_noise: std of Gaussian pixel noise on the core half (a harder
      core feature).

  Returns:
    ``{"x": float32 [n, 2H, W, 1], "label", "attribute", "group"}``; each
    example's images are drawn uniformly from its classes' pools.
  """
  labels, attributes, groups = _shuffled_labels(rng, counts)
  num = groups.shape[0]
  height, width = core_pools[0].shape[1:]
  core = np.empty((num, height, width), np.float32)
  spurious = np.empty((num, height, width), np.float32)
  for c in range(2):
    chosen = labels == c
    core[chosen] = core_pools[c][
      rng.integers(0, len(core_pools[c]), chosen.sum())
    ]
    chosen = attributes == c
    spurious[chosen] = spurious_pools[c][
      rng.integers(0, len(spurious_pools[c]), chosen.sum())
    ]
  core += core_noise * rng.standard_normal(core.shape).astype(np.float32)
  images = np.concatenate([spurious, core], axis=1)[..., None]
  return {
    "x": images,
    "label": labels,
    "attribute": attributes,
    "group": groups,
  }
