"""Data-pruning scores and keep-hardest selection (pure JAX functions).

The scores of the DRoP paper's baselines (Vysogorets et al., arXiv
2404.05579, App. A), as the paper defines them and, where it differs, as
its official code (``avysogorets/fair-data-pruning``) computes them:

* EL2N (Paul et al. 2021): ||softmax(f(x)) - onehot(y)||_2, averaged over
  query models trained for a short time; ``el2n`` also has the official
  code's label-free variants (``label="max"``/``"avg"``).
* GraNd: ||grad_theta CE(f(x; theta), y)||_2 over **all** parameters, from
  per-example gradients (``vmap`` of ``grad``), averaged over query models.
* Forgetting (Toneva et al. 2019): number of correct -> incorrect
  transitions of the training-pass prediction; the previous accuracy starts
  at 0, so never-learned points score 0 (official code; Toneva: infinity).
* Dynamic uncertainty (He et al. 2023): the mean over sliding windows of J
  epochs of the standard deviation of the true-class probability; the
  official code's windows, std and normaliser differ
  (``dynamic_uncertainty``'s ``convention``).
* Greedy k-center (Sener & Savarese 2018) on embeddings, seeded by the point
  closest to the mean embedding; the score is the reverse pick order, so
  keeping the top-k scores is the first k centres.

Every method keeps the **highest** scores ("hardest" points):
``keep_hardest``, whose tie rule is the official selection's by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

EL2N_LABELS = ("oracle", "max", "avg")


def el2n(
  logits: jax.Array, labels: jax.Array | None = None, label: str = "oracle"
) -> jax.Array:
  """EL2N per example, [..., N]: the error vector's 2-norm.

  With p = softmax(logits) and e_c the one-hot vector of class c, the
  official ``scorers/el2n.py`` offers three labels (``ly_name``):

  * ``"oracle"`` (Paul et al.; the official default for data pruning and
    this study's choice): ||p - e_y|| with the true label y;
  * ``"max"``: ||p - e_c|| with the predicted class c = argmax p (first
    maximum on ties), no label needed;
  * ``"avg"``: sum_c p_c ||p - e_c||, the expectation over labels drawn
    from the prediction, no label needed.

  Args:
    logits: [..., N, K].
    labels: [N] true labels (``"oracle"`` only).
    label: one of ``EL2N_LABELS``.
  """
  probs = jax.nn.softmax(logits, axis=-1)
  num_classes = logits.shape[-1]
  if label == "oracle":
    if labels is None:
      raise ValueError("el2n with label='oracle' needs the labels")
    onehot = jax.nn.one_hot(labels, num_classes, dtype=probs.dtype)
    return jnp.linalg.norm(probs - onehot, axis=-1)
  if label == "max":
    onehot = jax.nn.one_hot(
      jnp.argmax(probs, axis=-1), num_classes, dtype=probs.dtype
    )
    return jnp.linalg.norm(probs - onehot, axis=-1)
  if label == "avg":
    # [..., N, K(candidate label c), K(component)].
    errors = probs[..., None, :] - jnp.eye(num_classes, dtype=probs.dtype)
    return jnp.sum(probs * jnp.linalg.norm(errors, axis=-1), axis=-1)
  raise ValueError(f"unknown EL2N label {label!r}; choose one of {EL2N_LABELS}")


def el2n_over_models(
  logits: jax.Array, labels: jax.Array | None = None, label: str = "oracle"
) -> jax.Array:
  """EL2N averaged over query models: logits [S, N, K] -> [N].

  The mean over models is the official aggregation (``main.py`` averages
  every query initialisation's scores) for every ``label``.
  """
  return jnp.mean(el2n(logits, labels, label), axis=0)


def per_example_grads(
  loss_fn: Callable, params: Any, inputs: jax.Array, labels: jax.Array
) -> Any:
  """Per-example gradients of ``loss_fn(params, x, y)`` (one example).

  Returns the params pytree with a leading example axis.
  """
  return jax.vmap(jax.grad(loss_fn), in_axes=(None, 0, 0))(
    params, inputs, labels
  )


def grad_norms(
  loss_fn: Callable,
  params: Any,
  inputs: jax.Array,
  labels: jax.Array,
  batch_size: int | None = 256,
) -> jax.Array:
  """GraNd: the global 2-norm of every example's gradient, [N].

  Computed in chunks of ``batch_size`` examples (``lax.map``) so the
  per-example gradients never exist all at once.
  """

  def norm_of(example):
    x, y = example
    grads = jax.grad(loss_fn)(params, x, y)
    return jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(grads)))

  return jax.lax.map(norm_of, (inputs, labels), batch_size=batch_size)


def forgetting_counts(correct: jax.Array) -> jax.Array:
  """Forgetting events from training-pass correctness [T, N] -> [N] int32.

  An event is a correct -> incorrect transition between consecutive
  appearances; the accuracy before the first appearance counts as
  incorrect (official ``forgetting.py``), so never-learned points score 0.
  """
  correct = jnp.asarray(correct, bool)
  previous = jnp.concatenate([jnp.zeros_like(correct[:1]), correct[:-1]])
  return jnp.sum(previous & ~correct, axis=0).astype(jnp.int32)


DU_CONVENTIONS = ("official", "paper")


def dynamic_uncertainty(
  true_class_probs: jax.Array, window: int, convention: str = "official"
) -> jax.Array:
  """He et al. (2023) dynamic uncertainty, [T, N] -> [N].

  With p_t the true-class probability at epoch t = 1..T and J = ``window``:

  * ``"paper"`` (He et al.'s definition): U_k = std{p_k, ..., p_{k+J-1}}
    (population std, J epochs) for the T - J + 1 windows k = 1..T-J+1, and
    DU = mean_k U_k. Needs T >= J.
  * ``"official"`` (``scorers/dynamic_uncertainty.py`` of the DRoP code,
    whose scores the paper reports; this study's default): at the start of
    every epoch e = J..T it adds the unbiased (ddof 1) std of the J - 1
    stored epochs p_{e-J+1}, ..., p_{e-1} before storing p_e, and divides
    the sum by T - J: DU = (1 / (T - J)) sum_{k=1}^{T-J+1}
    std_1{p_k, ..., p_{k+J-2}}. The last epoch p_T never enters. Needs
    T > J (T = J divides by zero) and J >= 3 (a one-epoch window has no
    unbiased std).
  """
  num_epochs = true_class_probs.shape[0]
  if convention == "paper":
    span, ddof, normaliser = window, 0, num_epochs - window + 1
    if num_epochs < window:
      raise ValueError(f"need at least {window} epochs, got {num_epochs}")
  elif convention == "official":
    span, ddof, normaliser = window - 1, 1, num_epochs - window
    if window < 3 or num_epochs <= window:
      raise ValueError(
        "the official dynamic uncertainty needs a window of "
        f"at least 3 and more than {window} epochs, got "
        f"window {window} and {num_epochs} epochs"
      )
  else:
    raise ValueError(
      f"unknown convention {convention!r}; choose one of {DU_CONVENTIONS}"
    )
  starts = jnp.arange(num_epochs - window + 1)
  windows = jax.vmap(
    lambda s: jax.lax.dynamic_slice_in_dim(true_class_probs, s, span, axis=0)
  )(starts)
  return jnp.sum(jnp.std(windows, axis=1, ddof=ddof), axis=0) / normaliser


def k_center_order(
  embeddings: jax.Array, num_centers: int | None = None
) -> jax.Array:
  """Greedy k-center pick order on ``embeddings`` [N, F] -> [num_centers].

  The first centre is the point closest to the mean embedding; each next
  centre is the point farthest from the chosen ones (ties: lowest index),
  keeping only the running min-distance vector (O(N) memory, never the
  N x N distance matrix).
  """
  embeddings = jnp.asarray(embeddings)
  count = embeddings.shape[0] if num_centers is None else num_centers
  squared_norms = jnp.sum(embeddings**2, axis=-1)

  def sq_dist_to(index):
    center = embeddings[index]
    return jnp.maximum(
      squared_norms - 2.0 * embeddings @ center + jnp.sum(center**2), 0.0
    )

  first = jnp.argmin(jnp.sum((embeddings - embeddings.mean(0)) ** 2, -1))

  def pick(min_dist, _):
    index = jnp.argmax(min_dist)
    min_dist = jnp.minimum(min_dist, sq_dist_to(index)).at[index].set(-1.0)
    return min_dist, index

  start = sq_dist_to(first).at[first].set(-1.0)
  _, rest = jax.lax.scan(pick, start, None, length=count - 1)
  return jnp.concatenate([first[None], rest]).astype(jnp.int32)


def k_center_scores(embeddings: jax.Array) -> jax.Array:
  """Score N - (pick position): the top-k scores are the first k centres."""
  order = k_center_order(embeddings)
  num = embeddings.shape[0]
  return (
    jnp.zeros(num, jnp.float32)
    .at[order]
    .set(jnp.arange(num, 0, -1, dtype=jnp.float32))
  )


TIE_RULES = ("higher_index", "lower_index")


def keep_hardest(
  scores: npt.ArrayLike, num_keep: int, ties: str = "higher_index"
) -> np.ndarray:
  """Indices of the ``num_keep`` highest scores, sorted ascending.

  ``ties`` decides which of equal scores are kept at the cut:

  * ``"higher_index"`` (default; the official ``diversifiers/auto.py``,
    which stable-sorts the scores ascending and keeps the last
    ``num_keep``): the higher indices;
  * ``"lower_index"``: the lower indices (a stable descending sort).

  Forgetting counts are small integers and tie constantly, so the rule
  changes which points a forgetting subset holds. Host-side numpy:
  selection is bookkeeping done once per subset.
  """
  scores = np.asarray(scores, np.float64)
  if ties == "higher_index":
    order = np.argsort(scores, kind="stable")
    kept = order[len(order) - num_keep :]
  elif ties == "lower_index":
    kept = np.argsort(-scores, kind="stable")[:num_keep]
  else:
    raise ValueError(f"unknown tie rule {ties!r}; choose one of {TIE_RULES}")
  return np.sort(kept).astype(np.int32)
