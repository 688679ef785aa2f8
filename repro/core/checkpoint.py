"""A thin orbax wrapper: save a pytree by step, find the latest, restore.

``restore_latest(directory, target)`` restores each item of ``target`` (a
dict of pytrees): an item given as a pytree is restored into that structure
(NamedTuples and optax states included); an item given as ``None`` is
restored as saved (plain nested dicts of arrays, e.g. a history whose length
is not known in advance).
"""

from __future__ import annotations

import os

import jax
import orbax.checkpoint as ocp


def _manager(directory: str) -> ocp.CheckpointManager:
  return ocp.CheckpointManager(
      os.path.abspath(directory),
      options=ocp.CheckpointManagerOptions(max_to_keep=2, create=True))


def save(directory: str, step: int, items: dict) -> None:
  """Saves ``items`` (a dict of pytrees) as checkpoint ``step``; blocks."""
  with _manager(directory) as manager:
    args = {name: ocp.args.StandardSave(tree) for name, tree in items.items()
            if tree is not None}
    manager.save(step, args=ocp.args.Composite(**args), force=True)
    manager.wait_until_finished()


def latest_step(directory: str) -> int | None:
  """The newest step saved in ``directory``, or None."""
  if not os.path.isdir(directory):
    return None
  with _manager(directory) as manager:
    return manager.latest_step()


def restore_latest(directory: str, target: dict) -> dict | None:
  """Restores the newest checkpoint into ``target``; None if there is none."""
  step = latest_step(directory)
  if step is None:
    return None
  with _manager(directory) as manager:
    args = {}
    for name, tree in target.items():
      if tree is None:
        args[name] = ocp.args.StandardRestore()
      else:
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, tree)
        args[name] = ocp.args.StandardRestore(abstract)
    restored = manager.restore(step, args=ocp.args.Composite(**args))
  return {name: restored[name] for name in target}
