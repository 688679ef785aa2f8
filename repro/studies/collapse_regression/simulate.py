"""Monte Carlo of the fake-data chain and the downstream ridge fit.

The paper's model (arXiv 2402.07712, Section 3; README): w_0 = w0; each
generation k = 1..n draws a fresh design X_{k-1} of T0 rows x ~ N(0, Sigma),
labels it with the previous model plus N(0, s0^2) noise and refits by
minimum-norm least squares ("replace", not accumulate). The downstream
model is ridge on T fresh rows labelled by w_n plus N(0, s^2) noise, and
its test error is measured against the true w0 in the Sigma norm (exact
for Gaussian x). Sigma is diagonal WLOG.

Under-parameterised chains (T0 >= d) draw each generation's sufficient
statistics X^T X and X^T e exactly (Bartlett decomposition) instead of the
design; over-parameterised ones draw the design in a ``lax.scan``.
Repetitions are a leading replica axis,
``vmap``ped in chunks (``lax.map``) and sharded over accelerator devices
(see ``replica_keys``). Call inside
``jax.enable_x64()``: power-law spectra go down to d^-beta.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from repro.core import parallel, rng
from repro.ops import ridge


def strictly_upper(packed: jax.Array, dim: int) -> jax.Array:
  """A [d, d] strictly upper triangle filled from ``packed`` [ceil(d/2), d-1].

  Row r of the triangle (d - 1 - r entries) and row d - 1 - r (r entries)
  share packed row r: the former takes its end, the latter its start
  (reversed). Every entry of the triangle is a different packed entry, so
  iid normals in, iid normals out; slices and flips only (a scatter of
  d(d-1)/2 entries per matrix, or a transpose, is several times slower on
  CPU).
  """
  pad = jnp.zeros((dim, 1), packed.dtype)
  rows = jnp.concatenate([packed, packed[: dim - packed.shape[0]][::-1, ::-1]])
  return jnp.triu(jnp.concatenate([pad, rows], axis=1), 1)


def bartlett_draw(
  key: jax.Array, dim: int, num_samples: int, dtype
) -> tuple[jax.Array, jax.Array]:
  """The sufficient statistics of one isotropic design, drawn directly.

  For X [T, d] with iid N(0, 1) entries, T >= d, and noise e ~ N(0, I_T):
  X^T X ~ Wishart_d(T, I) = U^T U by the Bartlett decomposition (U upper
  triangular, U_ii^2 ~ chi^2(T - i) for i = 0..d-1, iid N(0, 1) above the
  diagonal, all independent), and X^T e | X ~ N(0, X^T X), i.e. U^T z
  with z ~ N(0, I_d). Least squares on (X, e) needs only (U, z):
  d(d+1)/2 normals and d chi-squares instead of T (d + 1) normals.

  Returns:
    (U [d, d] upper triangular with positive diagonal, z [d]).
  """
  normal_key, chi_key = jax.random.split(key)
  half = (dim + 1) // 2
  # The barrier keeps XLA from fusing the draws into the triangle's d x d
  # fusion, which would compute them for both halves (~2x the work).
  normals, diagonal = jax.lax.optimization_barrier(
    (
      jax.random.normal(normal_key, (half * (dim - 1) + dim,), dtype),
      jnp.sqrt(
        jax.random.chisquare(
          chi_key, num_samples - jnp.arange(dim, dtype=dtype), (dim,), dtype
        )
      ),
    )
  )
  packed = normals[: half * (dim - 1)].reshape(half, dim - 1)
  return (
    strictly_upper(packed, dim) + jnp.diag(diagonal),
    normals[half * (dim - 1) :],
  )


def solve_upper(upper: jax.Array, rhs: jax.Array) -> jax.Array:
  """upper^{-1} rhs for an upper-triangular [d, d] matrix, [d] right side.

  Back substitution as a ``lax.scan`` over rows; vmapped over many small
  systems it is ~4x faster on CPU than the batched LAPACK trsm of
  ``solve_triangular`` (which also copies the batch to column-major).
  """

  def substitute(solution, row):
    # solution is still 0 at row and above, so the dot sums j > row only.
    value = (rhs[row] - upper[row] @ solution) / upper[row, row]
    return solution.at[row].set(value), None

  dim = rhs.shape[-1]
  solution, _ = jax.lax.scan(
    substitute, jnp.zeros_like(rhs), jnp.arange(dim - 1, -1, -1)
  )
  return solution


def generator_chain(
  key: jax.Array,
  w0: jax.Array,
  eigenvalues: jax.Array,
  gen_num_samples: int,
  gen_noise_std,
  num_generations: int,
) -> jax.Array:
  """The models w_0 = w0, w_1, ..., w_n of one chain -> [n + 1, d].

  Each generation draws its own design and noise from
  ``step_key(key, k)`` (fresh data every generation, the paper's model)
  and fits ``min_norm_least_squares`` (OLS for T0 >= d, min-norm for
  T0 < d).

  For T0 >= d the fit is w_k = w_{k-1} + s0 (X^T X)^{-1} X^T e, which
  depends on the design only through X^T X and X^T e. With
  x = Sigma^{1/2} g and (U, z) = ``bartlett_draw`` for g, X^T X =
  Sigma^{1/2} U^T U Sigma^{1/2} and X^T e = Sigma^{1/2} U^T z, so
  w_k = w_{k-1} + s0 Sigma^{-1/2} U^{-1} z: the distribution of refitting
  on T0 drawn rows, from ~T0/d x fewer random numbers and a triangular
  solve instead of a Gram matrix (the increments are iid across k).
  """
  dim = w0.shape[0]
  if gen_num_samples >= dim:

    def increment(k):
      upper, z = bartlett_draw(
        rng.step_key(key, k), dim, gen_num_samples, w0.dtype
      )
      return solve_upper(upper, z)

    increments = jax.vmap(increment)(jnp.arange(num_generations))
    later = w0 + jnp.cumsum(
      gen_noise_std * increments / jnp.sqrt(eigenvalues), axis=0
    )
    return jnp.concatenate([w0[None], later])

  sqrt_eigenvalues = jnp.sqrt(eigenvalues)

  def generation(w_previous, k):
    # One draw gives the design (first d columns) and the label noise.
    gaussians = jax.random.normal(
      rng.step_key(key, k), (gen_num_samples, dim + 1), w0.dtype
    )
    x = gaussians[:, :dim] * sqrt_eigenvalues
    labels = x @ w_previous + gen_noise_std * gaussians[:, dim]
    w_next = ridge.min_norm_least_squares(x, labels)
    return w_next, w_next

  _, later = jax.lax.scan(generation, w0, jnp.arange(num_generations))
  return jnp.concatenate([w0[None], later])


def downstream_errors(
  key: jax.Array,
  models: jax.Array,
  w0: jax.Array,
  eigenvalues: jax.Array,
  num_rows: int,
  noise_std,
  lambdas: jax.Array,
  num_samples=None,
) -> jax.Array:
  """Test errors of ridge trained on data labelled by each model -> [N, L].

  One fresh design X [T, d] and one noise vector serve every generation's
  labels Y_n = X w_n + s E (common random numbers across n and lam, which
  leaves each expectation unchanged and makes differences less noisy).
  With ``num_samples`` = T < ``num_rows`` only the first T rows are drawn
  data and the rest are zero padding (see ``ridge.ridge_path``).
  """
  dim = w0.shape[0]
  gaussians = jax.random.normal(key, (num_rows, dim + 1), w0.dtype)
  if num_samples is not None:
    gaussians = jnp.where(
      jnp.arange(num_rows)[:, None] < num_samples, gaussians, 0.0
    )
  x = gaussians[:, :dim] * jnp.sqrt(eigenvalues)
  labels = x @ models.T + noise_std * gaussians[:, dim:]  # [T, N]
  weights = ridge.ridge_path(x, labels, lambdas, num_samples)  # [L, d, N]
  weights = jnp.transpose(weights, (2, 0, 1))  # [N, L, d]
  return ridge.sigma_norm_error(weights, w0, eigenvalues)


def map_replicas(fn, keys: jax.Array, *args, chunk_size: int | None = None):
  """``vmap(fn)`` over the leading axis of ``keys`` (and of each ``args``).

  Replicas are processed ``chunk_size`` at a time with ``lax.map`` to bound
  memory (all at once when ``chunk_size`` is None or covers them all, which
  also compiles faster); the results are stacked along the leading axis.
  """
  if chunk_size is None or chunk_size >= keys.shape[0]:
    return jax.vmap(fn)(keys, *args)
  return jax.lax.map(lambda xs: fn(*xs), (keys, *args), batch_size=chunk_size)


@functools.partial(
  jax.jit, static_argnames=("gen_num_samples", "num_generations", "chunk_size")
)
def simulate_chains(
  keys,
  w0,
  eigenvalues,
  gen_num_samples,
  gen_noise_std,
  num_generations,
  chunk_size=None,
):
  """``generator_chain`` for each replica key -> [R, n + 1, d]."""
  chain = functools.partial(
    generator_chain,
    w0=w0,
    eigenvalues=eigenvalues,
    gen_num_samples=gen_num_samples,
    gen_noise_std=gen_noise_std,
    num_generations=num_generations,
  )
  return map_replicas(lambda key: chain(key), keys, chunk_size=chunk_size)


@functools.partial(jax.jit, static_argnames=("num_rows", "chunk_size"))
def simulate_downstream(
  keys,
  models,
  w0,
  eigenvalues,
  num_rows,
  noise_std,
  lambdas,
  num_samples=None,
  chunk_size=None,
):
  """``downstream_errors`` for each replica's models -> [R, N, L].

  ``num_rows`` is static; ``num_samples`` (T <= num_rows, traced) lets one
  compiled function serve every T of a sweep.
  """

  def one(key, replica_models):
    return downstream_errors(
      key,
      replica_models,
      w0,
      eigenvalues,
      num_rows,
      noise_std,
      lambdas,
      num_samples,
    )

  return map_replicas(one, keys, models, chunk_size=chunk_size)


def replica_keys(key: jax.Array, num_replicas: int) -> jax.Array:
  """Independent replica keys, sharded over the devices of an accelerator.

  On CPU the keys stay on one device: with several (fake) CPU devices,
  jaxlib 0.10's batched LAPACK kernels (e.g. a vmapped Cholesky of size
  100) wait inside the shared intra-op thread pool and deadlock when every
  device runs at once (seen with 4 fake devices on 2 cores).
  """
  keys = rng.replica_keys(key, num_replicas)
  if jax.default_backend() == "cpu":
    return keys
  return parallel.shard_replicas(keys)
