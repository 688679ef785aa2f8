"""Neural-collapse numbers of probe outputs, in float64.

NC1 is ill conditioned on nearly collapsed features, hence float64.
Conventions (README, "Conventions"): NC is measured on the training set;
"clean NC" uses clean features and clean means, "perturbed NC" perturbed
features and perturbed means grouped by the **true** label, targeted NC
groups by the **target** label. The building blocks take one seed's
arrays; ``evaluation_metrics`` runs all of them, vmapped over seeds, in
one compiled float64 function.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from repro.ops import neural_collapse as nc

# The study's conventions (README, "Conventions"): the official code's.
# NC2 equinorm with the unbiased std (torch.std); alignment angles
# arccos(<a, b> / (|a||b| + 1e-10)) unclipped, reported in degrees (the
# official radians x 180 / pi) so the claims' thresholds read in degrees.
EQUINORM_DDOF = 1
ANGLE_CONVENTION = "official"
ANGLE_UNITS = "degrees"


def evaluation_metrics(
  train: dict,
  test: dict,
  train_labels,
  test_labels,
  classifier,
  *,
  num_classes: int,
  rtol: float = nc.PINV_RTOL,
) -> dict[str, np.ndarray]:
  """All NC numbers of one evaluation, per seed, in float64.

  Args:
    train: probe outputs on the training set, ``{kind: {"logits": [S, N,
      C], "features": [[S, N, d_l], ...]}}`` for kinds clean and pgd (every
      layer) and targeted, gaussian and sign (penultimate layer only).
    test: probe outputs on the test set for kinds clean and pgd.
    train_labels, test_labels: [N] and [N_test] true labels.
    classifier: [S, C, d] last-layer weights.
    num_classes: C.
    rtol: NC1 pseudo-inverse tolerance.

  Returns:
    ``{name: [S]}``; names are documented by the functions below
    (``clean_and_perturbed`` without prefix, ``targeted_leap``,
    ``gaussian_*``/``sign_*`` from ``noise_robustness``,
    ``layer{l}_nc1_{clean,pgd,ratio}``, ``test_*``/``test_pgd_*`` from
    ``ncc_transfer``).
  """

  def as64(tree):
    return jax.tree.map(
      lambda a: (
        np.asarray(a, np.float64)
        if np.issubdtype(np.asarray(a).dtype, np.floating)
        else np.asarray(a)
      ),
      tree,
    )

  with jax.enable_x64(True):
    result = _evaluation_metrics(
      as64(train),
      as64(test),
      np.asarray(train_labels),
      np.asarray(test_labels),
      as64(classifier),
      num_classes,
      rtol,
    )
    return {k: np.asarray(v, np.float64) for k, v in result.items()}


@functools.partial(jax.jit, static_argnums=(5,))
@functools.partial(jax.vmap, in_axes=(0, 0, None, None, 0, None, None))
def _evaluation_metrics(
  train, test, labels, test_labels, classifier, num_classes, rtol
):
  kwargs = dict(num_classes=num_classes, rtol=rtol)
  clean, pgd = train["clean"], train["pgd"]
  row = clean_and_perturbed(
    clean["features"][-1],
    clean["logits"],
    pgd["features"][-1],
    pgd["logits"],
    labels,
    classifier,
    **kwargs,
  )
  row.update(
    targeted_leap(
      clean["features"][-1],
      train["targeted"]["features"][-1],
      train["targeted"]["logits"],
      labels,
      classifier,
      **kwargs,
    )
  )
  for kind in ("gaussian", "sign"):
    noise = noise_robustness(
      clean["features"][-1],
      clean["logits"],
      train[kind]["features"][-1],
      train[kind]["logits"],
      labels,
      **kwargs,
    )
    row.update({f"{kind}_{k}": v for k, v in noise.items()})
  for layer, (clean_layer, pgd_layer) in enumerate(
    zip(clean["features"], pgd["features"], strict=True), start=1
  ):
    nc1s = layer_nc1(clean_layer, pgd_layer, labels, **kwargs)
    row.update({f"layer{layer}_nc1_{k}": v for k, v in nc1s.items()})
  for kind, prefix in (("pgd", "test_pgd_"), ("clean", "test_")):
    transfer = ncc_transfer(
      clean["features"][-1],
      labels,
      test[kind]["features"][-1],
      test[kind]["logits"],
      test_labels,
      num_classes=num_classes,
    )
    row.update({prefix + k: v for k, v in transfer.items()})
  return row


def clean_and_perturbed(
  clean_features,
  clean_logits,
  perturbed_features,
  perturbed_logits,
  labels,
  classifier,
  *,
  num_classes: int,
  rtol: float = nc.PINV_RTOL,
):
  """NC1-NC4 of clean and perturbed features and how the two relate.

  Returns clean metrics (``nc1`` ...), perturbed ones (``pgd_nc1`` ...),
  accuracies, ``ncc_agreement`` (NCC with the *clean* means on perturbed
  features vs the network's perturbed prediction: the untargeted "leap"
  check) and the clean/perturbed simplex alignment (``_alignment``:
  ``alignment_angle`` is the mean over classes of the angle between
  centred clean and perturbed class means, degrees).
  """
  clean_pred = jnp.argmax(clean_logits, axis=1)
  perturbed_pred = jnp.argmax(perturbed_logits, axis=1)
  clean = nc.collapse_metrics(
    clean_features,
    labels,
    num_classes,
    classifier,
    clean_pred,
    rtol=rtol,
    equinorm_ddof=EQUINORM_DDOF,
  )
  perturbed = nc.collapse_metrics(
    perturbed_features,
    labels,
    num_classes,
    classifier,
    perturbed_pred,
    rtol=rtol,
    equinorm_ddof=EQUINORM_DDOF,
  )
  clean_means, _ = nc.class_means(clean_features, labels, num_classes)
  perturbed_means, _ = nc.class_means(perturbed_features, labels, num_classes)
  agreement = jnp.mean(
    (nc.ncc_predict(perturbed_features, clean_means) == perturbed_pred).astype(
      clean_features.dtype
    )
  )
  return {
    **clean,
    **{f"pgd_{k}": v for k, v in perturbed.items()},
    "accuracy": _accuracy(clean_pred, labels),
    "pgd_accuracy": _accuracy(perturbed_pred, labels),
    "nc1_pgd_over_clean": perturbed["nc1"] / clean["nc1"],
    "ncc_agreement": agreement,
    **_alignment("alignment", clean_means, perturbed_means),
  }


def _alignment(prefix: str, means_a, means_b) -> dict:
  """``nc.simplex_alignment`` in the study's conventions, class means.

  ``{prefix}_angle``/``_distance``: centred per-class angle (degrees) and
  distance, averaged over classes; ``{prefix}_uncentred_angle``/
  ``_distance``: the same between the un-centred means;
  ``{prefix}_centre_angle``/``_distance``: between the two centres (the
  unweighted means of the class means).
  """
  result = nc.simplex_alignment(
    means_a, means_b, convention=ANGLE_CONVENTION, units=ANGLE_UNITS
  )
  return {
    f"{prefix}_angle": jnp.mean(result["centred_angle"]),
    f"{prefix}_distance": jnp.mean(result["centred_distance"]),
    f"{prefix}_uncentred_angle": jnp.mean(result["uncentred_angle"]),
    f"{prefix}_uncentred_distance": jnp.mean(result["uncentred_distance"]),
    f"{prefix}_centre_angle": result["centre_angle"],
    f"{prefix}_centre_distance": result["centre_distance"],
  }


def targeted_leap(
  clean_features,
  targeted_features,
  targeted_logits,
  labels,
  classifier,
  *,
  num_classes: int,
  rtol: float = nc.PINV_RTOL,
):
  """Targeted-attack NC grouped by target ``t = (y + 1) mod C``.

  ``targeted_nc1`` is NC1 of the targeted features grouped by target;
  ``targeted_angle`` the mean over classes ``t`` of the angle between the
  clean mean of ``t`` and the mean of the features attacked towards ``t``
  (both centred by the unweighted mean of their class means; degrees); a
  "leap" makes both small. ``targeted_distance``, ``targeted_uncentred_*``
  and ``targeted_centre_*`` as in ``_alignment`` (official ``eval.py``).
  ``target_success`` is the fraction classified as the target.
  """
  targets = (labels + 1) % num_classes
  predictions = jnp.argmax(targeted_logits, axis=1)
  clean_nc1 = nc.nc1(clean_features, labels, num_classes, rtol=rtol)
  targeted_nc1 = nc.nc1(targeted_features, targets, num_classes, rtol=rtol)
  clean_means, _ = nc.class_means(clean_features, labels, num_classes)
  targeted_means, _ = nc.class_means(targeted_features, targets, num_classes)
  return {
    "targeted_nc1": targeted_nc1,
    "targeted_nc1_over_clean": targeted_nc1 / clean_nc1,
    **_alignment("targeted", clean_means, targeted_means),
    "target_success": _accuracy(predictions, targets),
  }


def noise_robustness(
  clean_features,
  clean_logits,
  noisy_features,
  noisy_logits,
  labels,
  *,
  num_classes: int,
  rtol: float = nc.PINV_RTOL,
):
  """NC1 ratio and accuracy drop under same-size random noise."""
  clean_nc1 = nc.nc1(clean_features, labels, num_classes, rtol=rtol)
  noisy_nc1 = nc.nc1(noisy_features, labels, num_classes, rtol=rtol)
  clean_accuracy = _accuracy(jnp.argmax(clean_logits, axis=1), labels)
  noisy_accuracy = _accuracy(jnp.argmax(noisy_logits, axis=1), labels)
  return {
    "nc1": noisy_nc1,
    "nc1_over_clean": noisy_nc1 / clean_nc1,
    "accuracy": noisy_accuracy,
    "accuracy_drop": clean_accuracy - noisy_accuracy,
  }


def layer_nc1(
  clean_features,
  perturbed_features,
  labels,
  *,
  num_classes: int,
  rtol: float = nc.PINV_RTOL,
):
  """Clean and perturbed NC1 of one layer and their ratio ``r_l``."""
  clean = nc.nc1(clean_features, labels, num_classes, rtol=rtol)
  perturbed = nc.nc1(perturbed_features, labels, num_classes, rtol=rtol)
  return {"clean": clean, "pgd": perturbed, "ratio": perturbed / clean}


def ncc_transfer(
  train_features,
  train_labels,
  test_features,
  test_logits,
  test_labels,
  *,
  num_classes: int,
):
  """Accuracy of the NCC with clean *train* means on (perturbed) test data.

  Compared with the network's accuracy on the same inputs (B6).
  """
  train_means, _ = nc.class_means(train_features, train_labels, num_classes)
  ncc = nc.ncc_predict(test_features, train_means)
  network = _accuracy(jnp.argmax(test_logits, axis=1), test_labels)
  ncc_accuracy = _accuracy(ncc, test_labels)
  return {
    "ncc_accuracy": ncc_accuracy,
    "network_accuracy": network,
    "gap": jnp.abs(ncc_accuracy - network),
  }


def _accuracy(predictions, labels):
  return jnp.mean((predictions == labels).astype(jnp.float64))
