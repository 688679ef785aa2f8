"""Claims B0-B6 of the group_priors study (README, Sources).

All numbers are seed means on the group-balanced test set of the first
dataset of ``config.datasets`` (the synthetic Gaussian data at ``cpu``);
accuracies are fractions, "pts" are 0.01. Hyperparameters of every method
are chosen by worst-group accuracy (WGA) on the held-out ``select`` half of
the annotated set, never on test data. Thresholds are estimates chosen
before the first run, kept as written. B7 (SAM, sign unknown) is reported
as the metric ``gap_ll/wga_rho0.15_minus_rho0`` without a claim.
"""

from repro.core.claims import Claim

SETUP = "setup check of this study (README, Sources)"
ESTIMATE = "Estimate chosen before the run."

CLAIMS = [
  Claim(
    id="B0-avg",
    text="Setup validity: ERM's average test accuracy (weighted by the "
    "training group proportions) is high, >= 90%.",
    metric="erm/avg_acc",
    op=">=",
    threshold=0.90,
    source=SETUP,
    why_threshold=ESTIMATE,
    kind="sanity",
  ),
  Claim(
    id="B0-wga",
    text="Setup validity: ERM's worst-group test accuracy is low, "
    "<= 60% (a real spurious-correlation failure).",
    metric="erm/wga",
    op="<=",
    threshold=0.60,
    source=SETUP,
    why_threshold=ESTIMATE,
    kind="sanity",
  ),
  Claim(
    id="B0-probe",
    text="DFR premise: a linear probe on the frozen ERM features, "
    "trained on a group-balanced held-out set, reaches WGA >= 75%.",
    metric="probe/wga",
    op=">=",
    threshold=0.75,
    source=f"{SETUP}; the premise of Kirichenko et al. (DFR)",
    why_threshold=ESTIMATE,
    kind="sanity",
  ),
  Claim(
    id="B1",
    text="Last-layer GAP beats ERM on worst-group accuracy by >= 15 pts.",
    metric="gap_ll/wga_gain_over_erm",
    op=">=",
    threshold=0.15,
    source="paper abstract",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="B1-noise",
    text="The WGA gain of last-layer GAP over ERM exceeds twice its "
    "standard deviation over seeds.",
    metric="gap_ll/wga_gain_over_erm_per_std",
    op=">",
    threshold=2.0,
    source="significance check of B1 (this study)",
    why_threshold="Estimate chosen before the run: mean gain / std of "
    "the gain over seeds.",
    kind="paper",
  ),
  Claim(
    id="B2",
    text="Last-layer GAP is competitive with DFR: WGA(GAP-LL) >= "
    "WGA(DFR) - 3 pts.",
    metric="gap_ll/wga_minus_dfr",
    op=">=",
    threshold=-0.03,
    source="paper ('state-of-the-art', DFR as baseline)",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="B3-uniform",
    text="Group-aware sampling matters: with a uniform context (s = 0, "
    "lambda and rho tuned) GAP gains at most 5 pts of WGA over plain "
    "logistic regression on the fit half (ERM-LL).",
    metric="gap_ll_s0/wga_minus_erm_ll",
    op="<=",
    threshold=0.05,
    source="official code: groups enter only through the context "
    "sampler's exponent s",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="B3-gain",
    text="Group-aware sampling matters: WGA(s = 4) - WGA(s = 0) >= 10 "
    "pts (each tuned over lambda and rho on the select half).",
    metric="gap_ll_s4/wga_minus_s0",
    op=">=",
    threshold=0.10,
    source="official code: groups enter only through the context "
    "sampler's exponent s",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="B4",
    text="The context term matters, not just fine-tuning on annotated "
    "data: lambda = 0 (Gaussian prior around the ERM head only) loses "
    ">= 10 pts of WGA against GAP.",
    metric="gap_ll/wga_minus_lambda0",
    op=">=",
    threshold=0.10,
    source="official code: the prior's context term (README, The prior)",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="B5",
    text="Modest average-accuracy cost: avg acc(GAP-LL) >= avg acc(ERM) "
    "- 6 pts (training group weights).",
    metric="gap_ll/avg_acc_minus_erm",
    op=">=",
    threshold=-0.06,
    source="DFR trades ~4 pts on Waterbirds (DFR Table 2, via a "
    "third-party summary)",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="B6",
    text="The last layer suffices: WGA(GAP-LL) >= WGA(GAP all layers) - 3 pts.",
    metric="gap_ll/wga_minus_all_layers",
    op=">=",
    threshold=-0.03,
    source="paper abstract ('even when only retraining the final layer')",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
]
