"""Runs the study: simulations, closed forms, metrics, figures.

Five parts (README, What is reproduced): (i) isotropic and (ii) power-law
Gaussian regression over generations and ridge parameters, (iii) the
scaling law over T with near-zero, adaptive, fixed and oracle ridge
parameters, (iv) the over-parameterised noise-free chain, (v) kernel ridge
regression on images.
Simulations and closed forms run in float64.
"""

from __future__ import annotations

from repro.core.summary import Summary
from repro.studies.collapse_regression import figures, parts
from repro.studies.collapse_regression.config import check_config

NOTES = """\
Simulation follows the paper's model (Section 3): a fresh Gaussian design
every generation, minimum-norm least squares for the generator, ridge
(lam against X^T X / T) downstream, and the exact Sigma-norm test error
against the true w0. Theory is the deterministic equivalent through the
effective regularisation kappa (ridge), the exact finite-size OLS formula,
and the exact over-parameterised formula; see the study README for the
derivations and the deviations from the paper (digits instead of MNIST for
the kernel part; claims on the deterministic equivalents derived for this
study rather than the paper's own theorem statements). The check of
the adaptive lam against the best grid lam (A7c) sits at the Monte Carlo
noise level: the theory's own ratio is `theory/adaptive_over_oracle_max`
against the threshold 1.25.
"""


def run(config, workdir: str, checkpoints=None) -> Summary:
  """Runs the five parts and returns metrics, curves and figures.

  The parts are batches of closed-form draws (seconds each, no long loop),
  so there is nothing to resume: ``checkpoints`` is unused.
  """
  check_config(config)
  del checkpoints
  with parts.numerics():
    gaussian = {
      kind: parts.gaussian_part(config, kind) for kind in parts.SPECTRA
    }
    scaling = parts.scaling_part(config)
    overparam = parts.overparam_part(config)
    kernel = parts.kernel_part(config)
  metrics = {}
  metrics.update(parts.gaussian_metrics(gaussian, config.gaussian))
  metrics.update(parts.scaling_metrics(scaling))
  metrics.update(parts.overparam_metrics(overparam))
  metrics.update(parts.kernel_metrics(kernel))
  metrics = {name: float(value) for name, value in metrics.items()}
  written = figures.write_all(
    workdir, gaussian, scaling, overparam, kernel, config
  )
  curves = parts.summary_curves(gaussian, scaling, overparam, kernel)
  return Summary(metrics=metrics, curves=curves, figures=written, notes=NOTES)
