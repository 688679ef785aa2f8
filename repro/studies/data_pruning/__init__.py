"""DRoP: Distributionally Robust Data Pruning.

Vysogorets, Ahuja & Kempe, ICLR 2025, arXiv 2404.05579 (v1: "Robust Data
Pruning: Uncovering and Overcoming Implicit Bias"). Claim: score-based
data pruning keeps fewer points of hard classes and hurts worst-class
accuracy; random pruning with class quotas proportional to validation
error (DRoP) improves worst-class accuracy as density falls at a tolerable
average cost, as a mixture-of-Gaussians analysis predicts.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.data_pruning.claims import CLAIMS
from repro.studies.data_pruning.config import check_config, get_config
from repro.studies.data_pruning.experiment import run
from repro.studies.data_pruning.plan import plan

TITLE = "DRoP: Distributionally Robust Data Pruning"
ARXIV = "2404.05579"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_mixture.png",
    "Gaussian mixture: average and worst-class accuracy against "
    "density, one line per method (replicas averaged per seed).",
    x="density",
    series=("avg_acc", "worst_acc"),
    group="method",
    where={"dataset": "mixture"},
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
