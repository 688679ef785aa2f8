"""Study names and their modules; ``all`` expands to every built study."""

from __future__ import annotations

import importlib
import importlib.util
import types

from repro.core.errors import UserError

# Every study of the suite, in the order of the README's table.
STUDIES = (
  "robust_erm",
  "neural_collapse",
  "iteration_heads",
  "bnn_attacks",
  "data_pruning",
  "group_priors",
  "collapse_regression",
  "collapse_tails",
  "goldilocks",
  "galaxy_distillation",
)


def module_name(study: str) -> str:
  return f"repro.studies.{study}"


def is_built(study: str) -> bool:
  """Whether the study's package exists in this checkout."""
  return importlib.util.find_spec(module_name(study)) is not None


def built_studies() -> list[str]:
  return [s for s in STUDIES if is_built(s)]


def resolve(selection: str) -> list[str]:
  """Turns ``--study`` (a name, a comma list or ``all``) into study names."""
  names = [n.strip() for n in selection.split(",") if n.strip()]
  if not names:
    raise UserError(
      "--study is required: a study name, a comma list or all "
      "(python -m repro.launch --list shows them)"
    )
  if names == ["all"]:
    return built_studies()
  for name in names:
    if name not in STUDIES:
      raise UserError(
        f"unknown study {name!r}; choose from "
        f"{', '.join(built_studies())} or all"
      )
    if not is_built(name):
      raise UserError(
        f"study {name!r} is not built yet; built studies: "
        f"{', '.join(built_studies())}"
      )
  return list(dict.fromkeys(names))


def load(study: str) -> types.ModuleType:
  """Imports ``repro.studies.<study>`` (exports get_config, run, CLAIMS)."""
  resolve(study)
  return importlib.import_module(module_name(study))
