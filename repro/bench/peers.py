"""PyTorch-eager peers: the reference implementations' way of doing the work.

The papers' official code runs eager PyTorch with a Python loop over
batches, attack steps, probes, classes or generations. Each function here
does the same algorithm at the same size that way (float32 unless the
suite computes in float64), so ``repro.bench`` can time it side by side
with the jitted JAX kernel. Weights are copied from the JAX parameters, and
random draws can be passed in, so tests check that both compute the same
numbers. ``torch`` is optional (``pip install -e .[torch]``); ``available``
says whether it can be imported.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np


@functools.cache
def available() -> bool:
  """Whether ``torch`` is importable (the ``[torch]`` extra)."""
  if importlib.util.find_spec("torch") is None:
    return False
  try:
    import torch  # noqa: F401
  except Exception:  # a broken install counts as missing
    return False
  return True


def set_threads(num_threads: int) -> None:
  """Intra-op threads of the peer (``torch.set_num_threads``).

  On a shared, loaded machine one thread is much faster for these small
  kernels (OpenMP threads spin-wait for a busy core); the report records
  the number used.
  """
  if available() and num_threads > 0:
    _torch().set_num_threads(num_threads)


def _torch():
  import torch

  return torch


def tensor(array, dtype=None):
  """A torch tensor copy of a numpy/JAX array (float32 by default)."""
  torch = _torch()
  array = np.array(array)
  if dtype is None and np.issubdtype(array.dtype, np.floating):
    dtype = torch.float64 if array.dtype == np.float64 else torch.float32
  return torch.as_tensor(array, dtype=dtype)


# --- PGD and adversarial training (Madry et al.; repro/ops/attacks.py) ---


def mlp_from_flax(params, hidden_layers: int):
  """``nn.Sequential`` of Linear/ReLU with the weights of a Flax ``MLP``."""
  torch = _torch()
  layers = []
  for index in range(hidden_layers + 1):
    dense = params["params"][f"dense_{index}"]
    kernel = np.asarray(dense["kernel"])
    linear = torch.nn.Linear(
      kernel.shape[0], kernel.shape[1], bias="bias" in dense
    )
    with torch.no_grad():
      linear.weight.copy_(tensor(kernel.T))
      if "bias" in dense:
        linear.bias.copy_(tensor(dense["bias"]))
    layers.append(linear)
    if index < hidden_layers:
      layers.append(torch.nn.ReLU())
  return torch.nn.Sequential(*layers)


def pgd_linf(
  model, x, y, *, eps: float, num_steps: int, step_size: float, delta=None
):
  """``attack_pgd`` of the reference code: a Python loop of sign steps.

  Starts at ``delta`` (zeros when None), projects onto the eps-ball and the
  [0, 1] box after every step, and returns ``x + delta``.
  """
  torch = _torch()
  functional = torch.nn.functional
  delta = torch.zeros_like(x) if delta is None else delta.clone()
  delta = torch.clamp(x + torch.clamp(delta, -eps, eps), 0, 1) - x
  for _ in range(num_steps):
    delta.requires_grad_(True)
    loss = functional.cross_entropy(model(x + delta), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, delta)
    delta = delta.detach() + step_size * grad.sign()
    delta = torch.clamp(delta, -eps, eps)
    delta = torch.clamp(x + delta, 0, 1) - x
  return (x + delta).detach()


def adversarial_epoch(
  model,
  x_batches,
  y_batches,
  *,
  eps: float,
  num_steps: int,
  step_size: float,
  lr: float,
  momentum: float,
  random_start: bool,
):
  """One PGD-AT epoch: per batch, attack then one SGD step; batch losses."""
  torch = _torch()
  functional = torch.nn.functional
  optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
  losses = []
  for x, y in zip(x_batches, y_batches, strict=True):
    delta = torch.empty_like(x).uniform_(-eps, eps) if random_start else None
    x_adv = pgd_linf(
      model,
      x,
      y,
      eps=eps,
      num_steps=num_steps,
      step_size=step_size,
      delta=delta,
    )
    optimizer.zero_grad()
    loss = functional.cross_entropy(model(x_adv), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
  return np.asarray(losses)


# --- iteration_heads transformer (repro/nn/transformer.py) ---


def transformer_from_flax(params, num_layers: int, num_heads: int):
  """The Flax ``Transformer`` as a torch ``nn.Module`` with its weights."""
  torch = _torch()
  nn = torch.nn
  p = params["params"]

  def weight(array, transpose=True):
    array = np.asarray(array)
    return nn.Parameter(tensor(array.T if transpose else array))

  class Block(nn.Module):
    def __init__(self, block):
      super().__init__()
      self.norm_1 = weight(block["norm_1"]["scale"], False)
      self.norm_2 = weight(block["norm_2"]["scale"], False)
      self.qkv = weight(block["attn"]["qkv"]["kernel"])
      self.out = weight(block["attn"]["out"]["kernel"])
      self.fc1 = weight(block["mlp"]["fc1"]["kernel"])
      self.fc2 = weight(block["mlp"]["fc2"]["kernel"])

    def forward(self, hidden):
      functional = torch.nn.functional
      batch, length, width = hidden.shape
      head_dim = width // num_heads
      normed = functional.layer_norm(hidden, (width,), self.norm_1, None, 1e-5)
      query, key, value = functional.linear(normed, self.qkv).split(
        width, dim=-1
      )
      split = lambda t: t.view(batch, length, num_heads, head_dim).transpose(
        1, 2
      )
      query, key, value = split(query), split(key), split(value)
      scores = query @ key.transpose(-1, -2) / head_dim**0.5
      causal = torch.ones(length, length, dtype=torch.bool).tril()
      scores = scores.masked_fill(~causal, float("-inf"))
      mixed = (
        (scores.softmax(-1) @ value)
        .transpose(1, 2)
        .reshape(batch, length, width)
      )
      hidden = normed + functional.linear(mixed, self.out)
      inner = functional.layer_norm(hidden, (width,), self.norm_2, None, 1e-5)
      inner = functional.gelu(functional.linear(inner, self.fc1))
      return hidden + functional.linear(inner, self.fc2)

  class Model(nn.Module):
    def __init__(self):
      super().__init__()
      self.token_embedding = weight(p["token_embedding"]["embedding"], False)
      self.position_embedding = weight(p["position_embedding"], False)
      self.blocks = nn.ModuleList(
        [Block(p[f"block_{i}"]) for i in range(num_layers)]
      )
      self.output_norm = weight(p["output_norm"]["scale"], False)
      self.unembed = weight(p["unembed"]["kernel"])

    def forward(self, tokens):
      functional = torch.nn.functional
      length = tokens.shape[-1]
      hidden = self.token_embedding[tokens]
      pos_width = self.position_embedding.shape[-1]
      hidden = torch.cat(
        [
          hidden[..., :pos_width] + self.position_embedding[:length],
          hidden[..., pos_width:],
        ],
        dim=-1,
      )
      for block in self.blocks:
        hidden = block(hidden)
      hidden = functional.layer_norm(
        hidden, (hidden.shape[-1],), self.output_norm, None, 1e-5
      )
      return functional.linear(hidden, self.unembed)

  return Model()


def masked_next_token_loss(logits, tokens, mask):
  """``repro.nn.transformer.masked_next_token_loss`` in torch."""
  log_probs = logits[:, :-1].log_softmax(-1)
  picked = log_probs.gather(-1, tokens[:, 1:, None])[..., 0]
  weights = mask.expand_as(tokens)[:, 1:].float()
  return -(picked * weights).sum() / weights.sum().clamp(min=1.0)


def transformer_steps(model, train_tokens, train_masks, rows, *, lr: float):
  """Adam steps of the study's loop, one Python iteration per batch.

  ``rows`` ``[K, B]`` are the flat row indices of each step (the
  study's shuffled order); returns the K losses.
  """
  torch = _torch()
  optimizer = torch.optim.Adam(model.parameters(), lr=lr)
  rows_per_length = train_tokens.shape[1]
  losses = []
  for step_rows in rows:
    length_index = step_rows // rows_per_length
    tokens = train_tokens[length_index, step_rows % rows_per_length]
    mask = train_masks[length_index]
    loss = masked_next_token_loss(model(tokens), tokens, mask)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
  return np.asarray(losses)


# --- goldilocks curvature (repro/ops/hessian.py) ---


def relu_mlp_loss(shapes, inputs, labels):
  """``theta -> mean CE`` of a bias-free ReLU MLP on a flat ``theta``.

  ``shapes`` lists the layer kernels ``[fan_in, fan_out]`` in order (the
  ``ravel_pytree`` layout of ``repro.nn.lenet.relu_mlp``).
  """
  torch = _torch()
  sizes = [int(np.prod(s)) for s in shapes]

  def loss(theta):
    hidden = inputs
    pieces = torch.split(theta, sizes)
    for index, (piece, shape) in enumerate(zip(pieces, shapes, strict=True)):
      hidden = hidden @ piece.view(shape)
      if index < len(shapes) - 1:
        hidden = torch.relu(hidden)
    return torch.nn.functional.cross_entropy(hidden, labels)

  return loss


def exact_hessian(loss, theta):
  """``torch.autograd.functional.hessian``: one backward pass per row."""
  torch = _torch()
  return torch.autograd.functional.hessian(loss, theta)


def hutchinson_trace(loss, theta, probes):
  """PyHessian's trace loop: one Hessian-vector product per probe."""
  torch = _torch()
  theta = theta.detach().requires_grad_(True)
  (grad,) = torch.autograd.grad(loss(theta), theta, create_graph=True)
  estimates = []
  for probe in probes:
    (product,) = torch.autograd.grad(
      grad, theta, grad_outputs=probe, retain_graph=True
    )
    estimates.append(torch.dot(product, probe).item())
  return float(np.mean(estimates))


# --- neural collapse metrics (repro/ops/neural_collapse.py) ---


def collapse_metrics(
  features, labels, num_classes: int, classifier, predictions, rtol: float
):
  """NC1-NC4 the way the official ``neural_collapse`` code computes them.

  Class means and ``Sigma_W`` by a loop over classes, ``Sigma_B`` as a
  ``d x d`` matrix and ``Tr(Sigma_W Sigma_B^+)`` through its
  pseudo-inverse; returns the same keys as the JAX function.
  """
  torch = _torch()
  count, dim = features.shape
  means = torch.stack(
    [features[labels == c].mean(0) for c in range(num_classes)]
  )
  within = torch.zeros(dim, dim, dtype=features.dtype)
  for c in range(num_classes):
    centred = features[labels == c] - means[c]
    within += centred.T @ centred
  within /= count
  centred_means = means - features.mean(0)
  between = centred_means.T @ centred_means / num_classes
  inverse = torch.linalg.pinv(between, rtol=rtol, hermitian=True)
  nc1 = torch.trace(within @ inverse) / num_classes

  def variation(values):
    return values.std() / values.mean()  # torch.std: unbiased, as official

  def equiangular(vectors):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    cosines = unit @ unit.T
    off = 1.0 - torch.eye(num_classes, dtype=vectors.dtype)
    return ((cosines + 1.0 / (num_classes - 1)).abs() * off).sum() / (
      num_classes * (num_classes - 1)
    )

  duality = (
    classifier / classifier.norm() - centred_means / centred_means.norm()
  )
  ncc = torch.cdist(features, means).argmin(1)
  return {
    "nc1": nc1.item(),
    "nc2_equinorm": variation(centred_means.norm(dim=1)).item(),
    "nc2_equiangular": equiangular(centred_means).item(),
    "nc2_w_equinorm": variation(classifier.norm(dim=1)).item(),
    "nc2_w_equiangular": equiangular(classifier).item(),
    "nc3": (duality**2).sum().item(),
    "nc4": (ncc != predictions).double().mean().item(),
  }


# --- model-collapse simulations (collapse_regression, collapse_tails) ---


def regression_chains(
  w0,
  eigenvalues,
  *,
  num_replicas: int,
  gen_num_samples: int,
  gen_noise_std: float,
  num_generations: int,
  gaussians=None,
):
  """The fake-data chain, loops over replicas and generations (float64).

  ``gaussians`` ``[R, n, T0, d + 1]`` replaces the draws (tests); returns
  the models ``[R, n + 1, d]``.
  """
  torch = _torch()
  dim = w0.shape[0]
  scale = eigenvalues.sqrt()
  chains = []
  for replica in range(num_replicas):
    models = [w0]
    for generation in range(num_generations):
      draw = (
        torch.randn(gen_num_samples, dim + 1, dtype=w0.dtype)
        if gaussians is None
        else gaussians[replica, generation]
      )
      x = draw[:, :dim] * scale
      labels = x @ models[-1] + gen_noise_std * draw[:, dim]
      models.append(torch.linalg.solve(x.T @ x, x.T @ labels))
    chains.append(torch.stack(models))
  return torch.stack(chains)


def training_error(head, total_mass, samples, learner_size: float):
  """``hutter.empirical_training_error`` via ``torch.unique`` counts."""
  torch = _torch()
  generation_size = samples.shape[-1]
  items, counts = torch.unique(samples, return_counts=True)
  in_head = items < head.shape[0]
  probs = head[items.clamp(max=head.shape[0] - 1)]
  freq = counts.to(head.dtype) / generation_size
  safe = torch.where(freq < 1.0, freq, torch.zeros_like(freq))
  survival = torch.where(
    freq < 1.0,
    torch.exp(learner_size * torch.log1p(-safe)),
    torch.full_like(freq, float(learner_size == 0)),
  )
  return (total_mass - (probs * (1.0 - survival) * in_head).sum()).item()


def wright_fisher(
  cdf,
  head,
  total_mass,
  *,
  trials: int,
  generation_size: int,
  learner_size: float,
  num_generations: int,
  first=None,
):
  """Wright-Fisher chains, loops over chains and generations.

  Generation 0 draws ``generation_size`` items by inverse CDF of the head
  ``cdf`` over the total mass ``total_mass`` (index N: beyond the head),
  each later one resamples the previous generation with replacement.
  ``first`` ``[trials, n, T0]`` replaces every generation's samples
  (tests). Returns the errors ``[trials, n]``.
  """
  torch = _torch()
  errors = np.zeros((trials, num_generations))
  for trial in range(trials):
    if first is None:
      uniforms = torch.rand(generation_size, dtype=cdf.dtype)
      samples = torch.searchsorted(cdf, uniforms * total_mass, right=True)
    for generation in range(num_generations):
      if first is not None:
        samples = first[trial, generation]
      elif generation:
        samples = samples[torch.randint(generation_size, (generation_size,))]
      errors[trial, generation] = training_error(
        head, total_mass, samples, learner_size
      )
  return errors


# --- data_pruning scores (repro/ops/pruning_scores.py) ---


def per_example_grad_norms(model, x, y):
  """GraNd the reference way: one backward pass per example."""
  torch = _torch()
  functional = torch.nn.functional
  params = list(model.parameters())
  norms = np.empty(x.shape[0])
  for index in range(x.shape[0]):
    loss = functional.cross_entropy(
      model(x[index : index + 1]), y[index : index + 1]
    )
    grads = torch.autograd.grad(loss, params)
    norms[index] = torch.sqrt(sum((g**2).sum() for g in grads)).item()
  return norms


# --- MTT dataset distillation (repro/ops/trajectory_matching.py) ---


def convnet_flat(layout):
  """``(theta, images NHWC) -> logits`` of the Flax ``ConvNet`` in torch.

  ``layout`` lists ``(path, shape)`` of the Flax parameters in
  ``ravel_pytree`` order; conv kernels are HWIO, inputs NHWC, and the
  classifier sees features flattened in (h, w, c) order, as in Flax.
  """
  torch = _torch()
  functional = torch.nn.functional
  sizes = [int(np.prod(shape)) for _, shape in layout]

  def apply(theta, images):
    leaves = {
      path: piece.view(shape)
      for (path, shape), piece in zip(
        layout, torch.split(theta, sizes), strict=True
      )
    }
    hidden = images.permute(0, 3, 1, 2)
    depth = sum(1 for path, _ in layout if "conv_" in path and "kernel" in path)
    for block in range(depth):
      kernel = leaves[f"['params']['conv_{block}']['kernel']"]
      hidden = functional.conv2d(
        hidden,
        kernel.permute(3, 2, 0, 1),
        leaves[f"['params']['conv_{block}']['bias']"],
        padding=1,
      )
      hidden = functional.group_norm(
        hidden,
        hidden.shape[1],
        leaves[f"['params']['norm_{block}']['scale']"],
        leaves[f"['params']['norm_{block}']['bias']"],
        eps=1e-5,
      )
      hidden = functional.avg_pool2d(torch.relu(hidden), 2)
    features = hidden.permute(0, 2, 3, 1).reshape(hidden.shape[0], -1)
    return (
      features @ leaves["['params']['classifier']['kernel']"]
      + leaves["['params']['classifier']['bias']"]
    )

  return apply


def mtt_meta_step(
  layout,
  images,
  start,
  target,
  labels,
  *,
  step_size: float,
  syn_steps: int,
  image_lr: float,
  step_size_lr: float,
):
  """The reference MTT meta-step; returns (images, step size, loss)."""
  torch = _torch()
  functional = torch.nn.functional
  apply = convnet_flat(layout)
  images = images.clone().requires_grad_(True)
  syn_lr = torch.tensor(step_size, requires_grad=True)
  student = [start.clone().requires_grad_(True)]
  for _ in range(syn_steps):
    loss = functional.cross_entropy(apply(student[-1], images), labels)
    (grad,) = torch.autograd.grad(loss, student[-1], create_graph=True)
    student.append(student[-1] - syn_lr * grad)
  matching = ((student[-1] - target) ** 2).sum() / ((start - target) ** 2).sum()
  matching.backward()
  with torch.no_grad():
    new_images = images - image_lr * images.grad
    new_lr = syn_lr - step_size_lr * syn_lr.grad
  return new_images.numpy(), float(new_lr), matching.item()
