"""The committed cpu results as the expectation of the ``claims`` tests.

``results/<study>/cpu/seeds/0/summary.json`` holds root seed 0 of the
committed multi-seed run; rerunning seed 0's cpu preset must give every
claim the same per-seed verdict (the study README explains each FAIL).
"""

import json
import pathlib

RESULTS = pathlib.Path(__file__).resolve().parents[2] / "results"


def seed_verdicts(study: str, seed: int = 0) -> dict[str, str]:
  """Claim id -> verdict of one committed seed of the cpu preset."""
  path = RESULTS / study / "cpu" / "seeds" / str(seed) / "summary.json"
  with open(path) as f:
    return {c["id"]: c["verdict"] for c in json.load(f)["claims"]}


def assert_same_verdicts(study: str, record: dict) -> None:
  """The run's per-claim verdicts equal the committed seed-0 verdicts."""
  measured = {c["id"]: c["verdict"] for c in record["claims"]}
  expected = seed_verdicts(study, record["seed"])
  changed = {
    k: (expected.get(k), v) for k, v in measured.items() if expected.get(k) != v
  }
  assert not changed and set(expected) == set(measured), (
    f"{study}: verdicts differ from the committed seed "
    f"{record['seed']} (committed, now): {changed}"
  )
