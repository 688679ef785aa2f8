"""Data-pruning scores and keep-hardest selection (pure JAX functions).

The scores of the DRoP paper's baselines (Vysogorets et al., arXiv
2404.05579, App. A; paper notes Sec. 3), as defined in the official code:

* EL2N (Paul et al. 2021): ||softmax(f(x)) - onehot(y)||_2, averaged over
  query models trained for a short time.
* GraNd: ||grad_theta CE(f(x; theta), y)||_2 over **all** parameters, from
  per-example gradients (``vmap`` of ``grad``), averaged over query models.
* Forgetting (Toneva et al. 2019): number of correct -> incorrect
  transitions of the training-pass prediction; the previous accuracy starts
  at 0, so never-learned points score 0 (official code; Toneva: infinity).
* Dynamic uncertainty (He et al. 2023): the mean over sliding windows of J
  epochs of the standard deviation of the true-class probability.
* Greedy k-center (Sener & Savarese 2018) on embeddings, seeded by the point
  closest to the mean embedding; the score is the reverse pick order, so
  keeping the top-k scores is the first k centres.

Every method keeps the **highest** scores ("hardest" points; notes pitfall
4): ``keep_hardest``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def el2n(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """EL2N per example: ||softmax(logits) - onehot(label)||_2, [..., N]."""
  probs = jax.nn.softmax(logits, axis=-1)
  onehot = jax.nn.one_hot(labels, logits.shape[-1], dtype=probs.dtype)
  return jnp.linalg.norm(probs - onehot, axis=-1)


def el2n_over_models(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """EL2N averaged over query models: logits [S, N, K] -> [N]."""
  return jnp.mean(el2n(logits, labels), axis=0)


def per_example_grads(loss_fn: Callable, params, inputs: jax.Array,
                      labels: jax.Array):
  """Per-example gradients of ``loss_fn(params, x, y)`` (one example).

  Returns the params pytree with a leading example axis.
  """
  return jax.vmap(jax.grad(loss_fn), in_axes=(None, 0, 0))(params, inputs,
                                                          labels)


def grad_norms(loss_fn: Callable, params, inputs: jax.Array,
               labels: jax.Array, batch_size: int | None = 256) -> jax.Array:
  """GraNd: the global 2-norm of every example's gradient, [N].

  Computed in chunks of ``batch_size`` examples (``lax.map``) so the
  per-example gradients never exist all at once.
  """
  def norm_of(example):
    x, y = example
    grads = jax.grad(loss_fn)(params, x, y)
    return jnp.sqrt(sum(jnp.sum(jnp.square(g))
                        for g in jax.tree.leaves(grads)))
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


def dynamic_uncertainty(true_class_probs: jax.Array,
                        window: int) -> jax.Array:
  """He et al. (2023) dynamic uncertainty, [T, N] -> [N].

  U_k(x) = std{p_k(x), ..., p_{k+J-1}(x)} (population std) for the
  T - J + 1 windows k; DU(x) = mean_k U_k(x). Clean definition (notes
  pitfall 11: the official code's windows span J - 1 epochs).
  """
  num_epochs = true_class_probs.shape[0]
  if num_epochs < window:
    raise ValueError(f"need at least {window} epochs, got {num_epochs}")
  starts = jnp.arange(num_epochs - window + 1)
  windows = jax.vmap(lambda s: jax.lax.dynamic_slice_in_dim(
      true_class_probs, s, window, axis=0))(starts)
  return jnp.mean(jnp.std(windows, axis=1), axis=0)


def k_center_order(embeddings: jax.Array,
                   num_centers: int | None = None) -> jax.Array:
  """Greedy k-center pick order on ``embeddings`` [N, F] -> [num_centers].

  The first centre is the point closest to the mean embedding; each next
  centre is the point farthest from the chosen ones (ties: lowest index),
  keeping only the running min-distance vector (O(N) memory; notes
  pitfall 13).
  """
  embeddings = jnp.asarray(embeddings)
  count = embeddings.shape[0] if num_centers is None else num_centers
  squared_norms = jnp.sum(embeddings**2, axis=-1)

  def sq_dist_to(index):
    center = embeddings[index]
    return jnp.maximum(squared_norms - 2.0 * embeddings @ center +
                       jnp.sum(center**2), 0.0)

  first = jnp.argmin(jnp.sum((embeddings - embeddings.mean(0))**2, -1))

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
  return jnp.zeros(num, jnp.float32).at[order].set(
      jnp.arange(num, 0, -1, dtype=jnp.float32))


def keep_hardest(scores, num_keep: int) -> np.ndarray:
  """Indices of the ``num_keep`` highest scores (ties: lower index), sorted.

  The official ``diversifiers/auto.py`` keeps the top of an ascending sort.
  Host-side numpy: selection is bookkeeping done once per subset.
  """
  order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
  return np.sort(order[:num_keep]).astype(np.int32)
