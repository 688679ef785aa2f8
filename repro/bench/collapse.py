"""Kernels of the collapse studies (float64, as the studies compute them).

* ``nc_metrics``: NC1-NC4 of 10k penultimate features
  (``repro.ops.neural_collapse``'s jitted float64 path, the one
  neural_collapse calls) on synthetic features: class means plus Gaussian
  noise, a classifier near the means, predictions by the classifier.
* ``collapse_regression_chains``: the fake-data chain of
  ``repro.studies.collapse_regression.simulate.simulate_chains`` (OLS refit
  on fresh Gaussian data each generation, drawn as its exact sufficient
  statistics X^T X, X^T e), replicas vmapped.
* ``collapse_tails_wright_fisher``: the Wright-Fisher chains of
  ``repro.studies.collapse_tails.theory`` (resampling generations of a
  Zipf law, the empirical training error of each generation), chains
  vmapped, one sort per chain.

Peers loop in Python over classes, replicas, chains and generations.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from repro.bench import peers
from repro.bench.kernel import Case, Kernel
from repro.core import rng
from repro.ops import hutter, neural_collapse, zipf
from repro.studies.collapse_regression import simulate
from repro.studies.collapse_tails import theory


def _features(size: dict):
  generator = np.random.default_rng(0)
  classes, dim = size["classes"], size["dim"]
  means = generator.normal(size=(classes, dim))
  labels = np.arange(size["examples"]) % classes
  features = means[labels] + size["noise"] * generator.normal(
    size=(size["examples"], dim)
  )
  classifier = means + 0.1 * generator.normal(size=(classes, dim))
  predictions = np.argmax(features @ classifier.T, axis=1)
  return features, labels, classifier, predictions


def _build_nc(size: dict) -> Case:
  features, labels, classifier, predictions = _features(size)
  function = neural_collapse._batched_collapse_metrics(  # the study's path
    size["classes"], neural_collapse.PINV_RTOL, 0, neural_collapse.EQUINORM_DDOF
  )
  with jax.enable_x64(True):
    args = (
      jnp.asarray(features),
      jnp.asarray(labels),
      jnp.asarray(classifier),
      jnp.asarray(predictions),
    )
  peer = None
  if peers.available():
    tensors = (
      peers.tensor(features),
      peers.tensor(labels).long(),
      size["classes"],
      peers.tensor(classifier),
      peers.tensor(predictions).long(),
      neural_collapse.PINV_RTOL,
    )
    peer = lambda: peers.collapse_metrics(*tensors)
  return Case(
    jitted=function,
    args=args,
    work=size["examples"],
    unit="features",
    peer=peer,
    x64=True,
  )


def _compare_nc(case: Case, size: dict):
  jax_metrics = {k: float(v) for k, v in case.run_jax().items()}
  peer_metrics = case.peer()
  names = sorted(jax_metrics)
  return (
    np.array([jax_metrics[k] for k in names]),
    np.array([peer_metrics[k] for k in names]),
  )


def _regression_inputs(size: dict):
  with jax.enable_x64(True):
    dim = size["dim"]
    w0 = jnp.ones(dim, jnp.float64) / jnp.sqrt(dim)
    eigenvalues = jnp.ones(dim, jnp.float64)
    keys = rng.replica_keys(jax.random.key(0), size["replicas"])
    return keys, w0, eigenvalues


def _build_regression(size: dict) -> Case:
  keys, w0, eigenvalues = _regression_inputs(size)
  peer = None
  if peers.available():
    w0_t, eig_t = (
      peers.tensor(np.asarray(w0)),
      peers.tensor(np.asarray(eigenvalues)),
    )
    peer = lambda: peers.regression_chains(
      w0_t,
      eig_t,
      num_replicas=size["replicas"],
      gen_num_samples=size["gen_num_samples"],
      gen_noise_std=size["gen_noise_std"],
      num_generations=size["generations"],
    )
  return Case(
    jitted=functools.partial(
      simulate.simulate_chains,
      gen_num_samples=size["gen_num_samples"],
      gen_noise_std=size["gen_noise_std"],
      num_generations=size["generations"],
    ),
    args=(keys, w0, eigenvalues),
    work=size["replicas"] * size["generations"],
    unit="OLS fits",
    peer=peer,
    x64=True,
  )


def _compare_regression(case: Case, size: dict):
  """The peer refits on designs that carry the kernel's Bartlett draws.

  simulate_chains draws (U, z) per generation (X^T X = U^T U, X^T e =
  U^T z). The T0-row design [U; 0] with noise [z; 0] has exactly these
  statistics, so the peer's OLS on it must give the same models.
  """
  keys, w0, eigenvalues = case.args[:3]
  dim, rows = size["dim"], size["gen_num_samples"]

  def draw(key, k):
    return simulate.bartlett_draw(rng.step_key(key, k), dim, rows, jnp.float64)

  generations = jnp.arange(size["generations"])
  with jax.enable_x64(True):
    upper, z = jax.jit(
      jax.vmap(lambda key: jax.vmap(lambda k: draw(key, k))(generations))
    )(keys)  # [R, n, d, d], [R, n, d]
    chains = np.asarray(case.run_jax())
  gaussians = np.zeros((len(keys), size["generations"], rows, dim + 1))
  gaussians[:, :, :dim, :dim] = np.asarray(upper)
  gaussians[:, :, :dim, dim] = np.asarray(z)
  peer = peers.regression_chains(
    peers.tensor(np.asarray(w0)),
    peers.tensor(np.asarray(eigenvalues)),
    num_replicas=size["replicas"],
    gen_num_samples=size["gen_num_samples"],
    gen_noise_std=size["gen_noise_std"],
    num_generations=size["generations"],
    gaussians=peers.tensor(gaussians),
  )
  return chains, peer.numpy()


def _tails_inputs(size: dict):
  with jax.enable_x64(True):
    law = theory._as_arrays(zipf.zipf_law(size["num_items"], size["beta"]))
    keys = jax.random.split(jax.random.key(0), size["trials"])
    return law, keys


def _build_tails(size: dict) -> Case:
  law, keys = _tails_inputs(size)
  with jax.enable_x64(True):
    learner_size = jnp.float64(size["learner_size"])
  args = (keys, law, size["generation_size"], learner_size, size["generations"])
  peer = None
  if peers.available():
    with jax.enable_x64(True):
      sampler = hutter.item_sampler(law)
    cdf, head = peers.tensor(sampler.cdf), peers.tensor(law.head)
    total = float(sampler.total)
    peer = lambda: peers.wright_fisher(
      cdf,
      head,
      total,
      trials=size["trials"],
      generation_size=size["generation_size"],
      learner_size=float(size["learner_size"]),
      num_generations=size["generations"],
    )
  return Case(
    jitted=theory._wright_fisher,
    args=args,
    work=size["trials"] * size["generations"],
    unit="generations",
    peer=peer,
    x64=True,
  )


def _compare_tails(case: Case, size: dict):
  keys, law = case.args[:2]
  with jax.enable_x64(True):
    errors = np.asarray(case.run_jax())
    samples = np.stack(
      [
        np.asarray(
          hutter.wright_fisher_samples(
            key, law, size["generation_size"], size["generations"]
          )
        )
        for key in keys
      ]
    )
    total = float(hutter.item_sampler(law).total)
  peer = peers.wright_fisher(
    None,
    peers.tensor(law.head),
    total,
    trials=size["trials"],
    generation_size=size["generation_size"],
    learner_size=float(size["learner_size"]),
    num_generations=size["generations"],
    first=peers.tensor(samples).long(),
  )
  return errors, peer


KERNELS = (
  Kernel(
    name="nc_metrics",
    family="collapse",
    description=(
      "NC1-NC4 (float64) of `examples` features of width "
      "`dim`, `classes` classes; neural_collapse's jitted "
      "collapse_metrics (SVD of the C x d class means)"
    ),
    size={"examples": 10000, "dim": 512, "classes": 10, "noise": 1.0},
    tiny={"examples": 200, "dim": 16, "classes": 4, "noise": 1.0},
    build=_build_nc,
    compare=_compare_nc,
    peer_description=(
      "official style: per-class loops for means and "
      "Sigma_W, d x d Sigma_B, pinv, trace"
    ),
    notes=(
      "Part of the gain is algorithmic: the suite never forms the "
      "d x d Sigma_W or pinv(Sigma_B); it projects the centred "
      "features on the C right singular vectors of the class "
      "means (an SVD of a C x d matrix)."
    ),
  ),
  Kernel(
    name="collapse_regression_chains",
    family="collapse",
    description=(
      "`replicas` fake-data chains of `generations` OLS "
      "refits, d = `dim`, T0 = `gen_num_samples` (float64); "
      "collapse_regression.simulate.simulate_chains, which "
      "draws each generation's X^T X and X^T e exactly "
      "(Bartlett decomposition) instead of the T0 x d "
      "design"
    ),
    size={
      "replicas": 500,
      "generations": 8,
      "dim": 100,
      "gen_num_samples": 250,
      "gen_noise_std": 1.0,
    },
    tiny={
      "replicas": 2,
      "generations": 3,
      "dim": 4,
      "gen_num_samples": 10,
      "gen_noise_std": 1.0,
    },
    build=_build_regression,
    compare=_compare_regression,
    peer_description=(
      "Python loops over replicas and generations, "
      "torch.randn + torch.linalg.solve"
    ),
    notes=(
      "The gain is algorithmic, not dispatch: OLS needs the "
      "design only through X^T X ~ Wishart(T0, Sigma) and X^T e "
      "| X ~ N(0, X^T X). The study draws them exactly by the "
      "Bartlett decomposition (upper-triangular U with chi-square "
      "diagonal and normal entries above it, X^T e = U^T z) and "
      "solves U w = z by back substitution: d(d+1)/2 + d draws "
      "and O(d^2) flops per refit instead of T0 (d + 1) normals "
      "and a T0 d^2 Gram matrix. The peer refits on T0 drawn rows "
      "as the reference does (its equality test feeds it the "
      "design [U; 0], noise [z; 0], which has the kernel's "
      "statistics). Float64 threefry normals and chi-squares "
      "remain most of the JAX time; a torch peer using the same "
      "trick would gain as much."
    ),
  ),
  Kernel(
    name="collapse_tails_wright_fisher",
    family="collapse",
    description=(
      "`trials` Wright-Fisher chains of `generations` "
      "generations of T0 = `generation_size` draws from "
      "Zipf(`beta`) over `num_items` items, training error "
      "of each; collapse_tails.theory._wright_fisher "
      "(hutter.wright_fisher_errors, chains vmapped)"
    ),
    size={
      "num_items": 2_000_000,
      "beta": 2.0,
      "trials": 32,
      "generation_size": 10_000,
      "learner_size": 1_000_000,
      "generations": 10,
    },
    tiny={
      "num_items": 100,
      "beta": 2.0,
      "trials": 2,
      "generation_size": 50,
      "learner_size": 100,
      "generations": 3,
    },
    build=_build_tails,
    compare=_compare_tails,
    peer_description=(
      "Python loops over chains and generations: "
      "searchsorted, randint resampling, torch.unique "
      "counts"
    ),
    notes=(
      "Same draws as before, errors equal to round-off, less "
      "work: resampling never creates items, so each chain sorts "
      "its generation 0 once (one int64 sort of item * T0 + "
      "position, not an argsort) and later generations carry "
      "indices into its distinct items; counts are a bincount "
      "and (1 - c/T0)^T is a table over c = 0..T0. The peer "
      "sorts every generation (torch.unique). What is left is "
      "mostly the 2.9M int64 randint picks (threefry bits and "
      "64-bit remainders), which torch draws more cheaply"
    ),
  ),
)
