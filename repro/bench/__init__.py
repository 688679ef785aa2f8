"""``python -m repro.bench``: speed of the suite's hot loops and their peers.

Each kernel is one hot loop of a study at a fixed, documented size (see
``KERNEL_FAMILIES`` and the ``KERNELS`` of each family module). The JAX
kernel's first call (compile) is reported apart from its median
steady-state time; where the ``[torch]`` extra is installed, the same work
written PyTorch-eager (``repro.bench.peers``) is timed in the same run,
interleaved call by call, and the speedup JAX/peer is reported. The
Bayesian kernel compares BlackJAX NUTS with NumPyro NUTS per effective
sample instead.
"""

from __future__ import annotations

import importlib

from repro.bench.kernel import Kernel, NotBuiltYet

# Kernel name -> family module (repro.bench.<family>). A family whose suite
# module does not exist yet still lists its kernels, reported "not built".
KERNEL_FAMILIES = {
  "pgd_attack": "attacks",
  "adv_train_epoch": "attacks",
  "transformer_steps": "transformer",
  "hessian_exact": "curvature",
  "hutchinson_trace": "curvature",
  "nc_metrics": "collapse",
  "collapse_regression_chains": "collapse",
  "collapse_tails_wright_fisher": "collapse",
  "bnn_nuts": "bayes",
  "mtt_meta_step": "distillation",
  "pruning_grad_norms": "pruning",
}


def kernel_names() -> tuple[str, ...]:
  return tuple(KERNEL_FAMILIES)


def load(name: str) -> Kernel:
  """The ``Kernel`` called ``name``.

  Raises:
    KeyError: unknown name.
    NotBuiltYet: the suite module it measures cannot be imported yet.
  """
  family = KERNEL_FAMILIES[name]
  try:
    module = importlib.import_module(f"repro.bench.{family}")
  except ImportError as error:
    raise NotBuiltYet(f"{family}: {error}") from None
  for kernel in module.KERNELS:
    if kernel.name == name:
      return kernel
  raise NotBuiltYet(f"{family} defines no kernel {name!r}")


__all__ = ["KERNEL_FAMILIES", "Kernel", "NotBuiltYet", "kernel_names", "load"]
