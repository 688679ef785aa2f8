"""The group_priors study: presets, data splits, selection, a smoke run."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from repro import launch
from repro.core import config as core_config
from repro.ops import group_metrics
from repro.studies import group_priors
from repro.studies.group_priors import config as config_lib
from repro.studies.group_priors import data as data_lib
from repro.studies.group_priors import methods
from tests.core import smoke_runs
from tests.studies import committed

STUDY = "group_priors"


def test_presets_differ_only_in_sizes():
  leaves = {
    p: dict(core_config.leaves(config_lib.get_config(p)))
    for p in ("smoke", "cpu", "paper")
  }
  assert leaves["paper"]["datasets"] == ("waterbirds",)
  for key in (
    "gap.precision",
    "gap.rhos",
    "gap.group_scales",
    "gap.ablation_group_scale",
    "all_layers.rhos",
  ):
    assert leaves["smoke"][key] == leaves["cpu"][key] == leaves["paper"][key]
  assert group_priors.ARXIV == "2403.09869"


def test_splits_have_the_configured_groups_and_differ_by_seed():
  config = config_lib.get_config("smoke")
  sets = data_lib.make_sets("gaussian", config)
  counts = data_lib.split_counts(config)
  for split in data_lib.SPLITS:
    for seed in range(config.num_seeds):
      np.testing.assert_array_equal(
        np.bincount(sets[split]["group"][seed], minlength=4), counts[split]
      )
  assert not np.allclose(sets["fit"]["x"][0], sets["select"]["x"][0])
  assert not np.allclose(sets["test"]["x"][0], sets["test"]["x"][1])


def test_numpy_report_matches_group_metrics():
  rng = np.random.default_rng(0)
  logits = rng.standard_normal((3, 5, 40, 2))
  split = {
    "label": rng.integers(0, 2, (3, 40)),
    "group": rng.integers(0, 4, (3, 40)),
  }
  weights = np.array([0.4, 0.1, 0.1, 0.4])
  report = methods._report(logits, split, weights)
  for s in range(3):
    for c in range(5):
      expected = group_metrics.group_report(
        jnp.asarray(logits[s, c]),
        jnp.asarray(split["label"][s]),
        jnp.asarray(split["group"][s]),
        4,
        jnp.asarray(weights),
      )
      for key in ("wga", "avg_acc", "mean_acc"):
        assert report[key][s, c] == pytest.approx(
          float(expected[key]), abs=1e-6
        )


def test_selection_uses_the_select_split_within_a_mask():
  select_wga = np.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.6]])
  index = methods._select(select_wga, [True, False, True])
  np.testing.assert_array_equal(index, [2, 0])
  test = {"wga": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])}
  np.testing.assert_array_equal(methods._pick(test["wga"], index), [3.0, 4.0])


def test_smoke_run_gives_every_claim_a_verdict():
  run = smoke_runs.smoke_run(STUDY)  # shared with tests/test_scaling.py
  record = run.record
  verdicts = {c["id"]: c["verdict"] for c in record["claims"]}
  assert set(verdicts) == {c.id for c in group_priors.CLAIMS}
  assert set(verdicts.values()) <= {"PASS", "FAIL"}
  metrics = record["metrics"]
  for name, value in metrics.items():
    assert np.isfinite(value), name
    if name.endswith(("/wga", "/avg_acc", "/mean_acc")):
      assert 0.0 <= value <= 1.0, name
  for method in (
    "erm",
    "erm_ll",
    "probe",
    "dfr",
    "gap_ll",
    "gap_ll_s0",
    "lambda0",
    "gap_all",
  ):
    assert f"{method}/wga" in metrics and f"dominoes/{method}/wga" in metrics
    # Worst group <= balanced mean of the groups.
    assert metrics[f"{method}/wga"] <= metrics[f"{method}/mean_acc"] + 1e-9
  run_dir = run.run_dir
  for figure in (
    "gaussian_group_accuracy.png",
    "gaussian_wga_vs_lambda_s.png",
    "dominoes_group_accuracy.png",
  ):
    assert (run_dir / figure).stat().st_size > 1000
  rows = [
    json.loads(line)
    for line in (run_dir / "metrics.jsonl").read_text().splitlines()
  ]
  assert any("gaussian/gap_ll/loss" in row for row in rows)


@pytest.mark.claims
def test_cpu_claims(tmp_path):
  record = launch.run_study(STUDY, "cpu", workdir=str(tmp_path))
  committed.assert_same_verdicts(STUDY, record)


def test_paper_preset_reads_waterbirds_or_says_what_to_do(tmp_path):
  from PIL import Image

  from repro.core.errors import UserError
  from repro.data import waterbirds

  config = config_lib.get_config("paper")
  config.data_dir = str(tmp_path)
  with pytest.raises(UserError, match="Waterbirds not found"):
    data_lib.make_sets("waterbirds", config)
  # A tiny fake release: 2 images per group and split.
  folder = tmp_path / "waterbirds" / waterbirds.FOLDER
  folder.mkdir(parents=True)
  lines = ["img_id,img_filename,y,split,place"]
  for index in range(24):
    split, group = index % 3, (index // 3) % 4
    name = f"img{index}.jpg"
    Image.new("RGB", (10, 12), (40 * group, 0, 0)).save(folder / name)
    lines.append(f"{index},{name},{group // 2},{split},{group % 2}")
  (folder / "metadata.csv").write_text("\n".join(lines) + "\n")
  val = waterbirds.load("val", str(tmp_path), image_size=4)
  assert val["image"].shape == (8, 4, 4, 3)
  np.testing.assert_array_equal(
    np.bincount(2 * val["label"] + val["attribute"]), [2] * 4
  )
  config.num_seeds = 2
  sets = data_lib.make_sets("waterbirds", config)
  assert sets["fit"]["x"].shape == (2, 4, 64, 64, 3)
  np.testing.assert_array_equal(np.sort(sets["fit"]["group"][0]), [0, 1, 2, 3])
