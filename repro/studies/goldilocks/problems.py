"""Data and bias-free networks of the goldilocks study, as flat functions.

A ``Problem`` holds a training (and test) set and a homogeneous network
whose parameters are handled as one flat vector ``theta``
(``repro.nn.flat``, the ``ravel_pytree`` order), so Hessians are plain
matrices and ``alpha * theta`` is the paper's rescaled initialisation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from repro import data as data_lib
from repro.core.errors import UserError
from repro.data import circles
from repro.nn import flat, lenet


@dataclasses.dataclass(frozen=True)
class Problem:
  """A dataset and a bias-free ReLU network (homogeneous of degree L)."""

  name: str
  train_inputs: np.ndarray
  train_labels: np.ndarray
  test_inputs: np.ndarray
  test_labels: np.ndarray
  num_classes: int
  num_layers: int  # L: logits scale as alpha^L
  num_params: int
  init_flat: Callable[[jax.Array], jax.Array]  # key -> theta (alpha 1)
  apply_flat: Callable[[jax.Array, jax.Array], jax.Array]  # theta, x -> z

  def label_prior(self) -> np.ndarray:
    """The empirical class frequencies ``Q`` of the training set."""
    return np.bincount(self.train_labels, minlength=self.num_classes) / len(
      self.train_labels
    )


def _load_arrays(dataset: str, num_train: int, seed: int, data_dir: str):
  """Returns (train_x, train_y, test_x, test_y, num_classes) as numpy."""
  if dataset == "circles":
    train = circles.load("train", seed, num_train or None)
    test = circles.load("test", seed)
    return (
      train["features"],
      train["label"],
      test["features"],
      test["label"],
      circles.NUM_CLASSES,
    )
  if dataset not in data_lib.DATASETS:
    raise UserError(
      f"goldilocks: unknown dataset {dataset!r}; use circles "
      f"or one of {', '.join(data_lib.DATASETS)}"
    )
  train = data_lib.load(dataset, "train", data_dir or None)
  test = data_lib.load(dataset, "test", data_dir or None)
  if num_train:
    keep = np.random.default_rng(seed).permutation(len(train["label"]))[
      :num_train
    ]
    train = {k: v[np.sort(keep)] for k, v in train.items()}
  # One global mean / std from the training images (as the official
  # FashionMNIST normalisation): an affine input map, so the network stays
  # homogeneous in its weights.
  mean, std = float(train["image"].mean()), float(train["image"].std())
  normalise = lambda images: ((images - mean) / std).astype(np.float32)
  num_classes = int(max(train["label"].max(), test["label"].max())) + 1
  return (
    normalise(train["image"]),
    train["label"].astype(np.int32),
    normalise(test["image"]),
    test["label"].astype(np.int32),
    num_classes,
  )


def _make_model(model: str, hidden, num_classes: int):
  if model == "mlp":
    return lenet.relu_mlp(hidden, num_classes)
  if model == "lenet300100":
    return lenet.lenet300100(num_classes)
  if model == "lenet5":
    return lenet.LeNet5(num_classes=num_classes)
  raise UserError(
    f"goldilocks: unknown model {model!r}; use mlp, lenet300100 or lenet5"
  )


def load_problem(group, seed: int, data_dir: str) -> Problem:
  """Builds the ``Problem`` of a config group (``curvature``/``training``)."""
  return make_problem(
    group, *_load_arrays(group.dataset, group.num_train, seed, data_dir)
  )


def make_problem(
  group, train_x, train_y, test_x, test_y, num_classes: int
) -> Problem:
  """The ``Problem`` of a config group on given arrays (``load_problem``;
  the compute plan passes one placeholder example of the right shape)."""
  model = _make_model(group.model, group.hidden, num_classes)
  template = jax.eval_shape(
    model.init, jax.random.key(0), jnp.asarray(train_x[:1])
  )["params"]
  # The layout's unravel keeps theta's dtype (float64 for the Hessians).
  layout = flat.layout(template)
  shapes = layout.shapes

  paths = [
    jax.tree_util.keystr(path)
    for path, _ in jax.tree_util.tree_flatten_with_path(template)[0]
  ]
  if any("kernel" not in path for path in paths):
    raise UserError(f"goldilocks needs bias-free networks; got {paths}")
  kaiming = lenet.scaled_kaiming_normal()

  def init_flat(key):
    # The model's own initialiser drawn leaf by leaf: the same distribution
    # as ``model.init`` at a fraction of the tracing cost inside sweeps.
    keys = jax.random.split(key, len(shapes))
    return jnp.concatenate(
      [kaiming(k, shape).ravel() for k, shape in zip(keys, shapes, strict=True)]
    )

  def apply_flat(theta, inputs):
    return model.apply(
      {"params": layout.unravel(theta)}, inputs.astype(theta.dtype)
    )

  return Problem(
    name=group.model,
    train_inputs=train_x,
    train_labels=train_y,
    test_inputs=test_x,
    test_labels=test_y,
    num_classes=num_classes,
    num_layers=lenet.num_weight_layers(model),
    num_params=layout.num_params,
    init_flat=init_flat,
    apply_flat=apply_flat,
  )
