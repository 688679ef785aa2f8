"""DFR: balanced subsamples, the folded standardised head, C selection."""

import chex
import numpy as np
from sklearn.linear_model import LogisticRegression

from repro.ops import dfr


def test_balanced_subsample_cuts_every_group_to_the_smallest():
  groups = np.repeat(np.arange(4), [50, 7, 12, 30])
  keep = dfr.balanced_subsample(np.random.default_rng(0), groups, 4)
  chex.assert_shape(keep, (28,))
  chex.assert_type(keep, int)
  np.testing.assert_array_equal(np.bincount(groups[keep]), [7, 7, 7, 7])
  assert len(np.unique(keep)) == len(keep)
  # The smallest group is kept whole.
  np.testing.assert_array_equal(
    keep[groups[keep] == 1], np.flatnonzero(groups == 1)
  )


def _spurious_data(rng, counts):
  groups = np.repeat(np.arange(4), counts)
  labels, attributes = groups // 2, groups % 2
  core = (2 * labels - 1)[:, None] * 1.5 + rng.standard_normal((len(groups), 2))
  spurious = (2 * attributes - 1)[:, None] * 3.0 + 0.3 * rng.standard_normal(
    (len(groups), 2)
  )
  return np.concatenate([core, spurious], 1) + 5.0, labels, groups


def test_one_retrain_equals_sklearn_on_standardised_features():
  rng = np.random.default_rng(0)
  x, y, g = _spurious_data(rng, (20, 20, 20, 20))
  head = dfr.fit_dfr_head(x, y, g, 4, 2, 0.3, 1, np.random.default_rng(1))
  chex.assert_shape(head.weights, (4, 2))
  chex.assert_shape(head.bias, (2,))
  chex.assert_type([head.weights, head.bias], np.float32)
  scaled = (x - x.mean(0)) / x.std(0)
  model = LogisticRegression(
    l1_ratio=1.0, C=0.3, solver="liblinear", random_state=0
  ).fit(scaled, y)
  logits = x @ head.weights + head.bias
  np.testing.assert_allclose(
    logits[:, 1] - logits[:, 0],
    model.decision_function(scaled),
    rtol=1e-5,
    atol=1e-5,
  )


def test_dfr_fixes_the_minority_groups():
  rng = np.random.default_rng(0)
  fit = _spurious_data(rng, (200, 15, 15, 200))
  select = _spurious_data(rng, (200, 15, 15, 200))
  test = _spurious_data(rng, (500, 500, 500, 500))
  head, inverse_reg, select_wga = dfr.select_dfr_head(
    fit, select, 4, 2, 10, seed=0
  )
  assert inverse_reg in dfr.DFR_C_GRID and select_wga > 0.7
  accuracy = dfr.head_group_accuracy(head, *test, 4)
  chex.assert_shape(accuracy, (4,))
  # A plain logistic regression on the skewed fit set leans on the
  # spurious feature; the balanced one does not.
  plain = LogisticRegression().fit(fit[0], fit[1])
  correct = plain.predict(test[0]) == test[1]
  plain_wga = min(correct[test[2] == k].mean() for k in range(4))
  assert accuracy.min() > 0.75 and accuracy.min() > plain_wga + 0.1
