"""The replica axis sharded over 4 fake CPU devices."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from repro.core import parallel, rng, train


def noisy(params, key):
  target = 3.0 + jax.random.normal(key, params.shape)
  return jnp.sum((params - target) ** 2), {}


def test_four_fake_devices_are_present():
  assert jax.device_count() == 4


def test_mesh_uses_devices_that_divide_the_replicas():
  assert parallel.replica_mesh(8).devices.size == 4
  assert parallel.replica_mesh(6).devices.size == 3
  assert parallel.replica_mesh(5).devices.size == 1


def test_sharded_training_matches_one_device():
  keys = rng.replica_keys(rng.stream(0, "train"), 8)
  params = jnp.zeros((8, 5))
  single, single_history = train.fit(noisy, optax.adam(0.1), params, keys,
                                     25, replicated=True)
  sharded_params, sharded_keys = parallel.shard_replicas((params, keys))
  assert parallel.num_devices_used(sharded_params) == 4
  state, history = train.fit(noisy, optax.adam(0.1), sharded_params,
                             sharded_keys, 25, replicated=True)
  assert parallel.num_devices_used(state.params) == 4
  np.testing.assert_allclose(state.params, single.params, rtol=1e-6)
  np.testing.assert_allclose(history["loss"], single_history["loss"],
                             rtol=1e-6)
