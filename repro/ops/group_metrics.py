"""Per-group, worst-group and average accuracy under subpopulation shift.

A group is a (label, attribute) pair, g = y * num_attributes + a (Rudner et
al. 2024, arXiv 2403.09869, Section 3.1). Worst-group
accuracy (WGA) is min_g acc_g; the average accuracy weights the per-group
accuracies by reference proportions pi_g (the *training* proportions, as in
DFR and group DRO). Pure jnp functions, so they
compose with ``jit`` and ``vmap`` over seeds and configurations.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def group_ids(
  labels: jax.Array, attributes: jax.Array, num_attributes: int = 2
) -> jax.Array:
  """g = y * num_attributes + a (the official code's group index)."""
  return labels * num_attributes + attributes


def group_counts(groups: jax.Array, num_groups: int) -> jax.Array:
  """Number of examples in each group, float32 [num_groups]."""
  return jnp.sum(
    jnp.arange(num_groups)[:, None] == groups[None, :], axis=-1
  ).astype(jnp.float32)


def per_group_accuracy(
  predictions: jax.Array, labels: jax.Array, groups: jax.Array, num_groups: int
) -> jax.Array:
  """Accuracy of each group, [num_groups]; NaN for an empty group."""
  correct = (predictions == labels).astype(jnp.float32)
  members = (jnp.arange(num_groups)[:, None] == groups[None, :]).astype(
    jnp.float32
  )
  counts = members.sum(-1)
  return jnp.where(
    counts > 0, members @ correct / jnp.maximum(counts, 1.0), jnp.nan
  )


def worst_group_accuracy(group_accuracy: jax.Array) -> jax.Array:
  """min_g acc_g over the non-empty groups (last axis)."""
  return jnp.nanmin(group_accuracy, axis=-1)


def average_accuracy(
  group_accuracy: jax.Array, group_weights: jax.Array
) -> jax.Array:
  """sum_g pi_g acc_g with pi normalised over the non-empty groups."""
  present = ~jnp.isnan(group_accuracy)
  weights = jnp.where(present, group_weights, 0.0)
  weights = weights / jnp.sum(weights, axis=-1, keepdims=True)
  return jnp.sum(weights * jnp.where(present, group_accuracy, 0.0), axis=-1)


def group_report(
  logits: jax.Array,
  labels: jax.Array,
  groups: jax.Array,
  num_groups: int,
  group_weights: jax.Array,
) -> dict[str, jax.Array]:
  """``{"group_acc", "wga", "avg_acc", "mean_acc"}`` of argmax predictions.

  ``mean_acc`` is the unweighted mean of the group accuracies (the
  accuracy on a group-balanced test set).
  """
  predictions = jnp.argmax(logits, axis=-1)
  accuracy = per_group_accuracy(predictions, labels, groups, num_groups)
  return {
    "group_acc": accuracy,
    "wga": worst_group_accuracy(accuracy),
    "avg_acc": average_accuracy(accuracy, group_weights),
    "mean_acc": jnp.nanmean(accuracy, axis=-1),
  }
