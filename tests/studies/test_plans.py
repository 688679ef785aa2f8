"""Every study's compute plan at the smoke shapes (``launch --plan``).

The default test traces each phase's step (no XLA compile) and counts its
FLOPs, and checks step counts against the config; the heavy one compiles
the steps as the launcher does.
"""

import pytest

from repro import launch, registry
from repro.core import plan as plan_lib

# study -> config -> {phase index: the steps the run takes}.
EXPECTED_STEPS = {
  "robust_erm": lambda c: {
    0: c.linear.num_steps,
    4: c.heatmap.num_steps,
    6: c.nn.num_steps,
  },
  "neural_collapse": lambda c: {
    0: c.standard_epochs * (10 * c.train_per_class // c.batch_size),
    1: c.adversarial_epochs * (10 * c.train_per_class // c.batch_size),
  },
  "iteration_heads": lambda c: {0: c.steps.cot, 5: c.steps.mlp2},
  "bnn_attacks": lambda c: {
    0: c.det.num_steps,
    1: c.hmc.num_warmup + c.hmc.num_draws * c.hmc.thin,
    2: c.mfvi.num_steps,
    3: c.mcd.num_steps,
  },
  "data_pruning": lambda c: {
    1: c.data.mixture.epochs
    * (
      c.data.mixture.train_per_class
      * c.data.mixture.num_classes
      // c.data.mixture.batch_size
    )
  },
  "group_priors": lambda c: {1: c.gap.steps, 2: c.all_layers.steps},
  "goldilocks": lambda c: {-1: c.training.num_steps // c.training.log_every},
  "collapse_regression": lambda c: {5: len(c.scaling.sample_sizes)},
  "collapse_tails": lambda c: {1: 3 * c.gcd.steps},
  "galaxy_distillation": lambda c: {
    0: c.expert_epochs_total,
    1: c.iterations[0],
  },
}


def smoke_plan(study):
  module, config = launch.build_study_config(study, "smoke")
  return config, module.plan(config)


def test_every_study_has_a_plan():
  assert set(EXPECTED_STEPS) == set(registry.built_studies())


@pytest.mark.parametrize("study", sorted(EXPECTED_STEPS))
def test_plan_traces_every_phase_at_the_smoke_shapes(study):
  config, phases = smoke_plan(study)
  names = [phase.name for phase in phases]
  assert phases and len(set(names)) == len(names), names
  for index, steps in EXPECTED_STEPS[study](config).items():
    assert phases[index].steps == steps, phases[index].name
  for phase in phases:
    assert phase.steps >= 1 and phase.replicas >= 1, phase.name
    flops = plan_lib.jaxpr_flops(plan_lib.step_jaxpr(phase))
    assert flops > 0, phase.name


@pytest.mark.heavy
@pytest.mark.parametrize("study", sorted(EXPECTED_STEPS))
def test_plan_compiles_every_phase_at_the_smoke_shapes(study):
  _, phases = smoke_plan(study)
  for cost in map(plan_lib.analyse, phases):
    assert cost.flops > 0 and cost.memory_bytes > 0, cost.phase.name
