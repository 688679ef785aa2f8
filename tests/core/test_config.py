"""Config presets and --set overrides."""

import ml_collections
import pytest

from repro.core import config as config_lib
from repro.core.errors import UserError


def get_config(preset):
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.lr = 0.1
  config.steps = 10 if preset == "smoke" else 100
  config.name = "gd"
  config.use_bias = False
  config.eps = (0.0, 0.1)
  config.model = ml_collections.ConfigDict({"width": 16})
  return config


def test_overrides_keep_types():
  config = config_lib.build_config(
    get_config,
    "cpu",
    [
      "lr=1",
      "steps=7",
      "name=sd",
      "use_bias=true",
      "eps=(0, 0.5)",
      "model.width=32",
    ],
  )
  assert config.lr == 1.0 and isinstance(config.lr, float)
  assert config.steps == 7
  assert config.name == "sd"
  assert config.use_bias is True
  assert config.eps == (0.0, 0.5)
  assert config.model.width == 32


def test_fields_set_before_overrides():
  config = config_lib.build_config(get_config, "smoke", ["seed=5"], seed=3)
  assert config.seed == 5 and config.steps == 10


@pytest.mark.parametrize(
  "override, message",
  [
    ("lrr=1", "unknown config key 'lrr'"),
    ("model.depth=2", "unknown config key 'model.depth'"),
    ("steps=1.5", "expected a int"),
    ("steps=abc", "expected a int"),
    ("use_bias=maybe", "expected a bool"),
    ("eps=(1, 'a')", "expected a sequence of float"),
    ("model=3", "is a group"),
    ("noequals", "expects key=value"),
  ],
)
def test_bad_overrides_are_user_errors(override, message):
  with pytest.raises(UserError, match=message.replace("(", r"\(")):
    config_lib.build_config(get_config, "cpu", [override])


def test_unknown_preset():
  with pytest.raises(UserError, match="unknown preset 'fast'"):
    config_lib.build_config(get_config, "fast")


def test_config_is_locked():
  config = config_lib.build_config(get_config, "cpu")
  with pytest.raises(AttributeError):
    config.new_field = 1


def test_from_cpu_config_adjusts_the_cpu_config_per_preset():
  def smoke(config):
    config.steps = 3

  def build(preset):
    return config_lib.from_cpu_config(preset, get_config("cpu"), smoke=smoke)

  assert build("cpu").steps == 100
  assert build("smoke").steps == 3
  with pytest.raises(ValueError, match="unknown preset 'paper'"):
    build("paper")
