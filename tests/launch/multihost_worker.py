"""One process of tests/test_multihost.py: the launcher, then a data check.

``python -m tests.launch.multihost_worker --check_out=PATH [launcher flags]``
runs ``repro.launch.main`` (which calls ``jax.distributed.initialize``
with ``--multihost``), then assembles a global batch from the rows this
process reads (``parallel.process_rows``) and writes what it saw to
``PATH`` as JSON.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from repro import launch
from repro.core import parallel
from repro.core.errors import UserError

flags.DEFINE_string("check_out", None, "Where to write the data check.")


def main(argv):
  launch.main(argv)
  rows = np.arange(40, dtype=np.float32).reshape(20, 2)
  mine = parallel.process_rows(rows.shape[0])
  batch = parallel.global_batch(rows[mine])
  total = jax.jit(
    lambda x: jnp.sum(x, axis=0),
    out_shardings=jax.sharding.NamedSharding(
      batch.sharding.mesh, jax.sharding.PartitionSpec()
    ),
  )(batch)
  with open(flags.FLAGS.check_out, "w") as f:
    json.dump(
      {
        "process": jax.process_index(),
        "processes": jax.process_count(),
        "devices": jax.device_count(),
        "local_devices": jax.local_device_count(),
        "rows": [mine.start, mine.stop],
        "batch_shards": len(batch.sharding.device_set),
        "global_sum": np.asarray(total).tolist(),
        "gathered": parallel.gather(batch).tolist(),
      },
      f,
    )


def run(argv):
  try:
    main(argv)
  except UserError as e:
    print(f"error: {e}")
    raise SystemExit(2) from None


if __name__ == "__main__":
  app.run(run, flags_parser=launch._parse_flags)
