"""Representations of a dataset under clean and perturbed inputs.

Every probe runs the network in eval mode (as the official code's NC and
evaluation attacks do) on one split, in batches (``lax.map``), for every
seed at once (``vmap``):

* ``clean``: the inputs themselves;
* ``pgd``: untargeted linf/l2 PGD on the cross-entropy, uniform random
  start, one restart (official ``attack_pgd``);
* ``targeted``: PGD towards the target ``t = (y + 1) mod C`` (official
  ``eval.py``'s "leap" attack);
* ``gaussian``: same-size random noise: per-pixel N(0, eps^2) for linf
  (``eval.py``), an l2 norm of exactly eps for l2 (``train.py``);
* ``sign``: random signs, a uniformly drawn vertex of the linf ball (l2:
  sign pattern scaled to l2 norm eps).

Noisy inputs are clipped to [0, 1] like adversarial ones.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from repro.ops import attacks
from repro.studies.neural_collapse.network import Network

KINDS = ("clean", "pgd", "targeted", "gaussian", "sign")


def perturb(
  network: Network,
  variables: dict,
  images: jax.Array,
  labels: jax.Array,
  key: jax.Array,
  kind: str,
  config,
  num_classes: int,
) -> jax.Array:
  """Returns the ``kind`` version of ``images`` (module docstring)."""
  if kind == "clean":
    return images
  if kind in ("pgd", "targeted"):

    def logits_fn(inputs):
      return network.logits(variables, inputs, train=False)[0]

    targeted = kind == "targeted"
    goal = (labels + 1) % num_classes if targeted else labels
    return attacks.pgd(
      logits_fn,
      images,
      goal,
      eps=config.eps,
      num_steps=config.attack_steps,
      step_size=config.attack_step_size,
      norm=config.norm,
      key=key,
      random_init=True,
      targeted=targeted,
    )
  if kind == "gaussian":
    noise = jax.random.normal(key, images.shape, images.dtype)
  elif kind == "sign":
    noise = jax.random.rademacher(key, images.shape, images.dtype)
  else:
    raise ValueError(f"unknown probe {kind!r}; choose one of {KINDS}")
  if config.norm == "l2":
    flat = noise.reshape(noise.shape[0], -1)
    noise = noise / jnp.linalg.norm(flat, axis=1).reshape(
      (-1,) + (1,) * (images.ndim - 1)
    )
  return jnp.clip(images + config.eps * noise, 0.0, 1.0)


def make_probe(
  network: Network,
  config,
  num_classes: int,
  all_layers: dict[str, bool],
  num_examples: int,
):
  """Jitted ``probe(variables, key, images, labels) -> {kind: outputs}``.

  Args:
    network: the classifier.
    config: study config (threat model, ``eval_batch_size``).
    num_classes: C.
    all_layers: ``{kind: bool}``, the kinds to compute; True keeps the
      features of every layer, False only the penultimate ones.
    num_examples: size of the split (fixes the batching).

  Returns:
    A function over replicated ``variables`` and ``key`` (leading seed
    axis) and shared ``images``/``labels``; outputs are ``{kind: {"logits":
    [S, N, C], "features": [[S, N, d_l] per layer]}}``.
  """
  num_batches = max(1, math.ceil(num_examples / config.eval_batch_size))
  batch_size = math.ceil(num_examples / num_batches)
  padded = num_batches * batch_size

  def one_batch(variables, key, images, labels):
    outputs = {}
    for index, kind in enumerate(KINDS):
      if kind not in all_layers:
        continue
      inputs = perturb(
        network,
        variables,
        images,
        labels,
        jax.random.fold_in(key, index),
        kind,
        config,
        num_classes,
      )
      logits, features = network.features(variables, inputs)
      outputs[kind] = {
        "logits": logits,
        "features": (features if all_layers[kind] else features[-1:]),
      }
    return outputs

  def probe(variables, key, images, labels):
    pad = padded - num_examples
    images = jnp.concatenate([images, images[:pad]]) if pad else images
    labels = jnp.concatenate([labels, labels[:pad]]) if pad else labels
    batches = (
      images.reshape((num_batches, batch_size) + images.shape[1:]),
      labels.reshape(num_batches, batch_size),
      jnp.arange(num_batches),
    )
    outputs = jax.lax.map(
      lambda batch: one_batch(
        variables, jax.random.fold_in(key, batch[2]), batch[0], batch[1]
      ),
      batches,
    )
    return jax.tree.map(
      lambda leaf: leaf.reshape((padded,) + leaf.shape[2:])[:num_examples],
      outputs,
    )

  return jax.jit(jax.vmap(probe, in_axes=(0, 0, None, None)))
