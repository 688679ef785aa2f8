"""Claim records and their verdicts.

A Claim states one thing a paper says as a check on a measured metric. The
verdict is computed here from the metrics dict, never inside an experiment.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Mapping, Sequence

OPERATORS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}

PASS, FAIL, ERROR = "PASS", "FAIL", "ERROR"


@dataclasses.dataclass(frozen=True)
class Claim:
  """One paper claim checked as ``metrics[metric] <op> threshold``.

  Attributes:
    id: short identifier from the paper notes (e.g. "A4").
    text: the claim in words.
    metric: key of the metrics dict the check reads.
    op: one of ``>=``, ``>``, ``<=``, ``<``.
    threshold: the number the measured value is compared with.
    source: where the claim comes from (paper figure, notes, derivation).
    why_threshold: how the threshold was chosen, shown in the report.
  """
  id: str
  text: str
  metric: str
  op: str
  threshold: float
  source: str
  why_threshold: str = ""

  def __post_init__(self):
    if self.op not in OPERATORS:
      raise ValueError(f"claim {self.id}: unknown op {self.op!r}")


def evaluate(claim: Claim, metrics: Mapping[str, float]) -> dict:
  """Returns the claim as a dict with ``measured`` and ``verdict``.

  The verdict is ERROR when the metric is missing or not a finite number,
  otherwise PASS or FAIL by the claim's comparison.
  """
  record = dataclasses.asdict(claim)
  measured = metrics.get(claim.metric)
  if isinstance(measured, bool):
    measured = float(measured)
  if not isinstance(measured, (int, float)) or not math.isfinite(measured):
    record.update(measured=None if measured is None else str(measured),
                  verdict=ERROR)
    return record
  holds = OPERATORS[claim.op](float(measured), claim.threshold)
  record.update(measured=float(measured), verdict=PASS if holds else FAIL)
  return record


def evaluate_all(claims: Sequence[Claim],
                 metrics: Mapping[str, float]) -> list[dict]:
  """Evaluates every claim; ids must be unique."""
  ids = [c.id for c in claims]
  if len(set(ids)) != len(ids):
    raise ValueError(f"duplicate claim ids: {ids}")
  return [evaluate(c, metrics) for c in claims]
