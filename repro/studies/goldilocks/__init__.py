"""Deconstructing the Goldilocks Zone of Neural Network Initialization.

Vysogorets, Dawid & Kempe, ICML 2024, arXiv 2402.03579. Claim: for
homogeneous (bias-free ReLU) networks the excess of positive curvature of
the loss Hessian at initialisation (large Tr(H)/||H||_F) appears only in a
band of initialisation scales, because scaling the weights acts as a softmax
temperature: it vanishes by softmax saturation at large scales and by
vanishing logit gradients at small ones; GD from outside the zone can
still train.
"""

from repro.studies.goldilocks.claims import CLAIMS
from repro.studies.goldilocks.config import get_config
from repro.studies.goldilocks.experiment import run
from repro.studies.goldilocks.plan import plan

TITLE = "Deconstructing the Goldilocks Zone of Neural Network Initialization"
ARXIV = "2402.03579"

__all__ = ["ARXIV", "CLAIMS", "TITLE", "get_config", "plan", "run"]
