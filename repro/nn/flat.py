"""A model's parameters as one flat vector, in one requested dtype.

Samplers (HMC, VI), Hessians and trajectory matching work on a parameter
vector theta in R^D. ``FlatLayout`` maps a parameter pytree to theta and
back in ``jax.flatten_util.ravel_pytree`` order (the leaves in
``jax.tree.flatten`` order, each raveled row-major), with two differences
that make it dtype-correct:

* ``ravel`` casts every leaf to the layout's ``dtype`` (the requested one,
  by default the default float type: float32, or float64 inside
  ``jax.enable_x64``), where ``ravel_pytree`` promotes to the widest leaf;
* ``unravel`` returns leaves in theta's own dtype, where ``ravel_pytree``'s
  unravel of a mixed-dtype tree casts every piece back to its template
  leaf's dtype. Flax's ``nn.Dense`` creates float32 parameters even under
  ``jax_enable_x64`` (its ``param_dtype``), while initialisers called
  without a dtype (``self.param(name, init, shape)``) create float64 ones,
  so a float64 theta of such a tree would silently run those layers with
  float32 parameters.

For a float32 tree the vectors are bit-identical to ``ravel_pytree``'s.
``FlatModel`` wraps a Flax module: ``init(key) -> theta``,
``apply(theta, *inputs) -> module output``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike


def default_float_dtype() -> np.dtype:
  """float64 inside ``jax.enable_x64``, else float32."""
  return jax.dtypes.canonicalize_dtype(jnp.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class FlatLayout:
  """Where every leaf of a parameter tree sits in the flat vector.

  Hashed by identity (a static argument of ``jax.jit``).

  Attributes:
    treedef: the tree structure.
    shapes: the leaves' shapes, in flattening order.
    dtype: the dtype ``ravel`` produces.
  """

  treedef: Any
  shapes: tuple[tuple[int, ...], ...]
  dtype: np.dtype

  @property
  def sizes(self) -> tuple[int, ...]:
    return tuple(int(np.prod(shape, dtype=np.int64)) for shape in self.shapes)

  @property
  def num_params(self) -> int:
    """D, the length of the flat vector."""
    return sum(self.sizes)

  def ravel(self, tree: Any) -> jax.Array:
    """The flat vector ``[D]`` of ``tree``, in ``self.dtype``."""
    leaves, treedef = jax.tree.flatten(tree)
    if treedef != self.treedef:
      raise ValueError(
        f"tree structure {treedef} does not match the layout {self.treedef}"
      )
    if not leaves:
      return jnp.zeros((0,), self.dtype)
    return jnp.concatenate(
      [jnp.ravel(jnp.asarray(leaf)).astype(self.dtype) for leaf in leaves]
    )

  def unravel(self, flat: jax.Array) -> Any:
    """The tree of ``flat`` ``[D]``; every leaf keeps ``flat``'s dtype."""
    if flat.shape != (self.num_params,):
      raise ValueError(
        f"expected a vector of {self.num_params} parameters, "
        f"got shape {flat.shape}"
      )
    offsets = np.cumsum((0,) + self.sizes)
    pieces = [
      flat[start:stop].reshape(shape)
      for start, stop, shape in zip(
        offsets[:-1], offsets[1:], self.shapes, strict=True
      )
    ]
    return jax.tree.unflatten(self.treedef, pieces)


def layout(template: Any, dtype: DTypeLike | None = None) -> FlatLayout:
  """The ``FlatLayout`` of a tree of arrays or ``jax.ShapeDtypeStruct``.

  Args:
    template: a parameter tree; only shapes and structure are used.
    dtype: the flat vector's dtype; ``None``: ``default_float_dtype()``.
  """
  leaves, treedef = jax.tree.flatten(template)
  shapes = tuple(tuple(int(d) for d in np.shape(leaf)) for leaf in leaves)
  dtype = default_float_dtype() if dtype is None else np.dtype(dtype)
  return FlatLayout(treedef, shapes, dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class FlatModel:
  """A Flax module as a function of a flat parameter vector.

  Attributes:
    module: the Flax module.
    layout: the layout of ``module.init``'s variables (all collections).
    example_args: inputs ``init`` traces the module with.
  """

  module: nn.Module
  layout: FlatLayout
  example_args: tuple

  @property
  def num_params(self) -> int:
    return self.layout.num_params

  def init(self, key: jax.Array) -> jax.Array:
    """Flat initial parameters ``[D]`` in the layout's dtype."""
    return self.layout.ravel(self.module.init(key, *self.example_args))

  def apply(self, flat: jax.Array, *args: Any, **kwargs: Any) -> Any:
    """``module.apply`` with the variables of ``flat`` (its dtype kept)."""
    return self.module.apply(self.layout.unravel(flat), *args, **kwargs)

  def unravel(self, flat: jax.Array) -> Any:
    return self.layout.unravel(flat)


def flat_model(
  module: nn.Module, *example_args: Any, dtype: DTypeLike | None = None
) -> FlatModel:
  """A ``FlatModel`` of ``module`` traced on ``example_args``.

  The example inputs are cast to ``dtype`` (if floating) so a float64
  model also initialises from float64 inputs; ``dtype=None`` is
  ``default_float_dtype()``.
  """
  dtype = default_float_dtype() if dtype is None else np.dtype(dtype)
  example_args = tuple(
    arg.astype(dtype)
    if jnp.issubdtype(jnp.asarray(arg).dtype, jnp.floating)
    else arg
    for arg in example_args
  )
  template = jax.eval_shape(module.init, jax.random.key(0), *example_args)
  return FlatModel(module, layout(template, dtype), example_args)
