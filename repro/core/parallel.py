"""The device mesh and the sharding of the leading replica axis.

Seeds, chains, experts and ensemble members are a leading axis that is
``vmap``ped; on several devices that axis is sharded over the mesh's
``replica`` axis, and ``jit`` propagates the sharding through the vmapped
computation. Batches shard over a ``data`` axis.

With several processes (``--multihost``) the mesh spans the devices of every
process: ``shard_replicas`` builds global arrays from the (identical) host
values each process holds, ``process_rows`` is the slice of a dataset a
process reads, ``global_batch`` assembles those slices into one array
sharded over ``data``, and ``gather`` brings any array back to host numpy on
every process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

REPLICA = "replica"
DATA = "data"

# Set by ``limit_devices``; None means every device.
_device_limit: int | None = None
# Lists appended to by ``shard_replicas`` inside ``record_placements``.
_placement_logs: list[list[dict]] = []


def available_devices() -> list[jax.Device]:
  """The devices meshes are built from (all, or the first ``limit``)."""
  devices = jax.devices()
  return devices if _device_limit is None else devices[:_device_limit]


@contextlib.contextmanager
def limit_devices(count: int | None) -> Iterator[None]:
  """Builds meshes from the first ``count`` devices only (None: all).

  Runs a study as on a ``count``-device machine in the same process; used to
  check that sharding does not change results.
  """
  global _device_limit
  previous, _device_limit = _device_limit, count
  try:
    yield
  finally:
    _device_limit = previous


@contextlib.contextmanager
def record_placements() -> Iterator[list[dict]]:
  """Collects one ``{"leading", "devices", "shape"}`` per sharded leaf."""
  log: list[dict] = []
  _placement_logs.append(log)
  try:
    yield log
  finally:
    _placement_logs.remove(log)


def replica_mesh(
  num_replicas: int, devices: Sequence[jax.Device] | None = None
) -> jax.sharding.Mesh:
  """A 1-D mesh over as many devices as evenly divide ``num_replicas``.

  With 4 devices and 6 replicas the mesh has 3 devices (each holds 2
  replicas); with 8 replicas it has 4.
  """
  devices = list(available_devices() if devices is None else devices)
  size = max(n for n in range(1, len(devices) + 1) if num_replicas % n == 0)
  return jax.sharding.Mesh(np.array(devices[:size]), (REPLICA,))


def replica_sharding(mesh: jax.sharding.Mesh) -> NamedSharding:
  """Sharding that splits the leading axis over the ``replica`` mesh axis."""
  return NamedSharding(mesh, P(REPLICA))


def shard_replicas(tree: Any, mesh: jax.sharding.Mesh | None = None) -> Any:
  """Places every leaf of ``tree`` with its leading axis split over devices.

  With ``mesh`` None the mesh is built from the leading axis size of the
  first leaf and all devices. With several processes every process must pass
  the same values (they come from the same seed); each keeps its shards.
  """
  leaves = jax.tree.leaves(tree)
  if not leaves:
    return tree
  if mesh is None:
    mesh = replica_mesh(leaves[0].shape[0])
  sharding = replica_sharding(mesh)
  if jax.process_count() > 1:
    placed = jax.tree.map(lambda leaf: _global_array(leaf, sharding), tree)
  else:
    placed = jax.device_put(tree, sharding)
  for log in _placement_logs:
    log.extend(
      {
        "leading": leaf.shape[0],
        "shape": tuple(leaf.shape),
        "devices": num_devices_used(leaf),
      }
      for leaf in jax.tree.leaves(placed)
    )
  return placed


def _global_array(leaf, sharding: NamedSharding) -> jax.Array:
  if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(
    leaf.dtype, jax.dtypes.prng_key
  ):
    data = gather(jax.random.key_data(leaf))
    return jax.random.wrap_key_data(
      _global_array(data, sharding), impl=jax.random.key_impl(leaf)
    )
  host = gather(leaf)
  return jax.make_array_from_callback(
    host.shape, sharding, lambda index: host[index]
  )


def gather(tree: Any) -> Any:
  """Every leaf as host numpy on every process (all-gathers across hosts)."""

  def one(leaf):
    if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
      return np.asarray(multihost_utils.process_allgather(leaf, tiled=True))
    return np.asarray(leaf)

  return jax.tree.map(one, tree)


def process_rows(num_rows: int) -> slice:
  """The rows of a ``num_rows`` dataset this process reads.

  Processes read equal contiguous slices (the remainder rows are dropped so
  every process holds the same number, as a sharded batch needs).
  """
  per_process = num_rows // jax.process_count()
  start = jax.process_index() * per_process
  return slice(start, start + per_process)


def data_mesh(devices: Sequence[jax.Device] | None = None) -> jax.sharding.Mesh:
  """A 1-D ``data`` mesh over every (or the given) device."""
  devices = list(available_devices() if devices is None else devices)
  return jax.sharding.Mesh(np.array(devices), (DATA,))


def global_batch(local_rows: Any, mesh: jax.sharding.Mesh | None = None) -> Any:
  """One array sharded over ``data`` from each process's own rows.

  ``local_rows`` is what ``process_rows`` selected on this process (a
  pytree of arrays with a leading row axis); the result has the rows of all
  processes in process order.
  """
  mesh = data_mesh() if mesh is None else mesh
  sharding = NamedSharding(mesh, P(DATA))
  return jax.tree.map(
    lambda rows: jax.make_array_from_process_local_data(
      sharding, np.asarray(rows)
    ),
    local_rows,
  )


def num_devices_used(array: jax.Array) -> int:
  """How many devices hold a shard of ``array``."""
  return len(array.sharding.device_set)


def map_replicas(
  fn: Callable, mesh: jax.sharding.Mesh, in_axes: int | None | tuple = 0
) -> Callable:
  """``fn`` over the leading replica axis, one replica after another.

  Like ``jax.vmap(fn, in_axes)``, but inside ``jax.shard_map`` over the
  ``replica`` axis of ``mesh`` each device runs its own replicas with
  ``lax.map``: every replica runs the same unbatched program whatever the
  number of replicas per device. A vmapped replica axis sharded over a
  mesh compiles a differently batched program for each device count, and
  float32 reductions then round differently; chaotic loops (HMC, unrolled
  second-order distillation, SGD at a high learning rate) amplify those
  last-bit differences into different results. With ``map_replicas`` the
  results on 1 and on N devices agree.

  Args:
    fn: ``fn(*args)`` for one replica; returns a pytree of arrays.
    mesh: a mesh with a ``replica`` axis (``replica_mesh``) that evenly
      divides the replica axis.
    in_axes: per positional argument (or one for all), 0 for an argument
      with a leading replica axis, None for one every replica shares
      (replicated on every device).

  Returns:
    A function of the same arguments whose outputs have a leading replica
    axis, sharded over ``mesh``; call it under ``jax.jit``.
  """

  def mapped(*args):
    axes = (
      tuple(in_axes)
      if isinstance(in_axes, (tuple, list))
      else ((in_axes,) * len(args))
    )
    if len(axes) != len(args) or any(a not in (0, None) for a in axes):
      raise ValueError(f"in_axes {in_axes} must be 0 or None per argument")

    def local(*local_args):
      per_replica = tuple(
        a for a, axis in zip(local_args, axes, strict=True) if axis == 0
      )

      def one(replica_args):
        it = iter(replica_args)
        return fn(
          *(
            next(it) if axis == 0 else a
            for a, axis in zip(local_args, axes, strict=True)
          )
        )

      return jax.lax.map(one, per_replica)

    specs = tuple(P(REPLICA) if axis == 0 else P() for axis in axes)
    return jax.shard_map(
      local, mesh=mesh, in_specs=specs, out_specs=P(REPLICA), check_vma=False
    )(*args)

  return mapped
