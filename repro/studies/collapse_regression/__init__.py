"""Model Collapse Demystified: The Case of Regression.

Dohmatob, Feng, Kempe (NeurIPS 2024), arXiv 2402.07712. Claim: when each
model is trained on data labelled by the previous one, the test error of
ridge regression grows linearly in the number of generations (exactly, in
closed form), collapses exponentially fast for over-parameterised
generators, turns fast scaling laws into slow ones, and is mitigated by a
regularisation that grows with the generations.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.collapse_regression.claims import CLAIMS
from repro.studies.collapse_regression.config import check_config, get_config
from repro.studies.collapse_regression.experiment import run
from repro.studies.collapse_regression.plan import plan

TITLE = "Model Collapse Demystified: The Case of Regression"
ARXIV = "2402.07712"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_error.png",
    "Test error over generations of fake data (isotropic and "
    "power-law covariance), Monte Carlo against theory.",
    x="generation",
    series=("mc_error", "theory_error"),
    group="lambda",
    where={"part": "isotropic"},
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
