"""Mind the GAP: Improving Robustness to Subpopulation Shifts with
Group-Aware Priors.

Rudner, Zhang, Wilson, Kempe (AISTATS 2024), arXiv 2403.09869.

Claim: a group-aware prior (a Gaussian around the ERM weights plus a
SAM-perturbed likelihood on a context set that over-represents small
groups) raises worst-group accuracy over ERM and matches last-layer
retraining baselines (DFR), even when only the last layer is retrained.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.group_priors.claims import CLAIMS
from repro.studies.group_priors.config import check_config, get_config
from repro.studies.group_priors.experiment import run
from repro.studies.group_priors.plan import plan

TITLE = (
  "Mind the GAP: Improving Robustness to Subpopulation Shifts with "
  "Group-Aware Priors"
)
ARXIV = "2403.09869"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_training.png",
    "ERM training loss and GAP's last-layer loss.",
    x="step",
    series=(
      "gaussian/erm/train_loss",
      "gaussian/gap_ll/loss",
      "dominoes/erm/train_loss",
      "dominoes/gap_ll/loss",
    ),
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
