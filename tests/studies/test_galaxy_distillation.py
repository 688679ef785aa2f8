"""The galaxy_distillation study: STM controller, presets, smoke run."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.core import checkpoint
from repro.core import config as core_config
from repro.nn.convnet import ConvNet
from repro.studies import galaxy_distillation
from repro.studies.galaxy_distillation import config as config_lib
from repro.studies.galaxy_distillation import (
  data,
  distill,
  experiment,
  experts,
  network,
)
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "galaxy_distillation"


def test_presets_differ_only_in_sizes():
  leaves = {
    p: dict(core_config.leaves(config_lib.get_config(p)))
    for p in ("smoke", "cpu", "paper")
  }
  assert leaves["paper"]["dataset"] == "galaxy_zoo2"
  assert galaxy_distillation.ARXIV == "2311.17967"
  names, spec = experiment.run_specs(config_lib.get_config("cpu"), 1)
  assert names == ["mtt_T2", "mtt_T6", "mtt_T10", "stm"]
  np.testing.assert_array_equal(spec.match_epochs, [2, 2, 2, 1])


def _controller(state, loss, k, **overrides):
  options = dict(
    sigma=3.0,
    test_every=10,
    max_cap=jnp.int32(4),
    max_duration=25,
    finetune_decay=0.5,
    finetune_every=2,
    exit_lr=jnp.float32(0.3),
  )
  options.update(overrides)
  return distill.controller_update(
    state, jnp.float32(loss), jnp.int32(k), **options
  )


def test_stm_controller_levels_up_on_a_falling_history_only():
  spec = distill.RunSpec(
    jnp.array(True),
    jnp.int32(4),
    jnp.int32(1),
    jnp.float32(1.0),
    jnp.float32(0.01),
  )
  state = distill.init_state(spec, jnp.zeros((2, 4, 4, 3)), 0.01, 40)
  assert float(distill.step_size(spec, state.step_param)) == pytest.approx(0.01)
  falling = state
  for k in range(20):  # a pass needs n >= 12 (lambda = 3); tests at 10, 20
    falling = _controller(falling, 1.0 - 0.01 * k, k)
    if k == 9:
      assert int(falling.cap) == 1  # n = 10 is too short
  assert int(falling.cap) == 2 and int(falling.levels) == 1
  assert int(falling.history_length) == 0
  flat = state
  rng = np.random.RandomState(0)
  for k in range(20):
    flat = _controller(flat, 1.0 + 0.01 * rng.normal(), k)
  assert int(flat.cap) == 1
  # A stage longer than max_duration starts fine-tuning: lr halves every
  # 2 iterations and the run freezes once below exit_lr = 0.3.
  for k in range(20, 40):
    flat = _controller(flat, 1.0 + 0.01 * rng.normal(), k)
  assert bool(flat.finetune) and bool(flat.frozen)
  assert float(flat.lr_img) < 0.3 and int(flat.cap) == 1


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)  # shared with tests/test_scaling.py
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in galaxy_distillation.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}, record["claims"]
  metrics = record["metrics"]
  assert metrics["gradcheck_images_rel_error"] < 1e-6
  assert metrics["gradcheck_alpha_rel_error"] < 1e-6
  for name, value in metrics.items():
    assert np.isfinite(value), name
    if name.endswith("accuracy"):
      assert 0.0 <= value <= 1.0, name
  for figure in (
    "distilled_images.png",
    "matching_loss.png",
    "accuracy_table.png",
  ):
    assert (run.run_dir / figure).stat().st_size > 1000


def _tiny_config():
  config = config_lib.get_config("smoke")
  config.image_size, config.depth, config.width = 8, 1, 4
  config.expert_epochs_total, config.expert_batch_size = 2, 9
  config.ipcs, config.iterations = (1,), (4,)
  config.chunk_iterations, config.syn_steps = 2, 2
  config.max_start_epoch, config.start_epoch_sweep = 1, (1,)
  config.stm_max_start_epoch = 1
  config.augment_ops = ()  # Their unrolled second-order graph compiles slowly.
  return config


def test_flat_network_runs_in_float64_under_x64():
  # Conv and norm parameters are float64 under x64, the Dense classifier's
  # float32 (nn.Dense's param_dtype): a float64 vector must reach every
  # layer unrounded.
  config = config_lib.get_config("smoke")
  with config.unlocked():
    config.depth, config.width = 1, 4
  with jax.enable_x64(True):
    net = network.build(config, 3, (8, 8, 2))
    theta = net.init(jax.random.key(0))
    chex.assert_shape(theta, (net.num_params,))
    chex.assert_type(theta, jnp.float64)
    # Offsets below float32 resolution on every parameter.
    theta = theta + 1e-12 * jnp.arange(theta.size, dtype=jnp.float64)
    images = jax.random.normal(jax.random.key(1), (5, 8, 8, 2), jnp.float64)
    logits = net.apply(theta, images)
    chex.assert_shape(logits, (5, 3))
    chex.assert_type(logits, jnp.float64)
    # Reference: the same vector cut into a float64 tree by hand.
    module = ConvNet(num_classes=3, depth=1, width=4)
    template = module.init(jax.random.key(0), images[:1])
    leaves, treedef = jax.tree.flatten(template)
    offsets = np.cumsum([0] + [leaf.size for leaf in leaves])
    pieces = [
      theta[a:b].reshape(leaf.shape)
      for a, b, leaf in zip(offsets[:-1], offsets[1:], leaves, strict=True)
    ]
    expected = module.apply(jax.tree.unflatten(treedef, pieces), images)
    np.testing.assert_allclose(logits, expected, rtol=1e-13, atol=1e-13)
  # Without x64: float32 as before.
  net = network.build(config, 3, (8, 8, 2))
  chex.assert_type(net.init(jax.random.key(0)), jnp.float32)


@functools.cache  # One apply function: the loops' compiles are reused.
def _linear_net(image_shape) -> network.FlatNet:
  """A linear softmax classifier: the loops' code, not a ConvNet's compile."""
  inputs = int(np.prod(image_shape))
  size = (inputs + 1) * data.NUM_CLASSES

  def apply(flat, images):
    weights = flat.reshape(inputs + 1, data.NUM_CLASSES)
    return images.reshape(images.shape[0], -1) @ weights[1:] + weights[0]

  return network.FlatNet(
    init=lambda key: 0.1 * jax.random.normal(key, (size,)),
    apply=apply,
    num_params=size,
  )


class _Stopped(Exception):
  pass


def _tiny_run(directory=None, stop_after_saves=None, monkeypatch=None):
  """Experts (2 epochs), then MTT and STM replicas (2 chunks of 2).

  Tiny sizes and a linear model keep the compiles short.

  With ``directory`` the loops run inside a launched run that saves at
  every chunk end; with ``stop_after_saves`` the run stops (as if killed)
  right after that many checkpoints were written.
  """
  config = _tiny_config()
  rng = np.random.default_rng(0)
  images = rng.normal(size=(18, 8, 8, 3)).astype(np.float32)
  labels = np.tile(np.arange(data.NUM_CLASSES), 2).astype(np.int32)
  net = _linear_net(images.shape[1:])
  keys = {
    name: jax.random.fold_in(jax.random.key(0), i)
    for i, name in enumerate(("init", "train", "distill"))
  }
  names, specs = experiment.run_specs(config, 1)
  assert names == ["mtt_T1", "stm"]
  if stop_after_saves:
    save, saves = checkpoint.save, []

    def save_then_stop(*args):
      save(*args)
      saves.append(args[1])
      if len(saves) == stop_after_saves:
        raise _Stopped(saves)

    monkeypatch.setattr(checkpoint, "save", save_then_stop)
  run = (
    checkpoint.RunCheckpoints(directory, every_steps=1) if directory else None
  )
  try:
    expert = experts.train_experts(
      config, net, keys, images, labels, images, labels, checkpoints=run
    )
    states, records = distill.distill(
      config,
      net.apply,
      jnp.asarray(images[:9]),
      jnp.asarray(data.syn_labels(1)),
      jnp.asarray(expert["trajectories"]),
      specs,
      keys["distill"],
      config.iterations[0],
      "ipc 1",
      checkpoints=run,
    )
  finally:
    if stop_after_saves:
      monkeypatch.setattr(checkpoint, "save", save)
  return expert, states, records


def test_experts_and_distillation_resume_identically(tmp_path, monkeypatch):
  whole = _tiny_run()
  directory = str(tmp_path)
  # Killed after the first expert epoch, then after the experts' last
  # epoch and the first distillation chunk; the third run finishes.
  with pytest.raises(_Stopped, match=r"\[1\]"):
    _tiny_run(directory, stop_after_saves=1, monkeypatch=monkeypatch)
  with pytest.raises(_Stopped, match=r"\[2, 2\]"):
    _tiny_run(directory, stop_after_saves=2, monkeypatch=monkeypatch)
  resumed = _tiny_run(directory)
  loops = sorted(p.name for p in tmp_path.iterdir())
  assert loops == ["001-galaxy_experts", "002-galaxy_distill_ipc_1"], loops
  assert checkpoint.all_steps(str(tmp_path / loops[0])) == [1, 2]
  assert checkpoint.all_steps(str(tmp_path / loops[1])) == [2, 4]
  assert whole[0]["trajectories"].shape[:2] == (2, 3)
  assert whole[2]["loss"].shape == (2, 4)
  chex.assert_trees_all_equal(resumed, whole)


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)
