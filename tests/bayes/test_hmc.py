"""HMC and NUTS recover a known Gaussian; split R-hat; the log posterior;
one compilation per sampler; resumed draws equal uninterrupted ones."""

import blackjax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro.bayes import hmc
from repro.core import checkpoint, parallel

MEAN = np.array([1.0, -2.0])
COV = np.array([[1.0, 0.6], [0.6, 2.0]])


def test_hmc_recovers_a_two_dimensional_gaussian():
  precision = jnp.asarray(np.linalg.inv(COV), jnp.float32)

  def log_density(theta):
    centred = theta - MEAN
    return -0.5 * centred @ precision @ centred

  starts = jnp.array([[-3.0, 3.0], [3.0, -5.0], [0.0, 0.0], [4.0, 2.0]])
  result = hmc.sample_chains(
    log_density,
    starts,
    jax.random.key(0),
    num_warmup=200,
    num_draws=500,
    thin=2,
    num_integration_steps=16,
  )
  assert result.samples.shape == (4, 500, 2)
  draws = np.asarray(result.samples).reshape(-1, 2)
  # Monte Carlo error of the mean: sd / sqrt(ESS), ESS from BlackJAX.
  ess = np.array(
    [
      float(blackjax.diagnostics.effective_sample_size(result.samples[..., i]))
      for i in range(2)
    ]
  )
  assert np.all(ess > 200), ess
  np.testing.assert_array_less(
    np.abs(draws.mean(0) - MEAN), 4 * np.sqrt(np.diag(COV) / ess)
  )
  np.testing.assert_allclose(np.cov(draws.T), COV, atol=0.3)
  rhat = [float(hmc.split_rhat(result.samples[..., i])) for i in range(2)]
  assert max(rhat) < 1.1, rhat
  assert np.all(
    (result.acceptance_rate > 0.5) & (result.acceptance_rate <= 1.0)
  )
  assert int(result.num_divergent.sum()) == 0


def test_split_rhat_against_the_formula_and_known_cases():
  values = np.random.default_rng(0).normal(size=(3, 8))
  halves = np.concatenate([values[:, :4], values[:, 4:]], axis=0)
  within = halves.var(axis=1, ddof=1).mean()
  between_over_n = halves.mean(axis=1).var(ddof=1)
  expected = np.sqrt((3 / 4 * within + between_over_n) / within)
  assert float(hmc.split_rhat(jnp.asarray(values))) == pytest.approx(
    expected, rel=1e-5
  )
  iid = np.random.default_rng(1).normal(size=(4, 2000))
  assert float(hmc.split_rhat(jnp.asarray(iid))) < 1.01
  # Chains stuck at different places: R-hat far above 1.
  stuck = iid + np.arange(4)[:, None] * 3.0
  assert float(hmc.split_rhat(jnp.asarray(stuck))) > 2.0
  # A trend inside each chain is caught by the split.
  trend = iid * 0.1 + np.linspace(0, 3, 2000)[None]
  assert float(hmc.split_rhat(jnp.asarray(trend))) > 1.5


def test_classification_log_posterior_is_prior_plus_likelihood():
  x = jnp.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
  labels = jnp.array([0, 1, 1])
  theta = jnp.array([0.3, -0.2, 0.5, 0.1])
  logits_fn = lambda t, inputs: inputs @ t.reshape(2, 2)
  log_density = hmc.classification_log_posterior(
    logits_fn, x, labels, prior_std=2.0
  )
  logits = np.asarray(x) @ np.asarray(theta).reshape(2, 2)
  log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
  expected = (
    log_probs[np.arange(3), np.asarray(labels)].sum()
    - 0.5 * (np.asarray(theta) ** 2).sum() / 4.0
  )
  assert float(log_density(theta)) == pytest.approx(expected, rel=1e-5)


def test_chains_give_the_same_draws_on_one_or_several_devices():
  # HMC amplifies rounding differences, so sharding the chain axis must
  # not change a chain's arithmetic: bitwise equal draws on 1 and on 4
  # (fake CPU, tests/conftest.py) devices.
  one = hmc.sample_chains(
    _diagonal_gaussian,
    STARTS,
    jax.random.key(3),
    mesh=parallel.replica_mesh(4, jax.devices()[:1]),
    **OPTIONS,
  )
  spread = hmc.sample_chains(
    _diagonal_gaussian, STARTS, jax.random.key(3), **OPTIONS
  )
  assert parallel.num_devices_used(spread.samples) == min(4, len(jax.devices()))
  np.testing.assert_array_equal(one.samples, spread.samples)
  np.testing.assert_array_equal(one.step_size, spread.step_size)


def _diagonal_gaussian(theta):
  # Module level, so every test below reuses one compiled sampler.
  return -0.5 * jnp.sum(theta**2 * jnp.arange(1.0, 4.0))


STARTS = jnp.arange(12.0).reshape(4, 3) / 6 - 1
OPTIONS = dict(num_warmup=30, num_draws=10, thin=2, num_integration_steps=5)


def _compiled_samplers(name):
  devices = tuple(device.id for device in jax.devices())
  return [
    fn
    for key, fn in hmc._COMPILED.items()
    if key[0] == name and key[1] == devices and key[3][0] is _diagonal_gaussian
  ]


def test_sample_chains_compiles_once_for_repeated_calls(caplog):
  first = hmc.sample_chains(
    _diagonal_gaussian, STARTS, jax.random.key(3), **OPTIONS
  )
  with jax.log_compiles(), caplog.at_level("WARNING"):
    second = hmc.sample_chains(
      _diagonal_gaussian, STARTS + 0.5, jax.random.key(4), **OPTIONS
    )
    again = hmc.sample_chains(
      _diagonal_gaussian, STARTS, jax.random.key(3), **OPTIONS
    )
  # The warm-up and draws programs of the first call serve the others.
  assert len(_compiled_samplers("warmup")) == 1
  assert len(_compiled_samplers("draws")) == 1
  assert not [
    r for r in caplog.records if "Compiling jit(local_chains)" in r.getMessage()
  ]
  assert not np.array_equal(first.samples, second.samples)
  np.testing.assert_array_equal(first.samples, again.samples)


class _Interrupted(Exception):
  pass


def test_interrupted_and_resumed_draws_equal_uninterrupted_ones(
  tmp_path, monkeypatch, caplog
):
  # The warm-up (a loop of one step) and chunks of draws (steps count kept
  # draws) are checkpointed. A run stopped after the warm-up's checkpoint,
  # rerun and stopped after its first chunk's, then rerun to the end, gives
  # the draws of an uninterrupted run, which equal the one-program chain.
  uninterrupted = hmc.sample_chains(
    _diagonal_gaussian, STARTS, jax.random.key(3), **OPTIONS
  )
  real_save, saved = checkpoint.save, []

  def save_then_stop(directory, step, items):
    real_save(directory, step, items)
    saved.append(step)
    raise _Interrupted

  def launched_run():
    return hmc.sample_chains(
      _diagonal_gaussian,
      STARTS,
      jax.random.key(3),
      chunk_draws=5,
      checkpoints=checkpoint.RunCheckpoints(str(tmp_path), 1),
      **OPTIONS,
    )

  monkeypatch.setattr(checkpoint, "save", save_then_stop)
  for _ in range(2):  # Compiles the warm-up, then the draws program.
    with pytest.raises(_Interrupted):
      launched_run()
  monkeypatch.setattr(checkpoint, "save", real_save)
  with jax.log_compiles(), caplog.at_level("WARNING"):
    resumed = launched_run()
  assert saved == [1, 5]
  assert checkpoint.latest_step(str(tmp_path / "002-hmc")) == 10
  for name, expected in uninterrupted._asdict().items():
    np.testing.assert_array_equal(
      getattr(resumed, name), expected, err_msg=name
    )
  # The phases give the draws of the one-program chain (``_one_chain``).
  one_program = jax.jit(
    lambda keys, starts: jax.lax.map(
      lambda args: hmc._one_chain(
        _diagonal_gaussian,
        OPTIONS["num_warmup"],
        OPTIONS["num_draws"],
        OPTIONS["thin"],
        OPTIONS["num_integration_steps"],
        0.8,
        (),
        *args,
      ),
      (keys, starts),
    )
  )(jax.random.split(jax.random.key(3), 4), STARTS)
  np.testing.assert_array_equal(one_program.samples, resumed.samples)
  # Restored chains reuse the programs: no sampler compiled again.
  assert not [
    r.getMessage().split("Argument mapping")[0]
    for r in caplog.records
    if "Compiling jit(local_chains)" in r.getMessage()
  ]


@pytest.mark.slow  # NUTS compiles for 20-90 s on the shared 2 cores.
def test_nuts_kernel_recovers_a_two_dimensional_gaussian():
  # kernel="nuts": BlackJAX NUTS after the same window adaptation (the
  # benchmark's same-algorithm comparison with NumPyro) samples the same
  # known posterior as the HMC test above.
  precision = jnp.asarray(np.linalg.inv(COV), jnp.float32)

  def log_density(theta):
    centred = theta - MEAN
    return -0.5 * centred @ precision @ centred

  starts = jnp.array([[-3.0, 3.0], [3.0, -5.0], [0.0, 0.0], [4.0, 2.0]])
  result = hmc.sample_chains(
    log_density,
    starts,
    jax.random.key(1),
    num_warmup=150,
    num_draws=250,
    kernel="nuts",
  )
  draws = np.asarray(result.samples).reshape(-1, 2)
  ess = np.array(
    [
      float(blackjax.diagnostics.effective_sample_size(result.samples[..., i]))
      for i in range(2)
    ]
  )
  assert np.all(ess > 200), ess
  np.testing.assert_array_less(
    np.abs(draws.mean(0) - MEAN), 4 * np.sqrt(np.diag(COV) / ess)
  )
  np.testing.assert_allclose(np.cov(draws.T), COV, atol=0.3)
  assert np.all(result.acceptance_rate > 0.5)


def test_unknown_kernel_is_refused_before_compiling():
  with pytest.raises(ValueError, match="kernel must be one of"):
    hmc.sample_chains(
      _diagonal_gaussian,
      STARTS,
      jax.random.key(1),
      num_warmup=1,
      num_draws=1,
      kernel="mala",
    )
