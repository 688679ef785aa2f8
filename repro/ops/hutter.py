"""The Hutter memorisation model: exact and Monte-Carlo test error.

Dohmatob et al., "A Tale of Tails" (arXiv 2402.07043), Sec. 2 (after
Hutter, 2021). Each item i has a fixed label; the learner memorises every
(i, label) it sees among T iid training draws from q and errs on the rest.
Tested on p its error is

  E_test(T) = sum_i p_i (1 - q_i)^T                       ("eq. 9")

which scales as T^-(1 - 1/beta) for q = p Zipf(beta) and saturates at the
cut mass for a top-k cut (Thm 2.1). ``expected_error`` adds the items
beyond the head array analytically (``tail_error``); ``monte_carlo_errors``
draws the training sets. Generators of AI data across generations:

- ``wright_fisher_samples``: generation n + 1 draws T0 samples from the
  empirical distribution of generation n's T0 samples (generation 0 draws
  from p). A learner trained on data of generation n >= 1 sees the
  empirical law of the samples of generation n - 1.
  ``wright_fisher_errors`` gives the learners' errors on the same draws
  with one sort per chain.
- ``relabel_generations_error``: inputs are always drawn from p, labels
  come from the previous generation's model (wrong where it never saw the
  input); closed form.

Use float64 (``jax.enable_x64()``): p_i spans 1 to 1e-13 and E_test reaches
1e-4.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy import special
from jax.typing import ArrayLike

from repro.ops.zipf import ItemLaw, tail_mass


def _survival(train_probs: jax.Array, num_samples) -> jax.Array:
  """(1 - q_i)^T, exact also for q_i = 1 and T = 0."""
  num_samples = jnp.asarray(num_samples, train_probs.dtype)
  below_one = train_probs < 1.0
  safe = jnp.where(below_one, train_probs, 0.0)
  powered = jnp.exp(num_samples * jnp.log1p(-safe))
  return jnp.where(
    below_one, powered, (num_samples == 0).astype(train_probs.dtype)
  )


def head_error(
  test: ItemLaw, train: ItemLaw, num_samples: ArrayLike
) -> jax.Array:
  """sum_{i <= N} p_i (1 - q_i)^T."""
  return jnp.sum(test.head * _survival(train.head, num_samples), axis=-1)


def tail_error(
  test: ItemLaw, train: ItemLaw, num_samples: ArrayLike
) -> jax.Array:
  """sum_{i > N} p_i (1 - q_i)^T for power tails, analytically.

  With p_i = a i^-b and q_i = A i^-B beyond the head (q_i << 1 there, so
  (1 - q_i)^T = exp(-T q_i)), the sum is the midpoint integral from
  N + 1/2; substituting u = T A x^-B gives

    (a / B) (T A)^-s Gamma(s) P(s, T A (N + 1/2)^-B),  s = (b - 1) / B,

  with P the regularised lower incomplete gamma function. A training law
  without a tail (A = 0) never shows those items: the error is their mass.
  """
  dtype = test.head.dtype
  num_items = test.head.shape[-1]
  num_samples = jnp.asarray(num_samples, dtype)
  test_scale = jnp.asarray(test.tail.scale, dtype)
  test_exponent = jnp.asarray(test.tail.exponent, dtype)
  train_scale = jnp.asarray(train.tail.scale, dtype)
  train_exponent = jnp.asarray(train.tail.exponent, dtype)
  unseen_mass = tail_mass(test)
  rate = num_samples * train_scale
  visible = rate > 0
  safe_rate = jnp.where(visible, rate, 1.0)
  shape = (test_exponent - 1.0) / train_exponent
  u_edge = safe_rate * (num_items + 0.5) ** -train_exponent
  integral = (
    test_scale
    / train_exponent
    * safe_rate**-shape
    * jnp.exp(special.gammaln(shape))
    * special.gammainc(shape, u_edge)
  )
  return jnp.where(visible & (test_scale > 0), integral, unseen_mass)


def expected_error(
  test: ItemLaw, train: ItemLaw, num_samples: ArrayLike
) -> jax.Array:
  """E_test(T) = sum_i p_i (1 - q_i)^T over head and tail ("eq. 9")."""
  return head_error(test, train, num_samples) + tail_error(
    test, train, num_samples
  )


def expected_error_curve(
  test: ItemLaw, train: ItemLaw, sample_sizes: jax.Array, batch_size: int = 4
) -> jax.Array:
  """``expected_error`` at each T of ``sample_sizes`` (memory O(batch N)).

  log(1 - q_i) is computed once for all T.
  """
  train_probs = train.head
  below_one = train_probs < 1.0
  log_survival = jnp.log1p(-jnp.where(below_one, train_probs, 0.0))

  def at_size(num_samples):
    survival = jnp.where(
      below_one,
      jnp.exp(num_samples * log_survival),
      (num_samples == 0).astype(train_probs.dtype),
    )
    return jnp.sum(test.head * survival) + tail_error(test, train, num_samples)

  return jax.lax.map(
    at_size, jnp.asarray(sample_sizes, test.head.dtype), batch_size=batch_size
  )


class ItemSampler(NamedTuple):
  """A law's cumulative head probabilities, for inverse-CDF draws."""

  cdf: jax.Array
  total: jax.Array
  has_tail: jax.Array


def item_sampler(law: ItemLaw) -> ItemSampler:
  """Precomputes the CDF once for many ``sample_items`` calls."""
  cdf = jnp.cumsum(law.head)
  beyond = tail_mass(law)
  return ItemSampler(cdf, cdf[-1] + beyond, beyond > 0)


def sample_items(
  key: jax.Array, law: ItemLaw | ItemSampler, num_samples: int
) -> jax.Array:
  """T iid item indices from ``law`` by inverse CDF (0-based).

  Index N stands for "an item beyond the head" (drawn with the tail mass).
  Pass an ``ItemSampler`` to reuse the CDF across calls.
  """
  sampler = law if isinstance(law, ItemSampler) else item_sampler(law)
  num_items = sampler.cdf.shape[-1]
  uniforms = jax.random.uniform(key, (num_samples,), sampler.cdf.dtype)
  indices = jnp.searchsorted(
    sampler.cdf, uniforms * sampler.total, side="right", method="scan"
  )
  return jnp.where(
    sampler.has_tail, indices, jnp.minimum(indices, num_items - 1)
  )


def first_draw_times(indices: jax.Array, num_items: int) -> jax.Array:
  """For each head item, the position of its first draw (T_max if never).

  Item i is in the first T draws iff its first draw time is < T, so one
  sequence of T_max draws gives nested training sets for every T <= T_max.
  """
  num_draws = indices.shape[-1]
  times = jnp.full((num_items + 1,), num_draws, jnp.int32)
  times = times.at[indices].min(jnp.arange(num_draws, dtype=jnp.int32))
  return times[:num_items]


def monte_carlo_errors(
  key: jax.Array,
  test: ItemLaw,
  train: ItemLaw,
  sample_sizes: tuple[int, ...],
  num_trials: int,
) -> jax.Array:
  """E_test of learners trained on their own draws ([trials, sizes]).

  Each trial draws max(T) items once; its learner at size T memorises the
  first T (nested training sets, each one an iid sample of size T). Head
  items count as errors when unseen; items beyond the head add their
  expected error (``tail_error``), the same for every trial, so the mean
  over trials estimates ``expected_error`` without bias.
  """
  num_items = test.head.shape[-1]
  sizes = jnp.asarray(sample_sizes, jnp.int32)
  tails = jax.vmap(lambda t: tail_error(test, train, t))(sizes)
  sampler = item_sampler(train)

  def one_trial(trial_key):
    first = first_draw_times(
      sample_items(trial_key, sampler, max(sample_sizes)), num_items
    )
    unseen = first[None, :] >= sizes[:, None]
    return jnp.sum(jnp.where(unseen, test.head, 0.0), axis=-1) + tails

  return jax.lax.map(one_trial, jax.random.split(key, num_trials))


def wright_fisher_samples(
  key: jax.Array, law: ItemLaw, generation_size: int, num_generations: int
) -> jax.Array:
  """Item indices of generations 0..n-1, each of T0 draws ([n, T0]).

  Generation 0 draws from ``law``; generation g + 1 draws T0 times with
  replacement from generation g's samples, i.e. from its empirical
  distribution (a model that reproduces what it was trained on).
  """
  first_key, resample_key = jax.random.split(key)
  first = sample_items(first_key, law, generation_size)
  return _resample_generations(resample_key, first, num_generations)


def _resample_generations(
  key: jax.Array, first: jax.Array, num_generations: int
) -> jax.Array:
  """``first`` ([T0]) and the generations resampled from it ([n, T0]).

  Generation g + 1 is T0 draws with replacement from generation g, drawn
  with the keys ``split(key, n - 1)``.
  """
  size = first.shape[0]

  def next_generation(samples, step_key):
    picks = jax.random.randint(step_key, (size,), 0, size)
    resampled = samples[picks]
    return resampled, resampled

  _, later = jax.lax.scan(
    next_generation, first, jax.random.split(key, num_generations - 1)
  )
  return jnp.concatenate([first[None], later], axis=0)


def empirical_training_error(
  test: ItemLaw, samples: jax.Array, num_samples: ArrayLike
) -> jax.Array:
  """E_test of a learner with T draws from the empirical law of ``samples``.

  q_i = c_i / T0 with c_i the count of item i in ``samples`` (index N, an
  item beyond the head, is never credited): E = 1 - sum_{c_i > 0} p_i
  (1 - (1 - c_i / T0)^T), computed on the sorted samples in O(T0 log T0).
  """
  dtype = test.head.dtype
  generation_size = samples.shape[-1]
  ordered = jnp.sort(samples)
  starts = jnp.concatenate([jnp.ones((1,), bool), ordered[1:] != ordered[:-1]])
  group = jnp.cumsum(starts) - 1
  counts = jax.ops.segment_sum(
    jnp.ones_like(ordered, dtype), group, num_segments=generation_size
  )
  probs_with_beyond = jnp.concatenate([test.head, jnp.zeros((1,), dtype)])
  first_item = (
    jnp.zeros((generation_size,), ordered.dtype).at[group].set(ordered)
  )
  present = jnp.arange(generation_size) <= group[-1]
  learned = probs_with_beyond[first_item] * (
    1.0 - _survival(counts / generation_size, num_samples)
  )
  total = jnp.sum(test.head) + tail_mass(test)
  return total - jnp.sum(jnp.where(present, learned, 0.0))


def wright_fisher_errors(
  key: jax.Array,
  law: ItemLaw,
  generation_size: int,
  num_generations: int,
  num_samples: ArrayLike,
  sampler: ItemSampler | None = None,
) -> jax.Array:
  """``empirical_training_error`` of each ``wright_fisher_samples`` generation.

  The same draws and, to round-off, the same errors ([n]) as the two
  functions composed, with one sort per chain instead of one per
  generation: resampling never creates items, so every generation lives on
  the distinct items of generation 0. Each draw carries the index of its
  item among them (one sort of generation 0), resampling moves those
  indices, and a generation's counts are a ``bincount`` of them; the
  survival (1 - c / T0)^T is tabulated once for c = 0..T0. Pass
  ``sampler`` (``item_sampler(law)``) to share the CDF across chains.
  """
  dtype = law.head.dtype
  num_items = law.head.shape[-1]
  sampler = item_sampler(law) if sampler is None else sampler
  first_key, resample_key = jax.random.split(key)
  first = sample_items(first_key, sampler, generation_size)
  if jax.dtypes.canonicalize_dtype(jnp.int64) == jnp.int64:
    # One sort of (item, position) packed in an int64: a stable argsort
    # with one sort key (several times faster on CPU).
    position = jnp.arange(generation_size, dtype=jnp.int64)
    packed = jnp.sort(first.astype(jnp.int64) * generation_size + position)
    ordered, order = packed // generation_size, packed % generation_size
  else:  # without x64 the product could overflow int32
    order = jnp.argsort(first)
    ordered = first[order]
  starts = jnp.concatenate([jnp.ones((1,), bool), ordered[1:] != ordered[:-1]])
  sorted_group = (jnp.cumsum(starts) - 1).astype(jnp.int32)
  group = jnp.zeros_like(sorted_group).at[order].set(sorted_group)
  distinct = (
    jnp.full((generation_size,), num_items, ordered.dtype)
    .at[sorted_group]
    .set(ordered)
  )  # index N (beyond the head): not credited
  probs = jnp.where(
    distinct < num_items, law.head[jnp.minimum(distinct, num_items - 1)], 0.0
  )
  total = jnp.sum(law.head) + tail_mass(law)
  survival = _survival(
    jnp.arange(generation_size + 1, dtype=dtype) / generation_size, num_samples
  )

  def error(generation_group):
    counts = jnp.bincount(generation_group, length=generation_size)
    return total - jnp.sum(probs * (1.0 - survival[counts]))

  return jax.vmap(error)(
    _resample_generations(resample_key, group, num_generations)
  )


def finite_sample_error(
  test: ItemLaw,
  generator: ItemLaw,
  generation_size: ArrayLike,
  num_samples: ArrayLike,
  max_count: int,
) -> jax.Array:
  """Expected E_test on AI data from a model trained on T0 samples (eq. 6).

  The generator reproduces the empirical law c / T0 of T0 draws from q;
  the learner takes T draws from it. Since E_test is a sum over items, its
  expectation needs only the marginals c_i ~ Binomial(T0, q_i):

    E = sum_i p_i sum_c Binom(c; T0, q_i) (1 - c / T0)^T.

  The sum over c stops at ``max_count``; the rest is below
  (1 - (max_count + 1) / T0)^T (e^-400 for T = 100 T0 and max_count = 3).
  Items beyond the head add their chance of being missed by all T0 draws.
  """
  dtype = test.head.dtype
  probs = generator.head
  generation_size = jnp.asarray(generation_size, dtype)
  log_q = jnp.log(jnp.where(probs > 0, probs, 1.0))
  log_not_q = jnp.log1p(-jnp.where(probs < 1, probs, 0.0))

  def add_count(total, count):
    count = count.astype(dtype)
    log_choose = (
      special.gammaln(generation_size + 1.0)
      - special.gammaln(count + 1.0)
      - special.gammaln(generation_size - count + 1.0)
    )
    log_pmf = log_choose + count * log_q + (generation_size - count) * log_not_q
    pmf = jnp.where(probs > 0, jnp.exp(log_pmf), (count == 0).astype(dtype))
    pmf = jnp.where(count <= generation_size, pmf, 0.0)
    missed = _survival(jnp.minimum(count / generation_size, 1.0), num_samples)
    return total + jnp.sum(test.head * pmf * missed), None

  head, _ = jax.lax.scan(
    add_count, jnp.zeros((), dtype), jnp.arange(max_count + 1)
  )
  return head + tail_error(test, generator, generation_size)


def relabel_generations_error(
  test: ItemLaw,
  generation_size: ArrayLike,
  num_samples: ArrayLike,
  num_generations: ArrayLike,
) -> jax.Array:
  """E_test after n generations of relabelling (closed form).

  Generation 0 is trained on T0 clean draws; generation j >= 1 on T0 draws
  x ~ p labelled by generation j - 1, which is right only on inputs it saw
  with a right label. A learner on T draws labelled by generation n - 1
  (n = 0: clean labels) is right on i with probability
  (1 - (1 - p_i)^T) (1 - (1 - p_i)^T0)^n, so

    E^(n) = sum_i p_i [1 - (1 - (1 - p_i)^T) (1 - (1 - p_i)^T0)^n].

  Items beyond the head count as errors (their learned share is at most
  T sum_{i > N} p_i^2).
  """
  seen_final = 1.0 - _survival(test.head, num_samples)
  seen_generator = 1.0 - _survival(test.head, generation_size)
  num_generations = jnp.asarray(num_generations, test.head.dtype)
  correct = seen_final * seen_generator**num_generations
  return jnp.sum(test.head * (1.0 - correct)) + tail_mass(test)


def log_log_slope(x: ArrayLike, y: ArrayLike) -> jax.Array:
  """Least-squares slope of log y against log x (a power-law exponent)."""
  log_x = jnp.log(jnp.asarray(x, jnp.result_type(float)))
  log_y = jnp.log(jnp.asarray(y, log_x.dtype))
  centred = log_x - jnp.mean(log_x)
  return jnp.sum(centred * (log_y - jnp.mean(log_y))) / jnp.sum(centred**2)
