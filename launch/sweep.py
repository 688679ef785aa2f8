#!/usr/bin/env python3
r"""Expands studies x seeds x overrides into launcher commands and runs them.

  python launch/sweep.py --studies=robust_erm --seeds=0,1,2 \
      --grid=nn.num_steps=2000,4000 --preset=cpu --workdir=results/sweep
  python launch/sweep.py ... --dry-run           # print the commands only
  python launch/sweep.py ... --launcher=launch/gpu_host.sh   # on a GPU host

Every grid point gets its own workdir, ``WORKDIR/seed<N>[,key=value...]``,
so runs never overwrite each other; inside it the usual
``<study>/<preset>/`` layout and index. Runs go one after another (each
uses every device of the host); a failed run stops the sweep unless
``--keep_going``. Before anything is printed or run, every grid point's
config is built and checked with the installed ``repro`` package (the
launcher's own ``build_study_config``), so a wrong key or value fails at
once with one line and exit code 2, not at the first real run.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import subprocess
import sys


def parse_grid(items: list[str]) -> list[list[tuple[str, str]]]:
  """``["a=1,2", "b=x"]`` -> ``[[("a","1"),("a","2")], [("b","x")]]``."""
  axes = []
  for item in items:
    key, sep, values = item.partition("=")
    if not sep or not key or not values:
      raise SystemExit(f"error: --grid expects key=v1,v2,...; got {item!r}")
    axes.append([(key, v) for v in values.split(",")])
  return axes


def expand(
  studies: list[str],
  seeds: list[int],
  grid: list[str],
  fixed: list[str],
  preset: str | None,
  workdir: str,
  launcher: list[str],
  extra: list[str],
) -> list[list[str]]:
  """One argv per (study, seed, grid point), in that nesting order."""
  commands = []
  for study in studies:
    for seed in seeds:
      for point in itertools.product(*parse_grid(grid)):
        tag = ",".join([f"seed{seed}"] + [f"{k}={v}" for k, v in point])
        argv = [*launcher, f"--study={study}", f"--seed={seed}"]
        if preset:
          argv.append(f"--preset={preset}")
        argv += [f"--set={s}" for s in fixed]
        argv += [f"--set={k}={v}" for k, v in point]
        argv += [f"--workdir={workdir}/{tag}", *extra]
        commands.append(argv)
  return commands


def default_preset(launcher: list[str], extra: list[str]) -> str:
  """The preset the launcher would pick: paper on gpu/tpu, else cpu."""
  accelerators = [
    a.split("=", 1)[1] for a in extra if a.startswith("--accelerator=")
  ]
  remote = any(
    name in part for part in launcher for name in ("gpu_host", "tpu_vm")
  )
  on_device = accelerators and accelerators[-1] != "cpu"
  return "paper" if on_device or remote else "cpu"


def check_configs(
  studies: list[str],
  seeds: list[int],
  grid: list[str],
  fixed: list[str],
  preset: str,
) -> str | None:
  """Builds every grid point's config; returns the first error, or None."""
  try:
    from repro import launch, registry
    from repro.core.errors import UserError
  except ImportError as e:
    return (
      f"cannot check the grid: the repro package is not importable "
      f"({e}); pip install -e . first"
    )
  try:
    for study in registry.resolve(",".join(studies)):
      for seed in seeds:
        for point in itertools.product(*parse_grid(grid)):
          overrides = list(fixed) + [f"{k}={v}" for k, v in point]
          launch.build_study_config(study, preset, seed, overrides)
  except UserError as e:
    return str(e)
  return None


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(
    description=__doc__, formatter_class=argparse.RawTextHelpFormatter
  )
  parser.add_argument(
    "--studies", required=True, help="comma list of study names (or all)"
  )
  parser.add_argument("--seeds", default="0", help="comma list of seeds")
  parser.add_argument(
    "--grid",
    action="append",
    default=[],
    help="key=v1,v2,... swept (repeatable: cartesian)",
  )
  parser.add_argument(
    "--set",
    action="append",
    default=[],
    dest="fixed",
    help="key=value passed to every run",
  )
  parser.add_argument("--preset", default=None)
  parser.add_argument("--workdir", default="results/sweep")
  parser.add_argument(
    "--launcher",
    default=None,
    help="command prefix instead of python -m "
    "repro.launch, e.g. launch/gpu_host.sh",
  )
  parser.add_argument(
    "--dry-run", action="store_true", help="print the commands, run nothing"
  )
  parser.add_argument(
    "--keep_going",
    action="store_true",
    help="run the remaining commands after a failure",
  )
  args, extra = parser.parse_known_args(argv)
  try:
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
  except ValueError:
    print(
      f"error: --seeds expects integers; got {args.seeds!r}", file=sys.stderr
    )
    return 2
  launcher = (
    shlex.split(args.launcher)
    if args.launcher
    else [sys.executable, "-m", "repro.launch"]
  )
  studies = [s.strip() for s in args.studies.split(",") if s.strip()]
  error = check_configs(
    studies,
    seeds,
    args.grid,
    args.fixed,
    args.preset or default_preset(launcher, extra),
  )
  if error:
    print(f"error: {error}", file=sys.stderr)
    return 2
  commands = expand(
    studies,
    seeds,
    args.grid,
    args.fixed,
    args.preset,
    args.workdir.rstrip("/"),
    launcher,
    extra,
  )
  failures = 0
  for number, command in enumerate(commands, 1):
    line = shlex.join(command)
    if args.dry_run:
      print(line)
      continue
    print(f"[{number}/{len(commands)}] {line}", file=sys.stderr, flush=True)
    code = subprocess.call(command)
    if code:
      failures += 1
      print(f"error: exit {code}: {line}", file=sys.stderr)
      if not args.keep_going:
        return code
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main())
