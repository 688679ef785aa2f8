"""The suite's one fully connected network: every study's MLP is an ``MLP``.

Each example is flattened to a vector, then every hidden layer is
``Dense -> [BatchNorm] -> activation -> [Dropout]`` and the output layer a
``Dense``. The configurations the studies use:

* ``MLP(hidden_sizes=(256,), num_outputs=1)``, bias-free: the homogeneous
  one-hidden-layer network of Tsilivis et al. 2024 (arXiv 2406.04981,
  Section 4, MNIST 2 vs 7): f(x; c theta) = c^2 f(x; theta), the official
  code's ``OneHiddenLayer``.
* ``weight_init="kaiming_normal"``, bias-free: the ReLU networks of the
  Goldilocks-zone code (arXiv 2402.03579, ``models/``), homogeneous of
  degree ``len(hidden_sizes) + 1`` (``repro.nn.lenet``).
* ``batch_norm=True``: the fully connected analogue of VGG11-BN's
  conv-BN-ReLU blocks (``repro.nn.vgg``); hidden ``Dense`` layers are
  bias-free (the BatchNorm shift replaces the bias).
* ``dropout_rate > 0``: inverted dropout after every hidden activation, the
  network of MC dropout (Gal and Ghahramani 2016); the mask comes from the
  ``dropout`` RNG stream, so each MC draw is one ``apply`` per key.

``weight_init="uniform"`` is PyTorch's ``nn.Linear`` default times
``init_scale``: weights and biases U(+-scale/sqrt(fan_in)).
``"kaiming_normal"`` is PyTorch's ``kaiming_normal_`` (fan-in, gain
sqrt(2), untruncated) times ``init_scale``, with zero biases.

BatchNorm follows PyTorch: momentum 0.1 (Flax ``momentum=0.9``), eps 1e-5,
running statistics in the ``batch_stats`` collection. ``train=True``
normalises with batch statistics (updating the running ones when
``batch_stats`` is mutable) and drops units; ``train=False`` uses the
running statistics and no dropout.

Parameter names are ``dense_<i>`` (layer ``i``, output layer included),
``batch_norm_<i>`` and ``Dropout_<i>``; Flax derives every layer's init key
(and dropout mask key) from its name, so these names are part of the
numerics of every study and of its checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

INITS = ("uniform", "kaiming_normal")


def uniform_fan_in(scale: float = 1.0) -> Callable:
  """Initializer U(+-scale/sqrt(fan_in)) with fan_in = shape[0]."""

  def init(key, shape, dtype=jnp.float32):
    bound = scale / jnp.sqrt(shape[0])
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def uniform_bias(fan_in: int, scale: float = 1.0) -> Callable:
  """Bias initializer U(+-scale/sqrt(fan_in)) (PyTorch ``nn.Linear``)."""
  bound = scale / jnp.sqrt(fan_in)

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def scaled_kaiming_normal(init_scale: float = 1.0) -> Callable:
  """Kaiming-normal init (std ``sqrt(2 / fan_in)``) times ``init_scale``."""
  return nn.initializers.variance_scaling(
    2.0 * init_scale**2, "fan_in", "normal"
  )


def initializers(weight_init: str, scale: float, fan_in: int):
  """(kernel_init, bias_init) of a ``Dense`` layer with ``fan_in`` inputs."""
  if weight_init == "uniform":
    return uniform_fan_in(scale), uniform_bias(fan_in, scale)
  if weight_init == "kaiming_normal":
    return scaled_kaiming_normal(scale), nn.initializers.zeros_init()
  raise ValueError(
    f"unknown weight_init {weight_init!r}; choose one of {INITS}"
  )


class MLP(nn.Module):
  """Fully connected network; every example is flattened to a vector first.

  Attributes:
    hidden_sizes: widths of the hidden layers (empty: a linear model).
    num_outputs: width of the output layer; 1 gives a ``[n]`` score per
      example; ``None`` drops the output layer (the network is its hidden
      layers and returns the last hidden representation).
    use_bias: add biases; without biases (and BatchNorm) a ReLU network is
      positively homogeneous of degree ``len(hidden_sizes) + 1``. With
      ``batch_norm`` it applies to the output layer only.
    activation: the hidden non-linearity.
    dropout_rate: inverted dropout after every hidden activation (0: none).
    batch_norm: BatchNorm between every hidden ``Dense`` and its activation.
    weight_init: ``"uniform"`` or ``"kaiming_normal"`` (module docstring).
    init_scale: multiplies the initial weights (and uniform biases).
    output_name: name of the output layer; ``None`` means
      ``dense_<len(hidden_sizes)>``.
  """

  hidden_sizes: Sequence[int] = (256,)
  num_outputs: int | None = 1
  use_bias: bool = False
  activation: Callable[[jax.Array], jax.Array] = nn.relu
  dropout_rate: float = 0.0
  batch_norm: bool = False
  weight_init: str = "uniform"
  init_scale: float = 1.0
  output_name: str | None = None

  @nn.compact
  def __call__(
    self, inputs: jax.Array, train: bool = False, return_features: bool = False
  ):
    """Outputs, and with ``return_features`` every hidden layer's output."""
    hidden = inputs.reshape(inputs.shape[0], -1)
    features = []
    for index, width in enumerate(self.hidden_sizes):
      kernel_init, bias_init = initializers(
        self.weight_init, self.init_scale, hidden.shape[-1]
      )
      hidden = nn.Dense(
        width,
        use_bias=self.use_bias and not self.batch_norm,
        kernel_init=kernel_init,
        bias_init=bias_init,
        name=f"dense_{index}",
      )(hidden)
      if self.batch_norm:
        hidden = nn.BatchNorm(
          use_running_average=not train,
          momentum=0.9,
          epsilon=1e-5,
          name=f"batch_norm_{index}",
        )(hidden)
      hidden = self.activation(hidden)
      if self.dropout_rate > 0:
        hidden = nn.Dropout(self.dropout_rate, name=f"Dropout_{index}")(
          hidden, deterministic=not train
        )
      features.append(hidden)
    outputs = hidden
    if self.num_outputs is not None:
      kernel_init, bias_init = initializers(
        self.weight_init, self.init_scale, hidden.shape[-1]
      )
      name = self.output_name or f"dense_{len(self.hidden_sizes)}"
      outputs = nn.Dense(
        self.num_outputs,
        use_bias=self.use_bias,
        kernel_init=kernel_init,
        bias_init=bias_init,
        name=name,
      )(hidden)
      if self.num_outputs == 1:
        outputs = outputs[:, 0]
    if return_features:
      return outputs, features
    return outputs
