"""Known sizes of the named datasets, for plans that must not read them.

``launch --plan`` builds each study's steps at the preset's real shapes
without loading data; these are the sizes the loaders return (images are
``[n, H, W, C]``).
"""

from __future__ import annotations

# (H, W, C) of each dataset's images.
IMAGE_SHAPES = {
  "digits": (8, 8, 1),
  "mnist": (28, 28, 1),
  "mnist_5k": (28, 28, 1),
  "fashion_mnist": (28, 28, 1),
  "cifar10": (32, 32, 3),
  "cifar100": (32, 32, 3),
}

# Examples per split.
SPLIT_SIZES = {
  "digits": {"train": 1258, "test": 539},
  "mnist": {"train": 60000, "test": 10000},
  "fashion_mnist": {"train": 60000, "test": 10000},
  "cifar10": {"train": 50000, "test": 10000},
  "cifar100": {"train": 50000, "test": 10000},
}


def image_shape(name: str) -> tuple[int, int, int]:
  return IMAGE_SHAPES[name]


def split_size(name: str, split: str) -> int:
  return SPLIT_SIZES[name][split]
