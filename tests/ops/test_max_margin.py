"""Min-norm robust separators on hand cases with known answers."""

import chex
import numpy as np
import pytest

from repro.core.errors import UserError
from repro.ops import max_margin

# One point x = (2, 1), y = +1. With w >= 0 the robust constraint reads
# (2 - eps) w1 + (1 - eps) w2 >= 1, so for eps < 1:
#   l1:   all weight on the larger coordinate, w = (1/(2 - eps), 0);
#   l2:   w = v / ||v||^2 with v = (2 - eps, 1 - eps);
#   linf: w = (t, t) with t = 1/(3 - 2 eps).
X = np.array([[2.0, 1.0]])
Y = np.array([1.0])


@pytest.mark.parametrize("eps", [0.0, 0.5])
def test_hand_case_l1(eps):
  w = max_margin.l1_max_margin(X, Y, eps)
  chex.assert_shape(w, (2,))
  np.testing.assert_allclose(w, [1 / (2 - eps), 0.0], atol=1e-9)


@pytest.mark.parametrize("eps", [0.0, 0.5])
@pytest.mark.parametrize("method", ["dual", "slsqp"])
def test_hand_case_l2(eps, method):
  v = np.array([2 - eps, 1 - eps])
  w = max_margin.l2_min_norm_robust_separator(X, Y, eps, method=method)
  chex.assert_shape(w, (2,))
  np.testing.assert_allclose(w, v / (v @ v), atol=1e-6)


@pytest.mark.parametrize("eps", [0.0, 0.5])
def test_hand_case_linf(eps):
  t = 1 / (3 - 2 * eps)
  w = max_margin.linf_min_norm_separator(X, Y, eps)
  chex.assert_shape(w, (2,))
  np.testing.assert_allclose(w, [t, t], atol=1e-9)


def _separable(seed=0, n=15, d=8):
  generator = np.random.default_rng(seed)
  teacher = np.zeros(d)
  teacher[:2] = [1.0, -1.0]
  x = generator.standard_normal((n, d))
  y = np.where(x @ teacher > 0, 1.0, -1.0)
  return x + 0.5 * y[:, None] * teacher, y


def test_dual_and_primal_qp_agree_and_are_tight():
  x, y = _separable()
  for eps in (0.0, 0.2):
    dual = max_margin.l2_min_norm_robust_separator(x, y, eps)
    primal = max_margin.l2_min_norm_robust_separator(x, y, eps, method="slsqp")
    np.testing.assert_allclose(dual, primal, atol=1e-5)
    margins = max_margin.robust_margins(dual, x, y, eps)
    chex.assert_shape([dual, primal], (8,))
    chex.assert_shape(margins, (15,))
    assert margins.min() == pytest.approx(1.0, abs=1e-5)
    # Any feasible rescaled random direction is not shorter.
    for direction in np.random.default_rng(1).standard_normal((50, 8)):
      scale = max_margin.robust_margins(direction, x, y, eps).min()
      if scale > 0:
        assert np.linalg.norm(direction / scale) >= np.linalg.norm(dual)


def test_l1_direction_does_not_depend_on_eps():
  x, y = _separable(seed=2)
  w0 = max_margin.l1_max_margin(x, y, 0.0)
  w = max_margin.l1_max_margin(x, y, 0.2)
  chex.assert_shape([w0, w], (8,))
  # Robust margin / ||w||_1 = l1 margin - eps: same maximiser, rescaled.
  np.testing.assert_allclose(w, w0 / (1 - 0.2 * np.abs(w0).sum()), atol=1e-7)
  assert max_margin.robust_margins(w, x, y, 0.2).min() == pytest.approx(1.0)


def test_infeasible_radius_is_a_user_error():
  x = np.array([[1.0, 0.0], [0.5, 0.5]])
  y = np.array([1.0, 1.0])
  # The l1 margin is max_{||w||_1 = 1} min(w1, (w1 + w2)/2) = 0.5.
  with pytest.raises(UserError):
    max_margin.l1_max_margin(x, y, 0.6)
  with pytest.raises(UserError):
    max_margin.linf_min_norm_separator(x, y, 0.6)
  with pytest.raises(UserError):
    max_margin.l2_min_norm_robust_separator(x, y, 0.6)
