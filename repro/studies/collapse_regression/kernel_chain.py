"""Model collapse in kernel ridge regression on real images.

The paper's appendix runs kernel ridge regression on MNIST over synthetic
generations (arXiv 2402.07712, v1 framing; README, part (v)); the cpu
preset uses the embedded 8x8 digits instead. Targets are centred one-hot
vectors y = e_label - 1/10. Generation 1 fits KRR (small ``gen_lambda``)
on T0 fresh pool images with their true targets plus N(0, s0^2) noise;
generation k >= 2 fits T0 fresh pool images labelled by generation k - 1
plus noise. The downstream KRR, for each n and each lam of a grid, fits T
fresh pool images labelled by generation n (n = 0: the true targets) and
is scored on held-out test images against the true targets.

Kernel values are computed on the fly from the images (T0 x T0 per
generation), so the same code runs on MNIST-sized pools.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from repro import data
from repro.core import rng
from repro.ops import kernels
from repro.studies.collapse_regression.simulate import map_replicas

NUM_CLASSES = 10


def load_images(
  name: str, split: str, data_dir: str | None, limit: int = 0
) -> tuple[np.ndarray, np.ndarray]:
  """Flattened images [n, p] (float64) and labels [n] of one split.

  ``limit`` > 0 keeps the first ``limit`` examples.
  """
  split_data = data.load(name, split, data_dir or None)
  images, labels = split_data["image"], split_data["label"]
  if limit:
    images, labels = images[:limit], labels[:limit]
  return images.reshape(len(images), -1).astype(np.float64), labels


def centred_one_hot(labels: jax.Array) -> jax.Array:
  """e_label - 1/10: zero-mean targets with per-entry std 0.3."""
  return jax.nn.one_hot(labels, NUM_CLASSES, dtype=jnp.float64) - (
    1.0 / NUM_CLASSES
  )


def _draw_subset_and_noise(key, pool_size: int, num_samples: int):
  """T distinct pool indices (uniform) and N(0, 1) noise [T, 10], one draw.

  The subset is the T smallest of pool_size iid Gaussians (a uniformly
  random subset); one draw per call keeps compilation short.
  """
  gaussians = jax.random.normal(key, (pool_size + num_samples * NUM_CLASSES,))
  indices = jnp.argsort(gaussians[:pool_size])[:num_samples]
  return indices, gaussians[pool_size:].reshape(num_samples, NUM_CLASSES)


def generator_chain(
  key,
  pool_x,
  pool_targets,
  bandwidth,
  gen_num_samples,
  gen_noise_std,
  gen_lambda,
  num_generations,
):
  """The KRR generators f_1..f_n of one chain.

  Returns:
    (indices [n, T0] of each generation's pool images, dual coefficients
    [n, T0, 10]); f_k(x) = k(x, pool_x[indices[k-1]]) alpha[k-1].
  """
  pool_size = pool_x.shape[0]

  def generation(previous, k):
    previous_indices, previous_alpha = previous
    indices, noise = _draw_subset_and_noise(
      rng.step_key(key, k), pool_size, gen_num_samples
    )
    inputs = pool_x[indices]
    # Generation 1 learns the true targets; later ones the previous model.
    teacher = (
      kernels.rbf_kernel(inputs, pool_x[previous_indices], bandwidth)
      @ previous_alpha
    )
    targets = jnp.where(k == 0, pool_targets[indices], teacher)
    targets = targets + gen_noise_std * noise
    alpha = kernels.kernel_ridge_fit(
      kernels.rbf_kernel(inputs, inputs, bandwidth), targets, gen_lambda
    )
    return (indices, alpha), (indices, alpha)

  start = (
    jnp.zeros(gen_num_samples, dtype=int),
    jnp.zeros((gen_num_samples, NUM_CLASSES), pool_x.dtype),
  )
  _, (indices, alphas) = jax.lax.scan(
    generation, start, jnp.arange(num_generations)
  )
  return indices, alphas


def downstream_scores(
  key,
  chain_indices,
  chain_alphas,
  pool_x,
  pool_targets,
  test_x,
  test_labels,
  bandwidth,
  num_samples,
  noise_std,
  lambdas,
):
  """Test MSE and accuracy of downstream KRR for every n and lam.

  One draw of T pool images serves every generation's labels (common
  random numbers). MSE is the mean over test images of ||f(x) - y||^2.

  Returns:
    (mse [n + 1, L], accuracy [n + 1, L]).
  """
  indices, noise = _draw_subset_and_noise(key, pool_x.shape[0], num_samples)
  inputs = pool_x[indices]

  def teacher(generator_indices, alpha):
    return (
      kernels.rbf_kernel(inputs, pool_x[generator_indices], bandwidth) @ alpha
    )

  targets = jnp.concatenate(
    [
      pool_targets[indices][None],
      jax.vmap(teacher)(chain_indices, chain_alphas),
    ]
  )  # [n + 1, T, 10]
  targets = targets + noise_std * noise
  num_models = targets.shape[0]
  stacked = jnp.transpose(targets, (1, 0, 2)).reshape(num_samples, -1)
  predictions = kernels.kernel_ridge_path(
    kernels.rbf_kernel(inputs, inputs, bandwidth),
    stacked,
    lambdas,
    kernels.rbf_kernel(test_x, inputs, bandwidth),
  )  # [L, m, (n+1) 10]
  predictions = predictions.reshape(
    len(lambdas), test_x.shape[0], num_models, NUM_CLASSES
  )
  truth = centred_one_hot(test_labels)[None, :, None]
  mse = jnp.mean(jnp.sum((predictions - truth) ** 2, axis=-1), axis=1)
  correct = jnp.argmax(predictions, axis=-1) == test_labels[None, :, None]
  return mse.T, jnp.mean(correct, axis=1).T


@functools.partial(
  jax.jit,
  static_argnames=(
    "gen_num_samples",
    "num_generations",
    "num_samples",
    "chunk_size",
  ),
)
def simulate_krr(
  keys,
  pool_x,
  pool_targets,
  test_x,
  test_labels,
  bandwidth,
  gen_num_samples,
  gen_noise_std,
  gen_lambda,
  num_generations,
  num_samples,
  noise_std,
  lambdas,
  chunk_size=None,
):
  """Chains and downstream scores per replica key -> ([R, n+1, L]) x 2."""

  def one(key):
    indices, alphas = generator_chain(
      key,
      pool_x,
      pool_targets,
      bandwidth,
      gen_num_samples,
      gen_noise_std,
      gen_lambda,
      num_generations,
    )
    # Generation k draws from step_key(key, k), k < n; downstream after.
    downstream_key = rng.step_key(key, num_generations)
    return downstream_scores(
      downstream_key,
      indices,
      alphas,
      pool_x,
      pool_targets,
      test_x,
      test_labels,
      bandwidth,
      num_samples,
      noise_std,
      lambdas,
    )

  return map_replicas(one, keys, chunk_size=chunk_size)
