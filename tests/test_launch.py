"""The launcher: errors exit 2 with one line, results are atomic."""

import json
import os
import subprocess
import sys

import pytest

from repro import launch, registry
from repro.core import report


@pytest.fixture
def fake_study(monkeypatch):
  monkeypatch.setattr(registry, "STUDIES", registry.STUDIES + ("fake",))
  original = registry.module_name
  monkeypatch.setattr(
    registry,
    "module_name",
    lambda s: "tests.fake_study" if s == "fake" else original(s),
  )
  return "fake"


def run_cli(capsys, *args):
  """Runs the launcher in-process; returns (exit code, stdout, stderr)."""
  launch.FLAGS.unparse_flags()
  argv = launch._parse_flags(["repro.launch", *args])
  code = 0
  try:
    launch.run_main(argv)
  except SystemExit as e:
    code = e.code
  out = capsys.readouterr()
  return code, out.out, out.err


def test_run_writes_summary_report_and_index(fake_study, tmp_path, capsys):
  workdir = str(tmp_path / "results")
  code, _, err = run_cli(
    capsys,
    "--study=fake",
    "--preset=smoke",
    f"--workdir={workdir}",
    "--set=lr=0.2",
    "--seed=3",
  )
  assert code == 0, err
  run_dir = os.path.join(workdir, "fake", "smoke")
  assert sorted(os.listdir(run_dir)) == [
    "curve.png",
    "metrics.jsonl",
    "report.md",
    "summary.json",
  ]
  summary = json.load(open(os.path.join(run_dir, "summary.json")))
  assert summary["study"] == "fake" and summary["seed"] == 3
  assert summary["config"]["lr"] == 0.2 and summary["config"]["steps"] == 50
  verdicts = {c["id"]: c["verdict"] for c in summary["claims"]}
  assert verdicts == {"F1": "PASS", "F2": "FAIL", "F3": "ERROR"}
  assert {"versions", "device_count", "commit"} <= set(summary["env"])
  lines = open(os.path.join(run_dir, "metrics.jsonl")).read().splitlines()
  assert len(lines) == 50 and json.loads(lines[0])["step"] == 0
  markdown = open(os.path.join(run_dir, "report.md")).read()
  assert "| F1 | paper | SGD reaches the minimum |" in markdown
  assert "![loss curve](curve.png)" in markdown
  index = open(os.path.join(workdir, "README.md")).read()
  assert (
    "| fake | smoke | 1 | 1/1 | 0 | 0/1 | 0/1 | 1/3 | F2 (FAIL), F3 (ERROR) |"
  ) in index
  assert not [
    p for p in os.listdir(os.path.join(workdir, "fake")) if p.startswith(".")
  ]


@pytest.mark.parametrize(
  "args, message",
  [
    (["--study=fake", "--preset=fast"], "unknown preset 'fast'"),
    (["--study=fake", "--set=lrr=1"], "unknown config key 'lrr'"),
    (["--study=fake", "--set=steps=1.5"], "expected a int"),
    (["--study=nope"], "unknown study 'nope'"),
    (["--study=fake", "--set=lr=100"], "NaN/inf"),
    (["--study=fake", "extra"], "unexpected arguments"),
    (["--study=fake", "--process_id=1"], "need --multihost"),
  ],
)
def test_user_errors_exit_2_and_write_nothing(
  fake_study, tmp_path, capsys, args, message
):
  workdir = tmp_path / "results"
  code, _, err = run_cli(capsys, *args, f"--workdir={workdir}")
  assert code == 2
  assert err.startswith("error: ") and message in err
  assert len(err.strip().splitlines()) == 1
  assert not list(workdir.glob("*/*/summary.json"))
  assert not list(workdir.glob("*/.*"))
  assert not (workdir / launch.CHECKPOINTS).exists()


def test_crash_keeps_previous_results_and_leaves_no_staging(
  fake_study, tmp_path
):
  workdir = str(tmp_path)
  launch.run_study("fake", "smoke", workdir=workdir)
  before = open(os.path.join(workdir, "fake/smoke/summary.json")).read()
  with pytest.raises(RuntimeError, match="simulated crash"):
    launch.run_study(
      "fake",
      "smoke",
      seed=1,
      workdir=workdir,
      overrides=["fail_after_figure=true"],
    )
  after = open(os.path.join(workdir, "fake/smoke/summary.json")).read()
  assert before == after
  assert sorted(os.listdir(os.path.join(workdir, "fake"))) == ["smoke"]


def test_list_shows_studies_and_claims(fake_study, capsys):
  code, out, _ = run_cli(capsys, "--list")
  assert code == 0
  assert "fake  — A fake study" in out
  assert "F1 (paper): SGD reaches the minimum" in out
  assert (
    "config keys: data_dir, fail_after_figure, lr, plan_width, seed, steps"
  ) in out


def cli(*args, cwd):
  return subprocess.run(
    [sys.executable, "-m", "repro.launch", *args],
    capture_output=True,
    text=True,
    cwd=cwd,
    timeout=120,
  )


@pytest.mark.parametrize(
  "args, message",
  [
    (["--study=nope"], "unknown study 'nope'"),
    (["--study=robust_erm", "--accelerator=gpu"], "no GPU is visible"),
    (["--study=robust_erm", "--accelerator=tpu"], "no TPU is visible"),
    (["--study=robust_erm", "--accelerator=quantum"], "unknown --accelerator"),
    (["--bogus_flag"], "Unknown command line flag 'bogus_flag'"),
  ],
)
def test_cli_errors_in_a_real_process(tmp_path, args, message):
  result = cli(*args, f"--workdir={tmp_path}", cwd=tmp_path)
  assert result.returncode == 2, result.stderr
  assert "Traceback" not in result.stderr
  error_lines = [
    line for line in result.stderr.splitlines() if line.startswith("error: ")
  ]
  assert len(error_lines) == 1 and message in error_lines[0]
  assert not os.listdir(tmp_path)


def test_index_lists_every_run(tmp_path):
  for study, preset in [("b", "cpu"), ("a", "smoke"), ("a", "cpu")]:
    os.makedirs(tmp_path / study / preset)
    report.write_json(
      str(tmp_path / study / preset / "summary.json"),
      {
        "study": study,
        "preset": preset,
        "wall_time_s": 1.0,
        "claims": [{"id": "X", "kind": "paper", "verdict": "PASS"}],
        "env": {},
      },
    )
  index = open(report.write_index(str(tmp_path))).read()
  rows = [
    line
    for line in index.splitlines()
    if line.startswith("| a") or line.startswith("| b")
  ]
  assert [r.split("|")[1:3] for r in rows] == [
    [" a ", " smoke "],
    [" a ", " cpu "],
    [" b ", " cpu "],
  ]


def test_seeds_write_per_seed_and_aggregate_reports(
  fake_study, tmp_path, capsys
):
  workdir = tmp_path / "results"
  code, _, err = run_cli(
    capsys,
    "--study=fake",
    "--preset=smoke",
    f"--workdir={workdir}",
    "--seeds=3",
    "--seed=4",
  )
  assert code == 0, err
  run_dir = workdir / "fake" / "smoke"
  assert sorted(os.listdir(run_dir / "seeds")) == ["4", "5", "6"]
  for seed in ("4", "5", "6"):
    one = json.loads((run_dir / "seeds" / seed / "summary.json").read_text())
    assert one["seed"] == int(seed) and one["seeds"] == [int(seed)]
    assert (run_dir / "seeds" / seed / "curve.png").exists()
    assert not list((run_dir / "seeds" / seed).glob(".*"))
  summary = json.loads((run_dir / "summary.json").read_text())
  assert summary["seeds"] == [4, 5, 6]
  assert len(summary["wall_time_per_seed_s"]) == 3
  claims = {c["id"]: c for c in summary["claims"]}
  f1 = claims["F1"]
  assert f1["kind"] == "paper" and f1["num_seeds"] == 3
  assert f1["verdict"] == "PASS" and f1["seeds_held"] == 3
  assert len(f1["measured"]) == 3 and len(f1["interval"]) == 2
  assert {"mean", "std", "min", "max"} <= set(f1)
  assert claims["F3"]["verdict"] == "ERROR"
  rows = [
    json.loads(line)
    for line in (run_dir / "metrics.jsonl").read_text().splitlines()
  ]
  assert {row["root_seed"] for row in rows} == {4, 5, 6}
  markdown = (run_dir / "report.md").read_text()
  assert "3 seeds (4, 5, 6)" in markdown
  assert "[5](seeds/5/report.md)" in markdown
  assert "![loss curve (seed 4" in markdown
  assert "(seeds/4/curve.png)" in markdown
  assert "| F1 | paper |" in markdown and "| 3/3 | **PASS** |" in markdown
  assert not (workdir / launch.CHECKPOINTS).exists()


def test_seeds_resume_one_by_one(fake_study, tmp_path, monkeypatch):
  workdir = str(tmp_path)
  monkeypatch.setenv("REPRO_TEST_FAIL_SEED", "2")
  with pytest.raises(RuntimeError, match="simulated crash"):
    launch.run_study("fake", "smoke", seeds=[0, 1, 2], workdir=workdir)
  assert not os.path.exists(os.path.join(workdir, "fake", "smoke"))
  monkeypatch.delenv("REPRO_TEST_FAIL_SEED")
  from tests import fake_study as module

  ran = []
  original = module.run

  def spy(config, directory, checkpoints):
    ran.append(config.seed)
    return original(config, directory, checkpoints)

  monkeypatch.setattr(module, "run", spy)
  record = launch.run_study("fake", "smoke", seeds=[0, 1, 2], workdir=workdir)
  assert ran == [2]  # Seeds 0 and 1 finished before the crash.
  assert record["seeds"] == [0, 1, 2]
  monkeypatch.setattr(module, "run", original)
  reference = launch.run_study(
    "fake", "smoke", seeds=[0, 1, 2], workdir=str(tmp_path / "fresh")
  )
  assert record["claims"] == reference["claims"]
  assert not os.path.exists(os.path.join(workdir, launch.CHECKPOINTS))


@pytest.mark.parametrize(
  "text, seeds",
  [("", [7]), ("3", [7, 8, 9]), ("0,3,7", [0, 3, 7]), ("5,", [5])],
)
def test_parse_seeds(text, seeds):
  assert launch.parse_seeds(text, 7) == seeds


@pytest.mark.parametrize("text", ["0", "-2", "a", "1,1", "1,-1"])
def test_parse_seeds_errors(text):
  with pytest.raises(launch.UserError, match="--seeds"):
    launch.parse_seeds(text, 0)


def test_plan_prints_costs_and_exits_2_when_a_phase_does_not_fit(
  fake_study, tmp_path, capsys
):
  code, out, err = run_cli(
    capsys, "--study=fake", "--preset=paper", "--plan", f"--workdir={tmp_path}"
  )
  assert code == 0, err
  row = next(
    line for line in out.splitlines() if line.startswith("| fake | matmul step")
  )
  # 256^2 parameters, the paper preset's 1,000 steps (FLOP counts are
  # checked against closed forms in tests/core/test_plan.py).
  assert "| 65.5 k |" in row and "| 1,000 |" in row
  assert "Estimates, not measurements" in out
  assert not list(tmp_path.iterdir())  # nothing trained or written
  code, _, err = run_cli(
    capsys,
    "--study=fake",
    "--preset=paper",
    "--plan",
    "--set=plan_width=60000",
    "--plan_device=v5e",
    f"--workdir={tmp_path}",
  )
  assert code == 2 and "more than the 16 GiB" in err
  assert len(err.splitlines()) == 1


def test_dry_run_checks_configs_and_runs_nothing(fake_study, tmp_path, capsys):
  code, out, err = run_cli(
    capsys,
    "--study=fake",
    "--dry_run",
    "--accelerator=gpu",
    "--seeds=2",
    f"--workdir={tmp_path}",
  )
  assert code == 0, err
  assert out.strip() == (
    f"would run fake/paper on gpu, seeds [0, 1] -> {tmp_path}/fake/paper"
  )
  code, _, err = run_cli(
    capsys, "--study=fake", "--dry_run", "--set=lrr=1", f"--workdir={tmp_path}"
  )
  assert code == 2 and "unknown config key 'lrr'" in err
  assert not list(tmp_path.iterdir())
