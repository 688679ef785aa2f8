"""``python -m repro.bench``: one tiny kernel end to end, bad input exits 2."""

import json
import os
import subprocess
import sys

import pytest

import repro
from repro.bench import __main__ as cli
from repro.core.errors import UserError

# The checkout this test imports, so the subprocess runs the same code
# whatever the working directory.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(repro.__file__)))


def _bench(*args, cwd):
  path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
  env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=path)
  return subprocess.run(
    [sys.executable, "-m", "repro.bench", *args],
    capture_output=True,
    text=True,
    cwd=cwd,
    env=env,
    timeout=120,
  )


def test_cli_runs_one_tiny_kernel_and_writes_the_report(tmp_path):
  # nc_metrics: synthetic inputs, so the subprocess loads no dataset.
  result = _bench(
    "--kernel=nc_metrics",
    "--size=tiny",
    "--repeat=2",
    "--nopeers",
    f"--workdir={tmp_path}",
    cwd=tmp_path,
  )
  assert result.returncode == 0, result.stderr[-2000:]
  assert "nc_metrics: jax" in result.stdout
  directory = tmp_path / "bench" / "cpu"
  summary = json.loads((directory / "summary.json").read_text())
  assert summary["machine"]["cpu_count"] >= 1
  (row,) = summary["kernels"]
  assert row["name"] == "nc_metrics" and row["status"] == "ok"
  assert row["jax_s"] > 0 and row["compile_s"] >= 0
  assert row["compiles"] == 1  # no recompiles after warm-up
  assert row["speedup_vs_peer"] is None  # --nopeers
  assert row["work"] == row["size"]["examples"]
  assert "| nc_metrics |" in (directory / "report.md").read_text()


def test_cli_unknown_kernel_exits_2_with_one_line(tmp_path):
  result = _bench("--kernel=no_such_kernel", cwd=tmp_path)
  assert result.returncode == 2
  lines = result.stderr.strip().splitlines()
  assert lines[-1].startswith("error: unknown --kernel='no_such_kernel'")
  assert not (tmp_path / "bench").exists()


def test_parse_kernels():
  assert cli.parse_kernels("all")[0] == "pgd_attack"
  assert cli.parse_kernels("nc_metrics, pgd_attack") == [
    "nc_metrics",
    "pgd_attack",
  ]
  with pytest.raises(UserError, match="unknown --kernel"):
    cli.parse_kernels("pgd_attack,typo")
  with pytest.raises(UserError, match="repeat"):
    cli.run(["pgd_attack"], "cpu", repeat=0)
