"""Claim records and their verdicts, for one seed and over seeds.

A Claim states one thing as a check on a measured metric. Verdicts are
computed here from the metrics dicts, never inside an experiment.

One seed: PASS or FAIL by the claim's comparison, ERROR when the metric is
missing or not finite.

Several seeds (``aggregate``): the metric's mean, std (ddof 1), min, max and
a 95 % interval of the mean, ``mean +- t(0.975, N-1) * std / sqrt(N)``
(Student t over the seeds). PASS when the whole interval lies on the claim's
side of the threshold, FAIL when it lies entirely on the other side,
INCONCLUSIVE when it straddles the threshold, ERROR when any seed errored;
``seeds_held`` counts the seeds whose own check held. A one-seed run keeps
the seed's verdict (no interval).

Kinds say what a claim tests; only ``paper`` claims make the headline count:

* ``paper``: a statement the paper makes about its experiments or theorems,
  tested by an experiment that could come out either way at this scale;
* ``theory``: a formula derived for the study, checked against simulation;
* ``sanity``: the set-up is sound (baseline accuracy, an acceptance rate, a
  gradient check, an identity that holds to machine precision).

A claim may name the presets it applies to; at other presets its verdict is
NOT MEASURED and it is not counted.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

OPERATORS = {
  ">=": operator.ge,
  ">": operator.gt,
  "<=": operator.le,
  "<": operator.lt,
}

PASS, FAIL, ERROR = "PASS", "FAIL", "ERROR"
INCONCLUSIVE, NOT_MEASURED = "INCONCLUSIVE", "NOT MEASURED"
VERDICTS = (PASS, FAIL, INCONCLUSIVE, ERROR, NOT_MEASURED)
KINDS = ("paper", "theory", "sanity")
CONFIDENCE = 0.95
INTERVAL_METHOD = (
  "95% interval of the mean over seeds: mean +- t(0.975, N-1) * std / "
  "sqrt(N), std with ddof 1 (Student t)"
)


@dataclasses.dataclass(frozen=True)
class Claim:
  """One claim checked as ``metrics[metric] <op> threshold``.

  Attributes:
    id: short identifier (e.g. "A4"), unique within a study.
    text: the claim in words.
    metric: key of the metrics dict the check reads.
    op: one of ``>=``, ``>``, ``<=``, ``<``.
    threshold: the number the measured value is compared with.
    source: where the claim comes from (paper section, figure, derivation).
    why_threshold: how the threshold was chosen, shown in the report.
    kind: ``paper``, ``theory`` or ``sanity`` (see the module docstring).
    presets: the presets the claim is measured at; None means all.
  """

  id: str
  text: str
  metric: str
  op: str
  threshold: float
  source: str
  why_threshold: str = ""
  kind: str = dataclasses.field(kw_only=True)
  presets: tuple[str, ...] | None = dataclasses.field(
    default=None, kw_only=True
  )

  def __post_init__(self):
    if self.op not in OPERATORS:
      raise ValueError(f"claim {self.id}: unknown op {self.op!r}")
    if self.kind not in KINDS:
      raise ValueError(
        f"claim {self.id}: kind must be one of {KINDS}, got {self.kind!r}"
      )
    if self.presets is not None and not isinstance(self.presets, tuple):
      raise ValueError(f"claim {self.id}: presets must be a tuple")

  def measured_at(self, preset: str | None) -> bool:
    """Whether the claim applies at ``preset`` (None: any preset)."""
    return preset is None or self.presets is None or preset in self.presets


def _record(claim: Claim) -> dict:
  record = dataclasses.asdict(claim)
  if record["presets"] is not None:
    record["presets"] = list(record["presets"])
  return record


def _measured_value(claim: Claim, metrics: Mapping[str, float]):
  """The finite float the claim reads, or None."""
  measured = metrics.get(claim.metric)
  if isinstance(measured, bool):
    measured = float(measured)
  if not isinstance(measured, (int, float)) or not math.isfinite(measured):
    return None
  return float(measured)


def evaluate(
  claim: Claim, metrics: Mapping[str, float], preset: str | None = None
) -> dict:
  """Returns the claim as a dict with ``measured`` and ``verdict`` (1 seed).

  The verdict is NOT MEASURED when the claim does not apply at ``preset``,
  ERROR when the metric is missing or not a finite number, otherwise PASS
  or FAIL by the claim's comparison.
  """
  record = _record(claim)
  if not claim.measured_at(preset):
    record.update(measured=None, verdict=NOT_MEASURED)
    return record
  measured = _measured_value(claim, metrics)
  if measured is None:
    raw = metrics.get(claim.metric)
    record.update(measured=None if raw is None else str(raw), verdict=ERROR)
    return record
  holds = OPERATORS[claim.op](measured, claim.threshold)
  record.update(measured=measured, verdict=PASS if holds else FAIL)
  return record


def _check_ids(claims: Sequence[Claim]) -> None:
  ids = [c.id for c in claims]
  if len(set(ids)) != len(ids):
    raise ValueError(f"duplicate claim ids: {ids}")


def evaluate_all(
  claims: Sequence[Claim],
  metrics: Mapping[str, float],
  preset: str | None = None,
) -> list[dict]:
  """Evaluates every claim on one seed's metrics; ids must be unique."""
  _check_ids(claims)
  return [evaluate(c, metrics, preset) for c in claims]


def mean_interval(values: Sequence[float]) -> tuple[float, float]:
  """The 95 % Student-t interval of the mean (``INTERVAL_METHOD``)."""
  values = np.asarray(values, np.float64)
  mean = float(values.mean())
  if len(values) < 2:
    return mean, mean
  half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1) * (
    values.std(ddof=1) / math.sqrt(len(values))
  )
  return mean - float(half), mean + float(half)


def interval_verdict(op: str, low: float, high: float, threshold: float) -> str:
  """PASS / FAIL / INCONCLUSIVE of an interval against ``op threshold``.

  PASS when every value of ``[low, high]`` satisfies the comparison, FAIL
  when none does, INCONCLUSIVE otherwise.
  """
  check = OPERATORS[op]
  held_low, held_high = check(low, threshold), check(high, threshold)
  if held_low and held_high:
    return PASS
  if not held_low and not held_high:
    return FAIL
  return INCONCLUSIVE


def aggregate(
  claim: Claim, per_seed: Sequence[Mapping[str, float]], preset: str | None
) -> dict:
  """The claim decided over seeds (see the module docstring).

  Args:
    claim: the claim.
    per_seed: each seed's metrics, in the order of the run's seed list.
    preset: the preset run (claims scoped elsewhere are NOT MEASURED).

  Returns:
    The claim's fields plus ``measured`` (one value per seed, None where the
    seed errored), ``seed_verdicts``, ``mean``, ``std``, ``min``, ``max``,
    ``interval`` (two numbers, None for one seed), ``seeds_held``,
    ``num_seeds`` and ``verdict``.
  """
  record = _record(claim)
  num_seeds = len(per_seed)
  record.update(
    measured=[],
    seed_verdicts=[],
    mean=None,
    std=None,
    min=None,
    max=None,
    interval=None,
    seeds_held=0,
    num_seeds=num_seeds,
  )
  if not claim.measured_at(preset):
    record.update(verdict=NOT_MEASURED, num_seeds=0)
    return record
  singles = [evaluate(claim, metrics, preset) for metrics in per_seed]
  values = [_measured_value(claim, m) for m in per_seed]
  record["measured"] = values
  record["seed_verdicts"] = [s["verdict"] for s in singles]
  record["seeds_held"] = sum(s["verdict"] == PASS for s in singles)
  if any(v is None for v in values) or not values:
    record["verdict"] = ERROR
    return record
  array = np.asarray(values, np.float64)
  record.update(
    mean=float(array.mean()),
    std=float(array.std(ddof=1)) if num_seeds > 1 else 0.0,
    min=float(array.min()),
    max=float(array.max()),
  )
  if num_seeds == 1:
    record["verdict"] = singles[0]["verdict"]
    return record
  low, high = mean_interval(array)
  record["interval"] = [low, high]
  record["verdict"] = interval_verdict(claim.op, low, high, claim.threshold)
  return record


def aggregate_all(
  claims: Sequence[Claim],
  per_seed: Sequence[Mapping[str, float]],
  preset: str | None,
) -> list[dict]:
  """``aggregate`` for every claim; ids must be unique."""
  _check_ids(claims)
  return [aggregate(c, per_seed, preset) for c in claims]


def tally(records: Sequence[dict]) -> dict[str, dict[str, int]]:
  """Verdict counts per kind: ``{kind: {"total", PASS, FAIL, ...}}``.

  NOT MEASURED claims are left out of ``total``.
  """
  counts = {}
  for kind in KINDS:
    mine = [r for r in records if r.get("kind") == kind]
    row = {v: sum(r["verdict"] == v for r in mine) for v in VERDICTS}
    row["total"] = len(mine) - row[NOT_MEASURED]
    counts[kind] = row
  return counts


def headline(records: Sequence[dict]) -> str:
  """ "paper claims reproduced k/n (INCONCLUSIVE j)" plus the other kinds."""
  counts = tally(records)
  paper = counts["paper"]
  parts = [
    f"paper claims reproduced {paper[PASS]}/{paper['total']} "
    f"(INCONCLUSIVE {paper[INCONCLUSIVE]})"
  ]
  for kind in ("theory", "sanity"):
    row = counts[kind]
    if row["total"]:
      parts.append(f"{kind} {row[PASS]}/{row['total']}")
  return " · ".join(parts)
