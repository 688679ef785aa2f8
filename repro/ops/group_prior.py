"""Group-aware priors (GAP; Rudner et al. 2024, arXiv 2403.09869).

The prior as the official (anonymised) code implements it (its reg type
``..._exponential_sharpness_penalty_..._context``):

  log p_GAP(theta) = -(1 / (2 sigma0^2)) ||theta - theta0||^2
                     - lambda * N_b * L_C(theta + rho * g_hat(theta)) + const,

where L_C is the mean negative log-likelihood on a *context* batch drawn
from the group-annotated set with per-example weights (N / n_g)^s (group
mass proportional to n_g^(1 - s)), and g_hat = stopgrad(grad L_C) / ||.||_2
is the SAM ascent direction with the global l2 norm over all leaves. Groups
enter only through the context sampler; the likelihood stays the plain
(ERM) NLL. The per-mini-batch MAP objective is

  mean NLL(batch) + (lambda / |B|) L_C^SAM + precision ||theta - theta0||^2
  / (2 N) = mean NLL(batch) - log p_GAP(theta) / N,   N = N_b |B|.

Pure functions of pytrees; they compose with ``jit``, ``grad`` and ``vmap``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax.typing import ArrayLike

SAM_NORM_EPS = 1e-12


def context_log_weights(
  groups: jax.Array, num_groups: int, group_scale: ArrayLike
) -> jax.Array:
  """log of the per-example sampler weights (N / n_g)^s, [n].

  Computed in log space so that s = 10 does not overflow (CelebA preset).
  """
  counts = jnp.sum(
    jnp.arange(num_groups)[:, None] == groups[None, :], axis=-1
  ).astype(jnp.float32)
  total = jnp.asarray(groups.shape[0], jnp.float32)
  log_ratio = jnp.log(total) - jnp.log(jnp.maximum(counts, 1.0))
  return group_scale * log_ratio[groups]


def context_probabilities(
  groups: jax.Array, num_groups: int, group_scale: ArrayLike
) -> jax.Array:
  """Per-example sampling probabilities proportional to (N / n_g)^s."""
  return jax.nn.softmax(context_log_weights(groups, num_groups, group_scale))


def context_group_mass(
  group_counts: ArrayLike, group_scale: ArrayLike
) -> jax.Array:
  """Expected share of each group among context draws: n_g^(1-s) / Z.

  Groups with no examples get mass 0.
  """
  counts = jnp.asarray(group_counts, jnp.float32)
  logits = jnp.where(
    counts > 0,
    (1.0 - group_scale) * jnp.log(jnp.maximum(counts, 1.0)),
    -jnp.inf,
  )
  return jax.nn.softmax(logits)


def sample_context(
  key: jax.Array, probabilities: jax.Array, batch_size: int
) -> jax.Array:
  """Indices of a context batch, drawn with replacement (the official
  ``WeightedRandomSampler``)."""
  return jax.random.choice(
    key, probabilities.shape[0], (batch_size,), replace=True, p=probabilities
  )


def sam_direction(loss_fn: Callable, params: Any) -> Any:
  """g_hat = stopgrad(grad loss) / ||grad loss||_2, global norm over leaves."""
  grads = jax.lax.stop_gradient(jax.grad(loss_fn)(params))
  norm = optax.tree.norm(grads)
  return jax.tree.map(lambda g: g / (norm + SAM_NORM_EPS), grads)


def sam_loss(loss_fn: Callable, params: Any, rho: ArrayLike) -> jax.Array:
  """L(theta + rho g_hat(theta)); gradients flow through theta only."""
  direction = sam_direction(loss_fn, params)
  perturbed = jax.tree.map(lambda p, d: p + rho * d, params, direction)
  return loss_fn(perturbed)


def squared_distance(params: Any, prior_mean: Any) -> jax.Array:
  """||theta - theta0||^2 summed over every leaf."""
  return sum(
    jnp.sum(jnp.square(p - m))
    for p, m in zip(
      jax.tree.leaves(params), jax.tree.leaves(prior_mean), strict=True
    )
  )


def gap_log_prior(
  params: Any,
  context_loss_fn: Callable,
  prior_mean: Any,
  *,
  precision: ArrayLike,
  scale: ArrayLike,
  rho: ArrayLike,
  num_batches: ArrayLike,
) -> jax.Array:
  """log p_GAP(theta) up to a constant (the official code's form above).

  Args:
    params: theta, any pytree.
    context_loss_fn: ``params -> mean NLL on the context batch``.
    prior_mean: theta0 (the ERM weights, or zeros), same tree as params.
    precision: 1 / sigma0^2.
    scale: lambda (``empirical_fairness_prior_scale``).
    rho: the SAM radius; 0 gives the unperturbed context loss.
    num_batches: N_b, mini-batches per epoch of the fine-tuning set.
  """
  context = sam_loss(context_loss_fn, params, rho)
  return (
    -0.5 * precision * squared_distance(params, prior_mean)
    - scale * num_batches * context
  )


def gap_objective(
  params: Any,
  batch_loss_fn: Callable,
  context_loss_fn: Callable,
  prior_mean: Any,
  *,
  precision: ArrayLike,
  scale: ArrayLike,
  rho: ArrayLike,
  batch_size: ArrayLike,
  num_train: ArrayLike,
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Per-batch MAP loss: mean NLL(batch) - log p_GAP(theta) / N.

  Equal to mean NLL + (lambda / |B|) L_C^SAM + precision ||theta -
  theta0||^2 / (2 N), the official ``calculate_loss`` with the N_b factor
  of the prior cancelling ``1 / n_batches``.

  Returns:
    ``(loss, {"nll", "context", "distance"})``.
  """
  nll = batch_loss_fn(params)
  context = sam_loss(context_loss_fn, params, rho)
  distance = squared_distance(params, prior_mean)
  loss = (
    nll + scale / batch_size * context + 0.5 * precision * distance / num_train
  )
  return loss, {"nll": nll, "context": context, "distance": distance}
