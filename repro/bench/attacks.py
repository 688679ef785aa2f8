"""Kernels of the adversarial studies: a PGD attack and a PGD-AT epoch.

Both run on the embedded digits (8x8, flattened to 64 inputs) with a
one-hidden-layer ReLU ``repro.nn.mlp.MLP`` (128 units, biases, 10 logits),
linf eps 0.1, step 0.025, the suite's ``repro.ops.attacks.pgd`` and
``repro.ops.adversarial_training``. The peer is the reference
``attack_pgd``/PGD-AT loop (Python loop over steps and batches).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from repro import data as data_lib
from repro.bench import peers
from repro.bench.kernel import Case, Kernel
from repro.nn.mlp import MLP
from repro.ops import adversarial_training, attacks
from repro.ops.losses import mean_cross_entropy

EPS = 0.1
STEP_SIZE = 0.025
LEARNING_RATE = 0.1
MOMENTUM = 0.9


def _model(width: int) -> MLP:
  return MLP(hidden_sizes=(width,), num_outputs=10, use_bias=True)


def _digits(num_examples: int) -> tuple[np.ndarray, np.ndarray]:
  train = data_lib.load("digits", "train")
  if num_examples > len(train["label"]):
    raise ValueError(
      f"digits has {len(train['label'])} training images, "
      f"asked for {num_examples}"
    )
  x = train["image"][:num_examples].reshape(num_examples, -1)
  return x.astype(np.float32), train["label"][:num_examples].astype(np.int32)


def _params(model: MLP):
  return model.init(jax.random.key(0), jnp.zeros((1, 64)))


def pgd_attack_fn(params, x, y, *, model, num_steps):
  """The suite's PGD (zero start) on the MLP's cross-entropy."""
  return attacks.pgd(
    lambda inputs: model.apply(params, inputs),
    x,
    y,
    eps=EPS,
    num_steps=num_steps,
    step_size=STEP_SIZE,
  )


def _build_pgd(size: dict) -> Case:
  model = _model(size["width"])
  params = _params(model)
  x, y = _digits(size["batch"])
  fn = functools.partial(pgd_attack_fn, model=model, num_steps=size["steps"])
  peer = None
  if peers.available():
    torch_model = peers.mlp_from_flax(params, 1)
    x_t, y_t = peers.tensor(x), peers.tensor(y).long()
    peer = lambda: peers.pgd_linf(
      torch_model,
      x_t,
      y_t,
      eps=EPS,
      num_steps=size["steps"],
      step_size=STEP_SIZE,
    )
  return Case(
    jitted=jax.jit(fn),
    args=(params, jnp.asarray(x), jnp.asarray(y)),
    work=size["batch"] * size["steps"],
    unit="example-steps",
    peer=peer,
    fn=fn,
  )


def _compare_pgd(case: Case, size: dict):
  return np.asarray(case.run_jax()), case.peer().numpy()


def adversarial_epoch_fn(
  params,
  opt_state,
  x_batches,
  y_batches,
  key,
  *,
  model,
  optimizer,
  num_steps,
  random_start,
):
  """One PGD-AT epoch as a ``lax.scan`` over batches; returns batch losses.

  ``random_start`` uses ``adversarial_training.pgd_adversarial`` (Madry's
  uniform start); without it PGD starts at x (tests compare with torch).
  """
  keys = jax.random.split(key, x_batches.shape[0])

  def step(carry, batch):
    params, opt_state = carry
    x, y, batch_key = batch
    logits_fn = lambda inputs: model.apply(params, inputs)
    if random_start:
      x_adv = adversarial_training.pgd_adversarial(
        logits_fn,
        x,
        y,
        batch_key,
        eps=EPS,
        num_steps=num_steps,
        step_size=STEP_SIZE,
      )
    else:
      x_adv = attacks.pgd(
        logits_fn, x, y, eps=EPS, num_steps=num_steps, step_size=STEP_SIZE
      )
    x_adv = jax.lax.stop_gradient(x_adv)
    loss, grads = jax.value_and_grad(
      lambda p: mean_cross_entropy(model.apply(p, x_adv), y)
    )(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), loss

  (params, opt_state), losses = jax.lax.scan(
    step, (params, opt_state), (x_batches, y_batches, keys)
  )
  return params, opt_state, losses


def _epoch_inputs(size: dict):
  model = _model(size["width"])
  params = _params(model)
  num_batches = size["examples"] // size["batch"]
  x, y = _digits(num_batches * size["batch"])
  x = x.reshape(num_batches, size["batch"], -1)
  y = y.reshape(num_batches, size["batch"])
  return model, params, x, y


def _build_epoch(size: dict) -> Case:
  random_start = size["random_start"]
  model, params, x, y = _epoch_inputs(size)
  optimizer = optax.sgd(LEARNING_RATE, momentum=MOMENTUM)
  fn = functools.partial(
    adversarial_epoch_fn,
    model=model,
    optimizer=optimizer,
    num_steps=size["steps"],
    random_start=random_start,
  )
  peer = None
  if peers.available():
    x_t, y_t = peers.tensor(x), peers.tensor(y).long()

    def peer():
      torch_model = peers.mlp_from_flax(params, 1)
      return peers.adversarial_epoch(
        torch_model,
        x_t,
        y_t,
        eps=EPS,
        num_steps=size["steps"],
        step_size=STEP_SIZE,
        lr=LEARNING_RATE,
        momentum=MOMENTUM,
        random_start=random_start,
      )

  args = (
    params,
    optimizer.init(params),
    jnp.asarray(x),
    jnp.asarray(y),
    jax.random.key(1),
  )
  return Case(
    jitted=jax.jit(fn),
    args=args,
    work=x.shape[0] * x.shape[1],
    unit="examples",
    peer=peer,
    fn=fn,
  )


def _compare_epoch(case: Case, size: dict):
  _, _, losses = case.run_jax()
  return np.asarray(losses), case.peer()


KERNELS = (
  Kernel(
    name="pgd_attack",
    family="attacks",
    description=(
      "linf PGD (zero start, `steps` sign steps) on a batch "
      "of digits through the 64-128-10 MLP; "
      "repro.ops.attacks.pgd under jit (lax.fori_loop)"
    ),
    size={"batch": 512, "steps": 20, "width": 128},
    tiny={"batch": 16, "steps": 3, "width": 8},
    build=_build_pgd,
    compare=_compare_pgd,
    peer_description=(
      "reference attack_pgd: Python loop over steps, "
      "autograd.grad w.r.t. delta, sign step, clamps"
    ),
    notes=(
      "Each step is one forward/backward of a 512x64x128x10 MLP "
      "(a few MFLOP), so the peer's cost is per-op dispatch of "
      "~10 autograd ops per step; JAX fuses the 20 steps into "
      "one fori_loop. The margin is dispatch overhead only: the "
      "matmuls are the same BLAS calls, so it depends on the load: "
      "2.9x under load ~12 (torch's per-op dispatch slows most), "
      "1.9x on the quiet machine (below the 2x target)."
    ),
  ),
  Kernel(
    name="adv_train_epoch",
    family="attacks",
    description=(
      "one PGD-AT epoch over `examples` digits in batches: "
      "PGD (`steps` steps, uniform start if `random_start`) "
      "then SGD+momentum; "
      "repro.ops.adversarial_training in a lax.scan"
    ),
    size={
      "examples": 1152,
      "batch": 128,
      "steps": 10,
      "width": 128,
      "random_start": True,
    },
    # Zero start: the torch peer then follows exactly the same path.
    tiny={
      "examples": 32,
      "batch": 16,
      "steps": 2,
      "width": 8,
      "random_start": False,
    },
    build=_build_epoch,
    compare=_compare_epoch,
    peer_description=(
      "Madry-style loop: for each batch, Python PGD "
      "loop, zero_grad/backward/SGD step"
    ),
    notes=(
      "9 batches x (10 attack steps + 1 update) are one lax.scan "
      "program; the peer dispatches ~1000 small autograd and "
      "optimizer ops per epoch plus a host sync per batch "
      "(loss.item()). Smaller batches make the gap larger."
    ),
  ),
)
