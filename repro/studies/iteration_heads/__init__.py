"""Iteration Head: A Mechanistic Study of Chain-of-Thought (arXiv 2406.02128).

Claim: small transformers learn iterative tasks (polynomial iteration,
parity) with chain-of-thought but not without, through a two-layer circuit
whose second-layer "iteration head" attends from output step t to input x_t;
the head emerges with the accuracy jump and transfers between tasks.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.iteration_heads.claims import CLAIMS
from repro.studies.iteration_heads.config import check_config, get_config
from repro.studies.iteration_heads.experiment import run
from repro.studies.iteration_heads.plan import plan

TITLE = "Iteration Head: A Mechanistic Study of Chain-of-Thought"
ARXIV = "2406.02128"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_training.png",
    "Test accuracy and iteration-head attention peak during "
    "training, one line per run.",
    x="step",
    series=("test_acc", "iter_peak"),
    group="run",
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
