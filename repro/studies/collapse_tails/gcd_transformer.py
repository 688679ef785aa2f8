"""Transformers on the GCD task trained on clean and on AI data (Sec. 6).

Generation 0 is trained on ``train_size`` clean rows ``a SEP b EQ gcd``.
Its greedy answers on fresh operand pairs are the AI data of generation 1
(tail-cut, and mislabelled: it answers wrongly on the rare gcds it has not
learned). A third model is trained on the same amount of data with a fraction
``clean_fraction`` of clean rows (Thm 3.2's mixing). All three are
evaluated on fresh clean rows: exact-match accuracy overall and per gcd
value (greedy answers), and how many gcd values in 1..K they answer right
>= 90% of the time.
This is the ``paper`` part of the study; ``smoke`` runs it tiny.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from repro.core import loop, rng
from repro.data import gcd as gcd_data
from repro.nn import transformer

# Fewest evaluation rows with a given gcd for its accuracy to be reported.
_MIN_ROWS_PER_GCD = 5
_LOG_EVERY_CHUNKS = 10


def make_model(config, task: gcd_data.GcdTask) -> transformer.Transformer:
  """The decoder-only pre-LN transformer of ``config.gcd``."""
  g = config.gcd
  return transformer.Transformer(
    vocab_size=task.vocab_size,
    max_len=task.sequence_length,
    num_layers=g.num_layers,
    num_heads=g.num_heads,
    width=g.width,
    use_bias=True,
    normalized_residual=False,
  )


def make_optimizer(config) -> optax.GradientTransformation:
  """Adam with linear warm-up, cosine decay and gradient clipping at 5."""
  g = config.gcd
  schedule = optax.warmup_cosine_decay_schedule(
    0.0,
    g.learning_rate,
    min(g.warmup_steps, g.steps),
    max(g.steps, 1),
    end_value=0.1 * g.learning_rate,
  )
  return optax.chain(optax.clip_by_global_norm(5.0), optax.adam(schedule))


class Trainer:
  """Trains fresh models on row arrays with one compiled chunk of steps.

  The rows are an argument of the compiled chunk (not a constant, so the
  paper-scale data set is not baked into the program), and the three
  models of a run share the compilation.
  """

  def __init__(self, config, task: gcd_data.GcdTask):
    g = config.gcd
    self.config, self.task = config, task
    self.model = make_model(config, task)
    self.optimizer = make_optimizer(config)
    self.chunk_steps = max(1, min(g.steps, 500))
    mask = jnp.asarray(task.target_mask())

    def loss_fn(params, batch):
      logits = self.model.apply(params, batch)
      return transformer.masked_next_token_loss(logits, batch, mask)

    def chunk(params, opt_state, data, batch_key, first_step, length):
      def step(carry, step_index):
        params, opt_state = carry
        indices = jax.random.randint(
          rng.step_key(batch_key, step_index), (g.batch_size,), 0, data.shape[0]
        )
        loss, grads = jax.value_and_grad(loss_fn)(params, data[indices])
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

      (params, opt_state), losses = jax.lax.scan(
        step, (params, opt_state), first_step + jnp.arange(length)
      )
      return params, opt_state, losses

    self._chunk = jax.jit(chunk, static_argnums=(5,))

    def init_state(init_key):
      params = self.model.init(
        init_key, jnp.zeros((1, task.sequence_length), jnp.int32)
      )
      return params, self.optimizer.init(params)

    self._init_state = jax.jit(init_state)

    def decode(params, batch):
      def next_digit(position, batch):
        logits = self.model.apply(params, batch)[:, position - 1, : task.base]
        return batch.at[:, position].set(
          jnp.argmax(logits, -1).astype(batch.dtype)
        )

      return jax.lax.fori_loop(
        task.prompt_length, task.sequence_length, next_digit, batch
      )

    self._decode = jax.jit(decode)

  def train(
    self, rows: np.ndarray, key: jax.Array, description: str, checkpoints=None
  ):
    """Returns the parameters and per-step losses of a model on ``rows``."""
    g = self.config.gcd
    init_key, batch_key = jax.random.split(key)
    params, opt_state = self._init_state(init_key)
    data = jnp.asarray(rows)
    start = time.perf_counter()

    def advance(state, first, length):
      params, opt_state, losses = self._chunk(
        *state, data, batch_key, jnp.int32(first), length
      )
      if ((first + length) // self.chunk_steps) % _LOG_EVERY_CHUNKS == 0 or (
        first + length == g.steps
      ):
        logging.info(
          "%s: step %d/%d loss %.4f (%.0f s)",
          description,
          first + length,
          g.steps,
          float(losses[-1]),
          time.perf_counter() - start,
        )
      return (params, opt_state), {"loss": losses}

    # Step t draws its batch from fold_in(batch_key, t), so a resumed run
    # is identical to an uninterrupted one.
    result = loop.run(
      advance,
      (params, opt_state),
      g.steps,
      chunk_steps=self.chunk_steps,
      name=description,
      checkpoints=checkpoints,
    )
    return result.state[0], result.history["loss"]

  def greedy_answers(self, params, rows: np.ndarray) -> np.ndarray:
    """Rows with the answer digits replaced by the model's greedy answer.

    Decoding is autoregressive over the D answer positions; only digit
    tokens may be produced (the generator always writes a number).
    """
    return _batched(
      functools.partial(self._decode, params),
      rows,
      self.config.gcd.decode_batch_size,
    )

  def correct_answers(self, params, examples) -> np.ndarray:
    """bool ``[n]``: the greedy answer is the true gcd."""
    answers = gcd_data.decode_answer(
      self.greedy_answers(params, examples["tokens"]), self.task
    )
    return answers == examples["gcd"]


def _batched(fn, rows: np.ndarray, batch_size: int) -> np.ndarray:
  """``fn`` over row batches (the last one padded, then cut)."""
  outputs = []
  for start in range(0, rows.shape[0], batch_size):
    batch = rows[start : start + batch_size]
    padding = batch_size - batch.shape[0]
    padded = np.concatenate([batch, np.repeat(batch[-1:], padding, 0)])
    outputs.append(np.asarray(fn(jnp.asarray(padded)))[: batch.shape[0]])
  return np.concatenate(outputs)


def per_gcd_accuracy(
  correct: np.ndarray, gcds: np.ndarray, max_gcd: int
) -> np.ndarray:
  """Accuracy on rows with gcd = k for k = 1..K (NaN if too few rows)."""
  accuracy = np.full(max_gcd, np.nan)
  for k in range(1, max_gcd + 1):
    rows = gcds == k
    if rows.sum() >= _MIN_ROWS_PER_GCD:
      accuracy[k - 1] = correct[rows].mean()
  return accuracy


def run_gcd(config, checkpoints=None):
  """Generation 0, generation 1 and the mix; returns metrics and plots."""
  g = config.gcd
  task = gcd_data.GcdTask(g.max_operand, g.base)
  data_rng = np.random.default_rng(
    np.asarray(jax.random.key_data(rng.stream(config.seed, "gcd_data")))
  )
  keys = jax.random.split(rng.stream(config.seed, "gcd_train"), 3)
  clean = gcd_data.clean_examples(data_rng, task, g.train_size)
  evaluation = gcd_data.clean_examples(data_rng, task, g.eval_size)
  fresh = gcd_data.clean_examples(data_rng, task, g.ai_train_size)

  trainer = Trainer(config, task)
  logging.info(
    "collapse_tails: GCD generation 0 on %d clean rows", g.train_size
  )
  gen0, gen0_losses = trainer.train(
    clean["tokens"], keys[0], "gcd gen0", checkpoints
  )
  ai_rows = trainer.greedy_answers(gen0, fresh["tokens"])
  ai_label_accuracy = float(
    np.mean(gcd_data.decode_answer(ai_rows, task) == fresh["gcd"])
  )
  num_clean = int(round(g.clean_fraction * g.ai_train_size))
  mixed_rows = np.concatenate(
    [fresh["tokens"][:num_clean], ai_rows[num_clean:]]
  )

  logging.info(
    "collapse_tails: GCD generation 1 on %d AI rows", g.ai_train_size
  )
  gen1, gen1_losses = trainer.train(ai_rows, keys[1], "gcd gen1", checkpoints)
  logging.info("collapse_tails: GCD mix with %d clean rows", num_clean)
  mixed, mixed_losses = trainer.train(
    mixed_rows, keys[2], "gcd mix", checkpoints
  )

  metrics = {"gcd/ai_label_accuracy": ai_label_accuracy}
  plot = {"gcd": {"max_gcd": g.max_reported_gcd}}
  curves = []
  for name, params, losses in (
    ("gen0", gen0, gen0_losses),
    ("gen1", gen1, gen1_losses),
    ("mix", mixed, mixed_losses),
  ):
    correct = trainer.correct_answers(params, evaluation)
    accuracy = per_gcd_accuracy(correct, evaluation["gcd"], g.max_reported_gcd)
    metrics[f"gcd/{name}_accuracy"] = float(correct.mean())
    metrics[f"gcd/{name}_gcds_learned"] = float(
      np.sum(accuracy >= g.learned_accuracy)
    )
    metrics[f"gcd/{name}_final_loss"] = float(losses[-1])
    plot["gcd"][name] = accuracy
    curves += [
      {"experiment": f"gcd_{name}", "gcd": k + 1, "accuracy": float(a)}
      for k, a in enumerate(accuracy)
      if np.isfinite(a)
    ]
  return metrics, curves, plot
