"""Curves over root seeds: bands against hand-computed means and extremes."""

import json
import os

import chex
import numpy as np
import pytest

from repro import registry
from repro.core import seed_curves

SPEC = seed_curves.CurveSpec(
  "c.png",
  "A curve.",
  x="step",
  series=("loss",),
  group="run",
  where={"phase": "train"},
)


def _rows(seed_values):
  """Rows of one seed: two replicas per step, one row outside ``where``."""
  rows = [{"phase": "eval", "run": "a", "step": 0, "loss": 99.0}]
  for step, (first, second) in seed_values.items():
    rows += [
      {"phase": "train", "run": "a", "step": step, "loss": first},
      {"phase": "train", "run": "a", "step": step, "loss": second},
    ]
  return rows


def test_bands_average_replicas_then_take_mean_min_max_over_seeds():
  seeds = [
    _rows({0: (1.0, 3.0), 1: (0.0, 2.0)}),  # per-seed 2, 1
    _rows({0: (4.0, 4.0), 1: (1.0, 1.0)}),  # 4, 1
    _rows({0: (0.0, 0.0), 1: (4.0, 4.0), 2: (5.0, 5.0)}),
  ]  # 0, 4
  band = seed_curves.bands(seeds, SPEC, "loss")["a"]
  chex.assert_shape([band.x, band.mean, band.low, band.high], (2,))
  np.testing.assert_array_equal(band.x, [0.0, 1.0])  # step 2: one seed only
  np.testing.assert_allclose(band.mean, [2.0, 2.0])
  np.testing.assert_array_equal(band.low, [0.0, 1.0])
  np.testing.assert_array_equal(band.high, [4.0, 4.0])
  assert band.num_seeds == 3


def test_write_figure_draws_the_band_or_reports_a_missing_curve(tmp_path):
  seeds = [_rows({0: (1.0, 1.0), 1: (2.0, 2.0)})] * 2
  figure = seed_curves.write_figure(seeds, SPEC, str(tmp_path))
  assert figure.filename == "c.png" and "2 root seeds" in figure.caption
  assert os.path.getsize(tmp_path / "c.png") > 0
  missing = seed_curves.CurveSpec("m.png", "", x="step", series=("nope",))
  assert seed_curves.write_figure(seeds, missing, str(tmp_path)) is None


@pytest.mark.parametrize("study", registry.STUDIES)
def test_every_study_curve_exists_in_its_committed_results(study):
  """Each SEED_CURVES series is a key of the committed cpu metrics."""
  path = os.path.join(
    os.path.dirname(__file__),
    "..",
    "..",
    "results",
    study,
    "cpu",
    "metrics.jsonl",
  )
  if not os.path.exists(path):
    pytest.skip(f"no committed cpu results for {study}")
  with open(path) as f:
    rows = [json.loads(line) for line in f]
  for spec in registry.load(study).SEED_CURVES:
    for series in spec.series:
      assert seed_curves.bands([rows], spec, series), (study, series)
