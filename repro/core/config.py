"""Presets and ``--set key=value`` overrides on a locked ConfigDict.

A study's ``get_config(preset)`` returns an ``ml_collections.ConfigDict``;
``build_config`` locks it so a typo'd key is an error, and applies the user's
overrides with the type of the value they replace.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import ml_collections

from repro.core.errors import UserError

PRESETS = ("smoke", "cpu", "paper")


def build_config(
  get_config: Callable[[str], ml_collections.ConfigDict],
  preset: str,
  overrides: Iterable[str] = (),
  **fields: Any,
) -> ml_collections.ConfigDict:
  """Returns the locked config of ``preset``.

  ``fields`` (e.g. ``seed`` and ``data_dir`` from the launcher's flags) are
  set first; the user's ``--set`` overrides are applied last and win.
  """
  if preset not in PRESETS:
    raise UserError(
      f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}"
    )
  config = get_config(preset)
  config.lock()
  for name, value in fields.items():
    config[name] = value
  for override in overrides:
    apply_override(config, override)
  return config


def from_cpu_config(
  preset: str,
  config: ml_collections.ConfigDict,
  **adjust: Callable[[ml_collections.ConfigDict], None],
) -> ml_collections.ConfigDict:
  """A study's ``cpu`` config ``config`` changed in place for ``preset``.

  ``adjust`` maps the other presets (``smoke``, ``paper``) to functions that
  edit the cpu config into theirs.
  """
  if preset == "cpu":
    return config
  if preset not in adjust:
    raise ValueError(f"unknown preset {preset!r}")
  adjust[preset](config)
  return config


def apply_override(config: ml_collections.ConfigDict, override: str) -> None:
  """Sets ``key=value`` (dotted key) in place, keeping the value's type."""
  key, sep, text = override.partition("=")
  key = key.strip()
  if not sep or not key:
    raise UserError(f"--set expects key=value, got {override!r}")
  *parents, leaf = key.split(".")
  node = config
  for name in parents:
    if not isinstance(node, ml_collections.ConfigDict) or name not in node:
      raise UserError(_unknown_key_message(config, key))
    node = node[name]
  if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
    raise UserError(_unknown_key_message(config, key))
  current = node[leaf]
  node[leaf] = parse_value(text.strip(), current, key)


def parse_value(text: str, current: Any, key: str = "value") -> Any:
  """Parses ``text`` into the type of ``current`` or raises UserError."""
  expected = type(current).__name__
  if isinstance(current, ml_collections.ConfigDict):
    raise UserError(f"--set {key}: {key} is a group; set one of its fields")
  if isinstance(current, bool):
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
      return True
    if lowered in ("false", "0", "no"):
      return False
    raise UserError(f"--set {key}={text}: expected a bool (true/false)")
  if isinstance(current, str):
    return text
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    raise UserError(
      f"--set {key}={text}: expected a {expected} like {current!r}"
    ) from None
  if (
    isinstance(current, float)
    and isinstance(value, int)
    and not isinstance(value, bool)
  ):
    value = float(value)
  if isinstance(current, (tuple, list)) and isinstance(value, (tuple, list)):
    return _parse_sequence(value, current, key, text)
  if current is None or type(value) is type(current):
    return value
  raise UserError(f"--set {key}={text}: expected a {expected} like {current!r}")


def _parse_sequence(value: Sequence, current: Sequence, key: str, text: str):
  """Converts a parsed sequence to the type of ``current``'s elements."""
  if current:
    element_type = type(current[0])
    converted = []
    for item in value:
      if element_type is float and isinstance(item, int):
        item = float(item)
      if type(item) is not element_type:
        raise UserError(
          f"--set {key}={text}: expected a sequence of "
          f"{element_type.__name__} like {tuple(current)!r}"
        )
      converted.append(item)
    value = converted
  return type(current)(value)


def _unknown_key_message(config: ml_collections.ConfigDict, key: str) -> str:
  known = ", ".join(sorted(flatten_keys(config)))
  return f"--set: unknown config key {key!r}; known keys: {known}"


def leaves(
  config: ml_collections.ConfigDict, prefix: str = ""
) -> Iterator[tuple[str, Any]]:
  """Yields ``(dotted key, value)`` for every leaf of ``config``."""
  for name, value in config.items():
    path = f"{prefix}{name}"
    if isinstance(value, ml_collections.ConfigDict):
      yield from leaves(value, path + ".")
    else:
      yield path, value


def flatten_keys(config: ml_collections.ConfigDict) -> Iterator[str]:
  """Yields every leaf key of ``config`` as a dotted path."""
  for path, _ in leaves(config):
    yield path


def to_jsonable(config: ml_collections.ConfigDict) -> dict:
  """Returns the config as plain JSON-serialisable Python values."""

  def convert(value):
    if isinstance(value, ml_collections.ConfigDict):
      return {k: convert(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
      return [convert(v) for v in value]
    return value

  return convert(config)
