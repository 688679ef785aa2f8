"""DRoP class-wise pruning quotas and class-quota selection.

Vysogorets, Ahuja & Kempe, "DRoP: Distributionally Robust Data Pruning"
(ICLR 2025, arXiv 2404.05579): every class keeps a share of the budget
that grows with its validation error rate 1 - r_k, capped at the class
size; the kept points of each class are drawn uniformly at random
("Random+DRoP"). The same quota selection with scores instead of random
numbers gives "Strategy+DRoP", and random selection at a strategy's own
class counts "Random+StrategyQ".

Two conventions (``drop_counts``'s ``convention``):

* ``"paper"``: Algorithm 1 of the paper, class **densities** d_k ∝ 1 - r_k
  with the excess of saturated classes redistributed
  (``drop_densities``), rounded to integer counts by largest remainders so
  that exactly round(d N) points are kept (``integer_quotas``).
* ``"official"``: the official ``quoters/drop.py`` (this study's default:
  the paper's numbers come from it), class **counts** ∝ 1 - r_k, truncated
  to integers, with its redistribution loop (``official_counts``); the
  truncations leave a few points unallocated, which the official
  ``utils.dosample`` fills uniformly at random from all classes
  (``fill_at_random``).

For balanced classes the two differ only by the rounding; with unequal
class sizes the paper's counts are ∝ N_k (1 - r_k), the official ones
∝ (1 - r_k).

Pure numpy: quotas are a handful of numbers computed once per density.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

CONVENTIONS = ("official", "paper")


def class_errors(
  recalls: npt.ArrayLike, error_floor: float = 0.0
) -> np.ndarray:
  """Error rates 1 - r_k, raised to at least ``error_floor``, float64 [K]."""
  return np.maximum(1.0 - np.asarray(recalls, np.float64), error_floor)


def drop_densities(
  class_sizes: npt.ArrayLike,
  recalls: npt.ArrayLike,
  density: float,
  error_floor: float = 0.0,
) -> np.ndarray:
  """Per-class densities d_k of Algorithm 1 (the paper's density form).

  d_k ∝ (1 - r_k) with sum_k N_k d_k = density * N, every d_k <= 1; classes
  that reach 1 are removed from the active set and their excess is
  redistributed (the loop runs at most K times). The increment of a round
  is d'_k = E (1 - r_k) / Z with the excess E, so that the round places
  exactly E points (sum_k N_k d'_k = E).

  Args:
    class_sizes: N_k, [K].
    recalls: validation recall r_k in [0, 1], [K].
    density: target fraction d of the whole dataset kept, in [0, 1].
    error_floor: errors below this are raised to it (a zero-error class
      would otherwise get no quota at all; the official code has no floor).

  Returns:
    float64 [K] densities in [0, 1].
  """
  sizes = np.asarray(class_sizes, np.float64)
  errors = class_errors(recalls, error_floor)
  if not 0.0 <= density <= 1.0:
    raise ValueError(f"density must be in [0, 1], got {density}")
  _check_errors(errors)
  densities = np.zeros_like(sizes)
  active = (sizes > 0) & (errors > 0)
  excess = density * sizes.sum()
  for _ in range(len(sizes) + 1):
    if excess <= 1e-9 * max(sizes.sum(), 1.0) or not active.any():
      break
    normaliser = np.sum(sizes[active] * errors[active])
    increment = np.where(active, excess * errors / normaliser, 0.0)
    densities += increment
    excess -= np.sum(sizes * increment)
    saturated = active & (densities > 1.0)
    excess += np.sum(sizes[saturated] * (densities[saturated] - 1.0))
    densities[saturated] = 1.0
    active &= ~saturated
  if excess > 1e-6 * max(sizes.sum(), 1.0):
    # Only zero-error classes are left below 1: fill them proportionally.
    rest = (sizes > 0) & (densities < 1.0)
    room = np.sum(sizes[rest] * (1.0 - densities[rest]))
    densities[rest] += (1.0 - densities[rest]) * min(excess / room, 1.0)
  return np.minimum(densities, 1.0)


def integer_quotas(
  class_sizes: npt.ArrayLike, densities: npt.ArrayLike, total: int
) -> np.ndarray:
  """Integer counts from densities: floors, then largest remainders.

  The counts sum exactly to ``total`` (so every method keeps the same
  number of points) and never exceed the class sizes. Leftovers go to the
  largest fractional parts (the official code fills them at random).
  """
  sizes = np.asarray(class_sizes, np.int64)
  wanted = np.asarray(densities, np.float64) * sizes
  counts = np.minimum(np.floor(wanted + 1e-9).astype(np.int64), sizes)
  if not 0 <= total <= sizes.sum():
    raise ValueError(f"total {total} not in [0, {sizes.sum()}]")
  remainder = wanted - counts
  while counts.sum() != total:
    room = counts < sizes
    if counts.sum() < total:
      order = np.argsort(-np.where(room, remainder, -np.inf), kind="stable")
      counts[order[0]] += 1
      remainder[order[0]] -= 1.0
    else:
      order = np.argsort(np.where(counts > 0, remainder, np.inf), kind="stable")
      counts[order[0]] -= 1
      remainder[order[0]] += 1.0
  return counts


def _check_errors(errors: np.ndarray) -> None:
  if np.all(errors <= 0):
    raise ValueError(
      "every class has zero validation error; set an error_floor > 0"
    )


def official_counts(
  class_sizes: npt.ArrayLike,
  recalls: npt.ArrayLike,
  total: int,
  error_floor: float = 0.0,
) -> np.ndarray:
  """Class counts of the official ``quoters/drop.py`` (before selection).

  With errors e_k = 1 - r_k (floored): n_k = int(total e_k / sum_j e_j)
  (truncated); classes with n_k > N_k are capped at N_k and their excess
  E is set aside. Then, while E > 0, every active class gets
  int(E e_k / sum_active e_j) more; a class that now exceeds its size is
  capped, its excess returned to E, and it is removed from the active list
  *while that list is being iterated*, so the class after it gets nothing
  in that round (it is served in the next one). The loop stops after a
  round that saturates no class. The first truncation and the last
  round's each leave fewer than K points unallocated (the first one's are
  never redistributed); ``fill_at_random`` places them. Arithmetic in
  float64 in the official order of operations, so the truncations match.

  Args:
    class_sizes: N_k, [K].
    recalls: validation recall r_k, [K].
    total: the number of points kept, round(d N).
    error_floor: as in ``drop_densities``.

  Returns:
    int64 [K] counts, each <= N_k, summing to at most ``total``.
  """
  sizes = [int(n) for n in np.asarray(class_sizes)]
  errors = [float(e) for e in class_errors(recalls, error_floor)]
  _check_errors(np.asarray(errors))
  if not 0 <= total <= sum(sizes):
    raise ValueError(f"total {total} not in [0, {sum(sizes)}]")
  normaliser = sum(errors)
  counts = [int(total * e / normaliser) for e in errors]
  excess, active = 0, []
  for k, size in enumerate(sizes):
    if counts[k] > size:
      excess += counts[k] - size
      counts[k] = size
    else:
      active.append(k)
  settled = False
  while excess > 0 and not settled:
    normaliser = sum(errors[k] for k in active)
    if normaliser <= 0:  # Nothing left to grow (the official divides).
      break
    extra = {k: int(excess * errors[k] / normaliser) for k in active}
    settled = True
    position = 0
    while position < len(active):
      k = active[position]
      counts[k] += extra[k]
      excess -= extra[k]
      if counts[k] > sizes[k]:
        settled = False
        excess += counts[k] - sizes[k]
        counts[k] = sizes[k]
        # The official loop removes k from the list it iterates over: the
        # next class moves into this position and the iterator steps past
        # it.
        del active[position]
      position += 1
  return np.asarray(counts, np.int64)


def selection_sizes(counts: npt.ArrayLike, total: int) -> np.ndarray:
  """Per-class sizes the official selection takes from class counts.

  The official quoters return quotas q_k = n_k / total and
  ``utils.get_idxs_from_scores`` selects int(q_k * total) points of class
  k; the float round trip can give n_k - 1, one more point for
  ``fill_at_random``.
  """
  return np.asarray(
    [int(int(n) / total * total) if total else 0 for n in np.asarray(counts)],
    np.int64,
  )


def drop_counts(
  class_sizes: npt.ArrayLike,
  recalls: npt.ArrayLike,
  density: float,
  error_floor: float = 0.0,
  convention: str = "official",
) -> np.ndarray:
  """Integer DRoP quotas for keeping round(density * N) points.

  ``"paper"``: Algorithm 1's densities rounded by largest remainders; the
  counts sum to round(density * N). ``"official"``: ``official_counts``
  through the official quota round trip (``selection_sizes``); the counts
  may sum to a few points less, filled by ``fill_at_random``.
  """
  sizes = np.asarray(class_sizes, np.int64)
  total = int(round(density * sizes.sum()))
  if convention == "paper":
    return integer_quotas(
      sizes, drop_densities(sizes, recalls, density, error_floor), total
    )
  if convention == "official":
    return selection_sizes(
      official_counts(sizes, recalls, total, error_floor), total
    )
  raise ValueError(
    f"unknown convention {convention!r}; choose one of {CONVENTIONS}"
  )


RECALL_SELECTIONS = ("accuracy", "mean_recall")


def best_epoch_recalls(
  val_recalls: npt.ArrayLike,
  val_class_sizes: npt.ArrayLike,
  select_by: str = "accuracy",
) -> tuple[np.ndarray, np.ndarray]:
  """Class recalls of query models at their best epochs, averaged.

  Every model m has per-epoch validation recalls r_{m,e,k}; its best epoch
  maximises

  * ``"accuracy"`` (official ``utils.aggregate_classwise_metrics``): the
    overall validation accuracy sum_k n_k r_{m,e,k} / sum_k n_k, compared
    exactly as integer counts of correct points;
  * ``"mean_recall"``: the mean class recall mean_k r_{m,e,k} (equal to the
    accuracy for a balanced validation set);

  the first such epoch on ties. The recalls are then averaged over the
  models (the official ``metric_stack.mean(axis=0)``).

  Args:
    val_recalls: [M, E, K] per-model, per-epoch class recalls.
    val_class_sizes: n_k, validation points per class, [K].
    select_by: one of ``RECALL_SELECTIONS``.

  Returns:
    (float64 [K] mean recalls, int64 [M] best epoch of every model).
  """
  val_recalls = np.asarray(val_recalls)
  if select_by == "accuracy":
    sizes = np.asarray(val_class_sizes, np.float64)
    correct = np.rint(val_recalls.astype(np.float64) * sizes)
    criterion = correct.sum(-1)
  elif select_by == "mean_recall":
    criterion = val_recalls.mean(-1)
  else:
    raise ValueError(
      f"unknown select_by {select_by!r}; choose one of {RECALL_SELECTIONS}"
    )
  best = np.argmax(criterion, axis=1)
  chosen = val_recalls[np.arange(len(best)), best].astype(np.float64)
  return chosen.mean(0), best.astype(np.int64)


def class_counts(
  labels: npt.ArrayLike, num_classes: int, mask: npt.ArrayLike | None = None
) -> np.ndarray:
  """Number of (kept, when ``mask`` is given) points in every class."""
  labels = np.asarray(labels)
  if mask is not None:
    labels = labels[np.asarray(mask, bool)]
  return np.bincount(labels, minlength=num_classes)


def select_with_quotas(
  scores: npt.ArrayLike,
  labels: npt.ArrayLike,
  counts: npt.ArrayLike,
  ties: str = "higher_index",
) -> np.ndarray:
  """Indices keeping the ``counts[k]`` highest-scoring points of class k.

  With uniform random scores this is random selection within classes
  (Random+DRoP, Random+StrategyQ); with a pruning score it is keep-hardest
  within classes (Strategy+DRoP). ``ties`` as in
  ``pruning_scores.keep_hardest``: ``"higher_index"`` keeps the higher
  indices among equal scores (the official per-class stable ascending sort
  keeping the last ``counts[k]``), ``"lower_index"`` the lower ones.

  Returns:
    Sorted int32 indices, ``sum(counts)`` of them.
  """
  scores = np.asarray(scores, np.float64)
  labels = np.asarray(labels)
  counts = np.asarray(counts, np.int64)
  index = np.arange(len(scores))
  if ties == "higher_index":
    tie_key = -index
  elif ties == "lower_index":
    tie_key = index
  else:
    raise ValueError(
      f"unknown tie rule {ties!r}; choose higher_index or lower_index"
    )
  # Sort by class, then by descending score, then by the tie rule; rank =
  # position within class.
  order = np.lexsort((tie_key, -scores, labels))
  sorted_labels = labels[order]
  first = np.searchsorted(sorted_labels, sorted_labels, side="left")
  rank = np.arange(len(order)) - first
  keep = order[rank < counts[sorted_labels]]
  if len(keep) != counts.sum():
    raise ValueError("a quota exceeds its class size")
  return np.sort(keep).astype(np.int32)


def fill_at_random(
  kept: npt.ArrayLike, num_keep: int, random_scores: npt.ArrayLike
) -> np.ndarray:
  """``kept`` plus ``num_keep - len(kept)`` points drawn from the rest.

  The official ``utils.dosample``: the points a quota selection left
  unallocated are drawn uniformly without replacement from all points not
  yet kept, whatever their class. Here they are the not-kept points with
  the highest ``random_scores`` (i.i.d. uniform: a uniform draw).

  Returns:
    Sorted int32 indices, ``num_keep`` of them.
  """
  kept = np.asarray(kept, np.int64)
  random_scores = np.asarray(random_scores, np.float64)
  missing = num_keep - len(kept)
  if missing < 0:
    raise ValueError(f"{len(kept)} points already kept, more than {num_keep}")
  if missing == 0:
    return np.sort(kept).astype(np.int32)
  candidates = np.setdiff1d(np.arange(len(random_scores)), kept)
  order = np.argsort(-random_scores[candidates], kind="stable")
  extra = candidates[order[:missing]]
  return np.sort(np.concatenate([kept, extra])).astype(np.int32)
