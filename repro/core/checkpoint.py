"""A thin orbax wrapper: save a pytree by step, find the latest, restore.

``restore_latest(directory, target)`` restores each item of ``target`` (a
dict of pytrees): an item given as a pytree is restored into that structure
(NamedTuples and optax states included); an item given as ``None`` is
restored as saved (plain nested dicts of arrays, e.g. a history whose length
is not known in advance). A checkpoint that cannot be read (a crash or a
full disk while it was written, a corrupted file) is skipped with a warning
and the one before it is used; with none readable the loop restarts.

Run-level checkpoints: the launcher creates a ``RunCheckpoints`` for each
seed of a run and passes it to the study's ``run``; every long loop asks it
for a ``LoopCheckpoints`` of its own (``repro.core.loop.run`` does so). A
rerun with the same arguments finds the same directories and resumes; the
launcher removes them once the seed's results are written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable

import jax
import orbax.checkpoint as ocp
from absl import logging


def _manager(directory: str) -> ocp.CheckpointManager:
  return ocp.CheckpointManager(
    os.path.abspath(directory),
    options=ocp.CheckpointManagerOptions(max_to_keep=2, create=True),
  )


@contextlib.contextmanager
def _signals_deferred():
  """Holds SIGTERM/SIGINT until the block ends (a save is never cut short).

  A signal that arrives meanwhile is delivered to the previous handler
  afterwards, so an interrupted run stops right after its checkpoint is
  complete.
  """
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  pending = []
  previous = {
    signum: signal.getsignal(signum)
    for signum in (signal.SIGTERM, signal.SIGINT)
  }
  for signum in previous:
    signal.signal(signum, lambda number, frame: pending.append(number))
  try:
    yield
  finally:
    for signum, handler in previous.items():
      signal.signal(signum, handler)
    if pending:
      handler = previous[pending[0]]
      if callable(handler):
        handler(pending[0], None)
      elif handler != signal.SIG_IGN:
        os.kill(os.getpid(), pending[0])


def save(directory: str, step: int, items: dict) -> None:
  """Saves ``items`` (a dict of pytrees) as checkpoint ``step``; blocks.

  SIGTERM/SIGINT wait until the checkpoint is complete.
  """
  stale = os.path.join(os.path.abspath(directory), str(step))
  if os.path.isdir(stale):  # An unreadable one a rerun is replacing.
    shutil.rmtree(stale)
  with _signals_deferred(), _manager(directory) as manager:
    args = {
      name: ocp.args.StandardSave(_wrap_leaf(tree))
      for name, tree in items.items()
      if tree is not None and jax.tree.leaves(tree)
    }
    manager.save(step, args=ocp.args.Composite(**args), force=True)
    manager.wait_until_finished()


def all_steps(directory: str) -> list[int]:
  """Steps saved in ``directory``, oldest first."""
  if not os.path.isdir(directory):
    return []
  with _manager(directory) as manager:
    return sorted(manager.all_steps())


def latest_step(directory: str) -> int | None:
  """The newest step saved in ``directory``, or None."""
  steps = all_steps(directory)
  return steps[-1] if steps else None


def restore_latest(
  directory: str, target: dict, with_step: bool = False
) -> dict | tuple[int, dict] | None:
  """Restores the newest readable checkpoint into ``target``; None if none.

  An unreadable checkpoint is skipped with a warning naming it; the previous
  one is tried next. With ``with_step`` returns ``(step, restored)``.
  """
  steps = all_steps(directory)
  for step in reversed(steps):
    try:
      restored = restore(directory, step, target)
      return (step, restored) if with_step else restored
    except Exception as e:  # noqa: BLE001 - orbax raises many kinds.
      older = [s for s in steps if s < step]
      logging.warning(
        "checkpoint %d in %s is unreadable (%s: %s); %s",
        step,
        directory,
        type(e).__name__,
        str(e).splitlines()[0] if str(e) else "",
        f"falling back to step {older[-1]}"
        if older
        else "restarting from step 0",
      )
  return None


def restore(directory: str, step: int, target: dict) -> dict:
  """Restores checkpoint ``step`` into ``target`` (see the module doc).

  Items of ``target`` that the checkpoint does not hold (they were None or
  empty when it was saved) come back as None.
  """
  step_dir = os.path.join(os.path.abspath(directory), str(step))
  present = {
    name for name in target if os.path.isdir(os.path.join(step_dir, name))
  }
  if not present:
    raise ValueError(f"checkpoint {step_dir} holds none of {sorted(target)}")
  with _manager(directory) as manager:
    args = {}
    for name, tree in target.items():
      if name not in present:
        continue
      if tree is None:
        args[name] = ocp.args.StandardRestore()
      else:
        abstract = jax.tree.map(
          ocp.utils.to_shape_dtype_struct, _wrap_leaf(tree)
        )
        args[name] = ocp.args.StandardRestore(abstract)
    restored = manager.restore(step, args=ocp.args.Composite(**args))
  return {
    name: _unwrap_leaf(restored[name]) if name in present else None
    for name in target
  }


_LEAF = "__leaf__"


def _wrap_leaf(tree):
  """orbax saves pytrees, not bare arrays: a single array goes in a dict."""
  return (
    {_LEAF: tree}
    if not isinstance(tree, (dict, list, tuple))
    and (len(jax.tree.leaves(tree)) == 1 and jax.tree.leaves(tree)[0] is tree)
    else tree
  )


def _unwrap_leaf(tree):
  return (
    tree[_LEAF] if isinstance(tree, dict) and set(tree) == {_LEAF} else (tree)
  )


@dataclasses.dataclass
class RunCheckpoints:
  """Where a run's loops checkpoint, and how often.

  The launcher creates one per seed of a run and hands it to the study's
  ``run``; each long loop asks it for a ``LoopCheckpoints`` of its own
  (``loop``). Loops are numbered in the order they start, so a
  deterministic study gets the same directory for the same loop when it is
  rerun.

  Attributes:
    directory: root of this run's loop directories.
    every_steps: save every this many steps (at chunk ends); 0 means by time.
    every_seconds: with ``every_steps`` 0, save at the first chunk end after
      this many seconds since the last save (or the loop's start).
  """

  directory: str
  every_steps: int = 0
  every_seconds: float = 120.0
  loops_opened: int = 0

  def loop(self, name: str) -> LoopCheckpoints:
    """The checkpoints of the next loop of the run, named ``name``."""
    self.loops_opened += 1
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:60] or "loop"
    directory = os.path.join(self.directory, f"{self.loops_opened:03d}-{slug}")
    return LoopCheckpoints(
      directory, SaveSchedule(self.every_steps, self.every_seconds)
    )


def loop_checkpoints(
  checkpoints: RunCheckpoints | None, name: str
) -> LoopCheckpoints:
  """``checkpoints.loop(name)``, or a loop that never saves when None."""
  if checkpoints is None:
    return LoopCheckpoints(None)
  return checkpoints.loop(name)


def chunk_count(num_blocks: int, target_chunks: int = 4) -> int:
  """Blocks per compiled chunk of a resumable scan of ``num_blocks`` blocks.

  About ``num_blocks / target_chunks``, rounded down to a divisor of
  ``num_blocks`` so that one compilation serves every chunk. It depends on
  the loop's size only, never on whether the run checkpoints, so the
  compiled programs are the same inside and outside a launched run.
  """
  target = min(max(num_blocks // max(target_chunks, 1), 1), num_blocks)
  return max(d for d in range(1, target + 1) if num_blocks % d == 0)


class SaveSchedule:
  """Decides at which chunk ends a loop saves (see ``RunCheckpoints``).

  With neither ``every_steps`` nor ``every_seconds`` it saves at every chunk
  end. A loop's last chunk is saved too (a rerun then skips the finished
  loop), except in the time-based mode for loops shorter than
  ``FINAL_SAVE_SECONDS``, which are cheaper to redo than to save.
  """

  FINAL_SAVE_SECONDS = 10.0

  def __init__(self, every_steps: int = 0, every_seconds: float | None = None):
    self.every_steps = every_steps
    self.every_seconds = every_seconds
    self.last_step = 0
    self.start_time = self.last_time = time.monotonic()

  def due(self, step: int, final: bool = False) -> bool:
    now = time.monotonic()
    if self.every_steps > 0:
      due = final or step - self.last_step >= self.every_steps
    elif self.every_seconds is not None:
      due = now - self.last_time >= self.every_seconds or (
        final and now - self.start_time >= self.FINAL_SAVE_SECONDS
      )
    else:
      due = True
    if due:
      self.last_step, self.last_time = step, now
    return due


class LoopCheckpoints:
  """Resume support for one loop (``repro.core.loop.run`` uses it).

  With a directory the loop saves on the run's schedule and resumes from its
  newest readable checkpoint; without one (``directory=None``: no launched
  run, unit tests, notebooks) every method is a no-op.
  """

  def __init__(
    self, directory: str | None, schedule: SaveSchedule | None = None
  ):
    self.directory = directory
    self.schedule = schedule or SaveSchedule()

  def restore(self, target: dict) -> tuple[int, dict | None]:
    """``(step, restored items)`` of the latest checkpoint, or ``(0, None)``."""
    if self.directory is None:
      return 0, None
    found = restore_latest(self.directory, target, with_step=True)
    if found is None:
      return 0, None
    logging.info(
      "resuming %s from step %d (--noresume starts over)",
      self.directory,
      found[0],
    )
    self.schedule.last_step = found[0]  # The next save counts from here.
    return found

  def save(
    self, step: int, items: dict | Callable[[], dict], final: bool = False
  ) -> None:
    """Saves ``items`` at ``step`` when the schedule says so.

    ``items`` is a dict of pytrees (None items are skipped), or a function
    returning one (called only when a save is due, for items that are
    costly to assemble).
    """
    if self.directory is not None and self.schedule.due(step, final):
      save(self.directory, step, items() if callable(items) else items)
