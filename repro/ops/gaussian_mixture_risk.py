"""Class risks of threshold classifiers on a two-Gaussian mixture.

The DRoP paper's toy analysis (Vysogorets et al., arXiv 2404.05579, v1
Sec. 4 and App. B; the formulas are reconstructed from there):
class 0 ~ N(0, 1) (easy), class 1 ~ N(mu, sigma^2) with sigma > 1 (hard),
priors (1 - phi1, phi1), rules "predict 1 iff x > t".

* R(t) = phi0 P0(x > t) + phi1 P1(x < t); its minimiser (Theorem B.1) is
  the larger root of phi0 N(t; 0, 1) = phi1 N(t; mu, sigma^2) (a quadratic
  in t) or a constant classifier (t = +-inf) when that is better.
* Worst-class optimal prior (B.2): the prior whose risk minimiser equalises
  the two class risks; it upweights the hard class.
* DRoP prior: phi_k proportional to class k's error under balanced priors.
* Pruning (B.3): removing the points within a margin of each class mean
  (SSP, "keep hardest") leaves the densities at the threshold untouched,
  so the ERM threshold stays; random pruning to the same class counts
  rescales the densities and moves it.

Float64 numpy; everything is closed form except 1-D root finding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import special


def _cdf(x):
  return special.ndtr(x)


def class_risks(
  threshold: npt.ArrayLike, mu: float, sigma: float
) -> tuple[np.ndarray | float, np.ndarray | float]:
  """(P0(x > t), P1(x < t)) of the rule "predict 1 iff x > t"."""
  threshold = np.asarray(threshold, np.float64)
  return _cdf(-threshold), _cdf((threshold - mu) / sigma)


def average_risk(
  threshold: npt.ArrayLike, phi1: float, mu: float, sigma: float
) -> np.ndarray | float:
  """R(t) = (1 - phi1) P0(x > t) + phi1 P1(x < t)."""
  risk0, risk1 = class_risks(threshold, mu, sigma)
  return (1.0 - phi1) * risk0 + phi1 * risk1


def density_crossings(phi1: float, mu: float, sigma: float) -> np.ndarray:
  """Real roots t of (1 - phi1) N(t; 0, 1) = phi1 N(t; mu, sigma^2).

  Logs of both sides give a t^2 + b t + c = 0 with a = (1/sigma^2 - 1)/2,
  b = -mu/sigma^2, c = mu^2/(2 sigma^2) + log((1 - phi1) sigma / phi1).
  """
  a = 0.5 * (1.0 / sigma**2 - 1.0)
  b = -mu / sigma**2
  c = mu**2 / (2.0 * sigma**2) + np.log((1.0 - phi1) * sigma / phi1)
  if abs(a) < 1e-12:
    return np.array([-c / b])
  disc = b * b - 4.0 * a * c
  if disc < 0:
    return np.array([])
  root = np.sqrt(disc)
  return np.sort(np.array([(-b - root) / (2 * a), (-b + root) / (2 * a)]))


def erm_threshold(phi1: float, mu: float, sigma: float) -> float:
  """The average-risk minimiser over t in [-inf, inf] (Theorem B.1)."""
  candidates = np.concatenate(
    [density_crossings(phi1, mu, sigma), [-np.inf, np.inf]]
  )
  risks = [average_risk(t, phi1, mu, sigma) for t in candidates]
  return float(candidates[int(np.argmin(risks))])


def erm_class_risks(
  phi1: float, mu: float, sigma: float
) -> tuple[float, float]:
  """Class risks of the ERM threshold under prior ``phi1``."""
  risk0, risk1 = class_risks(erm_threshold(phi1, mu, sigma), mu, sigma)
  return float(risk0), float(risk1)


def worst_class_risk(phi1: float, mu: float, sigma: float) -> float:
  """max_k R_k of the ERM threshold under prior ``phi1``."""
  return max(erm_class_risks(phi1, mu, sigma))


def _bisect(function, low: float, high: float, steps: int = 200) -> float:
  """Root of an increasing function on [low, high] by bisection."""
  for _ in range(steps):
    middle = 0.5 * (low + high)
    if function(middle) < 0:
      low = middle
    else:
      high = middle
  return 0.5 * (low + high)


def equal_risk_threshold(mu: float, sigma: float) -> float:
  """The t with P0(x > t) = P1(x < t): the minimax (worst-class) rule."""
  return _bisect(
    lambda t: np.subtract(*class_risks(t, mu, sigma)[::-1]),
    -10.0,
    mu + 10.0 * sigma,
  )


def optimal_prior(mu: float, sigma: float) -> float:
  """phi1 whose ERM threshold is the equal-risk one (B.2).

  At the equal-risk threshold t_eq the densities must cross:
  phi1 / phi0 = N(t_eq; 0, 1) / N(t_eq; mu, sigma^2).
  """
  t_eq = equal_risk_threshold(mu, sigma)
  log_ratio = -0.5 * t_eq**2 + 0.5 * ((t_eq - mu) / sigma) ** 2 + np.log(sigma)
  return float(1.0 / (1.0 + np.exp(-log_ratio)))


def drop_prior(mu: float, sigma: float) -> float:
  """DRoP prior: phi_k proportional to class k's balanced-ERM error."""
  risk0, risk1 = erm_class_risks(0.5, mu, sigma)
  return risk1 / (risk0 + risk1)


def _mass_above(threshold, mean: float, std: float, margin: float):
  """Mass of N(mean, std^2) in (t, inf) outside (mean - m, mean + m)."""
  above = _cdf((mean - threshold) / std)
  low = np.maximum(threshold, mean - margin)
  removed = np.clip(_cdf(margin / std) - _cdf((low - mean) / std), 0.0, None)
  return above - np.where(margin > 0, removed, 0.0)


def _mass_below(threshold, mean: float, std: float, margin: float):
  """Mass of N(mean, std^2) in (-inf, t) outside (mean - m, mean + m)."""
  below = _cdf((threshold - mean) / std)
  high = np.minimum(threshold, mean + margin)
  removed = np.clip(_cdf((high - mean) / std) - _cdf(-margin / std), 0.0, None)
  return below - np.where(margin > 0, removed, 0.0)


def pruned_erm_threshold(
  weights: Sequence[float],
  margins: Sequence[float],
  mu: float,
  sigma: float,
  grid_size: int = 400_001,
) -> float:
  """ERM threshold of a pruned population, by a dense grid search.

  Class k keeps weight ``weights[k]`` times its density outside the band
  |x - mean_k| < ``margins[k]`` (SSP with margin; 0 = no band removed).
  The risk (errors per unit of original data) is minimised over a grid of
  t in [-4, mu + 4 sigma] (resolution ~1e-4); no use is made of where the
  removed bands lie, so the check of B.3 is a measurement.
  """
  grid = np.linspace(-4.0, mu + 4.0 * sigma, grid_size)
  risk = weights[0] * _mass_above(grid, 0.0, 1.0, margins[0]) + weights[
    1
  ] * _mass_below(grid, mu, sigma, margins[1])
  return float(grid[int(np.argmin(risk))])


def ssp_kept_fractions(margin: float, sigma: float) -> tuple[float, float]:
  """Fraction of each class outside the band |x - mean| < margin."""
  return (float(2.0 * _cdf(-margin)), float(2.0 * _cdf(-margin / sigma)))
