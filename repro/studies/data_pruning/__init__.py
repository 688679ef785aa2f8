"""DRoP: Distributionally Robust Data Pruning.

Vysogorets, Ahuja & Kempe, ICLR 2025, arXiv 2404.05579 (v1: "Robust Data
Pruning: Uncovering and Overcoming Implicit Bias"). Claim: score-based
data pruning keeps fewer points of hard classes and hurts worst-class
accuracy; random pruning with class quotas proportional to validation
error (DRoP) improves worst-class accuracy as density falls at a tolerable
average cost, as a mixture-of-Gaussians analysis predicts.
"""

from repro.studies.data_pruning.claims import CLAIMS
from repro.studies.data_pruning.config import get_config
from repro.studies.data_pruning.experiment import run
from repro.studies.data_pruning.plan import plan

TITLE = "DRoP: Distributionally Robust Data Pruning"
ARXIV = "2404.05579"

__all__ = ["ARXIV", "CLAIMS", "TITLE", "get_config", "plan", "run"]
