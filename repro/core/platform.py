"""Accelerator check, multi-host init and the environment record."""

from __future__ import annotations

import importlib.metadata
import os
import platform as python_platform
import subprocess

import jax

from repro.core.errors import UserError

ACCELERATORS = ("cpu", "gpu", "tpu")
RECORDED_PACKAGES = ("jax", "jaxlib", "flax", "optax", "chex", "numpyro",
                     "blackjax", "orbax-checkpoint", "tensorflow-datasets",
                     "numpy", "scipy")


def initialize_multihost() -> None:
  """Starts ``jax.distributed``; must run before any other JAX call."""
  try:
    jax.distributed.initialize()
  except (RuntimeError, ValueError) as e:
    raise UserError(
        f"--multihost: jax.distributed.initialize() failed ({e}); run on a "
        "cluster JAX can detect (Cloud TPU, SLURM) or set "
        "JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID"
    ) from None


def select_accelerator(accelerator: str) -> list[jax.Device]:
  """Makes ``accelerator`` the platform of this run, or raises UserError.

  Never falls back silently: asking for a GPU on a machine without one is
  an error, not a CPU run.
  """
  if accelerator not in ACCELERATORS:
    raise UserError(f"unknown --accelerator={accelerator!r}; choose one of "
                    f"{', '.join(ACCELERATORS)}")
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
        "or choose --accelerator=cpu")
  jax.config.update("jax_default_device", devices[0])
  return devices


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
      "process_count": jax.process_count(),
      "commit": git_commit(),
  }


def git_commit() -> str | None:
  """The checkout's commit (with ``-dirty`` if modified), or None."""
  root = os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))
  try:
    commit = subprocess.run(
        ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
        text=True, check=True, timeout=10).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, check=True, timeout=10).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    return None
  return commit + ("-dirty" if dirty else "")
