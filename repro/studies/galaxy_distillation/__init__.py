"""Discovering Galaxy Features via Dataset Distillation.

Guan, Zhao, Wang, Li, Kempe (NeurIPS 2023 ML4PS workshop), arXiv
2311.17967. Claim: trajectory matching distils a galaxy-morphology dataset
into a few synthetic images per class that train a ConvNet far better than
as many real images, and a self-adaptive variant (STM) replaces MTT's
hand-tuned maximum start epoch with a statistical trend test.
"""

from repro.studies.galaxy_distillation.claims import CLAIMS
from repro.studies.galaxy_distillation.config import get_config
from repro.studies.galaxy_distillation.experiment import run
from repro.studies.galaxy_distillation.plan import plan

TITLE = "Discovering Galaxy Features via Dataset Distillation"
ARXIV = "2311.17967"

__all__ = ["ARXIV", "CLAIMS", "TITLE", "get_config", "plan", "run"]
