"""Every study's compute plan at the smoke shapes (``launch --plan``).

The default test traces each phase's step (``jax.make_jaxpr``, no XLA
compile) and counts its FLOPs; the heavy one compiles them as the
launcher does.
"""

import pytest

from repro import launch, registry
from repro.core import plan as plan_lib

PLANNED = [study for study in registry.STUDIES
           if hasattr(registry.load(study), "plan")]


def smoke_plan(study):
  module, config = launch.build_study_config(study, "smoke")
  return config, module.plan(config)


@pytest.mark.parametrize("study", PLANNED)
def test_plan_traces_every_phase_at_the_smoke_shapes(study):
  config, phases = smoke_plan(study)
  names = [phase.name for phase in phases]
  assert phases and len(set(names)) == len(names), names
  for phase in phases:
    assert phase.steps >= 1 and phase.replicas >= 1, phase.name
    flops = plan_lib.jaxpr_flops(plan_lib.step_jaxpr(phase))
    assert flops > 0, phase.name


@pytest.mark.heavy
@pytest.mark.parametrize("study", PLANNED)
def test_plan_compiles_every_phase_at_the_smoke_shapes(study):
  _, phases = smoke_plan(study)
  for cost in map(plan_lib.analyse, phases):
    assert cost.flops > 0 and cost.memory_bytes > 0, cost.phase.name
