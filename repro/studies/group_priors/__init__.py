"""Mind the GAP: Improving Robustness to Subpopulation Shifts with
Group-Aware Priors.

Rudner, Zhang, Wilson, Kempe (AISTATS 2024), arXiv 2403.09869.

Claim: a group-aware prior (a Gaussian around the ERM weights plus a
SAM-perturbed likelihood on a context set that over-represents small
groups) raises worst-group accuracy over ERM and matches last-layer
retraining baselines (DFR), even when only the last layer is retrained.
"""

from repro.studies.group_priors.claims import CLAIMS
from repro.studies.group_priors.config import get_config
from repro.studies.group_priors.experiment import run
from repro.studies.group_priors.plan import plan

TITLE = ("Mind the GAP: Improving Robustness to Subpopulation Shifts with "
         "Group-Aware Priors")
ARXIV = "2403.09869"

__all__ = ["ARXIV", "CLAIMS", "TITLE", "get_config", "plan", "run"]
