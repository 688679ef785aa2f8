"""Verdict logic of claims."""

import math

import pytest

from repro.core.claims import Claim, evaluate, evaluate_all


def claim(op, threshold=1.0):
  return Claim(id="X", text="t", metric="m", op=op, threshold=threshold,
               source="s")


@pytest.mark.parametrize("op, value, verdict", [
    (">=", 1.0, "PASS"), (">=", 0.999, "FAIL"),
    (">", 1.0, "FAIL"), (">", 1.001, "PASS"),
    ("<=", 1.0, "PASS"), ("<=", 1.001, "FAIL"),
    ("<", 1.0, "FAIL"), ("<", 0.5, "PASS"),
])
def test_comparisons(op, value, verdict):
  record = evaluate(claim(op), {"m": value})
  assert record["verdict"] == verdict
  assert record["measured"] == value


@pytest.mark.parametrize("metrics", [{}, {"m": math.nan}, {"m": math.inf},
                                     {"m": "text"}])
def test_missing_or_non_finite_is_error(metrics):
  assert evaluate(claim(">="), metrics)["verdict"] == "ERROR"


def test_record_keeps_claim_fields():
  record = evaluate(claim("<=", 2.0), {"m": 1})
  assert {"id", "text", "metric", "op", "threshold", "measured", "verdict",
          "source"} <= set(record)


def test_bad_op_and_duplicate_ids():
  with pytest.raises(ValueError):
    claim("==")
  with pytest.raises(ValueError, match="duplicate"):
    evaluate_all([claim(">="), claim("<=")], {"m": 1.0})
