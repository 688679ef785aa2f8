"""Claims A1-A7 of the bnn_attacks study (README, Sources).

Every threshold is an estimate chosen before the first run unless
``why_threshold`` says otherwise; the paper's own tables are not
transcribed yet. Accuracies and success rates are fractions (0.10 = 10 points).
"""

from repro.core.claims import Claim

PAPER = "paper, abstract"
SETUP = "set-up check of this study"
ESTIMATE = "Estimate chosen before the run."
DETECTION = f"{PAPER} (adversarial-example detection)"
SHIFT = f"{PAPER} (semantic-shift detection)"


# Set-up checks (accuracy, sampler health, a sound attack), not the paper's
# statements.
_SANITY = ("A1-", "A2-monotone")


def _claim(id_, text, metric, op, threshold, source, why=""):
  kind = "sanity" if id_.startswith(_SANITY) else "paper"
  return Claim(
    id=id_,
    text=text,
    metric=metric,
    op=op,
    threshold=threshold,
    source=source,
    why_threshold=why or ESTIMATE,
    kind=kind,
  )


_A1 = [
  _claim(
    "A1-det",
    "DET (MAP) clean test accuracy >= 95%.",
    "clean_acc/det",
    ">=",
    0.95,
    SETUP,
  ),
  _claim(
    "A1-hmc",
    "HMC (BMA of all draws) clean test accuracy >= 95%.",
    "clean_acc/hmc",
    ">=",
    0.95,
    SETUP,
  ),
  _claim(
    "A1-mcd",
    "MC dropout clean test accuracy >= 94%.",
    "clean_acc/mcd",
    ">=",
    0.94,
    SETUP,
  ),
  _claim(
    "A1-mfvi",
    "MFVI clean test accuracy >= 90%.",
    "clean_acc/mfvi",
    ">=",
    0.90,
    SETUP,
  ),
  _claim(
    "A1-accept-low",
    "HMC acceptance rate >= 0.5 in every chain.",
    "hmc/acceptance_min",
    ">=",
    0.5,
    SETUP,
  ),
  _claim(
    "A1-accept-high",
    "HMC acceptance rate <= 0.95 in every chain (not a vanishing step).",
    "hmc/acceptance_max",
    "<=",
    0.95,
    SETUP,
  ),
  _claim(
    "A1-rhat",
    "HMC split R-hat of the per-draw test "
    "log-likelihood < 1.1 (chains from different MAP modes agree "
    "in function space).",
    "hmc/rhat_test_loglik",
    "<",
    1.1,
    f"{SETUP}: the chains must sample the full-data posterior",
  ),
]

_A2 = [
  _claim(
    f"A2-{method}",
    f"Label attack on the {name} BMA: robust accuracy <= 10% at eps = 0.2.",
    f"robust_acc/{method}/eps0.20",
    "<=",
    0.10,
    f"{PAPER} ('highly susceptible')",
  )
  for method, name in (
    ("hmc", "HMC"),
    ("mfvi", "MFVI (EOT)"),
    ("mcd", "MC dropout (EOT)"),
  )
] + [
  _claim(
    "A2-eps0.3",
    "Every BNN's robust accuracy <= 2% at eps = 0.3.",
    "robust_acc/bnn_max/eps0.30",
    "<=",
    0.02,
    f"{PAPER} ('highly susceptible')",
  ),
  _claim(
    "A2-monotone",
    "Robust accuracy never increases with eps "
    "(any method, consecutive eps of the grid).",
    "robust_acc/max_increase_in_eps",
    "<=",
    0.0,
    f"{SETUP}: a sound attack",
    "Estimate chosen before the run: any increase means a "
    "weaker attack at a larger budget, i.e. a broken attack.",
  ),
  _claim(
    "A2-vs-det",
    "BNNs are not more robust than DET: "
    "max |BNN - DET| robust accuracy <= 15 points at eps = 0.1.",
    "robust_acc/max_abs_bnn_minus_det/eps0.10",
    "<=",
    0.15,
    f"{PAPER} (refutes Carbone et al. 2020)",
  ),
]

_A3 = [
  _claim(
    "A3",
    "More posterior samples buy no robustness: HMC robust "
    "accuracy at eps = 0.1 with the most draws is at most 10 points "
    "above that of one draw (same draws attacked and evaluated).",
    "a3/robust_acc_most_minus_one_sample",
    "<=",
    0.10,
    f"{PAPER} (HMC included)",
  ),
]

_A4 = [
  _claim(
    f"A4-{variant}",
    f"Naive evaluation manufactures robustness: "
    f"attacking {what} and evaluating the proper BMA leaves >= 10 "
    "points more accuracy than the proper attack (eps = 0.1).",
    f"a4/{variant}/minus_proper",
    ">=",
    0.10,
    f"{PAPER} ('conceptual and experimental errors'); the "
    "errors of Carbone et al.'s public code",
  )
  for variant, what in (
    ("hmc_one_sample", "one HMC draw"),
    ("mfvi_mean_weights", "the MFVI mean weights"),
    ("mcd_one_mask", "MC dropout with one fixed mask"),
  )
]

_A5 = (
  [
    _claim(
      f"A5-nonadaptive-{method}",
      f"{name}: predictive entropy "
      "detects first-flip (non-adaptive) adversarial examples, AUROC "
      ">= 0.80 at eps = 0.2.",
      f"a5/{method}/nonadaptive/auroc_entropy",
      ">=",
      0.80,
      "Feinman et al. 2017: uncertainty detects non-adaptive attacks",
    )
    for method, name in (("hmc", "HMC"), ("mcd", "MC dropout"))
  ]
  + [
    _claim(
      f"A5-adaptive-success-{method}",
      f"{name}: the adaptive "
      "confidently-wrong attack (eps = 0.2) succeeds on >= 90% of "
      "inputs.",
      f"a5/{method}/adaptive/success",
      ">=",
      0.90,
      DETECTION,
    )
    for method, name in (("hmc", "HMC"), ("mcd", "MC dropout"))
  ]
  + [
    _claim(
      f"A5-adaptive-auroc-{method}",
      f"{name}: under the adaptive "
      "attack predictive-entropy detection collapses, AUROC <= 0.30.",
      f"a5/{method}/adaptive/auroc_entropy",
      "<=",
      0.30,
      f"{DETECTION}; adaptive attacks as in Carlini & Wagner 2017",
    )
    for method, name in (("hmc", "HMC"), ("mcd", "MC dropout"))
  ]
)

_A6 = [
  _claim(
    "A6-clean",
    "HMC predictive entropy separates held-out digit "
    "classes (OOD) from ID digits: AUROC >= 0.80.",
    "a6/clean/auroc_entropy",
    ">=",
    0.80,
    f"{SETUP}: detection works without an attack",
  ),
  _claim(
    "A6-ood-attacked",
    "OOD inputs attacked to minimise H[p_bar] (eps = 0.1): AUROC <= 0.35.",
    "a6/ood_attacked/auroc_entropy",
    "<=",
    0.35,
    SHIFT,
  ),
  _claim(
    "A6-both-attacked",
    "ID inputs attacked to maximise and OOD to "
    "minimise H[p_bar] (eps = 0.1): AUROC <= 0.15.",
    "a6/both_attacked/auroc_entropy",
    "<=",
    0.15,
    SHIFT,
  ),
]

_A7 = [
  _claim(
    f"A7-{method}",
    f"{name} adversarial examples from EOT "
    "(fresh draws per step) keep >= 90% of their success rate on "
    "independent evaluation draws (eps = 0.1).",
    f"a7/{method}/success_ratio",
    ">=",
    0.90,
    f"{SETUP}: EOT attacks transfer to fresh draws",
  )
  for method, name in (("mfvi", "MFVI"), ("mcd", "MC dropout"))
]

CLAIMS = _A1 + _A2 + _A3 + _A4 + _A5 + _A6 + _A7
