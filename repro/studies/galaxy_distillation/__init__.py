"""Discovering Galaxy Features via Dataset Distillation.

Guan, Zhao, Wang, Li, Kempe (NeurIPS 2023 ML4PS workshop), arXiv
2311.17967. Claim: trajectory matching distils a galaxy-morphology dataset
into a few synthetic images per class that train a ConvNet far better than
as many real images, and a self-adaptive variant (STM) replaces MTT's
hand-tuned maximum start epoch with a statistical trend test.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.galaxy_distillation.claims import CLAIMS
from repro.studies.galaxy_distillation.config import check_config, get_config
from repro.studies.galaxy_distillation.experiment import run
from repro.studies.galaxy_distillation.plan import plan

TITLE = "Discovering Galaxy Features via Dataset Distillation"
ARXIV = "2311.17967"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_matching.png",
    "Trajectory-matching loss and learned step size during "
    "distillation (ipc 1).",
    x="step",
    series=("ipc1/mtt_T10/loss", "ipc1/stm/loss", "ipc1/mtt_T10/alpha"),
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
