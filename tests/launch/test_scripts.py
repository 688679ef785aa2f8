"""The launchers in launch/: their --dry-run prints runnable commands."""

import os
import pathlib
import shlex
import subprocess
import sys

import pytest

from repro import launch

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAUNCH_FLAGS = set(launch.FLAGS) | {"noresume"}


def script(*args, env=None):
  result = subprocess.run(
    [*args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=60,
    env={**os.environ, **(env or {})},
  )
  return result.returncode, result.stdout, result.stderr


def launch_argv(argv: list[str]) -> list[str]:
  """The arguments after ``-m repro.launch``; asserts every flag exists."""
  start = argv.index("repro.launch") + 1
  flags = argv[start:]
  for flag in flags:
    assert flag.startswith("--"), flag
    name = flag[2:].split("=", 1)[0]
    assert name in LAUNCH_FLAGS, f"repro.launch has no flag --{name}"
  return flags


def test_sweep_dry_run_expands_studies_seeds_and_grid(tmp_path):
  code, out, err = script(
    sys.executable,
    "launch/sweep.py",
    "--studies=robust_erm,goldilocks",
    "--seeds=0,1",
    "--grid=seed=1,2",
    "--grid=data_dir=x,y",
    "--set=seed=3",
    "--preset=smoke",
    f"--workdir={tmp_path}/",
    "--dry-run",
    "--checkpoint_every=5",
  )
  assert code == 0, err
  commands = [shlex.split(line) for line in out.splitlines()]
  assert len(commands) == 2 * 2 * 2 * 2
  flags = [launch_argv(c) for c in commands]
  assert flags[0] == [
    "--study=robust_erm",
    "--seed=0",
    "--preset=smoke",
    "--set=seed=3",
    "--set=seed=1",
    "--set=data_dir=x",
    f"--workdir={tmp_path}/seed0,seed=1,data_dir=x",
    "--checkpoint_every=5",
  ]
  workdirs = {f[-2] for f in flags}
  assert len(workdirs) == 8  # studies share a grid point's workdir
  assert {f[0] for f in flags} == {"--study=robust_erm", "--study=goldilocks"}
  assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
  "args, message",
  [
    (["--grid=nn.learning_rate=0.05,0.1"], "unknown config key"),
    (["--grid=seed=1,x"], "expected a int"),
    (["--set=nope=1"], "unknown config key 'nope'"),
  ],
)
def test_sweep_checks_every_grid_point_before_printing(args, message):
  code, out, err = script(
    sys.executable,
    "launch/sweep.py",
    "--studies=robust_erm",
    "--dry-run",
    *args,
  )
  assert code == 2 and not out
  assert err.startswith("error: ") and message in err


def test_sweep_runs_the_commands_and_stops_on_failure(tmp_path):
  code, _, err = script(
    sys.executable,
    "launch/sweep.py",
    "--studies=robust_erm",
    "--launcher=" + shlex.join([sys.executable, "-m", "repro.launch"]),
    f"--workdir={tmp_path}",
    "--accelerator=quantum",
  )
  assert code == 2 and "unknown --accelerator" in err
  assert err.count("error: exit 2") == 1  # stopped after the first
  code, _, err = script(
    sys.executable, "launch/sweep.py", "--studies=nope", "--dry-run"
  )
  assert code == 2 and "unknown study 'nope'" in err
  code, _, err = script(
    sys.executable, "launch/sweep.py", "--studies=x", "--seeds=one", "--dry-run"
  )
  assert code == 2 and "--seeds expects integers" in err


def test_gpu_host_dry_run_single_and_multi_host():
  code, out, _ = script(
    "launch/gpu_host.sh",
    "--dry-run",
    "--gpus=0,1",
    "--study=goldilocks",
    "--set=a=1 2",
  )
  assert code == 0
  argv = shlex.split(out)
  assert argv[:2] == ["env", "CUDA_VISIBLE_DEVICES=0,1"]
  assert launch_argv(argv) == [
    "--accelerator=gpu",
    "--study=goldilocks",
    "--set=a=1 2",
  ]
  code, out, _ = script(
    "launch/gpu_host.sh",
    "--dry-run",
    "--hosts=2",
    "--host_index=1",
    "--coordinator=10.0.0.1:1234",
    "--study=robust_erm",
  )
  assert launch_argv(shlex.split(out)) == [
    "--accelerator=gpu",
    "--multihost",
    "--coordinator_address=10.0.0.1:1234",
    "--num_processes=2",
    "--process_id=1",
    "--study=robust_erm",
  ]
  code, _, err = script("launch/gpu_host.sh", "--hosts=2", "--study=x")
  assert code == 2 and "needs --host_index" in err


@pytest.mark.parametrize(
  "form",
  [
    ["--tpu=repro-v4", "--zone=us-central2-b"],
    ["repro-v4", "us-central2-b"],  # the older positional form
  ],
)
def test_tpu_vm_dry_run_prints_every_step(form):
  code, out, err = script(
    "launch/tpu_vm.sh",
    "--dry-run",
    *form,
    "--accelerator_type=v4-32",
    "--repo=https://example.com/repro.git",
    "--branch=main",
    "--study=bnn_attacks",
    "--set=attack.eps=0.1 0.2",
  )
  assert code == 0, err
  steps = [
    shlex.split(line[2:]) for line in out.splitlines() if line.startswith("+ ")
  ]
  tpu = ["gcloud", "compute", "tpus", "tpu-vm"]
  create, install, run, mkdir, copy = steps
  assert create[:6] == [*tpu, "create", "repro-v4"]
  assert "--accelerator-type=v4-32" in create
  assert "--zone=us-central2-b" in create
  for ssh in (install, run):
    assert ssh[:6] == [*tpu, "ssh", "repro-v4"] and "--worker=all" in ssh
  install_command = [a for a in install if a.startswith("--command=")][0]
  assert "git clone --depth=1 --branch main" in install_command
  assert "jax[tpu]" in install_command
  run_command = shlex.split(
    [a for a in run if a.startswith("--command=")][0][len("--command=") :]
  )
  assert run_command[:3] == ["cd", "repro", "&&"]
  assert launch_argv(run_command) == [
    "--accelerator=tpu",
    "--multihost",
    "--workdir=results",
    "--study=bnn_attacks",
    "--set=attack.eps=0.1 0.2",
  ]
  assert mkdir == ["mkdir", "-p", "results_tpu/repro-v4"]
  assert copy[:5] == [*tpu, "scp"] and "--worker=0" in copy
  assert copy[-2:] == ["repro-v4:repro/results/*", "results_tpu/repro-v4/"]


def test_tpu_vm_needs_a_name_and_zone():
  code, _, err = script("launch/tpu_vm.sh", "--study=x")
  assert code == 2 and err.startswith("error: usage")


def _stub(directory: pathlib.Path, name: str, body: str) -> None:
  path = directory / name
  path.write_text("#!/usr/bin/env bash\n" + body)
  path.chmod(0o755)


def test_tpu_vm_runs_every_step_against_a_stub_gcloud(tmp_path):
  """The real (not --dry-run) path, with gcloud replaced by a recorder.

  The stub says the TPU VM does not exist (so it is created), records every
  call, and for ``scp`` writes a file into the destination, as the copy back
  would; a failing step stops the script with its exit code.
  """
  bin_dir, log = tmp_path / "bin", tmp_path / "gcloud.log"
  bin_dir.mkdir()
  _stub(
    bin_dir,
    "gcloud",
    f"""
printf '%s\\n' "$*" >> {log}
case "$*" in
  *" describe "*) exit 1 ;;
  *" scp "*) for last; do :; done; echo '{{}}' > "$last/summary.json" ;;
  *"--command=fail"*) exit 7 ;;
esac
""",
  )
  env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
  dest = tmp_path / "back"
  code, out, err = script(
    "launch/tpu_vm.sh",
    "--tpu=t1",
    "--zone=z",
    "--repo=/srv/repro.git",
    "--branch=main",
    f"--dest={dest}",
    "--delete",
    "--study=goldilocks",
    env=env,
  )
  assert code == 0, err
  calls = [line.split() for line in log.read_text().splitlines()]
  verbs = [call[3] for call in calls]
  assert verbs == ["describe", "create", "ssh", "ssh", "scp", "delete"]
  assert (dest / "summary.json").exists()
  assert out.count("+ gcloud") == 5  # every step printed first
  log.unlink()
  _stub(
    bin_dir,
    "gcloud",
    f"""
printf '%s\\n' "$*" >> {log}
case "$*" in *"--worker=all --command=set -e"*) exit 7 ;; esac
""",
  )
  code, _, _ = script(
    "launch/tpu_vm.sh",
    "--tpu=t1",
    "--zone=z",
    "--repo=/srv/repro.git",
    f"--dest={dest}",
    "--study=goldilocks",
    env=env,
  )
  assert code == 7  # the failed install stops it
  verbs = [line.split()[3] for line in log.read_text().splitlines()]
  assert verbs == ["describe", "ssh"]  # it exists: no create, no run


def test_gpu_host_runs_the_command_when_a_gpu_is_visible(tmp_path):
  """The real path: with nvidia-smi present the launch command is exec'd."""
  bin_dir, args_file = tmp_path / "bin", tmp_path / "argv"
  bin_dir.mkdir()
  _stub(bin_dir, "nvidia-smi", "echo 'GPU 0: stub'\n")
  _stub(
    bin_dir,
    "fake-python",
    f'printf "%s\\n" "$CUDA_VISIBLE_DEVICES" "$@" > {args_file}\n',
  )
  env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
  code, _, err = script(
    "launch/gpu_host.sh",
    "--gpus=1",
    f"--python={bin_dir}/fake-python",
    "--study=goldilocks",
    env=env,
  )
  assert code == 0, err
  argv = args_file.read_text().splitlines()
  assert argv[0] == "1"
  assert launch_argv(argv[1:]) == ["--accelerator=gpu", "--study=goldilocks"]
  _stub(bin_dir, "nvidia-smi", "exit 9\n")
  code, _, err = script("launch/gpu_host.sh", "--study=goldilocks", env=env)
  assert code == 2 and "no NVIDIA GPU visible" in err
