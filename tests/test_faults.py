"""Faults: interrupted runs resume, bad workdirs and write errors, corrupted
checkpoints, NaN. Nothing half-written is ever published."""

import errno
import json
import logging
import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from repro import launch
from repro.core import checkpoint, report, rng, train
from repro.core.errors import UserError
from tests.launch import fake_launch
from tests.test_launch import run_cli

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def test_studies():
  fake_launch.register()


def published(workdir: pathlib.Path) -> list[str]:
  """Every file under ``workdir`` except the index and checkpoints."""
  return sorted(
    str(p.relative_to(workdir))
    for p in workdir.rglob("*")
    if p.is_file() and ".checkpoints" not in p.parts
  )


def fake_cli(*args, env=None):
  return subprocess.Popen(
    [sys.executable, "-m", "tests.launch.fake_launch", *args],
    cwd=ROOT,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    env={**os.environ, **(env or {})},
  )


@pytest.mark.heavy  # Two launcher processes and a signal (pytest -m heavy).
def test_interrupted_run_resumes_to_the_same_summary(test_studies, tmp_path):
  reference = launch.run_study(
    "resumable", "smoke", workdir=str(tmp_path / "reference")
  )
  workdir = tmp_path / "results"
  args = [
    "--study=resumable",
    "--preset=smoke",
    f"--workdir={workdir}",
    "--checkpoint_every=40",
  ]
  process = fake_cli(*args, env={"REPRO_TEST_SLOW_SAVES": "0.5"})
  checkpoints = workdir / launch.CHECKPOINTS / "resumable"
  deadline = time.monotonic() + 60
  while not [p for p in checkpoints.glob("*/*/*") if p.name.isdigit()]:
    assert process.poll() is None, process.communicate()
    assert time.monotonic() < deadline, "no checkpoint within 60 s"
    time.sleep(0.05)
  process.send_signal(signal.SIGTERM)
  _, err = process.communicate(timeout=60)
  assert process.returncode == 130, err
  assert "interrupted" in err and "Traceback" not in err
  assert not (workdir / "resumable" / "smoke").exists()
  assert not [p for p in (workdir / "resumable").iterdir()]  # no staging
  assert [p for p in checkpoints.glob("*/*/*") if p.name.isdigit()]

  process = fake_cli(*args)
  _, err = process.communicate(timeout=120)
  assert process.returncode == 0, err
  assert "resuming" in err or "restoring" in err.lower(), err
  summary = json.loads((workdir / "resumable/smoke/summary.json").read_text())
  assert summary["metrics"] == reference["metrics"]
  assert (workdir / "resumable/smoke/metrics.jsonl").read_text() == (
    tmp_path / "reference/resumable/smoke/metrics.jsonl"
  ).read_text()
  assert not (workdir / launch.CHECKPOINTS).exists()


def test_unwritable_workdir_is_a_one_line_error(test_studies, tmp_path, capsys):
  blocker = tmp_path / "a_file"
  blocker.write_text("")
  code, _, err = run_cli(
    capsys, "--study=fake", "--preset=smoke", f"--workdir={blocker}/results"
  )
  assert code == 2 and err.startswith("error: cannot write to --workdir=")
  assert len(err.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_workdir_is_a_one_line_error(test_studies, tmp_path, capsys):
  tmp_path.chmod(0o500)
  try:
    code, _, err = run_cli(
      capsys, "--study=fake", "--preset=smoke", f"--workdir={tmp_path}"
    )
  finally:
    tmp_path.chmod(0o700)
  assert code == 2 and "cannot write to --workdir=" in err


@pytest.mark.parametrize("failing", ["write_metrics_jsonl", "publish"])
def test_write_error_publishes_nothing(
  test_studies, tmp_path, capsys, monkeypatch, failing
):
  workdir = tmp_path / "results"
  assert (
    run_cli(capsys, "--study=fake", "--preset=smoke", f"--workdir={workdir}")[0]
    == 0
  )
  before = {p: (workdir / p).read_bytes() for p in published(workdir)}

  def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[0]))

  monkeypatch.setattr(report, failing, disk_full)
  code, _, err = run_cli(
    capsys, "--study=fake", "--preset=smoke", "--seed=1", f"--workdir={workdir}"
  )
  assert code == 2, err
  assert err.startswith("error: writing the results of fake/smoke")
  assert "No space left on device" in err and "nothing was published" in err
  assert len(err.strip().splitlines()) == 1
  after = {p: (workdir / p).read_bytes() for p in published(workdir)}
  assert after == before
  assert not [p for p in (workdir / "fake").iterdir() if p.name != "smoke"]


def test_publish_failure_restores_the_previous_results(tmp_path, monkeypatch):
  destination = tmp_path / "study" / "smoke"
  destination.mkdir(parents=True)
  (destination / "summary.json").write_text("old")
  staging = tmp_path / "study" / ".staging"
  staging.mkdir()
  (staging / "summary.json").write_text("new")
  renames = []
  real_rename = os.rename

  def flaky_rename(src, dst):
    renames.append((src, dst))
    if len(renames) == 2:
      raise OSError(errno.EIO, "I/O error")
    real_rename(src, dst)

  monkeypatch.setattr(os, "rename", flaky_rename)
  with pytest.raises(OSError):
    report.publish(str(staging), str(destination))
  assert (destination / "summary.json").read_text() == "old"


def noisy(params, key):
  target = 3.0 + jax.random.normal(key, params.shape)
  return jnp.sum((params - target) ** 2), {}


def corrupt(step_dir: pathlib.Path) -> None:
  for path in step_dir.rglob("*"):
    if path.is_file():
      path.write_bytes(b"\x00garbage")


def test_corrupted_checkpoint_falls_back_to_the_previous(tmp_path, caplog):
  key = rng.stream(0, "train")
  full, full_history = train.fit(
    noisy, optax.adam(0.05), jnp.zeros(3), key, 60, chunk_steps=20
  )
  root = str(tmp_path / "ckpt")
  train.fit(
    noisy,
    optax.adam(0.05),
    jnp.zeros(3),
    key,
    40,
    chunk_steps=20,
    checkpoints=checkpoint.RunCheckpoints(root, every_steps=1),
  )
  directory = tmp_path / "ckpt" / "001-train"
  assert checkpoint.all_steps(str(directory)) == [20, 40]
  corrupt(directory / "40")
  with caplog.at_level(logging.WARNING):
    resumed, history = train.fit(
      noisy,
      optax.adam(0.05),
      jnp.zeros(3),
      key,
      60,
      chunk_steps=20,
      checkpoints=checkpoint.RunCheckpoints(root, every_steps=1),
    )
  assert "checkpoint 40" in caplog.text and "falling back to step 20" in (
    caplog.text
  )
  np.testing.assert_array_equal(resumed.params, full.params)
  np.testing.assert_array_equal(history["loss"], full_history["loss"])


def test_all_checkpoints_corrupted_restarts_with_a_warning(tmp_path, caplog):
  directory = tmp_path / "ckpt"
  for step in (1, 2):
    checkpoint.save(str(directory), step, {"x": jnp.ones(2) * step})
    corrupt(directory / str(step))
  with caplog.at_level(logging.WARNING):
    assert checkpoint.restore_latest(str(directory), {"x": jnp.zeros(2)}) is (
      None
    )
  assert "restarting from step 0" in caplog.text


def test_nan_names_the_step_the_metric_and_the_replica():
  def diverging(params, key):
    del key
    return jnp.sum(params**2) * jnp.exp(params[0] * 50.0), {}

  params = jnp.stack([jnp.zeros(2), jnp.ones(2)])
  with pytest.raises(
    UserError,
    match=r"the metric 'loss' became NaN/inf at "
    r"step \d+ \(replica 1\)",
  ):
    train.fit(
      diverging,
      optax.sgd(10.0),
      params,
      rng.replica_keys(rng.stream(0, "train"), 2),
      50,
      replicated=True,
      chunk_steps=10,
    )


def test_nan_in_a_launched_run_is_one_line_with_the_step(
  test_studies, tmp_path, capsys
):
  code, _, err = run_cli(
    capsys,
    "--study=fake",
    "--preset=smoke",
    "--set=lr=100",
    f"--workdir={tmp_path}",
  )
  assert code == 2
  assert "the metric 'loss' became NaN/inf at step" in err
  assert len(err.strip().splitlines()) == 1
  assert not list(tmp_path.glob("fake/*"))
