"""Turns simulated and predicted errors into the claims' metrics (numpy).

Every function here is a small pure computation on arrays so the metric
definitions can be tested on hand-made inputs.
"""

from __future__ import annotations

import numpy as np


def max_relative_error(measured: np.ndarray, predicted: np.ndarray) -> float:
  """max |measured / predicted - 1| over all entries."""
  return float(
    np.max(np.abs(np.asarray(measured) / np.asarray(predicted) - 1.0))
  )


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
  """Least-squares line y ~ a + b x -> (intercept a, slope b, R^2)."""
  x, y = np.asarray(x, float), np.asarray(y, float)
  slope, intercept = np.polyfit(x, y, 1)
  residual = y - (intercept + slope * x)
  total = np.sum((y - y.mean()) ** 2)
  r_squared = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
  return float(intercept), float(slope), float(r_squared)


def log_log_slope(sizes: np.ndarray, errors: np.ndarray) -> float:
  """Slope of log(error) against log(size) by least squares."""
  return linear_fit(np.log(sizes), np.log(errors))[1]


def best_lambda(lambdas: np.ndarray, errors: np.ndarray) -> np.ndarray:
  """The grid lam minimising the error along the last axis."""
  return np.asarray(lambdas)[np.argmin(errors, axis=-1)]


def min_step_ratio(values: np.ndarray) -> float:
  """min_i values[i + 1] / values[i]: >= 1 iff non-decreasing (values > 0)."""
  values = np.asarray(values, float)
  return float(np.min(values[1:] / values[:-1]))


def mean_and_standard_error(
  samples: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
  """Mean and standard error over the leading (replica) axis."""
  samples = np.asarray(samples)
  count = samples.shape[0]
  spread = (
    samples.std(axis=0, ddof=1) if count > 1 else np.zeros(samples.shape[1:])
  )
  return samples.mean(axis=0), spread / np.sqrt(count)


def scaling_curves(errors: np.ndarray, grid_offset: int = 2) -> dict:
  """Ridgeless / adaptive / fixed / oracle curves from errors [nT, N, L].

  The fixed lam is the grid lam best at the smallest T (per n); the oracle
  takes the best grid lam at every T.
  """
  grid_errors = errors[:, :, grid_offset:]
  fixed_index = np.argmin(grid_errors[0], axis=-1)  # [N]
  fixed = np.take_along_axis(grid_errors, fixed_index[None, :, None], axis=-1)[
    ..., 0
  ]
  return {
    "ridgeless": errors[:, :, 0],
    "adaptive": errors[:, :, 1],
    "fixed": fixed,
    "oracle": grid_errors.min(axis=-1),
    "fixed_index": fixed_index,
  }
