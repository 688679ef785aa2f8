"""Test setup: 4 fake CPU devices, set before JAX is imported anywhere."""

import os

os.environ["XLA_FLAGS"] = (
  os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
)
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def pytest_collection_modifyitems(config, items):
  """Keeps the tests that share a study's smoke runs on one xdist worker.

  tests/core/smoke_runs caches each study's smoke run per process; with
  ``pytest -n 2 --dist loadgroup`` the study's own tests, its scaling
  comparison and (for robust_erm) the determinism and multi-host tests go
  to the same worker, so every run still happens once.
  """
  import pathlib

  import pytest

  for item in items:
    path = pathlib.Path(str(item.fspath))
    group = None
    if path.parent.name == "studies" and path.stem.startswith("test_"):
      group = path.stem[len("test_") :]
    elif path.name == "test_scaling.py" and hasattr(item, "callspec"):
      group = next(iter(item.callspec.params.values()))
    elif path.name in ("test_determinism.py", "test_multihost.py"):
      group = "robust_erm"
    elif path.parent.name == "bench":
      group = "bench"  # counts compiles: keep its own process state
    if group is not None:
      item.add_marker(pytest.mark.xdist_group(str(group)))
