"""Attacking Bayes: On the Adversarial Robustness of Bayesian Neural Networks.

Feng, Rudner, Tsilivis, Kempe (TMLR 2024), arXiv 2404.19640. Claim: BNNs,
from approximate inference and from full-batch HMC, are not inherently
robust: simple PGD on the posterior predictive breaks label prediction,
adversarial-example detection and semantic-shift detection, and earlier
robustness claims came from attacking or evaluating the wrong object.
"""

from repro.core.seed_curves import CurveSpec
from repro.studies.bnn_attacks.claims import CLAIMS
from repro.studies.bnn_attacks.config import check_config, get_config
from repro.studies.bnn_attacks.experiment import run
from repro.studies.bnn_attacks.plan import plan

TITLE = (
  "Attacking Bayes: On the Adversarial Robustness of Bayesian Neural Networks"
)
ARXIV = "2404.19640"

# Curves drawn over root seeds (mean and min-max band) in the multi-seed
# report.
SEED_CURVES = (
  CurveSpec(
    "seed_curves_training.png",
    "Training objectives and the HMC chain's test log-likelihood.",
    x="step",
    series=(
      "det/loss",
      "mcd/loss",
      "mfvi/neg_elbo",
      "hmc/test_loglik_chain_mean",
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
