"""Attention scores of the iteration-head circuit (arXiv 2406.02128).

For an input of length ``L`` laid out as ``[task, x_1..x_L, EoI, s_1..s_L,
EoS...]`` (EoI at ``L + 1``), the official ``AttentionEval`` reads:

* **EoI locator** (first layer): the weight from each position holding
  ``s_t`` (rows ``L+2 .. 2L+1``) to the EoI token (column ``L+1``);
* **iteration head** (second layer): the diagonal ``A[L+t, t]``,
  ``t = 1..L``: the query holding ``s_{t-1}`` (EoI plays ``s_0``) reads the
  key holding ``x_t``, which it needs to predict ``s_t = F(s_{t-1}, x_t)``.

Each gives ``L`` weights per sequence, scored by ``peakiness_scores``:
``mean`` (the official *peaky_abs*), ``frac_above`` (fraction of weights
above 0.5, *peaky_thres*, the "attention peakiness" of the paper's
figures) and ``invariance`` (``1 -`` the mean over ``t`` of the standard
deviation over sequences, *inv*; the official ``torch.std`` is the
unbiased std, ``ddof=1``, the default here). All functions take a traced
``L`` and pad to a static ``max_len`` with a validity mask, so they vmap
over lengths.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _steps(input_len, max_len: int):
  """``t = 1..max_len`` and the mask ``t <= L``."""
  steps = jnp.arange(1, max_len + 1)
  return steps, steps <= input_len


def eoi_locator_weights(
  attention: jax.Array, input_len: int | jax.Array, max_len: int
) -> tuple[jax.Array, jax.Array]:
  """Weights from the rows holding ``s_1..s_L`` to the EoI column.

  Args:
    attention: ``[N, T, T]`` weights of one head (query, key).
    input_len: the input length ``L`` of every row (int, may be traced).
    max_len: static bound on ``L``.

  Returns:
    ``(weights [N, max_len], valid [max_len])``: ``weights[:, t-1] =
    A[L+1+t, L+1]`` for ``t <= L``; entries with ``t > L`` are 0.
  """
  steps, valid = _steps(input_len, max_len)
  eoi = input_len + 1
  rows = jnp.where(valid, eoi + steps, 0)
  weights = attention[:, rows, eoi]
  return jnp.where(valid, weights, 0.0), valid


def iteration_head_weights(
  attention: jax.Array, input_len: int | jax.Array, max_len: int
) -> tuple[jax.Array, jax.Array]:
  """Diagonal weights ``A[L+t, t]``, ``t = 1..L`` (query ``s_{t-1}``, key
  ``x_t``).

  Returns:
    ``(weights [N, max_len], valid [max_len])`` as ``eoi_locator_weights``.
  """
  steps, valid = _steps(input_len, max_len)
  rows = jnp.where(valid, input_len + steps, 0)
  cols = jnp.where(valid, steps, 0)
  weights = attention[:, rows, cols]
  return jnp.where(valid, weights, 0.0), valid


INVARIANCE_DDOF = 1  # the official torch.std


def peakiness_scores(
  weights: jax.Array,
  valid: jax.Array,
  threshold: float = 0.5,
  ddof: int = INVARIANCE_DDOF,
) -> dict[str, jax.Array]:
  """Scores of ``[N, max_len]`` weights over the valid positions.

  Returns:
    ``mean``: mean weight; ``frac_above``: fraction of weights strictly
    above ``threshold``; ``invariance``: ``1 - mean_t std_n(weights)``,
    the standard deviation over the ``N`` sequences with ``ddof``: 1 is
    the unbiased std of the official ``AttentionEval`` (the default, used
    by the iteration_heads study), 0 the population std, smaller by
    ``sqrt((N-1)/N)``.
  """
  valid = jnp.broadcast_to(valid, weights.shape[-1:])
  count = jnp.maximum(jnp.sum(valid), 1)
  num_sequences = weights.shape[0]
  mean = jnp.sum(jnp.where(valid, weights, 0.0)) / (count * num_sequences)
  above = jnp.where(valid, weights > threshold, False)
  frac_above = jnp.sum(above) / (count * num_sequences)
  std = jnp.std(weights, axis=0, ddof=ddof)
  invariance = 1.0 - jnp.sum(jnp.where(valid, std, 0.0)) / count
  return {"mean": mean, "frac_above": frac_above, "invariance": invariance}


def circuit_scores(
  attention: jax.Array,
  input_len: int | jax.Array,
  max_len: int,
  threshold: float = 0.5,
  ddof: int = INVARIANCE_DDOF,
) -> dict[str, jax.Array]:
  """Both scores for every (layer, head) of ``[N, layers, heads, T, T]``.

  ``threshold`` and ``ddof`` as in ``peakiness_scores``.

  Returns:
    ``{"eoi/mean", "eoi/frac_above", "eoi/invariance", "iter/mean", ...}``,
    each ``[layers, heads]``. The paper reads the EoI locator in layer 0
    and the iteration head in layer 1; both are given everywhere so a head
    that moved (Fig. 9: other implementations) is visible.
  """

  def one_head(head_attention):
    scores = {}
    for name, fn in (
      ("eoi", eoi_locator_weights),
      ("iter", iteration_head_weights),
    ):
      weights, valid = fn(head_attention, input_len, max_len)
      for key, value in peakiness_scores(
        weights, valid, threshold, ddof
      ).items():
        scores[f"{name}/{key}"] = value
    return scores

  per_head = jax.vmap(jax.vmap(one_head, in_axes=1), in_axes=1)
  return per_head(attention)


def shifted_diagonal_override(
  input_len: int | jax.Array, width: int, shift: int = 1
) -> tuple[jax.Array, jax.Array]:
  """Rows and one-hot weights sending query ``L+t`` to key ``t + shift``.

  For the ablation of the iteration head: with ``shift = 1`` the query that
  should read ``x_t`` reads ``x_{t+1}`` instead (``x_{L+1}`` is EoI);
  ``shift = 0`` writes the ideal iteration head itself (a control).

  Returns:
    ``(rows [width] bool, weights [width, width])`` for queries
    ``L+1 .. 2L``; other rows are not replaced.
  """
  positions = jnp.arange(width)
  step = positions - input_len
  rows = (step >= 1) & (step <= input_len)
  target = jnp.clip(step + shift, 0, positions)
  weights = jax.nn.one_hot(target, width) * rows[:, None]
  return rows, weights
