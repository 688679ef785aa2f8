r"""Runs studies: ``python -m repro.launch --study=NAME [flags]``.

Examples:
  python -m repro.launch --study=robust_erm                # cpu preset
  python -m repro.launch --study=all --preset=smoke
  python -m repro.launch --study=robust_erm --set linear.steps=5000
  python -m repro.launch --study=bnn_attacks --accelerator=tpu   # paper preset
  python -m repro.launch --list
  # Two processes on one machine (CPU collectives over gloo):
  python -m repro.launch --study=goldilocks --preset=smoke --multihost \
      --coordinator_address=localhost:12355 --num_processes=2 --process_id=0

Order (DESIGN.md): multi-host init first (only with --multihost) -> the
accelerator must exist, else exit 2 -> configs built and overrides applied
for every selected study (a typo fails before anything runs) -> run ->
results written atomically under ``--workdir/<study>/<preset>/`` and the
index ``--workdir/README.md`` regenerated.

Resume: long loops checkpoint (orbax) under
``--workdir/.checkpoints/<study>/<preset>-<config hash>/``; a rerun with the
same arguments (same config, seed and overrides) resumes from there, and the
directory is removed once the results are published. SIGTERM/SIGINT stop a
run cleanly: the staging directory is removed, the checkpoints stay.
With several processes only process 0 writes results.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence

from absl import app, flags, logging

from repro import registry
from repro.core import checkpoint as checkpoint_lib
from repro.core import claims as claims_lib
from repro.core import config as config_lib
from repro.core import platform, report
from repro.core.errors import UserError

FLAGS = flags.FLAGS
flags.DEFINE_string("study", None, "A study name, a comma list, or all.")
flags.DEFINE_string("preset", None,
                    "smoke | cpu | paper (default: cpu on cpu, paper on "
                    "gpu/tpu).")
flags.DEFINE_string("accelerator", "cpu", "cpu | gpu | tpu; must be present.")
flags.DEFINE_integer("seed", 0, "Root seed of all random streams.")
flags.DEFINE_multi_string("set", [], "Config override key=value "
                          "(repeatable; dotted keys).")
flags.DEFINE_string("workdir", "results", "Where results are written.")
flags.DEFINE_string("data_dir", None, "TFDS data directory for datasets.")
flags.DEFINE_bool("multihost", False,
                  "Call jax.distributed.initialize() before anything else.")
flags.DEFINE_string("coordinator_address", None,
                    "With --multihost: host:port of process 0 (default: "
                    "detected by JAX on TPU/SLURM).")
flags.DEFINE_integer("num_processes", None,
                     "With --multihost: number of processes (default: "
                     "detected).")
flags.DEFINE_integer("process_id", None,
                     "With --multihost: this process's index (default: "
                     "detected).")
flags.DEFINE_integer("checkpoint_every", 0,
                     "Long loops checkpoint every N steps (0: every "
                     "--checkpoint_interval_s seconds).")
flags.DEFINE_float("checkpoint_interval_s", 120.0,
                   "With --checkpoint_every=0: seconds between checkpoints.")
flags.DEFINE_string("checkpoint_dir", None,
                    "Root of the resume checkpoints (default: "
                    "WORKDIR/.checkpoints; with several processes give a "
                    "directory all of them see, e.g. gs://bucket/ckpt).")
flags.DEFINE_bool("resume", True, "Resume from the checkpoints of an "
                  "interrupted run with the same arguments (--noresume "
                  "discards them).")
flags.DEFINE_bool("list", False, "List studies, presets and claims; exit.")

CHECKPOINTS = ".checkpoints"


def default_preset(accelerator: str) -> str:
  return "cpu" if accelerator == "cpu" else "paper"


def build_study_config(study: str, preset: str, seed: int = 0,
                       overrides: Sequence[str] = (),
                       data_dir: str | None = None):
  """The locked config of one study, flags and overrides applied."""
  module = registry.load(study)
  return module, config_lib.build_config(
      module.get_config, preset, overrides, seed=seed,
      data_dir=data_dir or "")


def run_checkpoint_dir(workdir: str, study: str, preset: str, config,
                       root: str | None = None) -> str:
  """Where one run's loops checkpoint: keyed by the whole config.

  The config holds the seed, the overrides and the data_dir, so a rerun
  with the same arguments finds the same directory and another run never
  resumes from it.
  """
  digest = hashlib.sha256(json.dumps(
      config_lib.to_jsonable(config), sort_keys=True).encode()).hexdigest()
  root = root or os.path.join(workdir, CHECKPOINTS)
  return os.path.join(root, study, f"{preset}-{digest[:12]}")


def run_study(study: str, preset: str, seed: int = 0,
              overrides: Sequence[str] = (), workdir: str = "results",
              data_dir: str | None = None, config=None, *,
              checkpoint_every: int = 0,
              checkpoint_interval_s: float = 120.0,
              checkpoint_root: str | None = None,
              resume: bool = True) -> dict:
  """Runs one study and writes its results; returns the summary record.

  The experiment writes into a staging directory; the summary, metrics and
  report are added there and the directory replaces
  ``workdir/study/preset`` only when everything succeeded. Long loops
  checkpoint under ``run_checkpoint_dir`` (see the module doc); those
  checkpoints are removed after the results are published.

  Raises:
    UserError: bad input, an unwritable workdir or a failed write (nothing
      is published then).
  """
  import jax  # Imported late so --multihost can initialise first.

  module, built = build_study_config(study, preset, seed, overrides, data_dir)
  config = built if config is None else config
  writer = jax.process_index() == 0
  # Process 0 alone writes results; the others stage figures in a scratch
  # directory of their own.
  staging = (_make_staging(workdir, study, preset) if writer
             else tempfile.mkdtemp(prefix=f"repro-{study}-"))
  checkpoints = None
  if jax.process_count() == 1 or checkpoint_root:
    checkpoints = run_checkpoint_dir(workdir, study, preset, config,
                                     checkpoint_root)
    if not resume and writer:
      shutil.rmtree(checkpoints, ignore_errors=True)
  try:
    logging.info("%s/%s: running (seed %d)", study, preset, seed)
    start = time.perf_counter()
    if checkpoints is None:
      logging.info("no resume checkpoints with several processes unless "
                   "--checkpoint_dir names a shared directory")
      summary = module.run(config, staging)
    else:
      with checkpoint_lib.run_checkpoints(
          checkpoints, checkpoint_every, checkpoint_interval_s):
        summary = module.run(config, staging)
    wall_time = time.perf_counter() - start
    verdicts = claims_lib.evaluate_all(module.CLAIMS, summary.metrics)
    record = {
        "study": study,
        "preset": preset,
        "seed": seed,
        "config": config_lib.to_jsonable(config),
        "metrics": summary.metrics,
        "claims": verdicts,
        "wall_time_s": wall_time,
        "env": platform.environment_record(),
    }
    record = report.jsonable(record)
    if not writer:
      return record
    destination = report.final_dir(workdir, study, preset)
    try:
      report.write_json(os.path.join(staging, report.SUMMARY), record)
      report.write_metrics_jsonl(os.path.join(staging, report.METRICS),
                                 summary.curves)
      report.write_report(os.path.join(staging, report.REPORT), record,
                          module.TITLE, module.ARXIV, summary.figures,
                          summary.notes)
      report.publish(staging, destination)
      report.write_index(workdir)
    except OSError as e:
      raise UserError(
          f"writing the results of {study}/{preset} under {workdir!r} "
          f"failed ({_os_error(e)}); nothing was published, the previous "
          "results are unchanged - free space or fix permissions and rerun "
          "(the run resumes from its checkpoints)") from None
    if checkpoints is not None:
      shutil.rmtree(checkpoints, ignore_errors=True)
      _remove_empty_parents(checkpoints, workdir)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  passed = sum(c["verdict"] == "PASS" for c in verdicts)
  logging.info("%s/%s: %d/%d claims reproduced in %.1f s -> %s", study,
               preset, passed, len(verdicts), wall_time, destination)
  return record


def _make_staging(workdir: str, study: str, preset: str) -> str:
  try:
    return report.make_staging_dir(workdir, study, preset)
  except OSError as e:
    raise UserError(f"cannot write to --workdir={workdir} ({_os_error(e)}); "
                    "choose a writable directory") from None


def _os_error(error: OSError) -> str:
  text = error.strerror or str(error) or type(error).__name__
  return f"{text}: {error.filename}" if error.filename else text


def _remove_empty_parents(path: str, workdir: str) -> None:
  """Removes the empty ``.checkpoints/<study>`` folders left behind."""
  stop = os.path.abspath(workdir)
  path = os.path.dirname(os.path.abspath(path))
  while path.startswith(stop) and path != stop:
    try:
      os.rmdir(path)
    except OSError:
      return
    path = os.path.dirname(path)


def check_workdir(workdir: str) -> None:
  """Fails early (UserError) when ``workdir`` cannot be written."""
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = tempfile.NamedTemporaryFile(dir=workdir, prefix=".write-test-")
    probe.close()
  except OSError as e:
    raise UserError(f"cannot write to --workdir={workdir} ({_os_error(e)}); "
                    "choose a writable directory") from None


def describe_studies() -> str:
  """The text of ``--list``: studies, presets and their claims."""
  lines = [f"presets: {', '.join(config_lib.PRESETS)}", ""]
  for study in registry.STUDIES:
    if not registry.is_built(study):
      lines.append(f"{study}  (not built yet)")
      continue
    try:
      module = registry.load(study)
      title = f"{module.TITLE} (arXiv {module.ARXIV})"
    except (ImportError, AttributeError) as e:
      lines.append(f"{study}  (cannot be loaded: {e})")
      continue
    lines.append(f"{study}  — {title}")
    for claim in module.CLAIMS:
      lines.append(f"  {claim.id}: {claim.text}  [{claim.metric} {claim.op} "
                   f"{claim.threshold}]")
    keys = config_lib.flatten_keys(module.get_config("cpu"))
    lines.append(f"  config keys: {', '.join(keys)}")
  return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise UserError(f"unexpected arguments {' '.join(argv[1:])!r}; flags "
                    "are written --name=value")
  if FLAGS.multihost:
    platform.initialize_multihost(FLAGS.coordinator_address,
                                  FLAGS.num_processes, FLAGS.process_id)
  elif FLAGS.coordinator_address or FLAGS.num_processes or (
      FLAGS.process_id is not None):
    raise UserError("--coordinator_address, --num_processes and "
                    "--process_id need --multihost")
  platform.select_accelerator(FLAGS.accelerator)
  if FLAGS.list:
    print(describe_studies())
    return
  preset = FLAGS.preset or default_preset(FLAGS.accelerator)
  studies = registry.resolve(FLAGS.study or "")
  # Build every config first: a typo'd override fails before any run.
  for study in studies:
    build_study_config(study, preset, FLAGS.seed, FLAGS.set, FLAGS.data_dir)
  import jax  # After the multi-host init.
  if jax.process_index() == 0:
    check_workdir(FLAGS.workdir)
  for study in studies:
    run_study(study, preset, FLAGS.seed, FLAGS.set, FLAGS.workdir,
              FLAGS.data_dir, checkpoint_every=FLAGS.checkpoint_every,
              checkpoint_interval_s=FLAGS.checkpoint_interval_s,
              checkpoint_root=FLAGS.checkpoint_dir, resume=FLAGS.resume)


def _parse_flags(argv: list[str]) -> list[str]:
  """absl flag parsing with a one-line error and exit code 2."""
  try:
    return FLAGS(argv)
  except flags.Error as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


def run_main(argv: Sequence[str]) -> None:
  """``main`` with user errors turned into one line on stderr and exit 2."""
  previous = signal.signal(signal.SIGTERM, _interrupt)
  try:
    main(argv)
  except UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  except KeyboardInterrupt:
    print("error: interrupted; nothing was published - rerun the same "
          "command to resume from the checkpoints", file=sys.stderr)
    sys.exit(130)
  finally:
    signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame):
  """SIGTERM as KeyboardInterrupt: cleanup runs, checkpoints stay."""
  del signum, frame
  raise KeyboardInterrupt


if __name__ == "__main__":
  app.run(run_main, flags_parser=_parse_flags)
