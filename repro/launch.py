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

import dataclasses
import hashlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence

import numpy as np
from absl import app, flags, logging

from repro import registry
from repro.core import checkpoint as checkpoint_lib
from repro.core import claims as claims_lib
from repro.core import compile_clock, platform, report, seed_curves
from repro.core import config as config_lib
from repro.core import plan as plan_lib
from repro.core.errors import UserError
from repro.core.summary import Figure

FLAGS = flags.FLAGS
flags.DEFINE_string("study", None, "A study name, a comma list, or all.")
flags.DEFINE_string(
  "preset", None, "smoke | cpu | paper (default: cpu on cpu, paper on gpu/tpu)."
)
flags.DEFINE_string("accelerator", "cpu", "cpu | gpu | tpu; must be present.")
flags.DEFINE_integer("seed", 0, "Root seed of all random streams.")
flags.DEFINE_string(
  "seeds",
  "",
  "Run several root seeds and decide every "
  "claim over them: N runs --seed..--seed+N-1, a,b,c runs "
  "those seeds (default: the one --seed).",
)
flags.DEFINE_multi_string(
  "set", [], "Config override key=value (repeatable; dotted keys)."
)
flags.DEFINE_string("workdir", "results", "Where results are written.")
flags.DEFINE_string("data_dir", None, "TFDS data directory for datasets.")
flags.DEFINE_bool(
  "multihost", False, "Call jax.distributed.initialize() before anything else."
)
flags.DEFINE_string(
  "coordinator_address",
  None,
  "With --multihost: host:port of process 0 (default: "
  "detected by JAX on TPU/SLURM).",
)
flags.DEFINE_integer(
  "num_processes",
  None,
  "With --multihost: number of processes (default: detected).",
)
flags.DEFINE_integer(
  "process_id",
  None,
  "With --multihost: this process's index (default: detected).",
)
flags.DEFINE_integer(
  "checkpoint_every",
  0,
  "Long loops checkpoint every N steps (0: every "
  "--checkpoint_interval_s seconds).",
)
flags.DEFINE_float(
  "checkpoint_interval_s",
  120.0,
  "With --checkpoint_every=0: seconds between checkpoints.",
)
flags.DEFINE_string(
  "checkpoint_dir",
  None,
  "Root of the resume checkpoints (default: "
  "WORKDIR/.checkpoints; with several processes give a "
  "directory all of them see, e.g. gs://bucket/ckpt).",
)
flags.DEFINE_bool(
  "resume",
  True,
  "Resume from the checkpoints of an "
  "interrupted run with the same arguments (--noresume "
  "discards them).",
)
flags.DEFINE_string(
  "compilation_cache_dir",
  None,
  "JAX's persistent compilation cache (default: "
  "$XDG_CACHE_HOME/repro/jax or ~/.cache/repro/jax); a "
  "rerun reuses the compiled programs of earlier runs.",
)
flags.DEFINE_bool(
  "compilation_cache",
  True,
  "Use the persistent compilation cache (--nocompilation_cache turns it off).",
)
flags.DEFINE_bool(
  "plan",
  False,
  "Print the compute plan of the selected "
  "studies' preset (FLOPs, bytes, memory per step, steps, "
  "estimated time and memory on named accelerators) without "
  "training or reading data; exit.",
)
flags.DEFINE_enum(
  "plan_device",
  "h100",
  list(plan_lib.ACCELERATORS),
  "With --plan: exit 2 if a phase does not fit this accelerator's memory.",
)
flags.DEFINE_bool(
  "dry_run",
  False,
  "Build and check every config, print "
  "what would run, run nothing (the accelerator need not be "
  "present); exit.",
)
flags.DEFINE_bool("list", False, "List studies, presets and claims; exit.")

CHECKPOINTS = ".checkpoints"
RESULT = "result"  # A finished seed's results, beside its checkpoints.
FIGURES = ".figures.json"  # A finished seed's figure list (not published).
NOTES = ".notes.json"  # A finished seed's report notes (not published).


def default_preset(accelerator: str) -> str:
  return "cpu" if accelerator == "cpu" else "paper"


def build_study_config(
  study: str,
  preset: str,
  seed: int = 0,
  overrides: Sequence[str] = (),
  data_dir: str | None = None,
):
  """The locked config of one study, flags and overrides applied.

  A study's ``check_config(config)`` (in its config.py, exported by the
  package) validates values that types cannot (ranges, consistency); it
  raises ``UserError`` so a bad value stops the launcher before any run.
  """
  module = registry.load(study)
  config = config_lib.build_config(
    module.get_config, preset, overrides, seed=seed, data_dir=data_dir or ""
  )
  if hasattr(module, "check_config"):
    module.check_config(config)
  return module, config


def run_checkpoint_dir(
  workdir: str, study: str, preset: str, config, root: str | None = None
) -> str:
  """Where one run's loops checkpoint: keyed by the whole config.

  The config holds the seed, the overrides and the data_dir, so a rerun
  with the same arguments finds the same directory and another run never
  resumes from it.
  """
  digest = hashlib.sha256(
    json.dumps(config_lib.to_jsonable(config), sort_keys=True).encode()
  ).hexdigest()
  root = root or os.path.join(workdir, CHECKPOINTS)
  return os.path.join(root, study, f"{preset}-{digest[:12]}")


def parse_seeds(text: str, seed: int) -> list[int]:
  """The root seeds of ``--seeds``: ``N`` is seed..seed+N-1, ``a,b,c`` a list.

  An empty value means the one seed ``--seed``.
  """
  text = (text or "").strip()
  if not text:
    return [seed]
  try:
    if "," in text:
      seeds = [int(part) for part in text.split(",") if part.strip()]
    else:
      count = int(text)
      if count < 1:
        raise ValueError
      seeds = list(range(seed, seed + count))
  except ValueError:
    raise UserError(
      f"--seeds={text}: expected a count (e.g. 5) or a comma "
      "list of seeds (e.g. 0,3,7)"
    ) from None
  if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
    raise UserError(f"--seeds={text}: seeds must be distinct and >= 0")
  return seeds


@dataclasses.dataclass
class SeedRun:
  """One seed's finished run: its summary record and the folder with its
  files (summary.json, report.md, metrics.jsonl, figures)."""

  seed: int
  record: dict
  directory: str
  figures: list


def run_study(
  study: str,
  preset: str,
  seed: int = 0,
  overrides: Sequence[str] = (),
  workdir: str = "results",
  data_dir: str | None = None,
  *,
  seeds: Sequence[int] | None = None,
  checkpoint_every: int = 0,
  checkpoint_interval_s: float = 120.0,
  checkpoint_root: str | None = None,
  resume: bool = True,
) -> dict:
  """Runs one study over one or several root seeds; returns the summary.

  Each seed runs in turn and its finished results are kept under
  ``workdir/.checkpoints`` (a rerun with the same arguments skips the seeds
  already done, unless ``resume`` is False). With one seed the seed's
  results are published at ``workdir/study/preset``; with several, that
  folder gets the aggregate summary and report (``repro.core.claims``
  decides every claim over the seeds) and each seed's own results under
  ``seeds/<seed>/``. Nothing is published unless every seed succeeded.

  Raises:
    UserError: bad input, an unwritable workdir or a failed write (nothing
      is published then).
  """
  import jax  # Imported late so --multihost can initialise first.

  seeds = [seed] if seeds is None else list(seeds)
  module = registry.load(study)
  configs = [
    build_study_config(study, preset, s, overrides, data_dir)[1] for s in seeds
  ]
  writer = jax.process_index() == 0
  start = time.perf_counter()
  runs = [
    _run_seed(
      module,
      study,
      preset,
      config,
      workdir,
      checkpoint_every=checkpoint_every,
      checkpoint_interval_s=checkpoint_interval_s,
      checkpoint_root=checkpoint_root,
      resume=resume,
    )
    for config in configs
  ]
  if len(runs) == 1:
    record = runs[0].record
  else:
    record = aggregate_record(study, preset, runs, configs[0])
    record["process_wall_time_s"] = time.perf_counter() - start
  if not writer:
    return record
  _publish(module, study, preset, workdir, runs, record)
  for config in configs:
    _remove_seed_dirs(workdir, study, preset, config, checkpoint_root)
  logging.info(
    "%s/%s: %s over %d seed(s) -> %s",
    study,
    preset,
    claims_lib.headline(record["claims"]),
    len(seeds),
    report.final_dir(workdir, study, preset),
  )
  return record


def _run_seed(
  module,
  study: str,
  preset: str,
  config,
  workdir: str,
  *,
  checkpoint_every: int,
  checkpoint_interval_s: float,
  checkpoint_root: str | None,
  resume: bool,
) -> SeedRun:
  """Runs one seed (or finds it finished) and writes its results folder.

  The folder is ``seed_result_dir`` for process 0 of a run that can resume
  (written by rename, so it is complete or absent), a scratch folder
  otherwise.
  """
  import jax

  writer = jax.process_index() == 0
  resumable = jax.process_count() == 1 or bool(checkpoint_root)
  result_dir = seed_result_dir(workdir, study, preset, config)
  checkpoints = _seed_checkpoints(
    workdir,
    study,
    preset,
    config,
    checkpoint_root,
    resumable,
    clear=not resume and writer,
  )
  if resume and jax.process_count() == 1 and _finished_before(result_dir):
    return _finished_seed(result_dir, config.seed)
  staging = (
    _make_staging(workdir, study, preset)
    if writer
    else tempfile.mkdtemp(prefix=f"repro-{study}-")
  )
  try:
    logging.info("%s/%s: running seed %d", study, preset, config.seed)
    run_checkpoints = _run_checkpoints(
      checkpoints, checkpoint_every, checkpoint_interval_s
    )
    summary, record = _execute_seed(
      module, study, preset, config, staging, run_checkpoints
    )
    if not writer:
      return SeedRun(config.seed, record, staging, summary.figures)
    try:
      _write_seed_files(module, staging, record, summary)
      if resumable:
        os.makedirs(os.path.dirname(result_dir), exist_ok=True)
        shutil.rmtree(result_dir, ignore_errors=True)
        os.rename(staging, result_dir)
        staging = result_dir
    except OSError as e:
      raise UserError(
        f"writing the results of {study}/{preset} under {workdir!r} "
        f"failed ({_os_error(e)}); nothing was published, the previous "
        "results are unchanged - free space or fix permissions and rerun "
        "(the run resumes from its checkpoints)"
      ) from None
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  if checkpoints is not None:  # The loops' checkpoints are not needed now.
    _remove_loop_checkpoints(checkpoints)
  claims = record["claims"]
  logging.info(
    "%s/%s seed %d: %s in %.1f s",
    study,
    preset,
    config.seed,
    claims_lib.headline(claims),
    record["wall_time_s"],
  )
  return SeedRun(config.seed, record, staging, summary.figures)


def _finished_before(result_dir: str) -> bool:
  """Whether the seed's results were kept by an earlier run (resume)."""
  if not os.path.exists(os.path.join(result_dir, report.SUMMARY)):
    return False
  logging.info("finished before, reusing %s (--noresume reruns it)", result_dir)
  return True


def _execute_seed(
  module, study: str, preset: str, config, staging: str, run_checkpoints
) -> tuple:
  """Runs the study for one seed; returns its summary and record."""
  start = time.perf_counter()
  with compile_clock.measure() as compile_time:
    summary = module.run(config, staging, run_checkpoints)
  record = seed_record(
    study,
    preset,
    config,
    module.CLAIMS,
    summary,
    time.perf_counter() - start,
    compile_time,
  )
  return summary, record


def _seed_checkpoints(
  workdir: str,
  study: str,
  preset: str,
  config,
  checkpoint_root: str | None,
  resumable: bool,
  *,
  clear: bool,
) -> str | None:
  """The seed's checkpoint folder (None when it cannot resume).

  ``clear`` (``--noresume`` on the writing process) removes the folder and
  the seed's finished results first.
  """
  if not resumable:
    return None
  checkpoints = run_checkpoint_dir(
    workdir, study, preset, config, checkpoint_root
  )
  if clear:
    shutil.rmtree(checkpoints, ignore_errors=True)
    shutil.rmtree(
      seed_result_dir(workdir, study, preset, config), ignore_errors=True
    )
  return checkpoints


def _run_checkpoints(
  checkpoints: str | None, every: int, interval_s: float
) -> checkpoint_lib.RunCheckpoints | None:
  """What the study's loops checkpoint into; None without a folder."""
  if checkpoints is None:
    logging.info(
      "no resume checkpoints with several processes unless "
      "--checkpoint_dir names a shared directory"
    )
    return None
  return checkpoint_lib.RunCheckpoints(checkpoints, every, interval_s)


def _write_seed_files(module, staging: str, record: dict, summary) -> None:
  """summary.json, metrics.jsonl, report.md and the files a resume reads."""
  report.write_json(os.path.join(staging, report.SUMMARY), record)
  report.write_metrics_jsonl(
    os.path.join(staging, report.METRICS), summary.curves
  )
  report.write_report(
    os.path.join(staging, report.REPORT),
    record,
    module.TITLE,
    module.ARXIV,
    summary.figures,
    summary.notes,
  )
  _write_json_quietly(
    os.path.join(staging, FIGURES),
    [dataclasses.asdict(f) for f in summary.figures],
  )
  _write_json_quietly(os.path.join(staging, NOTES), summary.notes)


def seed_record(
  study: str,
  preset: str,
  config,
  claims,
  summary,
  wall_time: float,
  compile_time: compile_clock.CompileTime | None = None,
) -> dict:
  """The summary record of one seed's run."""
  compile_time = compile_time or compile_clock.CompileTime()
  return report.jsonable(
    {
      "study": study,
      "preset": preset,
      "seed": config.seed,
      "seeds": [config.seed],
      "config": config_lib.to_jsonable(config),
      "metrics": summary.metrics,
      "claims": claims_lib.evaluate_all(claims, summary.metrics, preset),
      "wall_time_s": wall_time,
      **compile_time.record(),
      "env": platform.environment_record(),
    }
  )


def aggregate_record(
  study: str, preset: str, runs: Sequence[SeedRun], config
) -> dict:
  """The summary record over several seeds (claims decided over them)."""
  module = registry.load(study)
  per_seed = [run.record["metrics"] for run in runs]
  means, stds = _metric_moments(per_seed)
  return report.jsonable(
    {
      "study": study,
      "preset": preset,
      "seed": None,
      "seeds": [run.seed for run in runs],
      "config": config_lib.to_jsonable(config),
      "metrics": means,
      "metrics_std": stds,
      "claims": claims_lib.aggregate_all(module.CLAIMS, per_seed, preset),
      "interval_method": claims_lib.INTERVAL_METHOD,
      "wall_time_s": sum(run.record["wall_time_s"] for run in runs),
      "wall_time_per_seed_s": [run.record["wall_time_s"] for run in runs],
      "compile_time_s": sum(
        run.record.get("compile_time_s", 0.0) for run in runs
      ),
      "compile_time_per_seed_s": [
        run.record.get("compile_time_s") for run in runs
      ],
      "compile_cache_hits": sum(
        run.record.get("compile_cache_hits", 0) for run in runs
      ),
      "env": platform.environment_record(),
    }
  )


def _metric_moments(per_seed: Sequence[dict]) -> tuple[dict, dict]:
  """Mean and std (ddof 1) over seeds of every metric all seeds report as a
  finite number."""
  means, stds = {}, {}
  for name in per_seed[0]:
    values = [m.get(name) for m in per_seed]
    if not all(
      isinstance(v, (int, float))
      and not isinstance(v, bool)
      and math.isfinite(v)
      for v in values
    ):
      continue
    means[name] = float(np.mean(values))
    stds[name] = float(np.std(values, ddof=1))
  return means, stds


def _finished_seed(result_dir: str, seed: int) -> SeedRun:
  with open(os.path.join(result_dir, report.SUMMARY)) as f:
    record = json.load(f)
  figures = []
  if os.path.exists(os.path.join(result_dir, FIGURES)):
    with open(os.path.join(result_dir, FIGURES)) as f:
      figures = [Figure(**fig) for fig in json.load(f)]
  return SeedRun(seed, record, result_dir, figures)


def _write_json_quietly(path: str, payload) -> None:
  """Bookkeeping files of a seed folder (removed before publishing)."""
  with open(path, "w") as f:
    json.dump(payload, f)


def _publish(
  module,
  study: str,
  preset: str,
  workdir: str,
  runs: Sequence[SeedRun],
  record: dict,
) -> None:
  """Assembles the results folder in a staging folder and swaps it in."""
  staging = _make_staging(workdir, study, preset)
  destination = report.final_dir(workdir, study, preset)
  try:
    if len(runs) == 1:
      _copy_seed_files(runs[0].directory, staging)
    else:
      for run in runs:
        _copy_seed_files(
          run.directory, os.path.join(staging, "seeds", str(run.seed))
        )
      _write_aggregate(module, staging, runs, record)
    report.publish(staging, destination)
    report.write_index(workdir)
  except OSError as e:
    raise UserError(
      f"writing the results of {study}/{preset} under {workdir!r} "
      f"failed ({_os_error(e)}); nothing was published, the previous "
      "results are unchanged - free space or fix permissions and rerun "
      "(finished seeds are kept)"
    ) from None
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def _copy_seed_files(source: str, target: str) -> None:
  shutil.copytree(
    source,
    target,
    dirs_exist_ok=True,
    ignore=shutil.ignore_patterns(FIGURES, NOTES),
  )


def _write_aggregate(
  module, staging: str, runs: Sequence[SeedRun], record: dict
) -> None:
  """summary.json, metrics.jsonl (rows tagged by seed), figures, report."""
  report.write_json(os.path.join(staging, report.SUMMARY), record)
  per_seed = [report.read_curves(run.directory) for run in runs]
  rows = [
    {seed_curves.SEED_KEY: run.seed, **row}
    for run, curves in zip(runs, per_seed, strict=True)
    for row in curves
  ]
  report.write_metrics_jsonl(os.path.join(staging, report.METRICS), rows)
  first = runs[0]
  figures = [
    fig
    for spec in getattr(module, "SEED_CURVES", ())
    if (fig := seed_curves.write_figure(per_seed, spec, staging))
  ]
  figures += [
    Figure(
      f"seeds/{first.seed}/{fig.filename}",
      f"{fig.caption} (seed {first.seed}; each seed's "
      "figures are in its report)",
    )
    for fig in first.figures
  ]
  notes = ""
  if os.path.exists(os.path.join(runs[0].directory, NOTES)):
    with open(os.path.join(runs[0].directory, NOTES)) as f:
      notes = json.load(f)
  report.write_aggregate_report(
    os.path.join(staging, report.REPORT),
    record,
    module.TITLE,
    module.ARXIV,
    figures,
    notes,
  )


def _remove_loop_checkpoints(directory: str) -> None:
  """Removes a finished seed's loop checkpoints (its results stay)."""
  if not os.path.isdir(directory):
    return
  for name in os.listdir(directory):
    if name != RESULT:
      shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def seed_result_dir(workdir: str, study: str, preset: str, config) -> str:
  """Where a finished seed's results wait until every seed is done."""
  return os.path.join(
    run_checkpoint_dir(workdir, study, preset, config), RESULT
  )


def _remove_seed_dirs(
  workdir: str, study: str, preset: str, config, checkpoint_root: str | None
) -> None:
  for path in {
    run_checkpoint_dir(workdir, study, preset, config),
    run_checkpoint_dir(workdir, study, preset, config, checkpoint_root),
  }:
    shutil.rmtree(path, ignore_errors=True)
    _remove_empty_parents(path, workdir)


def _make_staging(workdir: str, study: str, preset: str) -> str:
  try:
    return report.make_staging_dir(workdir, study, preset)
  except OSError as e:
    raise UserError(
      f"cannot write to --workdir={workdir} ({_os_error(e)}); "
      "choose a writable directory"
    ) from None


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
    raise UserError(
      f"cannot write to --workdir={workdir} ({_os_error(e)}); "
      "choose a writable directory"
    ) from None


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
      scope = f", {'/'.join(claim.presets)} only" if claim.presets else ""
      lines.append(
        f"  {claim.id} ({claim.kind}{scope}): {claim.text}  "
        f"[{claim.metric} {claim.op} {claim.threshold}]"
      )
    keys = config_lib.flatten_keys(module.get_config("cpu"))
    lines.append(f"  config keys: {', '.join(keys)}")
  return "\n".join(lines)


def dry_run() -> None:
  """``--dry_run``: every config built and checked, the runs printed."""
  if FLAGS.accelerator not in platform.ACCELERATORS:
    raise UserError(
      f"unknown --accelerator={FLAGS.accelerator!r}; choose "
      f"one of {', '.join(platform.ACCELERATORS)}"
    )
  if FLAGS.list:
    print(describe_studies())
    return
  preset = FLAGS.preset or default_preset(FLAGS.accelerator)
  seeds = parse_seeds(FLAGS.seeds, FLAGS.seed)
  for study in registry.resolve(FLAGS.study or ""):
    for seed in seeds:
      build_study_config(study, preset, seed, FLAGS.set, FLAGS.data_dir)
    print(
      f"would run {study}/{preset} on {FLAGS.accelerator}, seeds "
      f"{seeds} -> {report.final_dir(FLAGS.workdir, study, preset)}"
    )


def print_plan(studies: Sequence[str], preset: str, device: str) -> None:
  """``--plan``: the compute table of every study (``repro.core.plan``)."""
  lines, errors = plan_lib.header(), []
  for study in studies:
    module, config = build_study_config(
      study, preset, FLAGS.seed, FLAGS.set, FLAGS.data_dir
    )
    if not hasattr(module, "plan"):
      raise UserError(f"study {study!r} has no compute plan yet")
    logging.info("%s/%s: compiling the steps of the plan", study, preset)
    costs = [plan_lib.analyse(phase) for phase in module.plan(config)]
    lines += plan_lib.table(study, costs)
    error = plan_lib.fitting_error(study, costs, device)
    if error:
      errors.append(error)
  print("\n".join(lines))
  print()
  print(plan_lib.assumptions())
  if errors:
    raise UserError(errors[0])


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise UserError(
      f"unexpected arguments {' '.join(argv[1:])!r}; flags "
      "are written --name=value"
    )
  if FLAGS.dry_run:
    dry_run()
    return
  if FLAGS.multihost:
    platform.initialize_multihost(
      FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id
    )
  elif (
    FLAGS.coordinator_address
    or FLAGS.num_processes
    or (FLAGS.process_id is not None)
  ):
    raise UserError(
      "--coordinator_address, --num_processes and --process_id need --multihost"
    )
  platform.select_accelerator(FLAGS.accelerator)
  if FLAGS.compilation_cache:
    platform.enable_compilation_cache(FLAGS.compilation_cache_dir)
  if FLAGS.list:
    print(describe_studies())
    return
  preset = FLAGS.preset or default_preset(FLAGS.accelerator)
  studies = registry.resolve(FLAGS.study or "")
  if FLAGS.plan:
    print_plan(studies, preset, FLAGS.plan_device)
    return
  seeds = parse_seeds(FLAGS.seeds, FLAGS.seed)
  # Build every config first: a typo'd override fails before any run.
  for study in studies:
    for seed in seeds:
      build_study_config(study, preset, seed, FLAGS.set, FLAGS.data_dir)
  import jax  # After the multi-host init.

  if jax.process_index() == 0:
    check_workdir(FLAGS.workdir)
  for study in studies:
    run_study(
      study,
      preset,
      FLAGS.seed,
      FLAGS.set,
      FLAGS.workdir,
      FLAGS.data_dir,
      seeds=seeds,
      checkpoint_every=FLAGS.checkpoint_every,
      checkpoint_interval_s=FLAGS.checkpoint_interval_s,
      checkpoint_root=FLAGS.checkpoint_dir,
      resume=FLAGS.resume,
    )


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
    print(
      "error: interrupted; nothing was published - rerun the same "
      "command to resume from the checkpoints",
      file=sys.stderr,
    )
    sys.exit(130)
  finally:
    signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame):
  """SIGTERM as KeyboardInterrupt: cleanup runs, checkpoints stay."""
  del signum, frame
  raise KeyboardInterrupt


if __name__ == "__main__":
  app.run(run_main, flags_parser=_parse_flags)
