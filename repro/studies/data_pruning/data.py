"""The study's datasets: train / validation / test arrays and augmentation.

Validation = a stratified half of the held-out set, test = the other half
(official ``vision_data.py``; training recall saturates): DRoP's class recalls
are measured on validation, every reported accuracy on test. The training
set is shuffled once so that ties in a pruning score (many points have
forgetting count 0) are broken at random rather than by class order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from repro import data as data_lib
from repro.data import gaussian_mixture


def stratified_halves(key: jax.Array, labels: np.ndarray):
  """Two disjoint index sets with half of every class each (val, test)."""
  rng = gaussian_mixture.numpy_rng(key)
  first, second = [], []
  for label in np.unique(labels):
    members = rng.permutation(np.flatnonzero(labels == label))
    half = len(members) // 2
    first.append(members[:half])
    second.append(members[half:])
  return np.sort(np.concatenate(first)), np.sort(np.concatenate(second))


def load_dataset(name: str, group, key: jax.Array, data_dir: str) -> dict:
  """Arrays of dataset ``name`` (a config group of ``config.data``).

  Returns:
    ``{"train_x", "train_y", "val_x", "val_y", "test_x", "test_y",
    "num_classes", "name"}`` as numpy arrays (images keep [H, W, C]).
  """
  make_key, split_key, shuffle_key = jax.random.split(key, 3)
  if group.source == "mixture":
    mixture = gaussian_mixture.make_mixture(
      make_key,
      num_classes=group.num_classes,
      dim=group.dim,
      train_per_class=group.train_per_class,
      test_per_class=group.test_per_class,
      mean_distance=group.mean_distance,
      sigma_min=group.sigma_min,
      sigma_max=group.sigma_max,
      noisy_classes=group.noisy_classes,
      label_noise=group.label_noise,
    )
    train_x, train_y = mixture["train_x"], mixture["train_y"]
    held_x, held_y = mixture["test_x"], mixture["test_y"]
  else:
    train = data_lib.load(group.source, "train", data_dir or None)
    held = data_lib.load(group.source, "test", data_dir or None)
    train_x, train_y = train["image"], train["label"]
    held_x, held_y = held["image"], held["label"]
    if group.max_train_per_class > 0:
      keep = np.concatenate(
        [
          np.flatnonzero(train_y == k)[: group.max_train_per_class]
          for k in np.unique(train_y)
        ]
      )
      train_x, train_y = train_x[keep], train_y[keep]
  order = gaussian_mixture.numpy_rng(shuffle_key).permutation(len(train_y))
  val, test = stratified_halves(split_key, np.asarray(held_y))
  return {
    "name": name,
    "train_x": np.asarray(train_x, np.float32)[order],
    "train_y": np.asarray(train_y, np.int32)[order],
    "val_x": np.asarray(held_x, np.float32)[val],
    "val_y": np.asarray(held_y, np.int32)[val],
    "test_x": np.asarray(held_x, np.float32)[test],
    "test_y": np.asarray(held_y, np.int32)[test],
    "num_classes": int(max(train_y.max(), held_y.max()) + 1),
  }


def augment_images(
  images: jax.Array, key: jax.Array, max_shift: int = 4
) -> jax.Array:
  """Random horizontal flip and shift by <= ``max_shift`` pixels (zero pad).

  The paper's final-model augmentation (App. A); never used for query
  models or scoring (official ``aug_score``/``aug_query`` default False).
  """

  def one(image, key):
    flip_key, shift_key = jax.random.split(key)
    image = jnp.where(jax.random.bernoulli(flip_key), image[:, ::-1], image)
    padded = jnp.pad(
      image, ((max_shift, max_shift), (max_shift, max_shift), (0, 0))
    )
    offsets = jax.random.randint(shift_key, (2,), 0, 2 * max_shift + 1)
    return jax.lax.dynamic_slice(
      padded, (offsets[0], offsets[1], 0), image.shape
    )

  return jax.vmap(one)(images, jax.random.split(key, images.shape[0]))
