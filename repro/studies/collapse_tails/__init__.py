"""A Tale of Tails: Model Collapse as a Change of Scaling Laws.

Dohmatob, Feng, Yang, Charton, Kempe (ICML 2024), arXiv 2402.07043. Claim:
AI-generated data cuts or narrows the heavy tail of Zipfian data, which
changes the scaling law: the error plateaus at the cut mass, scales more
slowly under narrowing, grows over generations, and recovers after a
grokking-like plateau when clean data is mixed in.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.collapse_tails.claims import CLAIMS
from repro.studies.collapse_tails.config import check_config, get_config
from repro.studies.collapse_tails.experiment import run
from repro.studies.collapse_tails.plan import plan

TITLE = "A Tale of Tails: Model Collapse as a Change of Scaling Laws"
ARXIV = "2402.07043"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_scaling.png",
    "Test error against T: clean data, cut tails and narrowed "
    "tails, one line per Zipf exponent.",
    x="T",
    series=("error",),
    group="beta",
    where={"experiment": "cut"},
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
