"""Losses of adversarial training: PGD-AT (Madry et al.) and TRADES.

* PGD-AT (Madry et al. 2018): minimise ``CE(f(x + delta), y)`` with
  ``delta`` from untargeted PGD on the cross-entropy (``repro.ops.attacks``).
* TRADES (Zhang et al. 2019, eq. (5); ``yaodongyu/TRADES``):

    L = (1/B) sum_i CE(f(x_i), y_i)
        + beta (1/B) sum_i KL(softmax f(x_i) || softmax f(x'_i)),

  with ``x'`` maximising the KL term over the eps-ball by PGD (sign steps
  for linf). The reference code builds the KL with
  ``KLDivLoss(size_average=False)(log_softmax(f(x')), softmax(f(x)))`` and
  divides by the batch size, which is the sum above; gradients flow
  through both ``f(x)`` and ``f(x')`` while ``x'`` itself is a constant.

The attack's start (``trades_adversarial``'s ``start``; at ``x`` itself
the KL gradient is exactly zero): ``"official"`` (the reference code's, and
the default) starts at ``x + 0.001 N(0, I)``, not clipped to the input box
before the first gradient; ``"uniform"`` at a uniform point of the
eps-ball clipped to the box, as ``pgd_adversarial``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from repro.ops import attacks
from repro.ops.losses import mean_cross_entropy


def kl_from_probabilities(
  logits: jax.Array, reference_probabilities: jax.Array
) -> jax.Array:
  """Per-example ``KL(p || softmax(logits))`` for reference ``p``; ``[n]``.

  Terms with ``p_k = 0`` contribute 0 (the convention of ``KLDivLoss``).
  """
  log_q = jax.nn.log_softmax(logits)
  log_p = jnp.log(
    jnp.where(reference_probabilities > 0, reference_probabilities, 1.0)
  )
  return jnp.sum(reference_probabilities * (log_p - log_q), axis=-1)


def trades_loss(
  clean_logits: jax.Array,
  adversarial_logits: jax.Array,
  labels: jax.Array,
  beta: float,
) -> tuple[jax.Array, dict]:
  """TRADES objective (eq. (5) of Zhang et al.) and its two terms."""
  natural = mean_cross_entropy(clean_logits, labels)
  robust = jnp.mean(
    kl_from_probabilities(adversarial_logits, jax.nn.softmax(clean_logits))
  )
  return natural + beta * robust, {"natural_loss": natural, "robust_kl": robust}


TRADES_STARTS = ("official", "uniform")
TRADES_START_SCALE = 0.001


def trades_adversarial(
  logits_fn: Callable[[jax.Array], jax.Array],
  x: jax.Array,
  key: jax.Array,
  *,
  eps: ArrayLike,
  num_steps: int,
  step_size: ArrayLike,
  norm: str = "linf",
  clean_logits: jax.Array | None = None,
  start: str = "official",
) -> jax.Array:
  """``x'`` maximising ``KL(softmax f(x) || softmax f(x'))`` by PGD.

  Each step ascends the KL (sign of the gradient for linf, its direction
  for l2), projects onto the eps-ball around ``x`` and clips to [0, 1].

  Args:
    logits_fn: the model as a pure function of a batch of inputs (the
      reference uses the network in eval mode here).
    x: clean inputs in [0, 1].
    key: PRNG key of the random start.
    eps, num_steps, step_size, norm: the threat model and PGD schedule.
    clean_logits: ``f(x)`` if already computed.
    start: ``"official"`` (``yaodongyu/TRADES``' ``trades_loss`` and the
      neural-collapse paper's ``attack_trades``): ``x + 0.001 N(0, I)``
      with ``N`` drawn from ``key``, used unclipped for the first gradient;
      ``"uniform"``: ``x`` plus a uniform point of the eps-ball, clipped to
      [0, 1]. (For l2 the reference code also differs in its step, an SGD
      step of length 2 eps / num_steps on the normalised gradient, and
      clips to the box before projecting onto the ball; not reproduced.)
  """
  if clean_logits is None:
    clean_logits = logits_fn(x)
  reference = jax.lax.stop_gradient(jax.nn.softmax(clean_logits))
  if start == "official":
    start_delta = TRADES_START_SCALE * jax.random.normal(key, x.shape, x.dtype)
    return attacks.pgd(
      logits_fn,
      x,
      reference,
      eps=eps,
      num_steps=num_steps,
      step_size=step_size,
      norm=norm,
      loss_fn=kl_from_probabilities,
      start_delta=start_delta,
    )
  if start == "uniform":
    return attacks.pgd(
      logits_fn,
      x,
      reference,
      eps=eps,
      num_steps=num_steps,
      step_size=step_size,
      norm=norm,
      loss_fn=kl_from_probabilities,
      key=key,
      random_init=True,
    )
  raise ValueError(
    f"unknown TRADES start {start!r}; choose one of {TRADES_STARTS}"
  )


def pgd_adversarial(
  logits_fn: Callable[[jax.Array], jax.Array],
  x: jax.Array,
  labels: jax.Array,
  key: jax.Array,
  *,
  eps: ArrayLike,
  num_steps: int,
  step_size: ArrayLike,
  norm: str = "linf",
) -> jax.Array:
  """Untargeted PGD on the cross-entropy from a uniform random start.

  The PGD-AT attack of Madry et al. and of the paper's ``attack_pgd``
  (one restart).
  """
  return attacks.pgd(
    logits_fn,
    x,
    labels,
    eps=eps,
    num_steps=num_steps,
    step_size=step_size,
    norm=norm,
    key=key,
    random_init=True,
  )
