"""GD vs sign GD adversarial training of a ReLU net (paper, Fig. 3 left).

A homogeneous one-hidden-layer ReLU network without biases is trained on
two digit classes with the summed exponential loss, full batch, on PGD
adversarial examples (linf, ``train_attack_steps`` steps of size
``attack_step_fraction * eps`` from x, box [0, 1]), by gradient descent or
by sign descent. Robust test accuracy is measured at the training eps with
a stronger PGD (``eval_attack_steps`` steps plus random restarts).

Replicas (training size m, eps, seed) form one vmapped axis: the training
sets are nested prefixes of a seeded permutation of the pool (padded to
max m and masked), so each algorithm is one jitted program per attack
strength (clean eps = 0 runs skip the attack).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from repro import data as data_lib
from repro.core import parallel, rng
from repro.core import train as train_lib
from repro.core.errors import UserError
from repro.nn.mlp import MLP
from repro.ops import attacks
from repro.ops import robust_linear as rl
from repro.ops import steepest_descent as sd

ALGORITHMS = ("gd", "sd")
NUM_CHUNKS = 5


@dataclasses.dataclass
class Replicas:
  """One row per (m, eps, seed) run; arrays stacked on the replica axis."""

  train_sizes: np.ndarray  # [R]
  eps: np.ndarray  # [R]
  seeds: np.ndarray  # [R]
  x_train: np.ndarray  # [R, M, d]
  y_train: np.ndarray  # [R, M]
  train_mask: np.ndarray  # [R, M]
  x_test: np.ndarray  # [R, T, d]
  y_test: np.ndarray  # [R, T]
  test_mask: np.ndarray  # [R, T]


def load_pool(
  dataset: str, classes, data_dir: str | None
) -> tuple[np.ndarray, np.ndarray]:
  """Both splits of the two classes, pooled: x [N, d] in [0, 1], y +-1."""
  xs, ys = [], []
  for split in ("train", "test"):
    x, y = data_lib.binary_subset(
      data_lib.load(dataset, split, data_dir), *classes
    )
    xs.append(x)
    ys.append(y)
  return np.concatenate(xs), np.concatenate(ys)


def make_replicas(
  x_pool: np.ndarray,
  y_pool: np.ndarray,
  train_sizes,
  eps_values,
  num_seeds: int,
  root_seed: int,
  max_test: int = 0,
) -> Replicas:
  """Splits the pool per seed: the first m points train, the rest test.

  Training sets of one seed are nested across m; every eps of a (m, seed)
  shares its split and (in ``initial_params``) its initialisation.
  """
  num_points = len(x_pool)
  if max(train_sizes) >= num_points:
    raise UserError(
      f"nn.train_sizes {tuple(train_sizes)} must be below the "
      f"pool size {num_points}"
    )
  pool_size = max(train_sizes)
  test_size = num_points - min(train_sizes)
  if max_test:
    test_size = min(test_size, max_test)
  key = rng.stream(root_seed, "data")
  permutations = [
    rl.numpy_generator(jax.random.fold_in(key, seed)).permutation(num_points)
    for seed in range(num_seeds)
  ]
  rows = []
  for size in train_sizes:
    for eps in eps_values:
      for seed in range(num_seeds):
        order = permutations[seed]
        train, test = order[:size], order[size:][:test_size]
        rows.append((size, eps, seed, train, test))

  def padded(indices, length, values):
    out = np.zeros((length,) + values.shape[1:], np.float32)
    out[: len(indices)] = values[indices]
    return out

  def mask(indices, length):
    return np.arange(length) < len(indices)

  return Replicas(
    train_sizes=np.array([r[0] for r in rows]),
    eps=np.array([r[1] for r in rows], np.float32),
    seeds=np.array([r[2] for r in rows]),
    x_train=np.stack([padded(r[3], pool_size, x_pool) for r in rows]),
    y_train=np.stack([padded(r[3], pool_size, y_pool) for r in rows]),
    train_mask=np.stack([mask(r[3], pool_size) for r in rows]),
    x_test=np.stack([padded(r[4], test_size, x_pool) for r in rows]),
    y_test=np.stack([padded(r[4], test_size, y_pool) for r in rows]),
    test_mask=np.stack([mask(r[4], test_size) for r in rows]),
  )


def select(replicas: Replicas, keep: np.ndarray) -> Replicas:
  return Replicas(
    *(getattr(replicas, f.name)[keep] for f in dataclasses.fields(Replicas))
  )


def make_model(config) -> MLP:
  return MLP(
    hidden_sizes=(config.width,),
    num_outputs=1,
    use_bias=False,
    init_scale=config.init_scale,
  )


def initial_params(model: MLP, root_seed: int, seeds: np.ndarray, dim: int):
  """Per-replica init from the ``init`` stream; equal seeds, equal init."""
  key = rng.stream(root_seed, "init")
  keys = jnp.stack([jax.random.fold_in(key, int(s)) for s in seeds])
  return jax.vmap(lambda k: model.init(k, jnp.zeros((1, dim))))(keys)


def make_optimizer(algorithm: str, config) -> optax.GradientTransformation:
  if algorithm == "gd":
    return optax.sgd(config.gd_lr)
  if algorithm == "sd":
    return sd.sign_descent(config.sd_lr)
  raise ValueError(f"unknown algorithm {algorithm!r}")


def adversarial_loss(
  model, params, key, x, y, mask, eps, *, attack_steps, step_fraction
):
  """Summed exp loss on PGD points (robust ERM, eq. (1)); aux: accuracy."""
  del key  # PGD-AT starts at x (zero init), as the paper's code.
  logits_fn = lambda inputs: model.apply(params, inputs)
  if attack_steps:
    x = jax.lax.stop_gradient(
      attacks.pgd(
        logits_fn,
        x,
        y,
        eps=eps,
        num_steps=attack_steps,
        step_size=step_fraction * eps,
        loss_fn=attacks.exponential_loss,
      )
    )
  margins = y * logits_fn(x)
  loss = jnp.sum(jnp.where(mask, jnp.exp(-margins), 0.0))
  accuracy = jnp.sum(mask & (margins > 0)) / jnp.sum(mask)
  return loss, {"robust_train_accuracy": accuracy}


def train(
  algorithm: str,
  replicas: Replicas,
  params,
  config,
  root_seed: int,
  attack_steps: int,
  checkpoints=None,
) -> tuple[dict, dict[str, np.ndarray]]:
  """Trains every replica with ``algorithm``; returns params and history."""
  model = make_model(config)
  optimizer = make_optimizer(algorithm, config)
  loss_fn = functools.partial(
    adversarial_loss,
    model,
    attack_steps=attack_steps,
    step_fraction=config.attack_step_fraction,
  )
  keys = jax.vmap(
    lambda s: jax.random.fold_in(rng.stream(root_seed, "train"), s)
  )(jnp.asarray(replicas.seeds))
  data = tuple(
    jnp.asarray(a)
    for a in (
      replicas.x_train,
      replicas.y_train,
      replicas.train_mask,
      replicas.eps,
    )
  )
  # The replica axis (m, eps, seed) is sharded over the devices.
  params, keys, data = parallel.shard_replicas((params, keys, data))
  state, history = train_lib.fit(
    loss_fn,
    optimizer,
    params,
    keys,
    config.num_steps,
    data=data,
    replicated=True,
    chunk_steps=max(1, -(-config.num_steps // NUM_CHUNKS)),
    description=f"robust_erm nn/{algorithm} (attack {attack_steps} steps)",
    checkpoints=checkpoints,
  )
  return state.params, history


@functools.partial(
  jax.jit, static_argnames=("model", "num_steps", "num_restarts")
)
def _evaluate(
  model, params, keys, x, y, mask, eps, step_fraction, num_steps, num_restarts
):
  def one(params, key, x, y, mask, eps):
    logits_fn = lambda inputs: model.apply(params, inputs)
    x_adv = attacks.pgd(
      logits_fn,
      x,
      y,
      eps=eps,
      num_steps=num_steps,
      step_size=step_fraction * eps,
      loss_fn=attacks.exponential_loss,
      key=key,
      num_restarts=num_restarts,
    )
    count = jnp.sum(mask)
    robust = jnp.sum(mask & (y * logits_fn(x_adv) > 0)) / count
    clean = jnp.sum(mask & (y * logits_fn(x) > 0)) / count
    return robust, clean

  return jax.vmap(one)(params, keys, x, y, mask, eps)


def evaluate(
  params, replicas: Replicas, config, root_seed: int
) -> tuple[np.ndarray, np.ndarray]:
  """Robust (PGD at the training eps) and clean test accuracy; ``[R]`` each."""
  attack_key = rng.stream(root_seed, "attack")
  keys = jnp.stack(
    [
      jax.random.fold_in(jax.random.fold_in(attack_key, int(seed)), int(size))
      for seed, size in zip(replicas.seeds, replicas.train_sizes, strict=True)
    ]
  )
  params, keys, x, y, mask, eps = parallel.shard_replicas(
    (
      params,
      keys,
      jnp.asarray(replicas.x_test),
      jnp.asarray(replicas.y_test),
      jnp.asarray(replicas.test_mask),
      jnp.asarray(replicas.eps),
    )
  )
  robust, clean = _evaluate(
    make_model(config),
    params,
    keys,
    x,
    y,
    mask,
    eps,
    config.attack_step_fraction,
    config.eval_attack_steps,
    config.eval_restarts,
  )
  return parallel.gather((robust, clean))


def run(config, root_seed: int, data_dir: str | None, checkpoints=None) -> dict:
  """Trains GD and SD on every replica; returns accuracies and histories.

  Returns:
    ``{"replicas": Replicas, algorithm: {"robust": [R], "clean": [R],
    "history": {name: [R, steps]}}}``.
  """
  x_pool, y_pool = load_pool(config.dataset, tuple(config.classes), data_dir)
  replicas = make_replicas(
    x_pool,
    y_pool,
    config.train_sizes,
    config.eps,
    config.num_seeds,
    root_seed,
    config.max_test,
  )
  model = make_model(config)
  params = initial_params(model, root_seed, replicas.seeds, x_pool.shape[1])
  results = {"replicas": replicas}
  clean = replicas.eps == 0
  for algorithm in ALGORITHMS:
    robust = np.zeros(len(clean))
    clean_accuracy = np.zeros(len(clean))
    history = {}
    for group, attack_steps in (
      (clean, 0),
      (~clean, config.train_attack_steps),
    ):
      if not group.any():
        continue
      subset = select(replicas, group)
      group_params = jax.tree.map(lambda leaf, g=group: leaf[g], params)
      trained, group_history = train(
        algorithm,
        subset,
        group_params,
        config,
        root_seed,
        attack_steps,
        checkpoints,
      )
      robust[group], clean_accuracy[group] = evaluate(
        trained, subset, config, root_seed
      )
      for name, values in group_history.items():
        history.setdefault(name, np.zeros((len(clean), values.shape[-1])))
        history[name][group] = values
    results[algorithm] = {
      "robust": robust,
      "clean": clean_accuracy,
      "history": history,
    }
  return results
