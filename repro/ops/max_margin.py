"""Robust max-margin separators of linear classifiers, solved with scipy.

Steepest descent w.r.t. ||.||_r on the (robust) exponential loss converges in
direction to the minimum-||.||_r solution that robustly classifies the
training points (Tsilivis et al. 2024, arXiv 2406.04981, Section 3; Gunasekar
et al. 2018 for eps = 0):

  w_r = argmin_w ||w||_r  s.t.  y_i <w, x_i> - eps ||w||_1 >= 1  for all i.

This module solves that program for linf perturbations (dual norm l1) and
r in {1, 2, inf}; the solutions are the references that coordinate descent
(r = 1), gradient descent (r = 2) and sign descent (r = inf) approach.
All functions take and return float64 numpy arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.optimize

from repro.core.errors import UserError


def _as_problem(x, y) -> np.ndarray:
  """The rows z_i = y_i x_i, so constraints read z_i . w - eps ||w||_1."""
  x = np.asarray(x, np.float64)
  y = np.asarray(y, np.float64)
  if x.ndim != 2 or y.shape != (x.shape[0],):
    raise ValueError(f"need x [n, d] and y [n], got {x.shape}, {y.shape}")
  return y[:, None] * x


def robust_margins(
  w: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike, eps: float
) -> np.ndarray:
  """y_i <w, x_i> - eps ||w||_1 for every i (numpy)."""
  return _as_problem(x, y) @ np.asarray(w) - eps * np.abs(w).sum()


def _split_constraints(z: np.ndarray, eps: float):
  """A_ub, b_ub of -(z (w+ - w-) - eps 1'(w+ + w-)) <= -1 for (w+, w-)."""
  return np.hstack([-(z - eps), z + eps]), -np.ones(z.shape[0])


def _check_lp(result, what: str) -> None:
  if result.status == 2:
    raise UserError(
      f"{what}: no separator with the required robust margin "
      "exists (eps above the data's linf-robust margin)"
    )
  if result.status != 0:
    raise RuntimeError(f"{what}: linprog failed: {result.message}")


def l1_max_margin(
  x: npt.ArrayLike, y: npt.ArrayLike, eps: float = 0.0
) -> np.ndarray:
  """argmin ||w||_1 s.t. y_i <w, x_i> - eps ||w||_1 >= 1 (an LP).

  Written with w = w+ - w-, w+- >= 0 and ||w||_1 replaced by 1'(w+ + w-):
  lowering w+_j and w-_j together keeps w, lowers the objective and loosens
  every constraint, so an optimum has w+_j w-_j = 0 and the two agree. The
  direction is the l1 max-margin one for every feasible eps, because the
  robust margin divided by ||w||_1 is the l1 margin minus eps.

  Raises:
    UserError: if no such w exists.
  """
  z = _as_problem(x, y)
  dim = z.shape[1]
  a_ub, b_ub = _split_constraints(z, eps)
  result = scipy.optimize.linprog(
    np.ones(2 * dim), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs"
  )
  _check_lp(result, "l1_max_margin")
  return result.x[:dim] - result.x[dim:]


def linf_min_norm_separator(
  x: npt.ArrayLike, y: npt.ArrayLike, eps: float = 0.0
) -> np.ndarray:
  """argmin ||w||_inf s.t. y_i <w, x_i> - eps ||w||_1 >= 1 (an LP).

  Variables (w+, w-, t) with w+_j + w-_j <= t. The minimiser is often not
  unique (a face of the l_inf ball); HiGHS returns a vertex.

  Raises:
    UserError: if no such w exists.
  """
  z = _as_problem(x, y)
  num_points, dim = z.shape
  a_margin, b_margin = _split_constraints(z, eps)
  a_margin = np.hstack([a_margin, np.zeros((num_points, 1))])
  a_box = np.hstack([np.eye(dim), np.eye(dim), -np.ones((dim, 1))])
  cost = np.zeros(2 * dim + 1)
  cost[-1] = 1.0
  result = scipy.optimize.linprog(
    cost,
    A_ub=np.vstack([a_margin, a_box]),
    b_ub=np.concatenate([b_margin, np.zeros(dim)]),
    bounds=(0, None),
    method="highs",
  )
  _check_lp(result, "linf_min_norm_separator")
  return result.x[:dim] - result.x[dim : 2 * dim]


def _soft_threshold(v: np.ndarray, threshold: float) -> np.ndarray:
  return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


def l2_min_norm_robust_separator(
  x: npt.ArrayLike,
  y: npt.ArrayLike,
  eps: float = 0.0,
  *,
  method: str = "dual",
  tol: float = 1e-12,
) -> np.ndarray:
  """argmin ||w||_2 s.t. y_i <w, x_i> - eps ||w||_1 >= 1.

  ``method="dual"`` (default) maximises the concave, differentiable dual
  over alpha >= 0 with L-BFGS-B. With z_i = y_i x_i and A = sum_i alpha_i,
  minimising the Lagrangian over w gives w = S_{eps A}(Z' alpha)
  (soft-thresholding), so the dual is

    g(alpha) = A - ||S_{eps A}(Z' alpha)||^2 / 2,
    dg/dalpha_i = 1 - (z_i . w - eps ||w||_1),

  i.e. its gradient is one minus the robust margins of w(alpha).
  ``method="slsqp"`` solves the primal QP in (w+, w-) >= 0 with SLSQP; it is
  slower (O(d^3) per iteration) and kept as an independent check.

  Raises:
    UserError: if the primal is infeasible (the dual is then unbounded).
  """
  z = _as_problem(x, y)
  if method == "dual":
    w = _l2_separator_dual(z, eps, tol)
  elif method == "slsqp":
    w = _l2_separator_slsqp(z, eps, tol)
  else:
    raise ValueError(f"unknown method {method!r}; use 'dual' or 'slsqp'")
  margins = z @ w - eps * np.abs(w).sum()
  if not np.all(np.isfinite(w)) or margins.min() <= 0:
    raise UserError(
      "l2_min_norm_robust_separator: no separator with a "
      "positive robust margin found (eps infeasible?)"
    )
  return w


def _l2_separator_dual(z: np.ndarray, eps: float, tol: float) -> np.ndarray:
  num_points = z.shape[0]

  def negative_dual(alpha):
    total = alpha.sum()
    w = _soft_threshold(z.T @ alpha, eps * total)
    margins = z @ w - eps * np.abs(w).sum()
    return -(total - 0.5 * w @ w), -(1.0 - margins)

  # A feasible start scale: alpha uniform, small.
  alpha0 = np.full(num_points, 1.0 / num_points)
  result = scipy.optimize.minimize(
    negative_dual,
    alpha0,
    jac=True,
    method="L-BFGS-B",
    bounds=[(0.0, None)] * num_points,
    options={
      "maxiter": 20000,
      "maxfun": 40000,
      "ftol": tol * 1e-3,
      "gtol": tol,
      "maxcor": 30,
    },
  )
  alpha = result.x
  w = _soft_threshold(z.T @ alpha, eps * alpha.sum())
  if -result.fun > 1e12:
    raise UserError(
      "l2_min_norm_robust_separator: the dual is unbounded, "
      "no robust separator exists at this eps"
    )
  return w


def _l2_separator_slsqp(z: np.ndarray, eps: float, tol: float) -> np.ndarray:
  dim = z.shape[1]
  a_ub, _ = _split_constraints(z, eps)
  a_ge = -a_ub  # a_ge @ (w+, w-) - 1 >= 0

  def objective(v):
    w = v[:dim] - v[dim:]
    return 0.5 * w @ w, np.concatenate([w, -w])

  start = np.concatenate([np.maximum(z.mean(0), 0), np.maximum(-z.mean(0), 0)])
  scale = np.abs(a_ge @ start).min() if np.any(a_ge @ start > 0) else 1.0
  start = start / max(scale, 1e-12) * 2.0
  result = scipy.optimize.minimize(
    objective,
    start,
    jac=True,
    method="SLSQP",
    bounds=[(0.0, None)] * (2 * dim),
    constraints=[
      {"type": "ineq", "fun": lambda v: a_ge @ v - 1.0, "jac": lambda v: a_ge}
    ],
    options={"maxiter": 2000, "ftol": tol},
  )
  return result.x[:dim] - result.x[dim:]
