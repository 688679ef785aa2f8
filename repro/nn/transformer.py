"""Decoder-only transformer with learned positions and visible attention.

The architecture of the official Iteration-Head code (arXiv 2406.02128,
``src/cot/models/transformer.py``), written so the attention weights can be
read and overwritten:

* token embedding ``N(0, 1)`` plus a learned absolute position embedding
  ``N(0, 1)`` (PyTorch ``nn.Embedding`` init), added to the first
  ``pos_width`` coordinates;
* ``num_layers`` pre-norm blocks of causal multi-head self-attention (one
  fused ``qkv`` projection, scores scaled by ``1/sqrt(head_dim)``) and a GELU
  MLP of width ``ffn_width`` (default ``4 * width``);
* a final LayerNorm and an untied unembedding;
* no biases anywhere by default (attention, MLP, LayerNorm), LayerNorm
  epsilon 1e-5, dense weights ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (PyTorch
  ``nn.Linear`` default).

Pre-norm quirk of the official block (``normalized_residual=True``): the
residual stream carries the *normalised* input, ``x <- LN1(x);
out = x + Attn(x); out = out + MLP(LN2(out))``. ``normalized_residual=False``
gives the textbook pre-LN block ``out = x + Attn(LN1(x))``.

``Transformer(...).apply(params, tokens, return_attention=True)`` returns the
logits and the attention weights ``[batch, layers, heads, T, T]``;
``attention_overrides`` replaces chosen rows of a layer's attention weights
(for ablations such as the shifted-diagonal test of the iteration head).

Also here: the masked next-token loss and the exact-sequence accuracy used
to train and evaluate language models on a target segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from repro.ops.losses import log_likelihood

# PyTorch's nn.Linear default: kaiming_uniform(a=sqrt(5)), i.e.
# U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
torch_linear_init = nn.initializers.variance_scaling(
  1.0 / 3.0, "fan_in", "uniform"
)
# PyTorch's nn.Embedding default: N(0, 1).
torch_embedding_init = nn.initializers.normal(stddev=1.0)


class AttentionOverride(NamedTuple):
  """Replaces rows of one layer's attention weights, in every head.

  Attributes:
    rows: bool ``[T]`` or ``[batch, T]``; True rows (queries) are replaced.
    weights: ``[T, T]`` or ``[batch, T, T]`` replacement weights (rows should
      sum to one; nothing is renormalised).
  """

  rows: jax.Array
  weights: jax.Array


def causal_mask(length: int) -> jax.Array:
  """``[T, T]`` bool, True where query ``i`` may attend key ``j <= i``."""
  return jnp.tril(jnp.ones((length, length), dtype=bool))


class SelfAttention(nn.Module):
  """Causal multi-head self-attention with explicit softmax weights.

  Attributes:
    num_heads: number of heads; must divide the input width.
    use_bias: biases in the ``qkv`` and output projections.
  """

  num_heads: int = 1
  use_bias: bool = False

  @nn.compact
  def __call__(
    self, inputs: jax.Array, override: AttentionOverride | None = None
  ):
    batch, length, width = inputs.shape
    if width % self.num_heads:
      raise ValueError(
        f"width {width} is not divisible by num_heads {self.num_heads}"
      )
    head_dim = width // self.num_heads
    qkv = nn.Dense(
      3 * width,
      use_bias=self.use_bias,
      kernel_init=torch_linear_init,
      name="qkv",
    )(inputs)
    query, key, value = jnp.split(qkv, 3, axis=-1)
    split = lambda x: x.reshape(batch, length, self.num_heads, head_dim)
    query, key, value = split(query), split(key), split(value)
    scores = jnp.einsum("bqhd,bkhd->bhqk", query, key) / jnp.sqrt(
      jnp.asarray(head_dim, inputs.dtype)
    )
    scores = jnp.where(causal_mask(length), scores, -jnp.inf)
    weights = jax.nn.softmax(scores, axis=-1)
    if override is not None:
      rows = jnp.broadcast_to(override.rows, (batch, length))
      replacement = jnp.broadcast_to(override.weights, (batch, length, length))
      weights = jnp.where(rows[:, None, :, None], replacement[:, None], weights)
    mixed = jnp.einsum("bhqk,bkhd->bqhd", weights, value)
    mixed = mixed.reshape(batch, length, width)
    output = nn.Dense(
      width, use_bias=self.use_bias, kernel_init=torch_linear_init, name="out"
    )(mixed)
    return output, weights


class FeedForward(nn.Module):
  """Two dense layers with an exact (erf) GELU, as PyTorch's ``F.gelu``."""

  hidden_width: int
  use_bias: bool = False

  @nn.compact
  def __call__(self, inputs: jax.Array) -> jax.Array:
    hidden = nn.Dense(
      self.hidden_width,
      use_bias=self.use_bias,
      kernel_init=torch_linear_init,
      name="fc1",
    )(inputs)
    hidden = nn.gelu(hidden, approximate=False)
    return nn.Dense(
      inputs.shape[-1],
      use_bias=self.use_bias,
      kernel_init=torch_linear_init,
      name="fc2",
    )(hidden)


class Block(nn.Module):
  """Pre-norm block: attention then MLP, each added to the residual."""

  num_heads: int
  ffn_width: int
  use_bias: bool = False
  layer_norm_eps: float = 1e-5
  normalized_residual: bool = True

  @nn.compact
  def __call__(
    self, inputs: jax.Array, override: AttentionOverride | None = None
  ):
    norm = lambda name: nn.LayerNorm(
      epsilon=self.layer_norm_eps, use_bias=self.use_bias, name=name
    )
    normed = norm("norm_1")(inputs)
    attended, weights = SelfAttention(
      self.num_heads, self.use_bias, name="attn"
    )(normed, override)
    residual = normed if self.normalized_residual else inputs
    hidden = residual + attended
    hidden = hidden + FeedForward(self.ffn_width, self.use_bias, name="mlp")(
      norm("norm_2")(hidden)
    )
    return hidden, weights


class Transformer(nn.Module):
  """Decoder-only causal transformer language model.

  Attributes:
    vocab_size: number of tokens.
    max_len: number of learned positions (the longest input).
    num_layers: number of blocks.
    num_heads: attention heads per block.
    width: residual width (embedding dimension).
    ffn_width: MLP hidden width; ``None`` means ``4 * width``.
    pos_width: coordinates that receive the position embedding; ``None``
      means all of them.
    use_bias: biases in dense layers and LayerNorms (official: False).
    layer_norm_eps: LayerNorm epsilon.
    normalized_residual: the official pre-norm quirk (see module doc).
    emb_dropout: dropout rate on the embeddings (needs ``train=True`` and a
      ``dropout`` rng).
  """

  vocab_size: int
  max_len: int
  num_layers: int = 2
  num_heads: int = 1
  width: int = 128
  ffn_width: int | None = None
  pos_width: int | None = None
  use_bias: bool = False
  layer_norm_eps: float = 1e-5
  normalized_residual: bool = True
  emb_dropout: float = 0.0

  @nn.compact
  def __call__(
    self,
    tokens: jax.Array,
    *,
    train: bool = False,
    return_attention: bool = False,
    attention_overrides: Sequence[AttentionOverride | None] | None = None,
  ):
    """Logits ``[B, T, V]``, and attention ``[B, layers, heads, T, T]``.

    Args:
      tokens: int ``[B, T]`` with ``T <= max_len``.
      train: apply embedding dropout.
      return_attention: also return the attention weights of every layer.
      attention_overrides: one entry per layer, ``None`` or an
        ``AttentionOverride`` replacing rows of that layer's weights.
    """
    length = tokens.shape[-1]
    if length > self.max_len:
      raise ValueError(f"sequence length {length} > max_len {self.max_len}")
    if attention_overrides is None:
      attention_overrides = [None] * self.num_layers
    if len(attention_overrides) != self.num_layers:
      raise ValueError("attention_overrides needs one entry per layer")
    pos_width = self.width if self.pos_width is None else self.pos_width
    hidden = nn.Embed(
      self.vocab_size,
      self.width,
      embedding_init=torch_embedding_init,
      name="token_embedding",
    )(tokens)
    positions = self.param(
      "position_embedding", torch_embedding_init, (self.max_len, pos_width)
    )
    hidden = hidden.at[..., :pos_width].add(positions[:length])
    hidden = nn.Dropout(self.emb_dropout, deterministic=not train)(hidden)
    ffn_width = 4 * self.width if self.ffn_width is None else self.ffn_width
    attention = []
    for layer, override in enumerate(attention_overrides):
      hidden, weights = Block(
        self.num_heads,
        ffn_width,
        self.use_bias,
        self.layer_norm_eps,
        self.normalized_residual,
        name=f"block_{layer}",
      )(hidden, override)
      attention.append(weights)
    hidden = nn.LayerNorm(
      epsilon=self.layer_norm_eps, use_bias=self.use_bias, name="output_norm"
    )(hidden)
    logits = nn.Dense(
      self.vocab_size,
      use_bias=False,
      kernel_init=torch_linear_init,
      name="unembed",
    )(hidden)
    if return_attention:
      return logits, jnp.stack(attention, axis=1)
    return logits


def masked_next_token_loss(
  logits: jax.Array, tokens: jax.Array, target_mask: jax.Array
) -> jax.Array:
  """Mean cross-entropy of predicting the masked tokens from their prefix.

  The logits at position ``i`` predict token ``i + 1``; only tokens where
  ``target_mask`` is True count (e.g. everything after end-of-input).

  Args:
    logits: ``[B, T, V]``.
    tokens: int ``[B, T]``.
    target_mask: bool ``[B, T]`` or ``[T]``: which tokens are targets
      (position 0 never is).

  Returns:
    The mean over all target tokens of the batch.
  """
  picked = log_likelihood(logits[:, :-1].astype(jnp.float32), tokens[:, 1:])
  mask = jnp.broadcast_to(target_mask, tokens.shape)[:, 1:].astype(jnp.float32)
  return -jnp.sum(picked * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def exact_match(
  logits: jax.Array, tokens: jax.Array, target_mask: jax.Array
) -> jax.Array:
  """Whether the argmax is right at every target token (teacher forcing).

  Returns bool ``[B]``; for a deterministic target this equals greedy
  decoding success.
  """
  predicted = jnp.argmax(logits[:, :-1], axis=-1)
  correct = predicted == tokens[:, 1:]
  mask = jnp.broadcast_to(target_mask, tokens.shape)[:, 1:]
  return jnp.all(correct | ~mask, axis=-1)
