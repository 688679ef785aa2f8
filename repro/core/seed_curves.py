"""Curves over root seeds: the mean of each seed's curve with a min-max band.

A study names the curves of its ``metrics.jsonl`` that are worth showing
across seeds (``SEED_CURVES``, a tuple of ``CurveSpec``); the launcher's
multi-seed report draws each as the mean over seeds with the band between
the lowest and the highest seed. Within one seed, rows that share ``x`` and
``group`` (e.g. a study's own replicas) are averaged first, so every root
seed counts once.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repro.core.summary import Figure  # noqa: E402

SEED_KEY = "root_seed"  # the key the aggregate metrics.jsonl tags rows with


@dataclasses.dataclass(frozen=True)
class CurveSpec:
  """One figure: ``series`` against ``x``, one line per value of ``group``.

  ``where`` keeps only rows whose fields equal the given values.
  """

  filename: str
  caption: str
  x: str
  series: tuple[str, ...]
  group: str | None = None
  where: Mapping[str, object] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Band:
  """A curve over seeds: x values present in every seed, mean, min, max."""

  x: np.ndarray
  mean: np.ndarray
  low: np.ndarray
  high: np.ndarray
  num_seeds: int


def _seed_curve(
  rows: Sequence[dict], spec: CurveSpec, series: str
) -> dict[object, dict[float, float]]:
  """``{group value: {x: mean of the rows' series at x}}`` for one seed."""
  values = collections.defaultdict(lambda: collections.defaultdict(list))
  for row in rows:
    if any(row.get(k) != v for k, v in spec.where.items()):
      continue
    value = row.get(series)
    if spec.x not in row or not isinstance(value, (int, float)):
      continue
    values[row.get(spec.group) if spec.group else None][
      float(row[spec.x])
    ].append(float(value))
  return {
    g: {x: float(np.mean(v)) for x, v in by_x.items()}
    for g, by_x in values.items()
  }


def _order(group) -> tuple:
  """Numbers in numeric order first, then anything else by its text."""
  if isinstance(group, (int, float)):
    return (0, float(group), "")
  return (1, 0.0, str(group))


def _label(name: str | None, group) -> str | None:
  if group is None:
    return None
  return f"{name}={group:g}" if isinstance(group, float) else f"{name}={group}"


def bands(
  rows_by_seed: Sequence[Sequence[dict]], spec: CurveSpec, series: str
) -> dict[object, Band]:
  """Mean and min-max band over seeds of ``series``, per group value.

  Only x values every seed measured enter, so a band never mixes a
  different number of seeds along the curve.
  """
  curves = [_seed_curve(rows, spec, series) for rows in rows_by_seed]
  result = {}
  for group in sorted(set().union(*curves), key=_order):
    per_seed = [c.get(group, {}) for c in curves]
    xs = sorted(set.intersection(*(set(c) for c in per_seed)))
    if not xs:
      continue
    table = np.array([[c[x] for x in xs] for c in per_seed])
    result[group] = Band(
      np.array(xs), table.mean(0), table.min(0), table.max(0), len(per_seed)
    )
  return result


def write_figure(
  rows_by_seed: Sequence[Sequence[dict]], spec: CurveSpec, directory: str
) -> Figure | None:
  """Draws ``spec`` into ``directory``; None when no seed has the curve."""
  panels = [(s, bands(rows_by_seed, spec, s)) for s in spec.series]
  panels = [(s, b) for s, b in panels if b]
  if not panels:
    return None
  fig, axes = plt.subplots(
    1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False
  )
  for ax, (series, by_group) in zip(axes[0], panels, strict=True):
    for group, band in by_group.items():
      (line,) = ax.plot(band.x, band.mean, label=_label(spec.group, group))
      ax.fill_between(
        band.x,
        band.low,
        band.high,
        alpha=0.25,
        color=line.get_color(),
        linewidth=0,
      )
    ax.set_xlabel(spec.x)
    ax.set_title(series, fontsize=9)
    if spec.group:
      ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(os.path.join(directory, spec.filename), dpi=110)
  plt.close(fig)
  num_seeds = len(rows_by_seed)
  return Figure(
    spec.filename,
    f"{spec.caption} Mean over {num_seeds} root "
    f"seeds; the band spans the lowest and highest seed.",
  )
