"""Iteration Head: A Mechanistic Study of Chain-of-Thought (arXiv 2406.02128).

Claim: small transformers learn iterative tasks (polynomial iteration,
parity) with chain-of-thought but not without, through a two-layer circuit
whose second-layer "iteration head" attends from output step t to input x_t;
the head emerges with the accuracy jump and transfers between tasks.
"""

from repro.studies.iteration_heads.claims import CLAIMS
from repro.studies.iteration_heads.config import get_config
from repro.studies.iteration_heads.experiment import run
from repro.studies.iteration_heads.plan import plan

TITLE = "Iteration Head: A Mechanistic Study of Chain-of-Thought"
ARXIV = "2406.02128"

__all__ = ["ARXIV", "CLAIMS", "TITLE", "get_config", "plan", "run"]
