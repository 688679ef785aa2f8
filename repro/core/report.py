"""Writes a run's results: summary.json, metrics.jsonl, report.md, index.

A run writes into a staging directory next to its final place
(``results/<study>/.<preset>.staging-*``) and ``publish`` swaps it in with
renames, so a crashed or interrupted run never leaves a half-written
``summary.json`` behind, and the previous report stays until the new one is
complete.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from repro.core import claims as claims_lib
from repro.core.summary import Figure

SUMMARY = "summary.json"
METRICS = "metrics.jsonl"
REPORT = "report.md"
INDEX = "README.md"
PRESET_ORDER = ("smoke", "cpu", "paper")


def make_staging_dir(workdir: str, study: str, preset: str) -> str:
  """A fresh hidden directory beside ``workdir/study/preset``."""
  parent = os.path.join(workdir, study)
  os.makedirs(parent, exist_ok=True)
  return tempfile.mkdtemp(prefix=f".{preset}.staging-", dir=parent)


def final_dir(workdir: str, study: str, preset: str) -> str:
  return os.path.join(workdir, study, preset)


def jsonable(value: Any) -> Any:
  """Converts numpy/JAX scalars and arrays to JSON; non-finite -> string."""
  if isinstance(value, dict):
    return {str(k): jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [jsonable(v) for v in value]
  if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
    return jsonable(np.asarray(value).tolist())
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  return value


def write_json(path: str, payload: Any) -> None:
  with open(path, "w") as f:
    json.dump(jsonable(payload), f, indent=2, allow_nan=False)
    f.write("\n")


def read_curves(run_dir: str) -> list[dict]:
  """The rows of a run's metrics.jsonl (e.g. each seed's, for a study's
  ``SEED_CURVES`` figures)."""
  with open(os.path.join(run_dir, METRICS)) as f:
    return [json.loads(line) for line in f if line.strip()]


def write_metrics_jsonl(path: str, curves: Sequence[dict]) -> None:
  with open(path, "w") as f:
    for row in curves:
      f.write(json.dumps(jsonable(row), allow_nan=False) + "\n")


def _compile_note(record: dict) -> str:
  """`` (compile 12 s, 3 programs from the cache)`` or nothing."""
  seconds = record.get("compile_time_s")
  if seconds is None:
    return ""
  hits = record.get("compile_cache_hits")
  cached = f", {hits} programs from the cache" if hits else ""
  return f" (compile {seconds:.0f} s{cached})"


def write_report(
  path: str,
  record: dict,
  title: str,
  arxiv: str,
  figures: Sequence[Figure],
  notes: str,
) -> None:
  """Writes one seed's report.md: claim table, figures, notes, metrics."""
  claims = record["claims"]
  env = record["env"]
  lines = [
    f"# {title}",
    "",
    f"Study `{record['study']}`, preset `{record['preset']}`, seed "
    f"{record['seed']} (1 seed) · arXiv [{arxiv}]"
    f"(https://arxiv.org/abs/{arxiv}) · {claims_lib.headline(claims)} · "
    f"wall time {record['wall_time_s']:.1f} s{_compile_note(record)} on "
    f"{env['device_count']}× {env['device_kind']} · commit "
    f"`{env['commit']}`",
    "",
    "## Claims",
    "",
    "| id | kind | claim | expected | measured | verdict | source |",
    "|---|---|---|---|---|---|---|",
  ]
  for c in claims:
    lines.append(
      f"{_claim_cells(c)}{format_number(c['measured'])} | "
      f"**{c['verdict']}** | {_cell(c['source'])} |"
    )
  _write_report(path, lines, record, figures, notes)


def write_aggregate_report(
  path: str,
  record: dict,
  title: str,
  arxiv: str,
  figures: Sequence[Figure],
  notes: str,
) -> None:
  """Writes the report.md of a run over several seeds.

  The claim table gives each claim's mean with its 95 % interval, the range
  over seeds, in how many seeds it held and the aggregate verdict
  (``repro.core.claims``); each seed's own report is under ``seeds/``.
  """
  claims = record["claims"]
  seeds = record["seeds"]
  env = record["env"]
  per_seed = record["wall_time_per_seed_s"]
  lines = [
    f"# {title}",
    "",
    f"Study `{record['study']}`, preset `{record['preset']}`, "
    f"{len(seeds)} seeds ({', '.join(map(str, seeds))}) · arXiv "
    f"[{arxiv}](https://arxiv.org/abs/{arxiv}) · "
    f"{claims_lib.headline(claims)} · wall time "
    f"{record['wall_time_s']:.0f} s in all{_compile_note(record)}, "
    f"{max(per_seed):.0f} s for the slowest seed, on "
    f"{env['device_count']}× {env['device_kind']} · "
    f"commit `{env['commit']}`",
    "",
    "## Claims",
    "",
    f"Decided over the seeds: {claims_lib.INTERVAL_METHOD}. PASS when the "
    "interval lies on the claim's side of the threshold, FAIL when it lies "
    "on the other side, INCONCLUSIVE when it straddles it; *held* counts "
    "the seeds whose own value passed. Each seed's report: "
    + ", ".join(f"[{s}](seeds/{s}/{REPORT})" for s in seeds)
    + ".",
    "",
    "| id | kind | claim | expected | mean [95% interval] | range over "
    "seeds | held | verdict | source |",
    "|---|---|---|---|---|---|---|---|---|",
  ]
  for c in claims:
    lines.append(
      f"{_claim_cells(c)}{_mean_interval(c)} | {_range(c)} | {_held(c)} | "
      f"**{c['verdict']}** | {_cell(c['source'])} |"
    )
  _write_report(
    path, lines, record, figures, notes, std=record.get("metrics_std")
  )


def _claim_cells(claim: dict) -> str:
  """The first cells of a claim's table row: id, kind, text, expected."""
  return (
    f"| {claim['id']} | {claim['kind']} | {_cell(claim['text'])} | "
    f"{_expected(claim)} | "
  )


def _write_report(
  path: str,
  lines: list[str],
  record: dict,
  figures: Sequence[Figure],
  notes: str,
  std: dict | None = None,
) -> None:
  """Appends threshold reasons, figures and the tail to ``lines``; writes."""
  lines += _threshold_reasons(record["claims"])
  lines += _figure_lines(figures)
  lines += _tail_lines(record, notes, std=std)
  _write_lines(path, lines)


def _expected(claim: dict) -> str:
  threshold = format_number(claim["threshold"])
  return f"`{claim['metric']}` {claim['op']} {threshold}"


def _mean_interval(claim: dict) -> str:
  if claim["mean"] is None:
    return "—"
  if claim["interval"] is None:
    return format_number(claim["mean"])
  low, high = claim["interval"]
  return (
    f"{format_number(claim['mean'])} [{format_number(low)}, "
    f"{format_number(high)}]"
  )


def _range(claim: dict) -> str:
  if claim["min"] is None:
    return "—"
  return f"{format_number(claim['min'])} – {format_number(claim['max'])}"


def _held(claim: dict) -> str:
  if claim["verdict"] == claims_lib.NOT_MEASURED:
    return "—"
  return f"{claim['seeds_held']}/{claim['num_seeds']}"


def _threshold_reasons(claims: Sequence[dict]) -> list[str]:
  reasons = [c for c in claims if c.get("why_threshold")]
  if not reasons:
    return []
  return ["", "Thresholds:", ""] + [
    f"- {c['id']}: {c['why_threshold']}" for c in reasons
  ]


def _figure_lines(figures: Sequence[Figure]) -> list[str]:
  if not figures:
    return []
  lines = ["", "## Figures", ""]
  for fig in figures:
    lines += [f"![{fig.caption}]({fig.filename})", "", f"*{fig.caption}*", ""]
  return lines


def _tail_lines(record: dict, notes: str, std: dict | None = None) -> list[str]:
  """Notes, the metrics table (mean and std over seeds), config, env."""
  lines = []
  if notes.strip():
    lines += ["", "## Notes", "", notes.strip(), ""]
  if std is None:
    lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
    lines += [
      f"| `{k}` | {format_number(v)} |"
      for k, v in sorted(record["metrics"].items())
    ]
  else:
    lines += [
      "",
      "## Metrics",
      "",
      "Mean and std over the seeds.",
      "",
      "| metric | mean | std |",
      "|---|---|---|",
    ]
    lines += [
      f"| `{k}` | {format_number(v)} | {format_number(std.get(k))} |"
      for k, v in sorted(record["metrics"].items())
    ]
  lines += [
    "",
    "## Config",
    "",
    "```json",
    json.dumps(jsonable(record["config"]), indent=2),
    "```",
    "",
    "## Environment",
    "",
    "```json",
    json.dumps(jsonable(record["env"]), indent=2),
    "```",
    "",
  ]
  return lines


def _write_lines(path: str, lines: Sequence[str]) -> None:
  with open(path, "w") as f:
    f.write("\n".join(lines))


def format_number(value: Any) -> str:
  if value is None:
    return "—"
  if isinstance(value, str):
    return value
  if isinstance(value, bool):
    return str(value)
  if isinstance(value, int):
    return str(value)
  value = float(value)
  if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
    return f"{value:.3e}"
  return f"{value:.4g}"


def _cell(text: str) -> str:
  return str(text).replace("|", "\\|").replace("\n", " ")


def publish(staging: str, destination: str) -> None:
  """Replaces ``destination`` by ``staging`` with renames (no partial state).

  The old directory is moved aside first and removed only after the new one
  is in place; if the new one cannot be moved in, the old one is put back.
  """
  old = None
  if os.path.exists(destination):
    old = tempfile.mkdtemp(prefix=".old-", dir=os.path.dirname(destination))
    os.rmdir(old)
    os.rename(destination, old)
  try:
    os.rename(staging, destination)
  except OSError:
    if old is not None:  # Put the previous results back.
      os.rename(old, destination)
    raise
  if old is not None:
    shutil.rmtree(old, ignore_errors=True)


def write_index(workdir: str) -> str:
  """Regenerates ``workdir/README.md``: every study's verdicts and reports."""
  rows = []
  for path in glob.glob(os.path.join(workdir, "*", "*", SUMMARY)):
    try:
      with open(path) as f:
        record = json.load(f)
    except (OSError, ValueError):
      continue
    if not isinstance(record, dict) or "study" not in record:
      continue  # Not a study run (e.g. results/bench/).
    rows.append((record, os.path.relpath(os.path.dirname(path), workdir)))
  rows.sort(key=lambda r: (r[0]["study"], _preset_rank(r[0]["preset"])))
  lines = [
    "# Results",
    "",
    "Regenerated after every run by `python -m repro.launch`. One row per "
    "committed run. Claims are counted by kind: *paper* (a statement the "
    "paper makes, tested by an experiment), *theory* (a formula derived "
    "for the study, checked against simulation), *sanity* (the set-up is "
    "sound). Over several seeds a claim PASSes or FAILs when the 95 % "
    "interval of its mean lies on one side of the threshold, else it is "
    "INCONCLUSIVE.",
    "",
    "| study | preset | seeds | paper claims reproduced | paper "
    "INCONCLUSIVE | theory | sanity | all claims | not passing | wall time "
    "(slowest seed) | compile | device | report |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ]
  for record, rel in rows:
    claims = record.get("claims", [])
    counts = claims_lib.tally(claims)
    measured = [c for c in claims if c["verdict"] != claims_lib.NOT_MEASURED]
    passed = sum(c["verdict"] == claims_lib.PASS for c in measured)
    failed = ", ".join(
      f"{c['id']} ({c['verdict']})"
      for c in measured
      if c["verdict"] != claims_lib.PASS
    )
    env = record.get("env", {})
    seeds = record.get("seeds") or [record.get("seed")]
    slowest = max(record.get("wall_time_per_seed_s") or [record["wall_time_s"]])
    lines.append(
      f"| {record['study']} | {record['preset']} | {len(seeds)} | "
      f"{_count(counts['paper'])} | "
      f"{counts['paper'][claims_lib.INCONCLUSIVE]} | "
      f"{_count(counts['theory'])} | {_count(counts['sanity'])} | "
      f"{passed}/{len(measured)} | {failed or '—'} | "
      f"{record['wall_time_s']:.0f} s ({slowest:.0f} s) | "
      f"{_seconds(record.get('compile_time_s'))} | "
      f"{env.get('device_count', '?')}× {env.get('device_kind', '?')} | "
      f"[report]({rel}/{REPORT}) |"
    )
  lines += _preset_totals(rows)
  path = os.path.join(workdir, INDEX)
  os.makedirs(workdir, exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
  os.replace(tmp, path)
  return path


def _seconds(value: float | None) -> str:
  return "—" if value is None else f"{value:.0f} s"


def _count(row: dict) -> str:
  return f"{row[claims_lib.PASS]}/{row['total']}" if row["total"] else "—"


def _preset_totals(rows: list) -> list[str]:
  """One line per preset: claims per kind and summed wall time."""
  lines = []
  presets = sorted({r["preset"] for r, _ in rows}, key=_preset_rank)
  for preset in presets:
    records = [r for r, _ in rows if r["preset"] == preset]
    claims = [c for r in records for c in r.get("claims", [])]
    seconds = sum(r.get("wall_time_s", 0.0) for r in records)
    compile_s = sum(r.get("compile_time_s") or 0.0 for r in records)
    lines.append(
      f"\n**{preset}**: {len(records)} studies · "
      f"{claims_lib.headline(claims)} · {seconds:.0f} s "
      f"({seconds / 60:.1f} min) of study wall time in all, every seed "
      f"included (the sum of the rows), of which {compile_s:.0f} s "
      "compiling."
    )
  return lines


def _preset_rank(preset: str) -> int:
  return PRESET_ORDER.index(preset) if preset in PRESET_ORDER else 99
