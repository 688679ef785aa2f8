"""On the Robustness of Neural Collapse and the Neural Collapse of Robustness.

Su, Zhang, Tsilivis, Kempe (TMLR 2024), arXiv 2311.07444. Claim: standard
training collapses clean features to a simplex that small adversarial
perturbations destroy (perturbed points leap between vertices), while
PGD adversarial training yields collapsed, aligned clean and perturbed
simplices and TRADES does not collapse the same way.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.neural_collapse.claims import CLAIMS
from repro.studies.neural_collapse.config import check_config, get_config
from repro.studies.neural_collapse.experiment import run
from repro.studies.neural_collapse.plan import plan

TITLE = (
  "On the Robustness of Neural Collapse and the Neural Collapse of Robustness"
)
ARXIV = "2311.07444"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_nc.png",
    "Clean and PGD NC1 and accuracies over training, one line per "
    "training mode.",
    x="epoch",
    series=("nc1", "pgd_nc1", "accuracy", "pgd_accuracy"),
    group="mode",
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
