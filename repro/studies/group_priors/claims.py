"""Claims B0-B6 of the group_priors paper notes (Section 5, claim table).

All numbers are seed means on the group-balanced test set of the first
dataset of ``config.datasets`` (the synthetic Gaussian data at ``cpu``);
accuracies are fractions, "pts" are 0.01. Hyperparameters of every method
are chosen by worst-group accuracy (WGA) on the held-out ``select`` half of
the annotated set, never on test data. Thresholds are the notes'
[estimate]s, kept as written. B7 (SAM, sign unknown) is reported as the
metric ``gap_ll/wga_rho0.15_minus_rho0`` without a claim.
"""

from repro.core.claims import Claim

NOTES = "paper notes, Section 5 claim table"

CLAIMS = [
    Claim(
        id="B0-avg",
        text="Setup validity: ERM's average test accuracy (weighted by the "
        "training group proportions) is high, >= 90%.",
        metric="erm/avg_acc",
        op=">=",
        threshold=0.90,
        source=f"{NOTES} (B0)",
        why_threshold="From the notes.", kind="sanity"),
    Claim(
        id="B0-wga",
        text="Setup validity: ERM's worst-group test accuracy is low, "
        "<= 60% (a real spurious-correlation failure).",
        metric="erm/wga",
        op="<=",
        threshold=0.60,
        source=f"{NOTES} (B0)",
        why_threshold="From the notes.", kind="sanity"),
    Claim(
        id="B0-probe",
        text="DFR premise: a linear probe on the frozen ERM features, "
        "trained on a group-balanced held-out set, reaches WGA >= 75%.",
        metric="probe/wga",
        op=">=",
        threshold=0.75,
        source=f"{NOTES} (B0); Kirichenko et al. (DFR)",
        why_threshold="From the notes.", kind="sanity"),
    Claim(
        id="B1",
        text="Last-layer GAP beats ERM on worst-group accuracy by >= 15 "
        "pts.",
        metric="gap_ll/wga_gain_over_erm",
        op=">=",
        threshold=0.15,
        source=f"paper abstract; {NOTES} (B1)",
        why_threshold="From the notes.", kind="paper"),
    Claim(
        id="B1-noise",
        text="The WGA gain of last-layer GAP over ERM exceeds twice its "
        "standard deviation over seeds.",
        metric="gap_ll/wga_gain_over_erm_per_std",
        op=">",
        threshold=2.0,
        source=f"{NOTES} (B1, '> 2 x seed std')",
        why_threshold="From the notes: mean gain / std of the gain over "
        "seeds.", kind="paper"),
    Claim(
        id="B2",
        text="Last-layer GAP is competitive with DFR: WGA(GAP-LL) >= "
        "WGA(DFR) - 3 pts.",
        metric="gap_ll/wga_minus_dfr",
        op=">=",
        threshold=-0.03,
        source=f"paper ('state-of-the-art', DFR as baseline); {NOTES} (B2)",
        why_threshold="From the notes.", kind="paper"),
    Claim(
        id="B3-uniform",
        text="Group-aware sampling matters: with a uniform context (s = 0, "
        "lambda and rho tuned) GAP gains at most 5 pts of WGA over plain "
        "logistic regression on the fit half (ERM-LL).",
        metric="gap_ll_s0/wga_minus_erm_ll",
        op="<=",
        threshold=0.05,
        source=f"paper notes pitfall 2; {NOTES} (B3)",
        why_threshold="From the notes.", kind="paper"),
    Claim(
        id="B3-gain",
        text="Group-aware sampling matters: WGA(s = 4) - WGA(s = 0) >= 10 "
        "pts (each tuned over lambda and rho on the select half).",
        metric="gap_ll_s4/wga_minus_s0",
        op=">=",
        threshold=0.10,
        source=f"{NOTES} (B3)",
        why_threshold="From the notes.", kind="paper"),
    Claim(
        id="B4",
        text="The context term matters, not just fine-tuning on annotated "
        "data: lambda = 0 (Gaussian prior around the ERM head only) loses "
        ">= 10 pts of WGA against GAP.",
        metric="gap_ll/wga_minus_lambda0",
        op=">=",
        threshold=0.10,
        source=f"{NOTES} (B4)",
        why_threshold="From the notes.", kind="paper"),
    Claim(
        id="B5",
        text="Modest average-accuracy cost: avg acc(GAP-LL) >= avg acc(ERM) "
        "- 6 pts (training group weights).",
        metric="gap_ll/avg_acc_minus_erm",
        op=">=",
        threshold=-0.06,
        source=f"DFR trades ~4 pts on Waterbirds; {NOTES} (B5)",
        why_threshold="From the notes.", kind="paper"),
    Claim(
        id="B6",
        text="The last layer suffices: WGA(GAP-LL) >= WGA(GAP all layers) "
        "- 3 pts.",
        metric="gap_ll/wga_minus_all_layers",
        op=">=",
        threshold=-0.03,
        source=f"paper abstract ('even when only retraining the final "
        f"layer'); {NOTES} (B6)",
        why_threshold="From the notes.", kind="paper"),
]
