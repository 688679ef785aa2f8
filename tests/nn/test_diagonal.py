"""Diagonal linear networks start at w = 0."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from repro.nn import diagonal


def test_initial_weights_give_zero_predictor():
  params = diagonal.initial_weights(50, 1e-3)
  np.testing.assert_allclose(params["u"], 1e-3 / np.sqrt(100))
  np.testing.assert_array_equal(params["u"], params["v"])
  chex.assert_shape([params["u"], params["v"]], (50,))
  for depth in (2, 3):
    chex.assert_shape(diagonal.effective_weights(params, depth), (50,))
    np.testing.assert_array_equal(
      diagonal.effective_weights(params, depth), 0.0
    )


def test_module_matches_u_squared_minus_v_squared():
  model = diagonal.DiagonalLinear(alpha=0.5)
  x = jax.random.normal(jax.random.key(0), (4, 3))
  params = model.init(jax.random.key(1), x)
  np.testing.assert_array_equal(model.apply(params, x), 0.0)
  u = jnp.array([1.0, 2.0, 0.5])
  v = jnp.array([0.0, 1.0, 1.0])
  out = model.apply({"params": {"u": u, "v": v}}, x)
  chex.assert_shape(out, (4,))
  chex.assert_type(out, jnp.float32)
  np.testing.assert_allclose(out, x @ (u**2 - v**2), rtol=1e-6)
  # The gradient of f w.r.t. (u, v) at init is 2u x and -2v x: not zero,
  # so gradient descent leaves w = 0.
  grads = jax.grad(lambda p: model.apply(p, x).sum())(params)
  chex.assert_trees_all_equal_shapes_and_dtypes(grads, params)
  assert float(jnp.abs(grads["params"]["u"]).max()) > 0
