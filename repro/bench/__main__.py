"""``python -m repro.bench --kernel=NAME|all --accelerator=cpu --repeat=N``.

Prints one line per kernel; with ``--workdir`` also writes
``WORKDIR/bench/<accelerator>/summary.json`` and ``report.md``. Bad input
(unknown kernel, missing accelerator, repeat < 1) stops with a one-line
message and exit code 2.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging

from repro import bench
from repro.core import platform
from repro.core.errors import UserError

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the command's flags; only when run as the command, so that
  importing this module (tests) does not clash with repro.launch's flags.
  """
  flags.DEFINE_string("kernel", "all", "A kernel name, a comma list, or all.")
  flags.DEFINE_string("accelerator", "cpu", "cpu | gpu | tpu; must be present.")
  flags.DEFINE_integer("repeat", 5, "Timed steady-state calls per kernel.")
  flags.DEFINE_string(
    "workdir",
    "",
    "If set, write WORKDIR/bench/<accelerator>/summary.json and report.md.",
  )
  flags.DEFINE_enum(
    "size",
    "default",
    ["default", "tiny"],
    "default: the documented sizes; tiny: for tests.",
  )
  flags.DEFINE_bool(
    "peers", True, "Time the PyTorch-eager peers when torch is installed."
  )
  flags.DEFINE_integer(
    "torch_threads",
    1,
    "torch.set_num_threads for the peers (0: torch's default).",
  )
  flags.DEFINE_bool(
    "render_only",
    False,
    "Re-render WORKDIR/bench/"
    "<accelerator>/report.md from its summary.json with the "
    "current kernel notes; measures nothing.",
  )
  flags.DEFINE_bool("list", False, "List the kernels and their sizes; exit.")


def parse_kernels(spec: str) -> list[str]:
  """``all`` or comma-separated names -> names; UserError when unknown."""
  names = list(bench.kernel_names())
  if spec == "all":
    return names
  chosen = [s.strip() for s in spec.split(",") if s.strip()]
  unknown = [s for s in chosen if s not in names]
  if unknown or not chosen:
    raise UserError(
      f"unknown --kernel={spec!r}; choose all or any of {', '.join(names)}"
    )
  return chosen


def run(
  kernels: list[str],
  accelerator: str,
  repeat: int,
  workdir: str = "",
  size: str = "default",
  with_peers: bool = True,
  torch_threads: int = 1,
) -> dict:
  """Runs the kernels; returns (and with ``workdir`` writes) the summary."""
  from repro.bench import peers, report, runner

  if repeat < 1:
    raise UserError(f"--repeat must be >= 1, got {repeat}")
  platform.select_accelerator(accelerator)
  peers.set_threads(torch_threads)
  directory = os.path.join(workdir, "bench", accelerator) if workdir else ""
  previous = _previous_rows(directory, size) if directory else {}
  rows = []
  summary = {}
  for name in kernels:
    try:
      row = runner.run_kernel(name, repeat, size, with_peers)
    except Exception as error:  # one broken kernel must not lose the rest
      logging.exception("bench %s failed", name)
      row = {
        "name": name,
        "family": bench.KERNEL_FAMILIES[name],
        "status": "error",
        "reason": f"{type(error).__name__}: "
        f"{str(error).splitlines()[0] if str(error) else ''}",
      }
    row["repeat"] = repeat
    rows.append(row)
    print(_line(row), flush=True)
    previous.pop(name, None)
    summary = {
      "accelerator": accelerator,
      "repeat": repeat,
      "size": size,
      "machine": report.machine(),
      "kernels": _ordered(rows + list(previous.values())),
    }
    if directory:
      # Written after every kernel, so an interrupted run keeps its rows;
      # rows of kernels not rerun are kept from the previous summary.
      report.write(directory, summary)
  if directory:
    print(f"wrote {directory}/report.md", flush=True)
  return summary


def _previous_rows(directory: str, size: str) -> dict:
  """Rows of an earlier summary.json at the same size, by kernel name."""
  import json

  path = os.path.join(directory, "summary.json")
  if not os.path.exists(path):
    return {}
  with open(path) as handle:
    previous = json.load(handle)
  if previous.get("size") != size:
    return {}
  return {row["name"]: row for row in previous["kernels"]}


def _ordered(rows: list[dict]) -> list[dict]:
  order = {name: i for i, name in enumerate(bench.kernel_names())}
  return sorted(rows, key=lambda row: order.get(row["name"], len(order)))


def render_only(workdir: str, accelerator: str) -> str:
  """Rewrites report.md (and the notes in summary.json) of a past run."""
  import json

  from repro.bench import report

  directory = os.path.join(workdir, "bench", accelerator)
  path = os.path.join(directory, "summary.json")
  if not workdir or not os.path.exists(path):
    raise UserError(
      f"--render_only needs an existing {path}; run the "
      "benchmark with --workdir first"
    )
  with open(path) as handle:
    summary = json.load(handle)
  machine = summary["machine"]
  if "load_average" not in machine:  # summaries written before the rename
    machine["load_average"] = machine.pop("load_average_at_start", None)
  for row in summary["kernels"]:
    if row["status"] == "ok":
      row["notes"] = bench.load(row["name"]).notes
      row.setdefault("repeat", summary["repeat"])
  report.write(directory, summary)
  return directory


def _line(row: dict) -> str:
  if row["status"] != "ok":
    return f"{row['name']}: {row['status']} ({row['reason']})"
  text = (
    f"{row['name']}: jax {row['jax_s']:.4g}s "
    f"({row['jax_throughput']:.4g} {row['unit']}/s, compile "
    f"{row['compile_s']:.3g}s, {row['compiles']} compile(s))"
  )
  if row.get("speedup_vs_peer") is not None:
    text += (
      f"; peer {row['peer_s']:.4g}s; speedup {row['speedup_vs_peer']:.2f}x"
    )
  return text


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  try:
    if FLAGS.list:
      for name in bench.kernel_names():
        print(name)
      return 0
    if FLAGS.render_only:
      print(f"wrote {render_only(FLAGS.workdir, FLAGS.accelerator)}/report.md")
      return 0
    run(
      parse_kernels(FLAGS.kernel),
      FLAGS.accelerator,
      FLAGS.repeat,
      FLAGS.workdir,
      FLAGS.size,
      FLAGS.peers,
      FLAGS.torch_threads,
    )
  except UserError as error:
    logging.flush()
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
  return 0


if __name__ == "__main__":
  define_flags()
  app.run(main)
