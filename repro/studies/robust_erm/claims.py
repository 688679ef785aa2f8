"""Claims A1-A8 of the robust_erm study (README, Sources).

Every threshold is an estimate chosen before the first run (the paper
gives no numbers to match); ``why_threshold`` says where a word had to be
given a size. "pts" are accuracy points (0.03 = 3 percentage points). All
linear accuracies are exact robust accuracies (closed form) at the
training eps; gaps are robust train minus robust test accuracy, averaged
over seeds and training sizes.
"""

from repro.core.claims import Claim

ESTIMATE = "Estimate chosen before the run."

CLAIMS = [
  Claim(
    id="A1",
    text="The closed-form robust margin y<w,x> - eps||w||_q is exact for "
    "linear models: PGD (linf from a random start, l2 from zero) on "
    "trained weights finds the same worst case.",
    metric="linear/closed_form_max_abs_error",
    op="<=",
    threshold=1e-6,
    source="paper eq. (1); closed form for linear models (standard "
    "duality, README, What is run)",
    why_threshold=f"{ESTIMATE} In float64 with ||w||_1 = 1 and "
    "sign steps of 2.5 eps/100, PGD reaches the worst-case vertex "
    "exactly; any error above rounding would be a bug.",
    kind="sanity",
  ),
  Claim(
    id="A2",
    text="Greedy coordinate descent on the robust loss converges in "
    "direction to the l1 max-margin (linf-robust) separator: cosine "
    "> 0.95 at eps = 0.5 eps*.",
    metric="linear/cos_cd_l1ref/eps0.50",
    op=">",
    threshold=0.95,
    source="the paper's implicit-bias result (explicit separator derived here)",
    why_threshold="Estimate chosen before the run; mean over training "
    "sizes and seeds.",
    kind="paper",
  ),
  Claim(
    id="A2-trend",
    text="CD's cosine to the l1 max-margin separator increases over "
    "training (from step T/100 to T), eps = 0.5 eps*.",
    metric="linear/cos_cd_l1ref/eps0.50/increase",
    op=">",
    threshold=0.0,
    source="directional convergence of the implicit-bias result (derived here)",
    why_threshold="Any increase; no size is claimed.",
    kind="paper",
  ),
  Claim(
    id="A3",
    text="Gradient descent on the robust loss converges in direction to "
    "min ||w||_2 s.t. y<w,x> - eps||w||_1 >= 1: cosine > 0.95 at "
    "eps = 0.5 eps*.",
    metric="linear/cos_gd_l2ref/eps0.50",
    op=">",
    threshold=0.95,
    source="the paper's implicit-bias result (explicit separator derived here)",
    why_threshold="Estimate chosen before the run; mean over training "
    "sizes and seeds.",
    kind="paper",
  ),
  Claim(
    id="A3-misaligned",
    text="GD is clearly less aligned with the l1 max-margin separator "
    "than CD: cos(CD, l1) - cos(GD, l1) >= 0.05 at eps = 0.5 eps*.",
    metric="linear/cos_l1ref_cd_minus_gd/eps0.50",
    op=">=",
    threshold=0.05,
    source="the implicit-bias result (derived here: GD's separator "
    "mixes l2 and l1 geometry)",
    why_threshold="'Clearly' has no number; 0.05 is "
    "several times the residual non-convergence of the cosines (CD and "
    "GD reach > 0.99 of their own references).",
    kind="paper",
  ),
  Claim(
    id="A4",
    text="The price of implicit bias grows from ERM to robust ERM: "
    "Delta(eps) = gap_GD - gap_CD rises by >= 3 pts from eps = 0 to "
    "eps = 0.5 eps*.",
    metric="linear/price_increase_0_to_0.5",
    op=">=",
    threshold=0.03,
    source="paper Fig. 1 (bottom) and Fig. 2 (left)",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="A4-monotone",
    text="The price keeps growing with eps: Delta(0.9 eps*) >= "
    "Delta(0.5 eps*).",
    metric="linear/price_increase_0.5_to_0.9",
    op=">=",
    threshold=0.0,
    source="paper ('the price grows with eps')",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="A5",
    text="GD on a small-init (alpha = 1e-3) diagonal net behaves like "
    "CD: |robust test acc diag - CD| <= 3 pts at eps = 0.5 eps*, "
    "m <= 100.",
    metric="linear/diag_minus_cd_abs/eps0.50/m<=100",
    op="<=",
    threshold=0.03,
    source="paper Fig. 1 (bottom)",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="A5-vs-GD",
    text="The diagonal net beats plain GD by >= 3 pts of robust test "
    "accuracy at eps = 0.5 eps*, m <= 100.",
    metric="linear/diag_minus_gd/eps0.50/m<=100",
    op=">=",
    threshold=0.03,
    source="paper Fig. 1 (bottom)",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
  Claim(
    id="A6",
    text="Sign descent (linf steepest descent, dense bias) is the most "
    "misaligned for a sparse teacher: its robust test accuracy is no "
    "higher than GD's at every eps > 0.",
    metric="linear/sd_minus_gd/max_over_eps>0",
    op="<=",
    threshold=0.0,
    source="consequence of the implicit-bias result (derived here)",
    why_threshold="Estimate chosen before the run: max over eps > 0 of "
    "(acc_SD - acc_GD), means over m and seeds, must be <= 0.",
    kind="paper",
  ),
  Claim(
    id="A7",
    text="The benefit of CD over GD is larger for a sparse teacher at "
    "large eps (k_w = min grid, eps = 0.9 eps*) than for a dense "
    "teacher in ERM (k_w = d, eps = 0), by >= 3 pts.",
    metric="heatmap/benefit/sparse_large_minus_dense_clean",
    op=">=",
    threshold=0.03,
    source="paper Fig. 2 (right), Table 1",
    why_threshold="'Larger' has no number; 3 pts is the resolution used "
    "for A4/A5, above the seed noise of a mean over data sparsities, "
    "seeds and training sizes.",
    kind="paper",
  ),
  Claim(
    id="A7-dense",
    text="For a dense teacher in standard ERM (k_w = d, eps = 0) CD has "
    "no benefit over GD (<= +1 pt).",
    metric="heatmap/benefit/densest_teacher_eps0",
    op="<=",
    threshold=0.01,
    source="paper Table 1 (l2 can win for dense teachers)",
    why_threshold="'No benefit' read as at most +1 pt.",
    kind="paper",
  ),
  Claim(
    id="A8",
    text="Networks: the robust-test-accuracy gap |GD - sign GD| widens "
    "from ERM to robust ERM by >= 3 pts (eps = nn.gap_eps vs 0).",
    metric="nn/gap_increase",
    op=">=",
    threshold=0.03,
    source="paper Fig. 3 (left)",
    why_threshold=ESTIMATE,
    kind="paper",
  ),
]
