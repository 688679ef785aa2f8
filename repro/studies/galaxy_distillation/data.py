"""Training data of the study: loading, per-class subsets, standardisation,
and the synthetic-set initialisations and baselines (README, What runs)."""

from __future__ import annotations

import numpy as np

from repro.core.errors import UserError

NUM_CLASSES = 9


def per_class_subset(
  split: dict[str, np.ndarray], per_class: int
) -> tuple[np.ndarray, np.ndarray]:
  """The first ``per_class`` examples of every class (0: all), in order."""
  images = np.asarray(split["image"], np.float32)
  labels = np.asarray(split["label"], np.int32)
  if per_class:
    keep = np.sort(
      np.concatenate(
        [np.flatnonzero(labels == c)[:per_class] for c in range(NUM_CLASSES)]
      )
    )
    images, labels = images[keep], labels[keep]
  counts = np.bincount(labels, minlength=NUM_CLASSES)
  if counts.min() == 0:
    raise UserError(
      f"some classes have no examples ({counts.tolist()}); "
      "raise train_per_class/test_per_class"
    )
  return images, labels


def load_split(config, split: str) -> dict[str, np.ndarray]:
  data_dir = config.data_dir or None
  from repro.data import sources  # pylint: disable=g-import-not-at-top

  data_dir = sources.resolve_data_dir(data_dir)
  if config.dataset == "galaxies":
    from repro.data import galaxies  # pylint: disable=g-import-not-at-top

    return galaxies.load(split, data_dir, image_size=config.image_size)
  if config.dataset == "galaxy_zoo2":
    from repro.data import galaxy_zoo2  # pylint: disable=g-import-not-at-top

    return galaxy_zoo2.load(split, data_dir, image_size=config.image_size)
  raise UserError(
    f"unknown dataset {config.dataset!r}; use galaxies or galaxy_zoo2"
  )


def load(config):
  """Standardised train/test arrays and the per-channel mean and std.

  Images are standardised with the training set's channel statistics (the
  reference normalises GZoo2 the same way); the distilled images live in
  this space.
  """
  train_x, train_y = per_class_subset(
    load_split(config, "train"), config.train_per_class
  )
  test_x, test_y = per_class_subset(
    load_split(config, "test"), config.test_per_class
  )
  mean = train_x.mean(axis=(0, 1, 2))
  std = train_x.std(axis=(0, 1, 2)) + 1e-6
  return (
    (train_x - mean) / std,
    train_y,
    (test_x - mean) / std,
    test_y,
    mean,
    std,
  )


def syn_labels(ipc: int) -> np.ndarray:
  """Fixed labels of D_syn: ipc images of class 0, then class 1, ..."""
  return np.repeat(np.arange(NUM_CLASSES), ipc).astype(np.int32)


def random_real(images, labels, ipc: int, rng: np.random.Generator):
  """``ipc`` distinct random real images per class (the 'real' init and the
  random-real baseline), ordered as ``syn_labels``."""
  picks = []
  for c in range(NUM_CLASSES):
    members = np.flatnonzero(labels == c)
    if len(members) < ipc:
      raise UserError(f"class {c} has {len(members)} images < ipc {ipc}")
    picks.append(rng.choice(members, ipc, replace=False))
  return images[np.concatenate(picks)]


def class_means(images, labels, ipc: int):
  """The class-mean image, repeated ipc times per class (baseline)."""
  means = np.stack([images[labels == c].mean(0) for c in range(NUM_CLASSES)])
  return np.repeat(means, ipc, axis=0)
