"""The device mesh and the sharding of the leading replica axis.

Seeds, chains, experts and ensemble members are a leading axis that is
``vmap``ped; on several devices that axis is sharded over the mesh's
``replica`` axis, and ``jit`` propagates the sharding through the vmapped
computation. Batches shard over a ``data`` axis.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

REPLICA = "replica"
DATA = "data"


def replica_mesh(num_replicas: int, devices=None) -> jax.sharding.Mesh:
  """A 1-D mesh over as many devices as evenly divide ``num_replicas``.

  With 4 devices and 6 replicas the mesh has 3 devices (each holds 2
  replicas); with 8 replicas it has 4.
  """
  devices = list(jax.devices() if devices is None else devices)
  size = max(n for n in range(1, len(devices) + 1) if num_replicas % n == 0)
  return jax.sharding.Mesh(np.array(devices[:size]), (REPLICA,))


def replica_sharding(mesh: jax.sharding.Mesh) -> NamedSharding:
  """Sharding that splits the leading axis over the ``replica`` mesh axis."""
  return NamedSharding(mesh, P(REPLICA))


def shard_replicas(tree, mesh: jax.sharding.Mesh | None = None):
  """Places every leaf of ``tree`` with its leading axis split over devices.

  With ``mesh`` None the mesh is built from the leading axis size of the
  first leaf and all local devices.
  """
  leaves = jax.tree.leaves(tree)
  if not leaves:
    return tree
  if mesh is None:
    mesh = replica_mesh(leaves[0].shape[0])
  return jax.device_put(tree, replica_sharding(mesh))


def num_devices_used(array: jax.Array) -> int:
  """How many devices hold a shard of ``array``."""
  return len(array.sharding.device_set)
