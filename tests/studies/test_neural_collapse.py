"""The neural_collapse study: smoke run, training pieces, cpu claims."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.core import checkpoint
from repro.core import config as config_lib
from repro.core.errors import UserError
from repro.nn.vgg import VGG
from repro.ops import adversarial_training
from repro.studies import neural_collapse
from repro.studies.neural_collapse import (
  experiment,
  network,
  probes,
  training,
)
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "neural_collapse"


def _config(preset="smoke", **overrides):
  return config_lib.build_config(
    neural_collapse.get_config,
    preset,
    [f"{k}={v}" for k, v in overrides.items()],
  )


def _fake_images(shape, seed=0):
  images = jax.random.uniform(jax.random.key(seed), shape)
  labels = jnp.arange(shape[0], dtype=jnp.int32) % 10
  return np.asarray(images), np.asarray(labels)


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)
  record = run.record
  assert {c["id"] for c in record["claims"]} == {
    c.id for c in neural_collapse.CLAIMS
  }
  assert all(c["verdict"] in ("PASS", "FAIL") for c in record["claims"])
  for mode in neural_collapse.get_config("smoke").modes:
    for name in (
      "nc1",
      "pgd_nc1",
      "nc1_final_over_first",
      "alignment_angle",
      "targeted_angle",
      "layer_ratio_min_growth",
    ):
      assert np.isfinite(record["metrics"][f"{mode}/{name}"])
  out = run.run_dir
  for filename in (
    "summary.json",
    "metrics.jsonl",
    "report.md",
    "nc1_over_epochs.png",
    "layer_nc1_ratio.png",
    "leap_projection.png",
  ):
    assert os.path.getsize(out / filename) > 0, filename


@pytest.mark.parametrize("model", ["bn_mlp", "mlp"])
def test_penultimate_features_are_the_classifier_input(model):
  images, _ = _fake_images((12, 8, 8, 1))
  config = _config(model=model)
  net = network.build(config, images, 10)
  variables = jax.jit(net.init)(jax.random.key(0, impl="rbg"), images[:1])
  logits, features = jax.jit(net.features)(variables, images)
  assert [f.shape[1] for f in features] == list(config.hidden_sizes)
  weights = net.classifier(variables)
  bias = (
    variables["params"]["classifier"]["bias"]
    if model == "bn_mlp"
    else variables["params"]["dense_3"]["bias"]
  )
  np.testing.assert_allclose(
    logits, features[-1] @ weights.T + bias, rtol=1e-5, atol=1e-5
  )
  eval_logits, _ = net.logits(variables, images, train=False)
  np.testing.assert_allclose(eval_logits, logits, rtol=1e-6)


def test_each_epoch_visits_distinct_examples():
  key = jax.random.key(3)
  batches = [
    np.asarray(training.batch_indices(key, jnp.int32(step), 50, 8))
    for step in range(12)
  ]  # 6 steps per epoch
  first_epoch = np.concatenate(batches[:6])
  assert len(set(first_epoch.tolist())) == 48
  assert not np.array_equal(np.concatenate(batches[6:]), first_epoch)


def _one_loss_evaluation(mode):
  """Loss, its gradient and updated variables of one minibatch (bn_mlp)."""
  config = _config()
  images, labels = _fake_images((32, 8, 8, 1))
  net = network.build(config, images, 10)
  variables = jax.jit(net.init)(jax.random.key(0, impl="rbg"), images[:1])
  loss = training.make_loss(net, mode, config)
  key = jax.random.key(1, impl="rbg")  # threefry compiles ~3x slower
  (value, (updated, _)), grads = jax.jit(
    jax.value_and_grad(loss, has_aux=True)
  )(variables["params"], variables, images, labels, key)
  assert np.isfinite(float(value))
  assert float(jnp.abs(grads["classifier"]["kernel"]).sum()) > 0
  return config, net, variables, updated, (images, labels, key)


def _stats_moved(before, after):
  return any(
    not np.allclose(a, b)
    for a, b in zip(
      jax.tree.leaves(before["batch_stats"]),
      jax.tree.leaves(after["batch_stats"]),
      strict=True,
    )
  )


def test_trades_official_quirk_freezes_batch_norm_statistics():
  # Official code: TRADES trains with BatchNorm in eval mode
  # (neural_collapse README, What is run), so the running statistics never
  # move.
  _, _, variables, updated, _ = _one_loss_evaluation("trades_official")
  assert not _stats_moved(variables, updated)
  _, _, variables, updated, _ = _one_loss_evaluation("trades")
  assert _stats_moved(variables, updated)


def test_pgd_at_updates_running_statistics_from_the_training_forward_only():
  # Attack forwards use batch statistics but do not update the
  # running ones; the running mean moves by 0.1 * the adversarial batch's.
  config, net, variables, updated, (images, labels, key) = _one_loss_evaluation(
    "pgd_at"
  )

  @jax.jit
  def adversarial_pre_activation(images, labels):
    adversarial = adversarial_training.pgd_adversarial(
      lambda x: net.logits(variables, x, train=True)[0],
      images,
      labels,
      key,
      eps=config.eps,
      num_steps=config.train_attack_steps,
      step_size=config.train_attack_step_size,
    )
    standardised = (adversarial - net.channel_mean[0]) / net.channel_std[0]
    return (
      standardised.reshape(32, -1) @ (variables["params"]["dense_0"]["kernel"])
    )

  pre_activation = adversarial_pre_activation(images, labels)
  np.testing.assert_allclose(
    updated["batch_stats"]["batch_norm_0"]["mean"],
    0.9 * variables["batch_stats"]["batch_norm_0"]["mean"]
    + 0.1 * pre_activation.mean(0),
    rtol=1e-4,
    atol=1e-5,
  )


def test_probes_respect_the_threat_model():
  config = _config()
  images, labels = _fake_images((20, 8, 8, 1))
  net = network.build(config, images, 10)
  variables = jax.jit(net.init)(jax.random.key(0, impl="rbg"), images[:1])
  kinds = ("pgd", "targeted", "sign", "gaussian")
  perturbed = jax.jit(
    lambda key: {
      kind: probes.perturb(
        net,
        variables,
        jnp.asarray(images),
        jnp.asarray(labels),
        key,
        kind,
        config,
        10,
      )
      for kind in kinds
    }
  )(jax.random.key(1, impl="rbg"))
  for kind in kinds:
    assert perturbed[kind].min() >= 0.0 and perturbed[kind].max() <= 1.0
    if kind != "gaussian":
      distance = np.abs(np.asarray(perturbed[kind]) - images)
      assert distance.max() <= config.eps + 1e-6, kind
  inside = (images > config.eps) & (images < 1 - config.eps)
  np.testing.assert_allclose(
    np.abs(np.asarray(perturbed["sign"]) - images)[inside],
    config.eps,
    rtol=1e-5,
  )
  gaussian = np.asarray(perturbed["gaussian"]) - images
  assert 0.5 * config.eps < gaussian[inside].std() < 1.5 * config.eps


def test_paper_network_is_vgg11_bn_and_needs_32x32_images():
  # The module itself is tested in tests/nn/test_vgg.py; its adapter shares
  # the BatchNorm code paths of bn_mlp tested above.
  config = _config("paper")
  net = network.build(config, np.zeros((2, 32, 32, 3), np.float32), 10)
  assert net.has_batch_norm and isinstance(net.module, VGG)
  with pytest.raises(UserError, match="32x32"):
    network.build(config, np.zeros((2, 8, 8, 1), np.float32), 10)


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)


class _Interrupted(Exception):
  """Stands for a signal that stops a run right after a checkpoint."""


def _cheap_evaluate(
  net, train_probe, test_probe, config, variables, eval_keys, arrays
):
  """Stands for ``experiment.evaluate``: a row from the weights and keys."""
  del net, train_probe, test_probe, config
  leaves = [np.asarray(leaf, np.float64) for leaf in jax.tree.leaves(variables)]
  row = {
    "nc1": float(sum(leaf.sum() for leaf in leaves)),
    "pgd_nc1": float(np.asarray(jax.random.key_data(eval_keys)).sum()),
    "pgd_accuracy": float(np.abs(leaves[-1]).max()),
  }
  return row, {"clean": leaves[-1], "labels": np.asarray(arrays[1])}


def test_interrupted_training_resumes_to_identical_rows(tmp_path, monkeypatch):
  """Issue 12 part 4: a rerun resumes the epoch loop from its checkpoint.

  The NC probes are stubbed (the resumed state is the training state and
  the rows; probes are tested above) and one compiled chunk serves every
  call, to keep the test cheap.
  """
  config = _config(
    modes=("standard",),
    train_per_class=6,
    test_per_class=3,
    standard_epochs=4,
    chunk_epochs=1,
    eval_every_epochs=2,
    hidden_sizes=(8, 8, 8),
    batch_size=20,
    num_seeds=2,
  )
  monkeypatch.setattr(experiment, "evaluate", _cheap_evaluate)
  compiled = {}
  make_chunk = training.make_train_chunk
  monkeypatch.setattr(
    training,
    "make_train_chunk",
    lambda *args: (
      compiled.get("chunk") or compiled.setdefault("chunk", make_chunk(*args))
    ),
  )
  context = experiment.prepare(config)
  every = 2 * context["steps_per_epoch"]
  reference_rows, reference_leap = experiment.train_and_evaluate(
    "standard", **context
  )  # outside a run: no checkpoints
  real_save = checkpoint.save
  saved_steps = []

  def save_then_interrupt(directory, step, items):
    real_save(directory, step, items)
    saved_steps.append(step)
    raise _Interrupted

  monkeypatch.setattr(checkpoint, "save", save_then_interrupt)
  with pytest.raises(_Interrupted):
    experiment.train_and_evaluate(
      "standard",
      **context,
      checkpoints=checkpoint.RunCheckpoints(str(tmp_path), every),
    )
  assert saved_steps == [every]
  monkeypatch.setattr(
    checkpoint,
    "save",
    lambda *args: saved_steps.append(args[1]) or real_save(*args),
  )
  rows, leap = experiment.train_and_evaluate(
    "standard",
    **context,
    checkpoints=checkpoint.RunCheckpoints(str(tmp_path), every),
  )
  # Resumed after epoch 2, not restarted; the schedule counts from there.
  assert saved_steps == [every, 2 * every]
  assert [row["epoch"] for row in rows] == [1, 2, 4]
  assert rows == reference_rows
  assert rows[0]["nc1"] != rows[-1]["nc1"]  # the weights moved
  for name, values in reference_leap.items():
    np.testing.assert_array_equal(leap[name], values)
