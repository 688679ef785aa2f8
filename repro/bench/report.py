"""``summary.json`` and ``report.md`` of a benchmark run."""

from __future__ import annotations

import importlib.metadata
import os
import platform as python_platform

import jax

from repro.bench import peers
from repro.core import platform, report


def machine() -> dict:
  """CPU model, core count, load, devices and package versions."""
  cpu_model = python_platform.processor() or "unknown"
  try:
    with open("/proc/cpuinfo") as cpuinfo:
      for line in cpuinfo:
        if line.startswith("model name"):
          cpu_model = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  record = platform.environment_record()
  versions = dict(record.get("versions", {}))
  for package in ("torch",):
    try:
      versions[package] = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
      versions[package] = None
  threads = None
  if peers.available():
    import torch

    threads = torch.get_num_threads()
  return {
    "cpu": cpu_model,
    "cpu_count": os.cpu_count(),
    # Other users' jobs share the cores: the 1/5/15-minute load average
    # when the summary was written.
    "load_average": (os.getloadavg() if hasattr(os, "getloadavg") else None),
    "python": python_platform.python_version(),
    "os": python_platform.platform(),
    "devices": [str(d) for d in jax.devices()],
    "backend": jax.default_backend(),
    "torch_threads": threads,
    "versions": versions,
    "commit": record.get("commit"),
  }


def _load(values) -> str:
  return "unknown" if not values else "/".join(f"{v:.1f}" for v in values)


def _number(value) -> str:
  return "—" if value is None else report.format_number(value)


def _speedup(row) -> str:
  value = row.get("speedup_vs_peer")
  if value is None:
    return "—"
  mark = "met" if value >= row["target_speedup"] else "MISSED"
  return f"{value:.2f}x ({mark})"


def _target_lines(rows) -> list[str]:
  """Met/missed per target, with the shortfall factor of each miss."""
  lines = []
  for row in rows:
    if row["status"] != "ok":
      lines.append(f"- {row['name']}: not measured ({row['status']}).")
      continue
    if row["compiles"] not in (None, 1):
      lines.append(
        f"- {row['name']}: RECOMPILED ({row['compiles']} "
        "compilations after warm-up)."
      )
    speedup = row.get("speedup_vs_peer")
    if speedup is None:
      lines.append(
        f"- {row['name']}: no peer timed (torch missing or --nopeers)."
      )
    elif speedup >= row["target_speedup"]:
      lines.append(
        f"- {row['name']}: met, {speedup:.2f}x the peer "
        f"(target {row['target_speedup']:g}x)."
      )
    else:
      lines.append(
        f"- {row['name']}: MISSED, {speedup:.2f}x the peer, "
        f"{row['target_speedup'] / speedup:.2f}x short of "
        f"{row['target_speedup']:g}x."
      )
  return lines


def write(directory: str, summary: dict, notes: str = "") -> None:
  """Writes ``summary.json`` and ``report.md`` into ``directory``."""
  os.makedirs(directory, exist_ok=True)
  report.write_json(os.path.join(directory, "summary.json"), summary)
  with open(os.path.join(directory, "report.md"), "w") as handle:
    handle.write(markdown(summary, notes))


def markdown(summary: dict, notes: str = "") -> str:
  machine_record = summary["machine"]
  lines = [
    f"# repro benchmark ({summary['accelerator']})",
    "",
    f"Machine: {machine_record['cpu']}, {machine_record['cpu_count']} "
    f"cores ({machine_record['backend']}; torch threads "
    f"{machine_record['torch_threads']}), load average (1/5/15 min) "
    f"{_load(machine_record.get('load_average'))} on the shared cores. jax "
    f"{machine_record['versions'].get('jax')}, torch "
    f"{machine_record['versions'].get('torch')}; commit "
    f"{machine_record['commit']}.",
    "",
    f"Median of --repeat (here {summary['repeat']}) steady-state calls "
    "after one warm-up "
    "call; JAX and its PyTorch-eager peer alternate call by call, so "
    "their ratio is measured under the same load. Speedup = peer time / "
    "JAX time (target >= 2x; bnn_nuts: >= 1x per effective sample). "
    "Compile = first call "
    "minus the median. Compiles = jit cache entries after all calls "
    "(1: no recompiles).",
    "",
    "| kernel | size | JAX median s | compile s | JAX throughput | "
    "peer median s | speedup vs peer | compiles |",
    "|---|---|---|---|---|---|---|---|",
  ]
  for row in summary["kernels"]:
    if row["status"] != "ok":
      lines.append(
        f"| {row['name']} | {row['status']}: {row['reason']} | | | | | | |"
      )
      continue
    size = ", ".join(f"{k}={v}" for k, v in row["size"].items())
    throughput = f"{_number(row['jax_throughput'])} {row['unit']}/s"
    lines.append(
      f"| {row['name']} | {size} | {_number(row['jax_s'])} | "
      f"{_number(row['compile_s'])} | {throughput} | "
      f"{_number(row['peer_s'])} | {_speedup(row)} | "
      f"{_number(row['compiles'])} |"
    )
  lines += ["", "## Targets", ""]
  lines += _target_lines(summary["kernels"])
  lines += ["", "## Kernels", ""]
  for row in summary["kernels"]:
    if row["status"] == "ok":
      lines.append(
        f"- **{row['name']}**: {row['description']}. Peer: "
        f"{row['peer'] or 'none'}."
      )
      if row.get("extra"):
        extra = ", ".join(f"{k} {_number(v)}" for k, v in row["extra"].items())
        lines.append(f"  Measured: {extra}.")
      if row.get("notes"):
        lines.append(f"  {row['notes']}")
  if notes:
    lines += ["", notes.strip()]
  return "\n".join(lines) + "\n"
