"""Kernel of data_pruning: GraNd scores from per-example gradients.

``repro.ops.pruning_scores.grad_norms`` (``lax.map`` of the per-example
``grad`` with ``batch_size`` 256, i.e. vmapped chunks of 256 examples) on
`examples` digits with the 64-128-10 MLP (``repro.nn.mlp.MLP``). The peer
is the reference loop: one forward and backward pass per example, the
global gradient norm of each.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from repro.bench import peers
from repro.bench.attacks import _digits, _model, _params
from repro.bench.kernel import Case, Kernel
from repro.ops import pruning_scores
from repro.ops.losses import cross_entropy


def _example_loss(params, x, y, *, model):
  logits = model.apply(params, x[None])[0]
  return cross_entropy(logits, y)


def grand_fn(params, x, y, *, model, batch_size):
  loss = functools.partial(_example_loss, model=model)
  return pruning_scores.grad_norms(loss, params, x, y, batch_size=batch_size)


def _build(size: dict) -> Case:
  model = _model(size["width"])
  params = _params(model)
  x, y = _digits(size["examples"])
  fn = functools.partial(
    grand_fn, model=model, batch_size=min(size["chunk"], size["examples"])
  )
  peer = None
  if peers.available():
    torch_model = peers.mlp_from_flax(params, 1)
    x_t, y_t = peers.tensor(x), peers.tensor(y).long()
    peer = lambda: peers.per_example_grad_norms(torch_model, x_t, y_t)
  return Case(
    jitted=jax.jit(fn),
    args=(params, jnp.asarray(x), jnp.asarray(y)),
    work=size["examples"],
    unit="examples",
    peer=peer,
    fn=fn,
  )


def _compare(case: Case, size: dict):
  return np.asarray(case.run_jax()), case.peer()


KERNELS = (
  Kernel(
    name="pruning_grad_norms",
    family="pruning",
    description=(
      "GraNd: per-example gradient norms of `examples` "
      "digits through the 64-128-10 MLP; "
      "repro.ops.pruning_scores.grad_norms (lax.map in "
      "chunks of `chunk`)"
    ),
    size={"examples": 1024, "chunk": 256, "width": 128},
    tiny={"examples": 8, "chunk": 4, "width": 8},
    build=_build,
    compare=_compare,
    peer_description=("reference loop: forward, backward and norm per example"),
    notes=(
      "The per-example loop is the peer's whole cost (1024 "
      "forward/backward passes of one example); JAX maps the "
      "per-example gradient over chunks of 256 examples as "
      "batched matmuls."
    ),
  ),
)
