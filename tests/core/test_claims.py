"""Verdict logic of claims: one seed, several seeds, kinds and presets."""

import math

import numpy as np
import pytest
from scipy import stats

from repro.core import claims as claims_lib
from repro.core.claims import Claim, aggregate, evaluate, evaluate_all


def claim(op, threshold=1.0, kind="paper", presets=None):
  return Claim(
    id="X",
    text="t",
    metric="m",
    op=op,
    threshold=threshold,
    source="s",
    kind=kind,
    presets=presets,
  )


@pytest.mark.parametrize(
  "op, value, verdict",
  [
    (">=", 1.0, "PASS"),
    (">=", 0.999, "FAIL"),
    (">", 1.0, "FAIL"),
    (">", 1.001, "PASS"),
    ("<=", 1.0, "PASS"),
    ("<=", 1.001, "FAIL"),
    ("<", 1.0, "FAIL"),
    ("<", 0.5, "PASS"),
  ],
)
def test_comparisons(op, value, verdict):
  record = evaluate(claim(op), {"m": value})
  assert record["verdict"] == verdict
  assert record["measured"] == value


@pytest.mark.parametrize(
  "metrics", [{}, {"m": math.nan}, {"m": math.inf}, {"m": "text"}]
)
def test_missing_or_non_finite_is_error(metrics):
  assert evaluate(claim(">="), metrics)["verdict"] == "ERROR"


def test_record_keeps_claim_fields():
  record = evaluate(claim("<=", 2.0), {"m": 1})
  assert {
    "id",
    "kind",
    "text",
    "metric",
    "op",
    "threshold",
    "measured",
    "verdict",
    "source",
    "presets",
  } <= set(record)


def test_bad_op_kind_and_duplicate_ids():
  with pytest.raises(ValueError, match="unknown op"):
    claim("==")
  with pytest.raises(ValueError, match="kind"):
    claim(">=", kind="headline")
  with pytest.raises(TypeError):  # kind has no default.
    Claim("X", "t", "m", ">=", 1.0, "s")
  with pytest.raises(ValueError, match="duplicate"):
    evaluate_all([claim(">="), claim("<=")], {"m": 1.0})


def test_claim_scoped_to_other_presets_is_not_measured():
  scoped = claim(">=", presets=("paper",))
  assert evaluate(scoped, {"m": 5.0}, "cpu")["verdict"] == "NOT MEASURED"
  assert evaluate(scoped, {"m": 5.0}, "paper")["verdict"] == "PASS"
  record = aggregate(scoped, [{"m": 5.0}, {"m": 6.0}], "smoke")
  assert record["verdict"] == "NOT MEASURED" and record["num_seeds"] == 0


def test_interval_is_student_t_of_the_mean():
  values = [1.0, 2.0, 4.0, 7.0]
  low, high = claims_lib.mean_interval(values)
  # Independent answer: scipy's t interval.
  ref = stats.t.interval(
    0.95, df=3, loc=np.mean(values), scale=stats.sem(values)
  )
  np.testing.assert_allclose((low, high), ref, rtol=1e-12)


@pytest.mark.parametrize(
  "op, values, verdict, held",
  [
    (">=", [2.0, 2.1, 1.9, 2.05], "PASS", 4),  # interval above 1
    (">=", [0.2, 0.3, 0.1, 0.25], "FAIL", 0),  # interval below 1
    (">=", [0.5, 1.5, 0.8, 1.3], "INCONCLUSIVE", 2),  # straddles 1
    ("<", [0.2, 0.3, 0.1, 0.25], "PASS", 4),
    ("<", [2.0, 2.1, 1.9, 2.05], "FAIL", 0),
    ("<=", [0.9, 1.2, 0.7, 1.1], "INCONCLUSIVE", 2),
    (">", [1.0, 1.0, 1.0], "FAIL", 0),  # zero variance at 1
    (">=", [1.0, 1.0, 1.0], "PASS", 3),  # zero variance at 1
    ("<=", [3.0, 3.0], "FAIL", 0),  # zero variance
  ],
)
def test_aggregate_verdicts(op, values, verdict, held):
  record = aggregate(claim(op), [{"m": v} for v in values], "cpu")
  assert record["verdict"] == verdict
  assert record["seeds_held"] == held and record["num_seeds"] == len(values)
  assert record["measured"] == values
  assert record["mean"] == pytest.approx(np.mean(values))
  assert record["std"] == pytest.approx(np.std(values, ddof=1))
  assert (record["min"], record["max"]) == (min(values), max(values))
  low, high = record["interval"]
  assert low <= record["mean"] <= high


def test_aggregate_error_when_any_seed_errors():
  record = aggregate(claim(">="), [{"m": 2.0}, {"m": math.nan}, {}], "cpu")
  assert record["verdict"] == "ERROR"
  assert record["seed_verdicts"] == ["PASS", "ERROR", "ERROR"]
  assert record["measured"] == [2.0, None, None]


def test_one_seed_keeps_its_verdict_without_interval():
  record = aggregate(claim(">="), [{"m": 0.5}], "cpu")
  assert record["verdict"] == "FAIL" and record["interval"] is None
  assert record["num_seeds"] == 1 and record["std"] == 0.0


def test_tally_and_headline_count_kinds_separately():
  records = [
    {"kind": "paper", "verdict": "PASS"},
    {"kind": "paper", "verdict": "INCONCLUSIVE"},
    {"kind": "paper", "verdict": "FAIL"},
    {"kind": "paper", "verdict": "NOT MEASURED"},
    {"kind": "theory", "verdict": "PASS"},
    {"kind": "sanity", "verdict": "FAIL"},
  ]
  counts = claims_lib.tally(records)
  assert counts["paper"]["total"] == 3 and counts["paper"]["PASS"] == 1
  assert counts["paper"]["INCONCLUSIVE"] == 1
  assert claims_lib.headline(records) == (
    "paper claims reproduced 1/3 (INCONCLUSIVE 1) · theory 1/1 · sanity 0/1"
  )
