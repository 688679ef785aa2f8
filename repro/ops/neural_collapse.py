"""Neural-collapse (NC1-NC4) metrics and class-mean alignment angles.

Definitions of Papyan, Han & Donoho (2020, PNAS) as used by Su et al.
(arXiv 2311.07444, Sec. 2), whose official code (``train.py``/``eval.py``
of ``JingtongSu/robust_neural_collapse``) produced the paper's figures.
Where that code's convention differs from the textbook one, an argument
picks it; the defaults are the official code's (the study compares with
the paper's numbers) unless stated. Notation: features ``h_i`` (rows of
``features``, [N, d]), labels ``y_i`` in ``0..C-1``, class means ``mu_c``,
the count-weighted global mean ``mu_G = sum_c N_c mu_c / N`` and the
centred means ``M = [mu_c - mu_G]_c`` ([C, d] here, one row per class).

* Within-class covariance ``Sigma_W = (1/N) sum_i (h_i - mu_{y_i})(...)^T``;
  between-class covariance ``Sigma_B = (1/C) M^T M``.
* **NC1** ``= Tr(Sigma_W Sigma_B^+) / C`` (Papyan et al. and Zhu et al.'s
  ``validate_NC.py``; the default here). The official code of Su et al.
  omits the ``1/C``; ``nc1(..., divide_by_classes=False)`` gives that
  convention. Ratios of NC1 values, which is what the study's claims use,
  do not depend on it.
* Pseudo-inverse tolerance: ``Sigma_B`` has rank at most ``C - 1`` (the
  weighted centred means sum to zero), so its pseudo-inverse keeps only the
  eigenvalues ``lambda_k > rtol * lambda_max`` (default ``rtol = 1e-8``;
  ``np.linalg.pinv(Sigma_B, rcond=rtol)`` uses the same rule). It is
  computed from the thin SVD of ``M`` ([C, d], so ``C`` singular values),
  never from a ``d x d`` matrix: with ``M = U S V^T``,
  ``Tr(Sigma_W Sigma_B^+) = C sum_k (v_k^T Sigma_W v_k) / s_k^2`` over the
  kept ``k``, and ``v_k^T Sigma_W v_k`` is the mean squared projection of
  the centred features on ``v_k``.
* **NC2** equinorm: coefficient of variation std / mean of
  ``||mu_c - mu_G||`` (and of the classifier rows ``||w_c||``). The
  official code uses ``torch.std``, the unbiased std (``ddof=1``, the
  default here); ``ddof=0`` gives the population std, smaller by
  ``sqrt((C-1)/C)``.
* **NC2** equiangularity ("coherence"):
  ``mean_{c != c'} |cos(m_c, m_c') + 1/(C-1)|``, 0 exactly for a simplex
  equiangular tight frame. Exact ``1/(C-1)`` here; the official code adds
  a float32 ``1/(C-1)``, a difference of order 1e-9, not reproduced.
* **NC3** self-duality: ``|| W^T/||W||_F - M^T/||M||_F ||_F^2`` (squared).
* **NC4**: the nearest-class-centre (NCC) classifier with *un-centred*
  means, ``argmin_c ||h - mu_c||``; NC4 is the mismatch rate with the
  network's predictions (0 = full agreement).
* Alignment of two sets of class means (clean vs perturbed, official
  ``train.py``; clean vs targeted, ``eval.py``): per-class angle and
  distance between the two sets, each centred by the *unweighted* mean of
  its class means (``mean_alignment``); ``simplex_alignment`` adds the
  un-centred per-class angles and distances and the angle and distance
  between the two centres, which the official code also records. Angles
  follow ``vector_angles``' ``convention`` and ``units``.

All functions are pure and ``jit``/``vmap`` compatible; NC1 is ill
conditioned on nearly collapsed features, so call them on float64 arrays
(``collapse_metrics_float64`` does it inside a ``jax.enable_x64`` scope).
Every class must occur at least once in ``labels``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

PINV_RTOL = 1e-8


def class_means(
  features: jax.Array, labels: jax.Array, num_classes: int
) -> tuple[jax.Array, jax.Array]:
  """Class means ``mu_c`` [C, d] and class counts ``N_c`` [C]."""
  one_hot = jax.nn.one_hot(labels, num_classes, dtype=features.dtype)
  counts = one_hot.sum(axis=0)
  sums = one_hot.T @ features
  return sums / jnp.maximum(counts, 1)[:, None], counts


def global_mean(means: jax.Array, counts: jax.Array) -> jax.Array:
  """Count-weighted global mean ``mu_G = sum_c N_c mu_c / N``."""
  return (counts @ means) / counts.sum()


def centered_means(means: jax.Array, counts: jax.Array) -> jax.Array:
  """``M = [mu_c - mu_G]`` [C, d] with the count-weighted ``mu_G``."""
  return means - global_mean(means, counts)


def nc1(
  features: jax.Array,
  labels: jax.Array,
  num_classes: int,
  *,
  means: jax.Array | None = None,
  counts: jax.Array | None = None,
  rtol: float = PINV_RTOL,
  divide_by_classes: bool = True,
) -> jax.Array:
  """NC1 ``= Tr(Sigma_W Sigma_B^+) / C`` (module docstring for conventions).

  Args:
    features: [N, d] features.
    labels: [N] labels grouping the features (true or target labels).
    num_classes: C.
    means, counts: class means [C, d] and counts [C] defining ``Sigma_B``
      and the centring of ``Sigma_W``; by default those of ``features``.
      (The official ``neural_collapse`` takes them from a first loader and
      ``Sigma_W`` from a second one.)
    rtol: eigenvalues of ``Sigma_B`` below ``rtol * lambda_max`` are
      dropped from the pseudo-inverse.
    divide_by_classes: the ``1/C`` of Papyan et al.; False gives the
      official code's ``Tr(Sigma_W Sigma_B^+)``.

  Returns:
    The scalar NC1.
  """
  if means is None or counts is None:
    means, counts = class_means(features, labels, num_classes)
  centred_means = centered_means(means, counts)
  # Sigma_B = (1/C) V S^2 V^T from M = U S V^T.
  _, singular, right = jnp.linalg.svd(centred_means, full_matrices=False)
  eigen = singular**2 / num_classes
  keep = eigen > rtol * jnp.max(eigen)
  inverse = jnp.where(keep, 1.0 / jnp.where(keep, eigen, 1.0), 0.0)
  projected = (features - means[labels]) @ right.T  # [N, C]
  within_along = jnp.mean(projected**2, axis=0)  # v_k^T Sigma_W v_k
  trace = jnp.sum(within_along * inverse)
  return trace / num_classes if divide_by_classes else trace


EQUINORM_DDOF = 1  # the official torch.std


def coefficient_of_variation(
  values: jax.Array, ddof: int = EQUINORM_DDOF
) -> jax.Array:
  """std / mean; ``ddof=1``: unbiased std (official), 0: population std."""
  return jnp.std(values, ddof=ddof) / jnp.mean(values)


def pairwise_cosines(vectors: jax.Array) -> jax.Array:
  """[C, C] cosine similarities of the rows of ``vectors``."""
  unit = vectors / jnp.linalg.norm(vectors, axis=1, keepdims=True)
  return unit @ unit.T


def equiangularity(vectors: jax.Array) -> jax.Array:
  """NC2 coherence ``mean_{c != c'} |cos(v_c, v_c') + 1/(C-1)|``."""
  num = vectors.shape[0]
  cosines = pairwise_cosines(vectors)
  off_diagonal = 1.0 - jnp.eye(num, dtype=vectors.dtype)
  deviation = jnp.abs(cosines + 1.0 / (num - 1)) * off_diagonal
  return deviation.sum() / (num * (num - 1))


def nc2_equinorm(
  means: jax.Array, counts: jax.Array, ddof: int = EQUINORM_DDOF
) -> jax.Array:
  """NC2 equinorm: CV of ``||mu_c - mu_G||`` (std with ``ddof``)."""
  return coefficient_of_variation(
    jnp.linalg.norm(centered_means(means, counts), axis=1), ddof
  )


def nc2_equiangularity(means: jax.Array, counts: jax.Array) -> jax.Array:
  """NC2 equiangularity of the centred class means."""
  return equiangularity(centered_means(means, counts))


def nc3_self_duality(
  classifier: jax.Array, means: jax.Array, counts: jax.Array
) -> jax.Array:
  """NC3 ``|| W/||W||_F - M/||M||_F ||_F^2``; ``classifier`` W is [C, d]."""
  centred = centered_means(means, counts)
  difference = classifier / jnp.linalg.norm(
    classifier
  ) - centred / jnp.linalg.norm(centred)
  return jnp.sum(difference**2)


def ncc_predict(features: jax.Array, means: jax.Array) -> jax.Array:
  """Nearest-class-centre labels ``argmin_c ||h - mu_c||`` (un-centred)."""
  squared = (
    jnp.sum(features**2, axis=1, keepdims=True)
    - 2.0 * features @ means.T
    + jnp.sum(means**2, axis=1)
  )
  return jnp.argmin(squared, axis=1)


def nc4_mismatch(
  features: jax.Array, means: jax.Array, predictions: jax.Array
) -> jax.Array:
  """NC4: fraction of points where NCC and the network disagree."""
  mismatch = ncc_predict(features, means) != predictions
  return jnp.mean(mismatch.astype(features.dtype))


ANGLE_CONVENTIONS = ("official", "clipped")
ANGLE_UNITS = ("radians", "degrees")
OFFICIAL_NORM_OFFSET = 1e-10


def vector_angles(
  a: jax.Array,
  b: jax.Array,
  *,
  convention: str = "official",
  units: str = "radians",
) -> jax.Array:
  """Angles between the rows of ``a`` and ``b`` ([..., d] -> [...]).

  * ``"official"`` (``train.py``/``eval.py``):
    ``arccos(<a, b> / (||a|| ||b|| + 1e-10))``, no clipping: a zero
    vector gives 90 degrees; in float64 the offset keeps the ratio inside
    [-1, 1] while ``||a|| ||b||`` is below about 1e5, beyond which nearly
    parallel vectors can give NaN.
  * ``"clipped"``: ``arccos(clip(<a, b> / (||a|| ||b||), -1, 1))``, exact
    for any nonzero vectors (a zero vector gives NaN).

  ``units``: ``"radians"`` (the official code's) or ``"degrees"``.
  """
  dot = jnp.sum(a * b, axis=-1)
  norms = jnp.linalg.norm(a, axis=-1) * jnp.linalg.norm(b, axis=-1)
  if convention == "official":
    angle = jnp.arccos(dot / (norms + OFFICIAL_NORM_OFFSET))
  elif convention == "clipped":
    angle = jnp.arccos(jnp.clip(dot / norms, -1.0, 1.0))
  else:
    raise ValueError(
      f"unknown angle convention {convention!r}; choose one "
      f"of {ANGLE_CONVENTIONS}"
    )
  if units == "degrees":
    return jnp.degrees(angle)
  if units != "radians":
    raise ValueError(f"unknown units {units!r}; choose one of {ANGLE_UNITS}")
  return angle


def mean_alignment(
  means_a: jax.Array,
  means_b: jax.Array,
  *,
  convention: str = "official",
  units: str = "radians",
) -> tuple[jax.Array, jax.Array]:
  """Per-class angle and distance between two centred sets of means.

  Each set is centred by the unweighted mean of its class means (official
  ``train.py``), so a common translation does not count as misalignment.
  Angles as in ``vector_angles`` (default: official, radians).

  Returns:
    ``(angles [C], distances [C])``.
  """
  centred_a = means_a - means_a.mean(axis=0)
  centred_b = means_b - means_b.mean(axis=0)
  angle = vector_angles(
    centred_a, centred_b, convention=convention, units=units
  )
  return angle, jnp.linalg.norm(centred_a - centred_b, axis=1)


def simplex_alignment(
  means_a: jax.Array,
  means_b: jax.Array,
  *,
  convention: str = "official",
  units: str = "radians",
) -> dict[str, jax.Array]:
  """Everything the official code records about two sets of class means.

  Returns:
    ``centred_angle``/``centred_distance`` [C] (``mean_alignment``),
    ``uncentred_angle``/``uncentred_distance`` [C] between ``mu^a_c`` and
    ``mu^b_c`` themselves, and ``centre_angle``/``centre_distance`` (scalars)
    between the two centres, the unweighted means of the class means.
  """
  centred_angle, centred_distance = mean_alignment(
    means_a, means_b, convention=convention, units=units
  )
  centre_a, centre_b = means_a.mean(axis=0), means_b.mean(axis=0)
  angles = functools.partial(vector_angles, convention=convention, units=units)
  return {
    "centred_angle": centred_angle,
    "centred_distance": centred_distance,
    "uncentred_angle": angles(means_a, means_b),
    "uncentred_distance": jnp.linalg.norm(means_a - means_b, axis=1),
    "centre_angle": angles(centre_a, centre_b),
    "centre_distance": jnp.linalg.norm(centre_a - centre_b),
  }


def collapse_metrics(
  features: jax.Array,
  labels: jax.Array,
  num_classes: int,
  classifier: jax.Array,
  predictions: jax.Array,
  *,
  rtol: float = PINV_RTOL,
  equinorm_ddof: int = EQUINORM_DDOF,
) -> dict[str, jax.Array]:
  """NC1-NC4 of one feature set, means taken from the same set.

  Args:
    features: [N, d] (penultimate) features.
    labels: [N] grouping labels (true labels; target labels for a targeted
      attack).
    num_classes: C.
    classifier: [C, d] weights of the last linear layer (NC2 of W, NC3).
    predictions: [N] the network's predicted labels (NC4).
    rtol: pseudo-inverse tolerance of NC1.
    equinorm_ddof: std of both NC2 equinorms (1: official, 0: population).

  Returns:
    ``nc1``, ``nc2_equinorm``, ``nc2_equiangular``, ``nc2_w_equinorm``,
    ``nc2_w_equiangular``, ``nc3``, ``nc4`` as scalars.
  """
  means, counts = class_means(features, labels, num_classes)
  return {
    "nc1": nc1(
      features, labels, num_classes, means=means, counts=counts, rtol=rtol
    ),
    "nc2_equinorm": nc2_equinorm(means, counts, equinorm_ddof),
    "nc2_equiangular": nc2_equiangularity(means, counts),
    "nc2_w_equinorm": coefficient_of_variation(
      jnp.linalg.norm(classifier, axis=1), equinorm_ddof
    ),
    "nc2_w_equiangular": equiangularity(classifier),
    "nc3": nc3_self_duality(classifier, means, counts),
    "nc4": nc4_mismatch(features, means, predictions),
  }


def collapse_metrics_float64(
  features: npt.ArrayLike,
  labels: npt.ArrayLike,
  num_classes: int,
  classifier: npt.ArrayLike,
  predictions: npt.ArrayLike,
  *,
  rtol: float = PINV_RTOL,
  equinorm_ddof: int = EQUINORM_DDOF,
) -> dict[str, np.ndarray]:
  """``collapse_metrics`` in float64 on host arrays; leading axes vmapped.

  ``features`` may carry leading replica axes (seeds) shared by
  ``labels``-independent inputs: shapes ``[..., N, d]``, ``[N]``,
  ``[..., C, d]``, ``[..., N]``. Returns numpy arrays of shape ``[...]``.
  """
  features = np.asarray(features, np.float64)
  classifier = np.asarray(classifier, np.float64)
  predictions = np.asarray(predictions)
  labels = np.asarray(labels)
  with jax.enable_x64(True):
    function = _batched_collapse_metrics(
      num_classes, rtol, features.ndim - 2, equinorm_ddof
    )
    result = function(
      jnp.asarray(features),
      jnp.asarray(labels),
      jnp.asarray(classifier),
      jnp.asarray(predictions),
    )
    return {k: np.asarray(v) for k, v in result.items()}


@functools.cache
def _batched_collapse_metrics(
  num_classes: int, rtol: float, batch_dims: int, equinorm_ddof: int
):
  def single(features, labels, classifier, predictions):
    return collapse_metrics(
      features,
      labels,
      num_classes,
      classifier,
      predictions,
      rtol=rtol,
      equinorm_ddof=equinorm_ddof,
    )

  function = single
  for _ in range(batch_dims):
    function = jax.vmap(function, in_axes=(0, None, 0, 0))
  return jax.jit(function)
