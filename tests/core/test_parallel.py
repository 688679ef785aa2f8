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
  single, single_history = train.fit(
    noisy, optax.adam(0.1), params, keys, 25, replicated=True
  )
  sharded_params, sharded_keys = parallel.shard_replicas((params, keys))
  assert parallel.num_devices_used(sharded_params) == 4
  state, history = train.fit(
    noisy, optax.adam(0.1), sharded_params, sharded_keys, 25, replicated=True
  )
  assert parallel.num_devices_used(state.params) == 4
  np.testing.assert_allclose(state.params, single.params, rtol=1e-6)
  np.testing.assert_allclose(history["loss"], single_history["loss"], rtol=1e-6)


def test_map_replicas_is_the_same_on_one_and_four_devices():
  def orbit(weights, start, scale):
    def step(x, _):
      return jnp.tanh(scale * (weights @ x)), None

    return jax.lax.scan(step, start, None, length=10)[0]

  keys = jax.random.split(jax.random.key(0), 2)
  weights = jax.random.normal(keys[0], (8, 16, 16))
  starts = jax.random.normal(keys[1], (8, 16))
  results = {}
  for count in (1, 4):
    with parallel.limit_devices(count):
      mesh = parallel.replica_mesh(8)
    placed = parallel.shard_replicas((weights, starts), mesh)
    run = jax.jit(parallel.map_replicas(orbit, mesh, in_axes=(0, 0, None)))
    results[count] = run(*placed, jnp.float32(0.5))
    assert parallel.num_devices_used(results[count]) == count
  # Bitwise: each replica ran the same unbatched program on 1 and 4 devices.
  np.testing.assert_array_equal(results[1], results[4])
  expected = np.asarray(starts, np.float64)
  for _ in range(10):  # The orbits in float64 numpy, replica by replica.
    expected = np.tanh(
      0.5 * np.einsum("rij,rj->ri", np.asarray(weights, np.float64), expected)
    )
  np.testing.assert_allclose(results[4], expected, rtol=1e-5, atol=1e-5)
