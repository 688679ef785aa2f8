"""Two processes on localhost run a smoke preset together.

Each process has 2 fake CPU devices; ``jax.distributed`` joins them into
one 4-device mesh with the gloo CPU collectives. The replica axis of
robust_erm (the cheapest study that shards one) spans both processes. The
summary must match the one-process run on 4 devices, only process 0 may
write results, and each process must read its own slice of a dataset.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.core import smoke_runs
from tests.test_scaling import ATOL, RTOL, measured

# Two launcher processes per test module: run with pytest -m heavy.
pytestmark = pytest.mark.heavy

STUDY = "robust_erm"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
  reference = smoke_runs.smoke_run(STUDY)  # One process, 4 devices.
  root = tmp_path_factory.mktemp("multihost")
  port = free_port()
  env = {
    **os.environ,
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
  }
  processes = []
  for index in range(2):
    processes.append(
      subprocess.Popen(
        [
          sys.executable,
          "-m",
          "tests.launch.multihost_worker",
          f"--check_out={root}/check{index}.json",
          f"--study={STUDY}",
          "--preset=smoke",
          f"--workdir={root}/results{index}",
          f"--data_dir={reference.run_dir.parents[2] / 'data'}",
          "--multihost",
          f"--coordinator_address=localhost:{port}",
          "--num_processes=2",
          f"--process_id={index}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
      )
    )
  outputs = []
  for process in processes:
    try:
      outputs.append(process.communicate(timeout=300))
    except subprocess.TimeoutExpired:
      for p in processes:
        p.kill()
      raise
  for process, (_, err) in zip(processes, outputs, strict=True):
    assert process.returncode == 0, err[-3000:]
  checks = [json.loads((root / f"check{i}.json").read_text()) for i in range(2)]
  return reference, root, checks


def test_two_processes_give_the_one_process_summary(two_processes):
  reference, root, _ = two_processes
  summary = json.loads(
    (root / "results0" / STUDY / "smoke" / "summary.json").read_text()
  )
  assert summary["env"]["process_count"] == 2
  assert summary["env"]["device_count"] == 4
  assert {c["id"]: c["verdict"] for c in summary["claims"]} == {
    c["id"]: c["verdict"] for c in reference.record["claims"]
  }
  expected = measured(reference.record)
  assert measured(summary).keys() == expected.keys()
  for name, value in expected.items():
    np.testing.assert_allclose(
      summary["metrics"][name], value, rtol=RTOL, atol=ATOL, err_msg=name
    )


def test_only_process_zero_writes_results(two_processes):
  _, root, _ = two_processes
  assert (root / "results0" / STUDY / "smoke" / "report.md").exists()
  written = [p for p in (root / "results1").rglob("*") if p.is_file()]
  assert written == []


def test_each_process_reads_its_own_rows(two_processes):
  _, _, checks = two_processes
  assert [c["rows"] for c in checks] == [[0, 10], [10, 20]]
  rows = np.arange(40, dtype=np.float32).reshape(20, 2)
  for check in checks:
    assert check["processes"] == 2 and check["devices"] == 4
    assert check["local_devices"] == 2 and check["batch_shards"] == 4
    np.testing.assert_allclose(check["global_sum"], rows.sum(0))
    np.testing.assert_array_equal(check["gathered"], rows)
