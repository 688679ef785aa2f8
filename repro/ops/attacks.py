"""Projected gradient descent (PGD) attacks on a pure ``logits_fn``.

Madry et al. (2018): starting at x (or a random point of the threat set),
repeat x' <- Proj(x' + step * direction(grad_x' loss)) where direction is
sign(g) for linf and g/||g||_2 for l2, and Proj maps onto

  {x' : ||x' - x||_p <= eps} intersected with the box [clip_min, clip_max].

Projection: delta is first
clipped to the eps-ball, then x + delta to the box, i.e. delta <-
clip(x + delta, lo, hi) - x. Box clipping only shrinks every |delta_j|
(x itself lies in the box), so the result stays in the ball; for linf the
two clips are the exact Euclidean projection onto the intersection, for l2
a feasible point of it. The buggy form delta <- min(max(delta, x - eps),
x + eps) is not a box projection.

Everything is ``jit``/``vmap`` friendly: the iterations are a
``lax.fori_loop`` and restarts a ``lax.scan``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from repro.ops.losses import cross_entropy

NORMS = ("linf", "l2")


def exponential_loss(scores: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-example exp(-y f(x)) for scalar scores and labels in {-1, +1}."""
  return jnp.exp(-labels * scores)


def logistic_loss(scores: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-example log(1 + exp(-y f(x))) for labels in {-1, +1}."""
  return jax.nn.softplus(-labels * scores)


def _per_example_norm(values: jax.Array, order: float) -> jax.Array:
  """||values_i||_order over all but the leading axis, shaped to broadcast."""
  flat = values.reshape(values.shape[0], -1)
  norms = jnp.linalg.norm(flat, ord=order, axis=1)
  return norms.reshape((-1,) + (1,) * (values.ndim - 1))


def project(
  delta: jax.Array,
  x: jax.Array,
  eps: ArrayLike,
  norm: str = "linf",
  clip_min: float | None = 0.0,
  clip_max: float | None = 1.0,
) -> jax.Array:
  """Maps ``delta`` into the eps-ball, then ``x + delta`` into the box."""
  if norm == "linf":
    delta = jnp.clip(delta, -eps, eps)
  elif norm == "l2":
    norms = _per_example_norm(delta, 2)
    factor = jnp.minimum(1.0, eps / jnp.maximum(norms, 1e-12))
    delta = delta * factor
  else:
    raise ValueError(f"unknown norm {norm!r}; choose one of {NORMS}")
  if clip_min is not None or clip_max is not None:
    delta = jnp.clip(x + delta, clip_min, clip_max) - x
  return delta


def random_start(
  key: jax.Array, x: jax.Array, eps: ArrayLike, norm: str = "linf"
) -> jax.Array:
  """A uniform random point of the eps-ball (before box clipping)."""
  if norm == "linf":
    return jax.random.uniform(key, x.shape, x.dtype, -eps, eps)
  if norm == "l2":
    key_direction, key_radius = jax.random.split(key)
    direction = jax.random.normal(key_direction, x.shape, x.dtype)
    direction = direction / jnp.maximum(_per_example_norm(direction, 2), 1e-12)
    dim = x[0].size
    radius = eps * jax.random.uniform(
      key_radius, (x.shape[0],) + (1,) * (x.ndim - 1), x.dtype
    ) ** (1 / dim)
    return direction * radius
  raise ValueError(f"unknown norm {norm!r}; choose one of {NORMS}")


def _ascent_direction(grad: jax.Array, norm: str) -> jax.Array:
  if norm == "linf":
    return jnp.sign(grad)
  return grad / jnp.maximum(_per_example_norm(grad, 2), 1e-12)


def eot_gradient(
  logits_fn: Callable[[jax.Array, jax.Array], jax.Array],
  x: jax.Array,
  labels: jax.Array,
  key: jax.Array,
  *,
  num_draws: int,
  loss_fn: Callable[[jax.Array, jax.Array], jax.Array] = (cross_entropy),
) -> jax.Array:
  """Monte Carlo E_k[grad_x sum_i loss(logits_fn(x, k), y)_i] (EOT).

  Athalye et al. (2018): for a stochastic model the attack follows the
  gradient of the expected loss, estimated by averaging the gradients of
  ``num_draws`` draws with keys ``fold_in(key, j)`` (the keys ``pgd`` with
  ``eot`` uses at its steps j = 0, 1, ...). Useful to check an attack's
  gradient against a closed form.
  """

  def draw_gradient(j):
    return jax.grad(
      lambda inputs: jnp.sum(
        loss_fn(logits_fn(inputs, jax.random.fold_in(key, j)), labels)
      )
    )(x)

  return jnp.mean(jax.lax.map(draw_gradient, jnp.arange(num_draws)), 0)


def pgd(
  logits_fn: Callable[..., jax.Array],
  x: jax.Array,
  labels: jax.Array,
  *,
  eps: ArrayLike,
  num_steps: int,
  step_size: ArrayLike,
  norm: str = "linf",
  loss_fn: Callable[[jax.Array, jax.Array], jax.Array] = (cross_entropy),
  key: jax.Array | None = None,
  random_init: bool = False,
  num_restarts: int = 0,
  targeted: bool = False,
  clip_min: float | None = 0.0,
  clip_max: float | None = 1.0,
  eot: bool = False,
  stop_on_success: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
  start_delta: jax.Array | None = None,
) -> jax.Array:
  """Returns adversarial inputs ``x + delta`` (same shape as ``x``).

  Args:
    logits_fn: the model as a pure function of a batch of inputs; with
      ``eot``, of ``(inputs, key)``.
    x: clean inputs ``[n, ...]`` inside the box.
    labels: true labels (or, with ``targeted``, the target labels) in the
      form ``loss_fn`` expects.
    eps: radius of the threat ball (may be traced; 0 returns ``x``).
    num_steps: PGD iterations per start.
    step_size: step length (linf: per coordinate; l2: Euclidean).
    norm: ``"linf"`` or ``"l2"``.
    loss_fn: ``(logits, labels) -> [n]`` per-example loss. "Logits" is
      whatever ``logits_fn`` returns (e.g. per-draw logits of a posterior).
    key: PRNG key, needed for ``random_init``, restarts or ``eot``.
    random_init: start the first run at a random point of the ball.
    num_restarts: extra runs from random starts; per example the run with
      the worst final loss (highest; lowest when targeted) is kept.
    targeted: descend ``loss_fn`` towards ``labels`` instead of ascending.
    clip_min: lower end of the input box (None: no lower bound).
    clip_max: upper end of the input box (None: no upper bound).
    eot: expectation over transformation (Athalye et al. 2018) for a
      stochastic model: step t of run r calls ``logits_fn(inputs, k)``
      with a fresh ``k = fold_in(fold_in(eot_key, r), t)``, so each step
      follows a new Monte Carlo estimate of the expected-loss gradient.
    stop_on_success: ``(logits, labels) -> bool [n]``; an example is frozen
      from the first step at which its current iterate succeeds (e.g. the
      label flipped), giving the minimal "first flip" adversarial example.
    start_delta: the first run's starting perturbation, used as given:
      neither projected onto the ball nor clipped to the box before the
      first gradient (the official TRADES start ``x + 0.001 N(0, I)``);
      excludes ``random_init``.
  """
  _check_pgd_args(norm, key, random_init, num_restarts, eot, start_delta)
  sign = -1.0 if targeted else 1.0
  eot_key = None
  if eot:
    key, eot_key = jax.random.split(key)
  objective = _pgd_objective(logits_fn, loss_fn, x, labels, sign, eot_key)
  attack_from = functools.partial(
    _pgd_run,
    objective,
    x,
    labels,
    eps=eps,
    num_steps=num_steps,
    step_size=step_size,
    norm=norm,
    clip_min=clip_min,
    clip_max=clip_max,
    stop_on_success=stop_on_success,
    sign=sign,
  )
  start = functools.partial(_pgd_start, x=x, eps=eps, norm=norm)
  keys = jax.random.split(key, num_restarts + 1) if key is not None else [None]
  if start_delta is None:
    best_delta, best_score = attack_from(start(keys[0], random_init), 0)
  else:
    best_delta, best_score = attack_from(
      jnp.asarray(start_delta, x.dtype), 0, project_start=False
    )
  if num_restarts:
    best_delta = _best_of_restarts(
      lambda restart_key, run: attack_from(start(restart_key, True), run),
      keys[1:],
      (best_delta, best_score),
      x.ndim,
    )
  return x + best_delta


def _best_of_restarts(attack, restart_keys, best, ndim: int):
  """Runs ``attack(key, run)`` for runs 1, 2, ... (one per key) and keeps,
  per example, the delta of the highest score, ``best`` included."""

  def restart(carry, restart_input):
    restart_key, run = restart_input
    best_delta, best_score = carry
    delta, score = attack(restart_key, run)
    better = score > best_score
    return (
      jnp.where(_per_example(better, ndim), delta, best_delta),
      jnp.where(better, score, best_score),
    ), None

  (best_delta, _), _ = jax.lax.scan(
    restart, best, (restart_keys, jnp.arange(1, len(restart_keys) + 1))
  )
  return best_delta


def _pgd_start(start_key, use_random: bool, *, x, eps, norm):
  """Zero, or a random point of the ball (``random_start``)."""
  if not use_random:
    return jnp.zeros_like(x)
  return random_start(start_key, x, eps, norm)


def _check_pgd_args(
  norm, key, random_init, num_restarts, eot, start_delta
) -> None:
  """Raises ValueError for an unknown norm or a missing or clashing start."""
  if norm not in NORMS:
    raise ValueError(f"unknown norm {norm!r}; choose one of {NORMS}")
  if (random_init or num_restarts or eot) and key is None:
    raise ValueError("pgd needs a key for random starts, restarts or eot")
  if start_delta is not None and random_init:
    raise ValueError("pgd takes start_delta or random_init, not both")


def _per_example(flags, ndim: int):
  """``[n]`` flags broadcastable against ``[n, ...]`` inputs."""
  return flags.reshape((-1,) + (1,) * (ndim - 1))


def _pgd_objective(logits_fn, loss_fn, x, labels, sign, eot_key):
  """``objective(delta, run, step) -> (sign * total loss, (losses,
  logits))``; with an ``eot_key`` the model draws a fresh key per run and
  step."""

  def model(inputs, run, step):
    if eot_key is None:
      return logits_fn(inputs)
    return logits_fn(
      inputs, jax.random.fold_in(jax.random.fold_in(eot_key, run), step)
    )

  def objective(delta, run, step):
    logits = model(x + delta, run, step)
    losses = loss_fn(logits, labels)
    return sign * jnp.sum(losses), (losses, logits)

  return objective


def _pgd_run(
  objective,
  x,
  labels,
  delta,
  run,
  project_start=True,
  *,
  eps,
  num_steps,
  step_size,
  norm,
  clip_min,
  clip_max,
  stop_on_success,
  sign,
):
  """One PGD run from ``delta``: ``(final delta, per-example loss)``.

  The start is projected onto the ball and box unless ``project_start`` is
  False; with ``stop_on_success`` an example freezes at its first success.
  """
  grad_fn = jax.grad(objective, has_aux=True)
  if project_start:
    delta = project(delta, x, eps, norm, clip_min, clip_max)

  def step(t, carry):
    delta, stopped = carry
    grad, (_, logits) = grad_fn(delta, run, t)
    if stop_on_success is not None:
      stopped = stopped | stop_on_success(logits, labels)
    moved = project(
      delta + step_size * _ascent_direction(grad, norm),
      x,
      eps,
      norm,
      clip_min,
      clip_max,
    )
    return jnp.where(_per_example(stopped, x.ndim), delta, moved), stopped

  stopped = jnp.zeros(x.shape[0], bool)
  delta, _ = jax.lax.fori_loop(0, num_steps, step, (delta, stopped))
  return delta, sign * objective(delta, run, num_steps)[1][0]
