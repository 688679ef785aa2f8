"""AUROC with ties and the ROC curve of a score separating two groups.

Convention (as in the paper's detection experiments): the *positive* group
(adversarial or out-of-distribution inputs) should get the *higher*
score (uncertainty). AUROC = P(s_pos > s_neg) + P(s_pos = s_neg) / 2, the
Mann-Whitney U statistic over m n, computed from mid-ranks in
O((m + n) log(m + n)). A value below 0.5 means the detector ranks the
attacked inputs as *more* certain than clean ones; it is reported as is,
never flipped.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpy.typing as npt


def auroc(
  negative_scores: npt.ArrayLike, positive_scores: npt.ArrayLike
) -> jnp.ndarray:
  """P(pos > neg) + 0.5 P(pos = neg) over all pairs; ties get half credit."""
  negative_scores = jnp.ravel(jnp.asarray(negative_scores))
  positive_scores = jnp.ravel(jnp.asarray(positive_scores))
  num_neg, num_pos = negative_scores.size, positive_scores.size
  pooled = jnp.sort(jnp.concatenate([negative_scores, positive_scores]))
  # Mid-rank (1-based) of each positive score among all scores.
  below = jnp.searchsorted(pooled, positive_scores, side="left")
  at_or_below = jnp.searchsorted(pooled, positive_scores, side="right")
  mid_ranks = 0.5 * (below + 1 + at_or_below)
  rank_sum = jnp.sum(mid_ranks)
  return (rank_sum - num_pos * (num_pos + 1) / 2) / (num_pos * num_neg)


def roc_curve(
  negative_scores: npt.ArrayLike, positive_scores: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
  """False and true positive rates ``(fpr, tpr)`` over all thresholds.

  Thresholds run over the distinct scores from high to low; tied scores
  move both rates at once, so the trapezoid area under the returned curve
  equals ``auroc``. Both arrays start at 0 and end at 1 (numpy).
  """
  negative_scores = np.ravel(np.asarray(negative_scores, np.float64))
  positive_scores = np.ravel(np.asarray(positive_scores, np.float64))
  thresholds = np.unique(np.concatenate([negative_scores, positive_scores]))[
    ::-1
  ]

  def rate_at_or_above(scores):
    ordered = np.sort(scores)
    return (
      scores.size - np.searchsorted(ordered, thresholds, "left")
    ) / scores.size

  return (
    np.concatenate([[0.0], rate_at_or_above(negative_scores)]),
    np.concatenate([[0.0], rate_at_or_above(positive_scores)]),
  )
