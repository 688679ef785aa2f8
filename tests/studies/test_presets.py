"""Every built study's presets: same keys and types, sizes only differ."""

import pytest

from repro import registry
from repro.core import config as core_config


@pytest.mark.parametrize("study", registry.built_studies())
def test_presets_share_keys_and_types(study):
  module = registry.load(study)
  leaves = {
    p: dict(core_config.leaves(module.get_config(p)))
    for p in core_config.PRESETS
  }
  assert (
    leaves["smoke"].keys() == leaves["cpu"].keys() == leaves["paper"].keys()
  )
  for key, value in leaves["cpu"].items():
    for preset in ("smoke", "paper"):
      assert type(leaves[preset][key]) is type(value), (preset, key)
  assert leaves["cpu"]["seed"] == 0 and leaves["cpu"]["data_dir"] == ""
  assert {c.id for c in module.CLAIMS}, "a study checks at least one claim"


@pytest.mark.parametrize("study", registry.built_studies())
def test_presets_pass_the_study_config_checks(study):
  """The launcher calls check_config before any run: every preset passes."""
  module = registry.load(study)
  assert callable(getattr(module, "check_config", None)), (
    f"{study} exports check_config from its config.py"
  )
  for preset in core_config.PRESETS:
    module.check_config(module.get_config(preset))
