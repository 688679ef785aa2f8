"""On the Robustness of Neural Collapse and the Neural Collapse of Robustness.

Su, Zhang, Tsilivis, Kempe (TMLR 2024), arXiv 2311.07444. Claim: standard
training collapses clean features to a simplex that small adversarial
perturbations destroy (perturbed points leap between vertices), while
PGD adversarial training yields collapsed, aligned clean and perturbed
simplices and TRADES does not collapse the same way.
"""

from repro.studies.neural_collapse.claims import CLAIMS
from repro.studies.neural_collapse.config import get_config
from repro.studies.neural_collapse.experiment import run
from repro.studies.neural_collapse.plan import plan

TITLE = ("On the Robustness of Neural Collapse and the Neural Collapse of "
         "Robustness")
ARXIV = "2311.07444"

__all__ = ["ARXIV", "CLAIMS", "TITLE", "get_config", "plan", "run"]
