r"""Runs studies: ``python -m repro.launch --study=NAME [flags]``.

Examples:
  python -m repro.launch --study=robust_erm                # cpu preset
  python -m repro.launch --study=all --preset=smoke
  python -m repro.launch --study=robust_erm --set linear.steps=5000
  python -m repro.launch --study=bnn_attacks --accelerator=tpu   # paper preset
  python -m repro.launch --list

Order (DESIGN.md): multi-host init first (only with --multihost) -> the
accelerator must exist, else exit 2 -> configs built and overrides applied
for every selected study (a typo fails before anything runs) -> run ->
results written atomically under ``--workdir/<study>/<preset>/`` and the
index ``--workdir/README.md`` regenerated.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Sequence

from absl import app, flags, logging

from repro import registry
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
flags.DEFINE_bool("list", False, "List studies, presets and claims; exit.")


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


def run_study(study: str, preset: str, seed: int = 0,
              overrides: Sequence[str] = (), workdir: str = "results",
              data_dir: str | None = None, config=None) -> dict:
  """Runs one study and writes its results; returns the summary record.

  The experiment writes into a staging directory; the summary, metrics and
  report are added there and the directory replaces
  ``workdir/study/preset`` only when everything succeeded.
  """
  import jax  # Imported late so --multihost can initialise first.

  module, built = build_study_config(study, preset, seed, overrides, data_dir)
  config = built if config is None else config
  staging = report.make_staging_dir(workdir, study, preset)
  try:
    logging.info("%s/%s: running (seed %d)", study, preset, seed)
    start = time.perf_counter()
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
    if jax.process_index() != 0:
      return record
    report.write_json(os.path.join(staging, report.SUMMARY), record)
    report.write_metrics_jsonl(os.path.join(staging, report.METRICS),
                               summary.curves)
    report.write_report(os.path.join(staging, report.REPORT), record,
                        module.TITLE, module.ARXIV, summary.figures,
                        summary.notes)
    destination = report.final_dir(workdir, study, preset)
    report.publish(staging, destination)
    report.write_index(workdir)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  passed = sum(c["verdict"] == "PASS" for c in verdicts)
  logging.info("%s/%s: %d/%d claims reproduced in %.1f s -> %s", study,
               preset, passed, len(verdicts), wall_time, destination)
  return record


def describe_studies() -> str:
  """The text of ``--list``: studies, presets and their claims."""
  lines = [f"presets: {', '.join(config_lib.PRESETS)}", ""]
  for study in registry.STUDIES:
    if not registry.is_built(study):
      lines.append(f"{study}  (not built yet)")
      continue
    module = registry.load(study)
    lines.append(f"{study}  — {module.TITLE} (arXiv {module.ARXIV})")
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
    platform.initialize_multihost()
  platform.select_accelerator(FLAGS.accelerator)
  if FLAGS.list:
    print(describe_studies())
    return
  preset = FLAGS.preset or default_preset(FLAGS.accelerator)
  studies = registry.resolve(FLAGS.study or "")
  # Build every config first: a typo'd override fails before any run.
  for study in studies:
    build_study_config(study, preset, FLAGS.seed, FLAGS.set, FLAGS.data_dir)
  for study in studies:
    run_study(study, preset, FLAGS.seed, FLAGS.set, FLAGS.workdir,
              FLAGS.data_dir)


def _parse_flags(argv: list[str]) -> list[str]:
  """absl flag parsing with a one-line error and exit code 2."""
  try:
    return FLAGS(argv)
  except flags.Error as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


def run_main(argv: Sequence[str]) -> None:
  """``main`` with user errors turned into one line on stderr and exit 2."""
  try:
    main(argv)
  except UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(run_main, flags_parser=_parse_flags)
