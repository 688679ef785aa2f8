"""Smoke runs shared by the tests of one pytest session.

A study's smoke preset is run once per device count and reused: by the
study's own test (summary shape, figures) and by tests/test_scaling.py
(1 device against 4, placements) and tests/test_multihost.py (one process
against two). That keeps the default test time to one extra run per study.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import pathlib
import shutil
import tempfile

from repro import launch
from repro.core import parallel

# Studies whose smoke test must read their data from a fresh data_dir.
DATA_DIR_STUDIES = ("robust_erm",)


@dataclasses.dataclass(frozen=True)
class SmokeRun:
  record: dict  # The summary record run_study returned.
  run_dir: pathlib.Path  # workdir/<study>/smoke with the published files.
  placements: tuple  # parallel.record_placements() of the run.


@functools.cache
def smoke_run(
  study: str, devices: int | None = None, seed: int = 0, repeat: int = 0
) -> SmokeRun:
  """Runs ``study``'s smoke preset on ``devices`` devices (None: all).

  ``repeat`` > 0 forces a fresh run of the same arguments (determinism).
  """
  del repeat  # Only part of the cache key.
  root = pathlib.Path(tempfile.mkdtemp(prefix=f"smoke-{study}-"))
  atexit.register(shutil.rmtree, root, ignore_errors=True)
  data_dir = str(root / "data") if study in DATA_DIR_STUDIES else None
  with parallel.limit_devices(devices), parallel.record_placements() as log:
    record = launch.run_study(
      study,
      "smoke",
      seed=seed,
      workdir=str(root / "results"),
      data_dir=data_dir,
    )
  return SmokeRun(record, root / "results" / study / "smoke", tuple(log))
