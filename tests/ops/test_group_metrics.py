"""Per-group, worst-group and average accuracy on hand cases."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.ops import group_metrics


def test_worst_group_accuracy_hand_case():
  labels = jnp.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
  attributes = jnp.array([0, 0, 0, 1, 1, 1, 1, 0, 0, 1])
  groups = group_metrics.group_ids(labels, attributes)
  np.testing.assert_array_equal(groups, [0, 0, 0, 1, 3, 3, 3, 2, 2, 1])
  predictions = jnp.array([0, 0, 1, 1, 1, 1, 1, 0, 1, 0])
  # Group 0: 2/3, group 1: 1/2, group 2: 1/2, group 3: 3/3.
  accuracy = group_metrics.per_group_accuracy(predictions, labels, groups, 4)
  chex.assert_shape(accuracy, (4,))
  chex.assert_type(accuracy, jnp.float32)
  np.testing.assert_allclose(accuracy, [2 / 3, 0.5, 0.5, 1.0], rtol=1e-6)
  assert float(group_metrics.worst_group_accuracy(accuracy)) == 0.5
  weights = jnp.array([0.4, 0.1, 0.1, 0.4])
  assert float(group_metrics.average_accuracy(accuracy, weights)) == (
    pytest.approx(0.4 * 2 / 3 + 0.05 + 0.05 + 0.4, rel=1e-6)
  )
  logits = jax.nn.one_hot(predictions, 2) * 3.0
  report = group_metrics.group_report(logits, labels, groups, 4, weights)
  chex.assert_shape(report["group_acc"], (4,))
  chex.assert_rank([report["wga"], report["avg_acc"], report["mean_acc"]], 0)
  assert float(report["wga"]) == 0.5
  assert float(report["mean_acc"]) == pytest.approx(
    (2 / 3 + 0.5 + 0.5 + 1.0) / 4, rel=1e-6
  )
  np.testing.assert_array_equal(
    group_metrics.group_counts(groups, 4), [3, 2, 2, 3]
  )


def test_empty_groups_are_ignored_and_vmap_works():
  labels = jnp.array([[0, 0, 1], [1, 1, 0]])
  groups = jnp.array([[0, 0, 3], [3, 2, 0]])
  predictions = jnp.array([[0, 1, 1], [1, 1, 1]])
  accuracy = jax.vmap(
    group_metrics.per_group_accuracy, in_axes=(0, 0, 0, None)
  )(predictions, labels, groups, 4)
  chex.assert_shape(accuracy, (2, 4))
  chex.assert_shape(group_metrics.worst_group_accuracy(accuracy), (2,))
  assert np.isnan(accuracy[0, 1]) and np.isnan(accuracy[0, 2])
  np.testing.assert_allclose(accuracy[0, [0, 3]], [0.5, 1.0])
  np.testing.assert_allclose(
    group_metrics.worst_group_accuracy(accuracy), [0.5, 0.0]
  )
  # Weights renormalised over the present groups: (0.5 * .5 + 1 * .3) / .8.
  average = group_metrics.average_accuracy(
    accuracy[0], jnp.array([0.5, 0.1, 0.1, 0.3])
  )
  assert float(average) == pytest.approx((0.25 + 0.3) / 0.8, rel=1e-6)
