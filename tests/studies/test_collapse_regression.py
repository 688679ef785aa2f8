"""The collapse_regression study: simulators, metrics, smoke run, claims."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.core import config as core_config
from repro.core import parallel, rng
from repro.ops import kernels
from repro.studies import collapse_regression
from repro.studies.collapse_regression import analysis, kernel_chain, simulate
from repro.studies.collapse_regression import config as config_lib
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "collapse_regression"


def test_presets_differ_only_in_sizes():
  leaves = {
    p: dict(core_config.leaves(config_lib.get_config(p)))
    for p in ("smoke", "cpu", "paper")
  }
  assert leaves["cpu"]["kernel.dataset"] == "digits"
  assert leaves["paper"]["kernel.dataset"] == "mnist"


def test_noise_free_ols_chain_keeps_w0_and_min_norm_chain_projects():
  with jax.enable_x64(True):
    w0 = jnp.linspace(-1.0, 1.0, 6)
    key = rng.stream(0, "test")
    # T0 > d without noise: OLS recovers w0 exactly at every generation.
    models = jax.jit(simulate.generator_chain, static_argnums=(3, 5))(
      key, w0, jnp.ones(6), 10, 0.0, 3
    )
    np.testing.assert_allclose(models, np.tile(w0, (4, 1)), atol=1e-12)
    # T0 < d: w_1 is w0 projected on the row space of generation 1's design.
    models = simulate.generator_chain(key, w0, jnp.ones(6), 2, 0.0, 1)
    x = jax.random.normal(rng.step_key(key, 0), (2, 7), jnp.float64)[:, :6]
    np.testing.assert_allclose(
      models[1], np.linalg.pinv(x) @ (x @ w0), atol=1e-12
    )


def test_strictly_upper_places_each_packed_entry_once():
  for dim in (1, 2, 5, 8):
    half = (dim + 1) // 2
    packed = jnp.arange(1, half * (dim - 1) + 1).reshape(half, dim - 1)
    upper = np.asarray(simulate.strictly_upper(packed, dim))
    assert np.all(upper[np.tril_indices(dim)] == 0)
    values = upper[np.triu_indices(dim, 1)]
    assert len(set(values.tolist())) == values.size == dim * (dim - 1) // 2
    assert np.all(values > 0)


def test_bartlett_chain_is_ols_with_the_right_moments():
  """The T0 >= d chain's step against OLS and Wishart closed forms.

  Exact: OLS on the design [U; 0] with noise [z; 0] (X^T X = U^T U,
  X^T e = U^T z) equals the step. In distribution: E[U^T U] = T I,
  E[(U^T U)^-1] = I / (T - d - 1), Cov(w_1 - w_0) = s0^2 Sigma^-1 /
  (T - d - 1).
  """
  dim, rows, noise_std, reps = 4, 10, 0.5, 20_000
  with jax.enable_x64(True):
    eigenvalues = jnp.array([2.0, 1.0, 0.5, 0.25])
    w0 = jnp.linspace(-1.0, 1.0, dim)
    keys = rng.replica_keys(rng.stream(0, "bartlett"), reps)

    @jax.jit
    def draws(keys):
      chains = jax.vmap(
        lambda key: simulate.generator_chain(
          key, w0, eigenvalues, rows, noise_std, 1
        )
      )(keys)
      upper, z = jax.vmap(
        lambda key: simulate.bartlett_draw(
          rng.step_key(key, 0), dim, rows, jnp.float64
        )
      )(keys)
      return chains, upper, z, jax.vmap(simulate.solve_upper)(upper, z)

    chains, upper, z, solved = map(np.asarray, draws(keys))
  assert np.all(np.tril(upper, -1) == 0)
  assert np.all(np.diagonal(upper, axis1=1, axis2=2) > 0)
  np.testing.assert_allclose(
    solved[:5], np.linalg.solve(upper[:5], z[:5, :, None])[..., 0], rtol=1e-11
  )
  scale = np.sqrt(np.asarray(eigenvalues))
  for replica in range(3):
    x = np.zeros((rows, dim))
    x[:dim] = upper[replica] * scale
    noise = np.zeros(rows)
    noise[:dim] = z[replica]
    labels = x @ np.asarray(w0) + noise_std * noise
    np.testing.assert_allclose(
      chains[replica, 1], np.linalg.lstsq(x, labels)[0], rtol=1e-10, atol=1e-12
    )
  gram = np.einsum("rki,rkj->rij", upper, upper)
  steps = chains[:, 1] - chains[:, 0]
  for samples, expected in (
    (gram, rows * np.eye(dim)),
    (np.linalg.inv(gram), np.eye(dim) / (rows - dim - 1)),
    (
      np.einsum("ri,rj->rij", steps, steps),
      noise_std**2 * np.diag(1 / scale**2) / (rows - dim - 1),
    ),
  ):
    standard_error = samples.std(0, ddof=1) / np.sqrt(reps)
    assert np.all(
      np.abs(samples.mean(0) - expected) <= 5 * standard_error + 1e-12
    )
    assert np.all(standard_error.diagonal() < 0.1 * expected.diagonal())


def test_downstream_errors_match_direct_ridge_with_padding():
  with jax.enable_x64(True):
    dim, rows, used = 8, 6, 4
    eigenvalues = jnp.linspace(1.0, 0.1, dim)
    w0 = jnp.ones(dim)
    models = jnp.stack([w0, 2 * w0])
    lambdas = jnp.array([0.01, 1.0])
    keys = rng.replica_keys(rng.stream(0, "downstream"), 1)
    errors = simulate.simulate_downstream(
      keys,
      models[None],
      w0,
      eigenvalues,
      rows,
      0.3,
      lambdas,
      num_samples=float(used),
    )[0]
    compiled = simulate.simulate_downstream._cache_size()
    # Another T reuses the compiled function (the point of the padding).
    simulate.simulate_downstream(
      keys, models[None], w0, eigenvalues, rows, 0.3, lambdas, num_samples=5.0
    )
    assert simulate.simulate_downstream._cache_size() == compiled
    gaussians = np.asarray(jax.random.normal(keys[0], (rows, dim + 1)))[:used]
  eigenvalues, w0, models = map(np.asarray, (eigenvalues, w0, models))
  x = gaussians[:, :dim] * np.sqrt(eigenvalues)
  for n, model in enumerate(models):
    y = x @ model + 0.3 * gaussians[:, dim]
    for j, lam in enumerate(np.asarray(lambdas)):
      fitted = np.linalg.solve(
        x.T @ x / used + lam * np.eye(dim), x.T @ y / used
      )
      expected = np.sum(eigenvalues * (fitted - w0) ** 2)
      assert float(errors[n, j]) == pytest.approx(expected, rel=1e-8)


def test_chunked_and_sharded_replicas_equal_one_vmap():
  with jax.enable_x64(True):
    w0, eigenvalues = jnp.ones(5) / 5, jnp.linspace(1.0, 0.2, 5)
    keys = rng.replica_keys(rng.stream(0, "reps"), 8)
    # lax.map over chunks of 3 (8 = 3 + 3 + 2) on one device ...
    chunked = simulate.simulate_chains(
      keys, w0, eigenvalues, 9, 1.0, 2, chunk_size=3
    )
    # ... equals one vmap over keys sharded across the (fake) devices (small
    # d: see simulate.replica_keys for why the study does not shard on CPU).
    sharded_keys = parallel.shard_replicas(keys)
    sharded = simulate.simulate_chains(sharded_keys, w0, eigenvalues, 9, 1.0, 2)
  assert parallel.num_devices_used(sharded_keys) == min(4, jax.device_count())
  study_keys = simulate.replica_keys(rng.stream(0, "reps"), 8)
  assert parallel.num_devices_used(study_keys) == 1  # CPU: one device.
  assert np.ptp(np.asarray(chunked)[:, -1, 0]) > 0  # replicas differ.
  np.testing.assert_allclose(chunked, sharded, rtol=1e-12)


def test_krr_generation_one_interpolates_targets_without_noise():
  with jax.enable_x64(True):
    pool_x = jax.random.uniform(jax.random.key(1), (30, 4), jnp.float64)
    targets = kernel_chain.centred_one_hot(jnp.arange(30) % 10)
    indices, alphas = jax.jit(
      kernel_chain.generator_chain, static_argnums=(4, 7)
    )(rng.stream(0, "krr"), pool_x, targets, 0.5, 12, 0.0, 1e-9, 2)
    assert len(set(np.asarray(indices[0]).tolist())) == 12
    fitted = (
      kernels.rbf_kernel(pool_x[indices[0]], pool_x[indices[0]], 0.5)
      @ alphas[0]
    )
    np.testing.assert_allclose(fitted, targets[indices[0]], atol=1e-5)
    # Generation 2 learns generation 1's predictions, not the labels.
    teacher = (
      kernels.rbf_kernel(pool_x[indices[1]], pool_x[indices[0]], 0.5)
      @ alphas[0]
    )
    fitted = (
      kernels.rbf_kernel(pool_x[indices[1]], pool_x[indices[1]], 0.5)
      @ alphas[1]
    )
    np.testing.assert_allclose(fitted, teacher, atol=1e-5)


def test_analysis_helpers_on_hand_cases():
  _, slope, r_squared = analysis.linear_fit([0, 1, 2, 3], [1, 3, 5, 7])
  assert slope == pytest.approx(2.0) and r_squared == pytest.approx(1.0)
  assert analysis.log_log_slope([10, 100], [1.0, 0.01]) == pytest.approx(-2)
  assert analysis.min_step_ratio([1.0, 2.0, 2.0, 8.0]) == 1.0
  assert analysis.min_step_ratio([1.0, 0.5]) == 0.5
  assert analysis.max_relative_error([1.1, 0.8], [1.0, 1.0]) == pytest.approx(
    0.2
  )
  # errors [T=2, n=1, L]: ridgeless, adaptive, grid of 3.
  errors = np.array([[[5.0, 2.0, 3.0, 1.0, 4.0]], [[5.0, 1.0, 0.5, 2.0, 0.2]]])
  curves = analysis.scaling_curves(errors)
  np.testing.assert_allclose(curves["fixed"][:, 0], [1.0, 2.0])
  np.testing.assert_allclose(curves["oracle"][:, 0], [1.0, 0.2])
  np.testing.assert_allclose(curves["adaptive"][:, 0], [2.0, 1.0])


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in collapse_regression.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}
  metrics = record["metrics"]
  # Noise-free over-parameterised collapse holds at any size.
  assert metrics["overparam_error_last"] > 0.9
  assert metrics["slope_clean_ridgeless"] < -1.0
  run_dir = run.run_dir
  for figure in (
    "error_vs_generations.png",
    "error_vs_lambda.png",
    "scaling_law.png",
    "best_lambda_vs_generations.png",
    "overparameterised_collapse.png",
    "kernel_generations.png",
  ):
    assert (run_dir / figure).stat().st_size > 1000
  assert (run_dir / "metrics.jsonl").read_text().count("\n") > 100


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)
