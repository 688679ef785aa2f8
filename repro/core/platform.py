"""Accelerator check, multi-host init and the environment record."""

from __future__ import annotations

import importlib.metadata
import os
import platform as python_platform
import subprocess

import jax
from absl import logging

from repro.core.errors import UserError

ACCELERATORS = ("cpu", "gpu", "tpu")
RECORDED_PACKAGES = (
  "jax",
  "jaxlib",
  "flax",
  "optax",
  "chex",
  "numpyro",
  "blackjax",
  "orbax-checkpoint",
  "tensorflow-datasets",
  "numpy",
  "scipy",
)
# jax config values that change numbers or placement, recorded per run.
RECORDED_JAX_FLAGS = (
  "jax_enable_x64",
  "jax_default_matmul_precision",
  "jax_threefry_partitionable",
  "jax_cpu_collectives_implementation",
  "jax_platforms",
  "jax_compilation_cache_dir",
)


def initialize_multihost(
  coordinator_address: str | None = None,
  num_processes: int | None = None,
  process_id: int | None = None,
  cpu_collectives: str = "gloo",
) -> None:
  """Starts ``jax.distributed``; must run before any other JAX call.

  With no arguments JAX detects the cluster (Cloud TPU slice, SLURM, the
  ``JAX_COORDINATOR_ADDRESS``/``JAX_NUM_PROCESSES``/``JAX_PROCESS_ID``
  variables). Explicit arguments start processes by hand, e.g. two on one
  machine: ``--coordinator_address=localhost:PORT --num_processes=2
  --process_id=0|1``. On the CPU backend the cross-process collectives are
  switched on (``cpu_collectives``: gloo or mpi), so a mesh can span
  processes.
  """
  if cpu_collectives:
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
  kwargs = {}
  if coordinator_address:
    kwargs["coordinator_address"] = coordinator_address
  if num_processes is not None:
    kwargs["num_processes"] = num_processes
  if process_id is not None:
    kwargs["process_id"] = process_id
  try:
    jax.distributed.initialize(**kwargs)
  except (RuntimeError, ValueError) as e:
    raise UserError(
      f"--multihost: jax.distributed.initialize() failed "
      f"({str(e).splitlines()[0] if str(e) else type(e).__name__}); run on "
      "a cluster JAX can detect (Cloud TPU, SLURM) or pass "
      "--coordinator_address, --num_processes and --process_id"
    ) from None


def select_accelerator(accelerator: str) -> list[jax.Device]:
  """Makes ``accelerator`` the platform of this run, or raises UserError.

  Never falls back silently: asking for a GPU on a machine without one is
  an error, not a CPU run.
  """
  if accelerator not in ACCELERATORS:
    raise UserError(
      f"unknown --accelerator={accelerator!r}; choose one of "
      f"{', '.join(ACCELERATORS)}"
    )
  if accelerator == "cpu":
    jax.config.update("jax_platforms", "cpu")
  try:
    devices = jax.devices(accelerator)
  except RuntimeError:
    devices = []
  if not devices:
    raise UserError(
      f"--accelerator={accelerator}: no {accelerator.upper()} is visible to "
      f"JAX on this machine (found: {_available_platforms()}); install the "
      f"matching jax build (e.g. pip install 'jax[cuda12]' or 'jax[tpu]') "
      "or choose --accelerator=cpu"
    )
  # This process's first device: with several processes, devices[0] may
  # belong to another one.
  jax.config.update(
    "jax_default_device", jax.local_devices(backend=accelerator)[0]
  )
  return devices


def default_compilation_cache_dir() -> str:
  """``$XDG_CACHE_HOME/repro/jax`` (``~/.cache/repro/jax`` by default)."""
  root = os.environ.get("XDG_CACHE_HOME") or os.path.join(
    os.path.expanduser("~"), ".cache"
  )
  return os.path.join(root, "repro", "jax")


def enable_compilation_cache(directory: str | None = None) -> str | None:
  """Turns on JAX's persistent compilation cache in ``directory``.

  Every compiled program is stored (no minimum compile time), so a rerun
  of a study, or its next seed in a new process, loads its programs
  instead of compiling them; the cache is keyed by the program, the jax
  version and the devices, so it never changes a number. Several processes
  may share it. If the directory cannot be created the run goes on without
  the cache (with a warning) and None is returned.
  """
  directory = (
    directory
    or jax.config.jax_compilation_cache_dir
    or default_compilation_cache_dir()
  )
  try:
    os.makedirs(directory, exist_ok=True)
  except OSError as e:
    logging.warning(
      "no compilation cache: cannot create %s (%s)", directory, e.strerror or e
    )
    return None
  jax.config.update("jax_compilation_cache_dir", directory)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return directory


def _available_platforms() -> str:
  try:
    return ", ".join(sorted({d.platform for d in jax.devices()}))
  except RuntimeError:
    return "none"


def environment_record() -> dict:
  """Versions, devices and commit, stored in every summary.json."""
  versions = {}
  for package in RECORDED_PACKAGES:
    try:
      versions[package] = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
      versions[package] = None
  devices = jax.devices()
  return {
    "versions": versions,
    "python": python_platform.python_version(),
    "platform": devices[0].platform,
    "device_kind": devices[0].device_kind,
    "device_count": jax.device_count(),
    "devices": [str(d) for d in devices],
    "process_count": jax.process_count(),
    "local_device_count": jax.local_device_count(),
    "xla_flags": os.environ.get("XLA_FLAGS", "").strip(),
    "jax_flags": {
      name: str(jax.config.values[name])
      for name in RECORDED_JAX_FLAGS
      if name in jax.config.values
    },
    "commit": git_commit(),
  }


def git_commit() -> str | None:
  """The checkout's commit (with ``-dirty`` if modified), or None."""
  root = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  )
  try:
    commit = subprocess.run(
      ["git", "-C", root, "rev-parse", "HEAD"],
      capture_output=True,
      text=True,
      check=True,
      timeout=10,
    ).stdout.strip()
    dirty = subprocess.run(
      ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
      capture_output=True,
      text=True,
      check=True,
      timeout=10,
    ).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    return None
  return commit + ("-dirty" if dirty else "")
