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

import numpy as np

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


def jsonable(value):
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


def write_json(path: str, payload) -> None:
  with open(path, "w") as f:
    json.dump(jsonable(payload), f, indent=2, allow_nan=False)
    f.write("\n")


def write_metrics_jsonl(path: str, curves: Sequence[dict]) -> None:
  with open(path, "w") as f:
    for row in curves:
      f.write(json.dumps(jsonable(row), allow_nan=False) + "\n")


def write_report(path: str, record: dict, title: str, arxiv: str,
                 figures: Sequence[Figure], notes: str) -> None:
  """Writes report.md: claim table, figures, notes, metrics, config."""
  claims = record["claims"]
  passed = sum(c["verdict"] == "PASS" for c in claims)
  env = record["env"]
  lines = [
      f"# {title}",
      "",
      f"Study `{record['study']}`, preset `{record['preset']}`, seed "
      f"{record['seed']} · arXiv [{arxiv}](https://arxiv.org/abs/{arxiv}) · "
      f"{passed}/{len(claims)} claims reproduced · wall time "
      f"{record['wall_time_s']:.1f} s on {env['device_count']}× "
      f"{env['device_kind']} · commit `{env['commit']}`",
      "",
      "## Claims",
      "",
      "| id | claim | expected | measured | verdict | source |",
      "|---|---|---|---|---|---|",
  ]
  for c in claims:
    expected = f"`{c['metric']}` {c['op']} {format_number(c['threshold'])}"
    lines.append(
        f"| {c['id']} | {_cell(c['text'])} | {expected} | "
        f"{format_number(c['measured'])} | **{c['verdict']}** | "
        f"{_cell(c['source'])} |")
  reasons = [c for c in claims if c.get("why_threshold")]
  if reasons:
    lines += ["", "Thresholds:", ""]
    lines += [f"- {c['id']}: {c['why_threshold']}" for c in reasons]
  if figures:
    lines += ["", "## Figures", ""]
    for fig in figures:
      lines += [f"![{fig.caption}]({fig.filename})", "", f"*{fig.caption}*",
                ""]
  if notes.strip():
    lines += ["", "## Notes", "", notes.strip(), ""]
  lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
  lines += [f"| `{k}` | {format_number(v)} |"
            for k, v in sorted(record["metrics"].items())]
  lines += ["", "## Config", "", "```json",
            json.dumps(jsonable(record["config"]), indent=2), "```",
            "", "## Environment", "", "```json",
            json.dumps(jsonable(env), indent=2), "```", ""]
  with open(path, "w") as f:
    f.write("\n".join(lines))


def format_number(value) -> str:
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
      "committed run: claims reproduced out of claims checked, and the report "
      "with the claim table and figures.",
      "",
      "| study | preset | claims passed | failed claims | wall time | "
      "device | report |",
      "|---|---|---|---|---|---|---|",
  ]
  for record, rel in rows:
    claims = record.get("claims", [])
    passed = sum(c["verdict"] == "PASS" for c in claims)
    failed = ", ".join(c["id"] for c in claims if c["verdict"] != "PASS")
    env = record.get("env", {})
    lines.append(
        f"| {record['study']} | {record['preset']} | {passed}/{len(claims)} "
        f"| {failed or '—'} | {record['wall_time_s']:.0f} s | "
        f"{env.get('device_count', '?')}× {env.get('device_kind', '?')} | "
        f"[report]({rel}/{REPORT}) |")
  lines += _preset_totals(rows)
  path = os.path.join(workdir, INDEX)
  os.makedirs(workdir, exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
  os.replace(tmp, path)
  return path


def _preset_totals(rows: list) -> list[str]:
  """One line per preset: studies, claims passed and summed wall time."""
  lines = []
  presets = sorted({r["preset"] for r, _ in rows}, key=_preset_rank)
  for preset in presets:
    records = [r for r, _ in rows if r["preset"] == preset]
    claims = [c for r in records for c in r.get("claims", [])]
    passed = sum(c["verdict"] == "PASS" for c in claims)
    seconds = sum(r.get("wall_time_s", 0.0) for r in records)
    lines.append(
        f"\n**{preset}**: {len(records)} studies, {passed}/{len(claims)} "
        f"claims passed, {seconds:.0f} s ({seconds / 60:.1f} min) of study "
        "wall time in all (the sum of the rows; a `--study=all` run adds "
        "only process start-up).")
  return lines


def _preset_rank(preset: str) -> int:
  return PRESET_ORDER.index(preset) if preset in PRESET_ORDER else 99
