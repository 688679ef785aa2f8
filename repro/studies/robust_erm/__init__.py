"""The Price of Implicit Bias in Adversarially Robust Generalization.

Tsilivis, Frank, Srebro, Kempe (NeurIPS 2024), arXiv 2406.04981.

Claim: in robust ERM the optimiser's implicit bias matters much more than
in standard ERM; under linf perturbations l1-biased methods (coordinate
descent, diagonal networks) generalise robustly better than gradient
descent, and the price of GD's misaligned bias grows with eps.
"""

from repro.studies.robust_erm.claims import CLAIMS
from repro.studies.robust_erm.config import get_config
from repro.studies.robust_erm.experiment import run
from repro.studies.robust_erm.plan import plan

TITLE = "The Price of Implicit Bias in Adversarially Robust Generalization"
ARXIV = "2406.04981"

__all__ = ["ARXIV", "CLAIMS", "TITLE", "get_config", "plan", "run"]
