"""What a study's ``run`` returns: metrics, curves, figures, notes."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Figure:
  """A figure the experiment wrote into its workdir."""

  filename: str
  caption: str


@dataclasses.dataclass
class Summary:
  """The outcome of ``run(config, workdir)``.

  Attributes:
    metrics: scalar results by name; claims read these.
    curves: rows for metrics.jsonl, e.g. ``{"step": 100, "train/loss": 0.3}``.
    figures: figures already written into the workdir.
    notes: markdown paragraphs for the report (deviations, observations).
  """

  metrics: dict[str, float]
  curves: list[dict] = dataclasses.field(default_factory=list)
  figures: list[Figure] = dataclasses.field(default_factory=list)
  notes: str = ""
