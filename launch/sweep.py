#!/usr/bin/env python3
r"""Expands studies x seeds x overrides into launcher commands and runs them.

  python launch/sweep.py --studies=robust_erm,goldilocks --seeds=0,1,2 \
      --grid=nn.learning_rate=0.05,0.1 --preset=cpu --workdir=results/sweep
  python launch/sweep.py ... --dry-run           # print the commands only
  python launch/sweep.py ... --launcher=launch/gpu_host.sh   # on a GPU host

Every grid point gets its own workdir, ``WORKDIR/seed<N>[,key=value...]``,
so runs never overwrite each other; inside it the usual
``<study>/<preset>/`` layout and index. Runs go one after another (each
uses every device of the host); a failed run stops the sweep unless
``--keep_going``. Needs only the Python standard library.
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


def expand(studies: list[str], seeds: list[int], grid: list[str],
           fixed: list[str], preset: str | None, workdir: str,
           launcher: list[str], extra: list[str]) -> list[list[str]]:
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


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  parser.add_argument("--studies", required=True,
                      help="comma list of study names (or all)")
  parser.add_argument("--seeds", default="0", help="comma list of seeds")
  parser.add_argument("--grid", action="append", default=[],
                      help="key=v1,v2,... swept (repeatable: cartesian)")
  parser.add_argument("--set", action="append", default=[], dest="fixed",
                      help="key=value passed to every run")
  parser.add_argument("--preset", default=None)
  parser.add_argument("--workdir", default="results/sweep")
  parser.add_argument("--launcher", default=None,
                      help="command prefix instead of python -m "
                      "repro.launch, e.g. launch/gpu_host.sh")
  parser.add_argument("--dry-run", action="store_true",
                      help="print the commands, run nothing")
  parser.add_argument("--keep_going", action="store_true",
                      help="run the remaining commands after a failure")
  args, extra = parser.parse_known_args(argv)
  try:
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
  except ValueError:
    print(f"error: --seeds expects integers; got {args.seeds!r}",
          file=sys.stderr)
    return 2
  launcher = (shlex.split(args.launcher) if args.launcher
              else [sys.executable, "-m", "repro.launch"])
  studies = [s.strip() for s in args.studies.split(",") if s.strip()]
  commands = expand(studies, seeds, args.grid, args.fixed, args.preset,
                    args.workdir.rstrip("/"), launcher, extra)
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
