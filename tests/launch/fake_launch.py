"""``python -m tests.launch.fake_launch [flags]``: the launcher with the test
studies ``fake`` (tests/fake_study.py) and ``resumable``
(tests/launch/resumable_study.py) registered, for subprocess tests."""

from absl import app

from repro import launch, registry

TEST_STUDIES = {
  "fake": "tests.fake_study",
  "resumable": "tests.launch.resumable_study",
}


def register() -> None:
  """Adds the test studies to the registry (idempotent)."""
  if "resumable" in registry.STUDIES:
    return
  original = registry.module_name
  registry.STUDIES = registry.STUDIES + tuple(TEST_STUDIES)
  registry.module_name = lambda s: TEST_STUDIES.get(s) or original(s)


if __name__ == "__main__":
  register()
  app.run(launch.run_main, flags_parser=launch._parse_flags)
