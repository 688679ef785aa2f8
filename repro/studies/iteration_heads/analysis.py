"""The iteration_heads metrics: crossings, emergence lag, the scalar
metrics the claims read and the training curves."""

from __future__ import annotations

import numpy as np


def first_crossing(
  steps: np.ndarray, values: np.ndarray, level: float
) -> np.ndarray:
  """First step where ``values [R, K] >= level``, per seed.

  A seed that never crosses gets ``steps[-1] + (steps[1] - steps[0])``
  (censored one evaluation past the end of the run).
  """
  crossed = values >= level
  censored = steps[-1] + (steps[1] - steps[0])
  return np.where(
    crossed.any(axis=1), steps[np.argmax(crossed, axis=1)], censored
  )


def emergence_lag(
  steps: np.ndarray, head: np.ndarray, accuracy: np.ndarray, level: float
) -> np.ndarray:
  """(head crossing - accuracy crossing) / run length, per seed (A-C4).

  Negative when the head crosses ``level`` first. A seed whose accuracy
  never crosses gets 1.0: there is no accuracy jump to go with.
  """
  head_step = first_crossing(steps, head, level)
  acc_step = first_crossing(steps, accuracy, level)
  lag = (head_step - acc_step) / steps[-1]
  return np.where((accuracy >= level).any(axis=1), lag, 1.0)


def summarize(results: dict, ablation: dict, metrics_cfg) -> dict:
  """The scalar metrics the claims read (means over seeds unless named)."""
  metrics = {}
  for name, result in results.items():
    final = {k: v[:, -1] for k, v in result.evals.items()}
    metrics[f"{name}/test_acc"] = float(np.mean(final["test_acc"]))
    metrics[f"{name}/train_acc"] = float(np.mean(final["train_acc"]))
    metrics[f"{name}/test_acc_min_seed"] = float(np.min(final["test_acc"]))
    last = final["iter/frac_above"].shape[1] - 1
    metrics[f"{name}/iter_peak"] = float(
      np.mean(final["iter/frac_above"][:, last, 0])
    )
    metrics[f"{name}/eoi_peak"] = float(
      np.mean(final["eoi/frac_above"][:, 0, 0])
    )

  # A-C2, A-C3: the circuit of R1 (layer 2 iteration head, layer 1 EoI).
  cot = results["cot"].evals
  metrics["cot/iter_mean"] = float(np.mean(cot["iter/mean"][:, -1, 1, 0]))
  metrics["cot/iter_invariance"] = float(
    np.mean(cot["iter/invariance"][:, -1, 1, 0])
  )
  metrics["cot/eoi_mean"] = float(np.mean(cot["eoi/mean"][:, -1, 0, 0]))
  metrics["cot/eoi_peak_median_seed"] = float(
    np.median(cot["eoi/frac_above"][:, -1, 0, 0])
  )

  # A-C4: emergence of the head vs the accuracy jump.
  steps = results["cot"].eval_steps
  level = metrics_cfg.crossing_level
  head = cot["iter/frac_above"][:, :, 1, 0]
  metrics["cot/head_cross_step"] = float(
    np.mean(first_crossing(steps, head, level))
  )
  metrics["cot/acc_cross_step"] = float(
    np.mean(first_crossing(steps, cot["test_acc"], level))
  )
  metrics["cot/emergence_lag_frac_max_seed"] = float(
    np.max(emergence_lag(steps, head, cot["test_acc"], level))
  )

  # A-C6: steps to reach the accuracy target on parity, scratch vs transfer.
  target = metrics_cfg.accuracy_target
  for name in ("parity", "transfer", "mlp2"):
    result = results[name]
    metrics[f"{name}/steps_to_target"] = float(
      np.mean(
        first_crossing(result.eval_steps, result.evals["test_acc"], target)
      )
    )
  metrics["transfer/steps_ratio"] = (
    metrics["transfer/steps_to_target"] / metrics["parity/steps_to_target"]
  )
  transfer_head = results["transfer"].evals["iter/frac_above"][:, :, 1, 0]
  metrics["transfer/iter_peak_min_step"] = float(
    np.min(np.mean(transfer_head, axis=0))
  )

  # A-C8: the ablation on R1.
  metrics["ablation/shifted_acc"] = float(np.mean(ablation[1]["test_acc"]))
  metrics["ablation/exact_diagonal_acc"] = float(
    np.mean(ablation[0]["test_acc"])
  )
  return metrics


def training_curves(results: dict) -> list[dict]:
  """Rows of metrics.jsonl: one per run and evaluation step."""
  rows = []
  for name, result in results.items():
    evals = result.evals
    last = evals["iter/frac_above"].shape[2] - 1
    losses = result.loss
    for k, step in enumerate(result.eval_steps):
      row = {
        "run": name,
        "step": int(step),
        "test_acc": float(np.mean(evals["test_acc"][:, k])),
        "train_acc": float(np.mean(evals["train_acc"][:, k])),
        "iter_peak": float(np.mean(evals["iter/frac_above"][:, k, last, 0])),
        "eoi_peak": float(np.mean(evals["eoi/frac_above"][:, k, 0, 0])),
      }
      if step > 0:
        every = result.eval_steps[1] - result.eval_steps[0]
        row["train/loss"] = float(np.mean(losses[:, step - every : step]))
      rows.append(row)
  return rows
