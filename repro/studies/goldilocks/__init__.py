"""Deconstructing the Goldilocks Zone of Neural Network Initialization.

Vysogorets, Dawid & Kempe, ICML 2024, arXiv 2402.03579. Claim: for
homogeneous (bias-free ReLU) networks the excess of positive curvature of
the loss Hessian at initialisation (large Tr(H)/||H||_F) appears only in a
band of initialisation scales, because scaling the weights acts as a softmax
temperature: it vanishes by softmax saturation at large scales and by
vanishing logit gradients at small ones; GD from outside the zone can
still train.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.goldilocks.claims import CLAIMS
from repro.studies.goldilocks.config import check_config, get_config
from repro.studies.goldilocks.experiment import run
from repro.studies.goldilocks.plan import plan

TITLE = "Deconstructing the Goldilocks Zone of Neural Network Initialization"
ARXIV = "2402.03579"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_sweep.png",
    "Curvature, normalised entropy and accuracy against the "
    "initialisation scale.",
    x="log10_alpha",
    series=("sweep/curvature", "sweep/normalized_entropy", "sweep/accuracy"),
    where={"phase": "curvature_sweep"},
  ),
)

__all__ = [
  "ARXIV",
  "CLAIMS",
  "SEED_CURVES",
  "TITLE",
  "check_config",
  "get_config",
  "plan",
  "run",
]
