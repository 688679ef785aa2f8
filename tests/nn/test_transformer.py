"""The decoder-only transformer against a NumPy reference, masks and init."""

import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf

from repro.nn import transformer as tf

VOCAB, WIDTH, HEADS, LENGTH = 11, 8, 2, 7


class Jitted:
  """``model.apply`` under ``jit`` (eager Flax compiles op by op)."""

  def __init__(self, model):
    self.module = model
    self.apply = jax.jit(
      model.apply, static_argnames=("return_attention", "train")
    )


@functools.cache
def make():
  """The test model, its parameters and tokens (one init compilation)."""
  model = tf.Transformer(
    vocab_size=VOCAB, max_len=LENGTH, num_layers=2, num_heads=HEADS, width=WIDTH
  )
  tokens = np.random.default_rng(1).integers(0, VOCAB, (3, LENGTH))
  params = jax.jit(model.init)(jax.random.key(0), tokens)
  return Jitted(model), params, jnp.asarray(tokens)


def reference_forward(params, tokens, num_layers, normalized_residual=True):
  """NumPy transcription of the official PyTorch forward (float64)."""
  p = jax.tree.map(lambda x: np.asarray(x, np.float64), params["params"])

  def layer_norm(x, scale):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * scale

  def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))

  length = tokens.shape[1]
  head_dim = WIDTH // HEADS
  hidden = p["token_embedding"]["embedding"][np.asarray(tokens)]
  hidden = hidden + p["position_embedding"][:length]
  attentions = []
  for layer in range(num_layers):
    block = p[f"block_{layer}"]
    normed = layer_norm(hidden, block["norm_1"]["scale"])
    qkv = normed @ block["attn"]["qkv"]["kernel"]
    q, k, v = np.split(qkv, 3, axis=-1)
    split = lambda x: x.reshape(*x.shape[:2], HEADS, head_dim).transpose(
      0, 2, 1, 3
    )
    q, k, v = split(q), split(k), split(v)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim)
    scores = np.where(np.tril(np.ones((length, length))) > 0, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    attentions.append(weights)
    mixed = (weights @ v).transpose(0, 2, 1, 3).reshape(*hidden.shape)
    attended = mixed @ block["attn"]["out"]["kernel"]
    hidden = (normed if normalized_residual else hidden) + attended
    inner = layer_norm(hidden, block["norm_2"]["scale"])
    hidden = (
      hidden
      + gelu(inner @ block["mlp"]["fc1"]["kernel"])
      @ (block["mlp"]["fc2"]["kernel"])
    )
  hidden = layer_norm(hidden, p["output_norm"]["scale"])
  return hidden @ p["unembed"]["kernel"], np.stack(attentions, axis=1)


@pytest.mark.parametrize("normalized_residual", [True, False])
def test_matches_numpy_reference(normalized_residual):
  model, params, tokens = make()
  model = Jitted(model.module.clone(normalized_residual=normalized_residual))
  logits, attention = model.apply(params, tokens, return_attention=True)
  chex.assert_shape(logits, (3, LENGTH, VOCAB))
  chex.assert_type([logits, attention], jnp.float32)
  ref_logits, ref_attention = reference_forward(
    params, tokens, 2, normalized_residual
  )
  np.testing.assert_allclose(logits, ref_logits, rtol=2e-4, atol=2e-4)
  np.testing.assert_allclose(attention, ref_attention, atol=1e-5)
  assert attention.shape == (3, 2, HEADS, LENGTH, LENGTH)


def test_attention_is_causal_and_normalised():
  model, params, tokens = make()
  logits, attention = model.apply(params, tokens, return_attention=True)
  attention = np.asarray(attention)
  np.testing.assert_allclose(attention.sum(-1), 1.0, rtol=1e-5)
  upper = np.triu(np.ones((LENGTH, LENGTH)), 1).astype(bool)
  assert np.abs(attention[..., upper]).max() == 0
  # Changing a later token never changes earlier logits.
  changed = np.asarray(tokens).copy()
  changed[:, 4] = (changed[:, 4] + 1) % VOCAB
  other, _ = model.apply(params, changed, return_attention=True)
  np.testing.assert_allclose(other[:, :4], logits[:, :4], atol=1e-6)
  assert float(jnp.abs(other[:, 4:] - logits[:, 4:]).max()) > 1e-4


def test_no_biases_and_pytorch_init_scales():
  _, params, _ = make()
  names = [
    "/".join(str(getattr(k, "key", k)) for k in path)
    for path, _ in jax.tree_util.tree_leaves_with_path(params)
  ]
  assert not [n for n in names if "bias" in n]
  p = jax.tree.map(np.asarray, params["params"])
  # nn.Embedding: N(0, 1) (88 and 56 draws).
  assert abs(p["token_embedding"]["embedding"].std() - 1) < 0.25
  assert abs(p["position_embedding"].std() - 1) < 0.3
  # nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  for name, fan_in in (("qkv", WIDTH), ("out", WIDTH)):
    kernel = p["block_0"]["attn"][name]["kernel"]
    assert np.abs(kernel).max() <= 1 / math.sqrt(fan_in)
    assert np.abs(kernel).max() > 0.8 / math.sqrt(fan_in)
  fc1 = p["block_1"]["mlp"]["fc1"]["kernel"]
  assert fc1.shape == (WIDTH, 4 * WIDTH)
  assert np.abs(fc1).max() <= 1 / math.sqrt(WIDTH)
  fc2 = p["block_1"]["mlp"]["fc2"]["kernel"]
  assert np.abs(fc2).max() <= 1 / math.sqrt(4 * WIDTH)
  assert np.abs(fc2).max() > 0.8 / math.sqrt(4 * WIDTH)
  # LayerNorm scales start at one.
  np.testing.assert_array_equal(p["block_0"]["norm_1"]["scale"], 1.0)
  count = sum(x.size for x in jax.tree.leaves(params))
  # 2 blocks of 4 d^2 (attention) + 8 d^2 (MLP) + 2 d (norms), token and
  # position embeddings, the final norm and the unembedding.
  expected = (
    2 * (12 * WIDTH**2 + 2 * WIDTH)
    + VOCAB * WIDTH
    + LENGTH * WIDTH
    + WIDTH
    + WIDTH * VOCAB
  )
  assert count == expected


def test_override_replaces_rows_in_every_head():
  model, params, tokens = make()
  rows = jnp.zeros(LENGTH, bool).at[5].set(True)
  weights = jnp.zeros((LENGTH, LENGTH)).at[5, 2].set(1.0)
  override = tf.AttentionOverride(rows, weights)
  _, base = model.apply(params, tokens, return_attention=True)
  _, attention = model.apply(
    params, tokens, return_attention=True, attention_overrides=[None, override]
  )
  np.testing.assert_array_equal(
    attention[:, 1, :, 5], jnp.broadcast_to(weights[5], (3, HEADS, LENGTH))
  )
  np.testing.assert_allclose(attention[:, 1, :, :5], base[:, 1, :, :5])
  np.testing.assert_allclose(attention[:, 0], base[:, 0])
  with pytest.raises(ValueError, match="one entry per layer"):
    model.module.apply(params, tokens, attention_overrides=[None])


def test_masked_loss_counts_only_target_tokens():
  logits = jax.random.normal(jax.random.key(2), (2, 5, 4))
  tokens = jnp.array([[0, 1, 2, 3, 1], [3, 2, 1, 0, 0]])
  mask = jnp.array([False, False, True, True, True])
  loss = tf.masked_next_token_loss(logits, tokens, mask)
  chex.assert_rank(loss, 0)
  chex.assert_type(loss, jnp.float32)
  log_probs = np.asarray(jax.nn.log_softmax(logits, axis=-1))
  expected = -np.mean(
    [log_probs[b, i - 1, tokens[b, i]] for b in range(2) for i in (2, 3, 4)]
  )
  np.testing.assert_allclose(loss, expected, rtol=1e-6)
  # Logits that predict non-target tokens do not matter.
  edited = logits.at[:, 0].set(100.0)
  np.testing.assert_allclose(
    tf.masked_next_token_loss(edited, tokens, mask), loss, rtol=1e-6
  )


def test_exact_match_needs_every_target_right():
  tokens = jnp.array([[0, 1, 2, 3], [0, 1, 2, 3]])
  mask = jnp.array([False, False, True, True])
  logits = jax.nn.one_hot(jnp.array([[1, 2, 3, 0], [2, 2, 3, 0]]), 4)
  # Row 0 predicts 1, 2, 3: all right. Row 1 predicts 2, 2, 3: the wrong
  # token 1 is not a target (ignored) -> still an exact match.
  match = tf.exact_match(logits, tokens, mask)
  chex.assert_shape(match, (2,))
  chex.assert_type(match, bool)
  np.testing.assert_array_equal(match, [True, True])
  logits = logits.at[1, 2].set(jax.nn.one_hot(1, 4))
  np.testing.assert_array_equal(
    tf.exact_match(logits, tokens, mask), [True, False]
  )


def test_embedding_dropout_needs_train_flag():
  model, params, tokens = make()
  clean, _ = model.apply(params, tokens, return_attention=True)
  dropout = Jitted(model.module.clone(emb_dropout=0.5))
  same, _ = dropout.apply(params, tokens, return_attention=True)
  np.testing.assert_array_equal(clean, same)
  noisy, _ = dropout.apply(
    params,
    tokens,
    train=True,
    return_attention=True,
    rngs={"dropout": jax.random.key(3)},
  )
  chex.assert_equal_shape([noisy, clean])
  assert float(jnp.abs(noisy - clean).max()) > 1e-3


def test_longer_input_than_max_len_is_an_error():
  model, params, _ = make()
  with pytest.raises(ValueError, match="max_len"):
    model.module.apply(params, jnp.zeros((1, LENGTH + 1), jnp.int32))


def test_use_bias_adds_dense_and_norm_biases():
  model = tf.Transformer(
    vocab_size=VOCAB,
    max_len=LENGTH,
    num_heads=HEADS,
    width=WIDTH,
    use_bias=True,
    normalized_residual=False,
  )
  shapes = jax.eval_shape(
    model.init, jax.random.key(0), jnp.zeros((1, LENGTH), jnp.int32)
  )
  names = {
    "/".join(str(getattr(k, "key", k)) for k in path)
    for path, _ in jax.tree_util.tree_leaves_with_path(shapes)
  }
  assert {
    "params/block_0/attn/qkv/bias",
    "params/block_1/mlp/fc2/bias",
    "params/block_0/norm_1/bias",
    "params/output_norm/bias",
  } <= names
  assert "params/unembed/bias" not in names  # untied, bias-free head
