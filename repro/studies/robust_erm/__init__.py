"""The Price of Implicit Bias in Adversarially Robust Generalization.

Tsilivis, Frank, Srebro, Kempe (NeurIPS 2024), arXiv 2406.04981.

Claim: in robust ERM the optimiser's implicit bias matters much more than
in standard ERM; under linf perturbations l1-biased methods (coordinate
descent, diagonal networks) generalise robustly better than gradient
descent, and the price of GD's misaligned bias grows with eps.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.robust_erm.claims import CLAIMS
from repro.studies.robust_erm.config import check_config, get_config
from repro.studies.robust_erm.experiment import run
from repro.studies.robust_erm.plan import plan

TITLE = "The Price of Implicit Bias in Adversarially Robust Generalization"
ARXIV = "2406.04981"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_training.png",
    "Linear models: robust test accuracy per algorithm; networks: "
    "robust training loss.",
    x="step",
    series=(
      "linear/gd/robust_test_acc/eps0.50",
      "linear/sd/robust_test_acc/eps0.50",
      "nn/gd/loss/eps0.10",
      "nn/sd/loss/eps0.10",
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
