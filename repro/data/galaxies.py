"""Procedurally rendered galaxies of the 9 Galaxy Zoo 2 classes (TFDS).

The CPU stand-in of the curated GZoo2 set of arXiv 2311.17967
(galaxy_distillation README, What runs): every image is one galaxy whose
morphology follows the leaves of the simplified GZ2 decision tree,

  0 smooth, round          1 smooth, in-between      2 smooth, cigar-shaped
  3 edge-on with bulge     4 edge-on, no bulge
  5 barred spiral          6 barred, no spiral
  7 unbarred spiral        8 unbarred, no spiral (disk + bulge)

built from Sérsic profiles I(r) = exp(-b_n [(r / r_e)^(1/n) - 1]) with
b_n = 2n - 1/3 + 4 / (405 n) on an elliptical radius (axis ratio q, position
angle phi): a de Vaucouleurs-like spheroid for smooth galaxies, exponential
disks (n = 1) with a small bulge for disks, a flat (n = 0.5) elongated bar,
logarithmic spiral arms multiplying the disk by
(1 + A cos(m (theta - ln r / tan p)))_+, and thin exponential disks seen
edge-on. Nuisances: position angle, mirror image, size, brightness, colour
(smooth galaxies redder, arms bluer), a Gaussian PSF (sigma 0.7 px at
32x32, scaled with the size), sky noise and 0-2 foreground stars. Images are
rendered 2x supersampled and block-averaged, float32 RGB in [0, 1].

`Galaxies` is a `tfds.core.GeneratorBasedBuilder` written as array_record
with Tensor features (readable without TensorFlow, like `digits`). Its
builder config fixes the image size (`s16`, `s24`, `s32`, `s64`, or any
`GalaxiesConfig(image_size=...)`); every size holds 200 train and 50 test
images per class, each deterministic in (split, index): the image of index
i is drawn from `np.random.default_rng([SEED, split_id, i])`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds
from etils import epath
from scipy import ndimage

from repro.core.errors import UserError
from repro.data import sources

CLASS_NAMES = (
  "smooth_round",
  "smooth_in_between",
  "smooth_cigar",
  "edge_on_bulge",
  "edge_on_no_bulge",
  "barred_spiral",
  "barred_no_spiral",
  "unbarred_spiral",
  "unbarred_no_spiral",
)
NUM_CLASSES = len(CLASS_NAMES)
SPLITS = ("train", "test")
PER_CLASS = {"train": 200, "test": 50}
SEED = 20231129
_SPLIT_IDS = {"train": 0, "test": 1}
DEFAULT_IMAGE_SIZE = 32
_SUPERSAMPLE = 2
_SOFTENING = 0.05  # asinh stretch, relative to the peak


def sersic_b(n: float | np.ndarray) -> float | np.ndarray:
  """b_n of the Sérsic profile (Ciotti & Bertin 1999 expansion)."""
  return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n)


def sersic(
  radius: np.ndarray, effective_radius: float, index: float
) -> np.ndarray:
  """Sérsic surface brightness, 1 at the effective radius."""
  scaled = np.maximum(radius / effective_radius, 1e-6)
  return np.exp(-sersic_b(index) * (scaled ** (1.0 / index) - 1.0))


def _rotated(x, y, angle):
  cos, sin = np.cos(angle), np.sin(angle)
  return cos * x + sin * y, -sin * x + cos * y


def elliptical_radius(
  x: np.ndarray, y: np.ndarray, axis_ratio: float, angle: float
) -> np.ndarray:
  """Radius on ellipses of axis ratio q (major axis along `angle`)."""
  major, minor = _rotated(x, y, angle)
  return np.sqrt(major**2 + (minor / axis_ratio) ** 2)


def spiral_modulation(
  x: np.ndarray,
  y: np.ndarray,
  arms: int,
  pitch_deg: float,
  amplitude: float,
  phase: float,
  angle: float,
  inclination: float,
  chirality: float,
) -> np.ndarray:
  """(1 + A cos(m (theta - ln r / tan p) + phase))_+ on the disk plane."""
  major, minor = _rotated(x, y, angle)
  minor = minor / inclination
  radius = np.maximum(np.hypot(major, minor), 1e-3)
  theta = chirality * np.arctan2(minor, major)
  wave = np.cos(
    arms * (theta - np.log(radius) / np.tan(np.radians(pitch_deg))) + phase
  )
  return np.maximum(1.0 + amplitude * wave, 0.0)


def render(label: int, image_size: int, rng: np.random.Generator) -> np.ndarray:
  """One galaxy of class `label`: float32 [S, S, 3] in [0, 1]."""
  size = image_size * _SUPERSAMPLE
  # Lengths in units of the image size, so every resolution shows the same
  # galaxy; `unit` converts them to supersampled pixels.
  unit = size / 32.0
  coords = (np.arange(size) - (size - 1) / 2.0) / unit
  y, x = np.meshgrid(coords, coords, indexing="ij")
  x = x - rng.uniform(-1.0, 1.0)
  y = y - rng.uniform(-1.0, 1.0)
  angle = rng.uniform(0.0, np.pi)
  scale = rng.uniform(0.8, 1.2)
  red = np.array([1.0, 0.78, 0.55])
  white = np.array([1.0, 0.92, 0.82])
  blue = np.array([0.62, 0.78, 1.0])
  layers = []  # (brightness map, colour)
  if label <= 2:
    axis_ratio = rng.uniform(*[(0.85, 1.0), (0.45, 0.7), (0.15, 0.35)][label])
    radius = elliptical_radius(x, y, axis_ratio, angle)
    profile = sersic(radius, 4.0 * scale, rng.uniform(2.5, 4.5))
    layers.append((profile, red))
  elif label <= 4:
    axis_ratio = rng.uniform(0.06, 0.15)
    radius = elliptical_radius(x, y, axis_ratio, angle)
    disk = sersic(radius, 6.0 * scale, 1.0)
    layers.append((disk, white))
    if label == 3:
      bulge_radius = np.hypot(x, y)
      bulge = sersic(
        bulge_radius, rng.uniform(1.6, 2.4) * scale, rng.uniform(2.0, 4.0)
      )
      layers.append((rng.uniform(1.0, 1.6) * bulge, red))
  else:
    inclination = rng.uniform(0.6, 1.0)
    disk_radius = elliptical_radius(x, y, inclination, angle)
    disk_scale = 6.0 * scale
    disk = sersic(disk_radius, disk_scale, 1.0)
    barred = label in (5, 6)
    spiral = label in (5, 7)
    if spiral:
      disk = disk * spiral_modulation(
        x,
        y,
        arms=rng.choice([2, 3], p=[0.7, 0.3]),
        pitch_deg=rng.uniform(12.0, 30.0),
        amplitude=rng.uniform(0.8, 1.0),
        phase=rng.uniform(0.0, 2 * np.pi),
        angle=angle,
        inclination=inclination,
        chirality=rng.choice([-1.0, 1.0]),
      )
      layers.append((0.8 * disk, blue))
    else:
      layers.append((0.6 * disk, white))
    bulge = sersic(
      np.hypot(x, y), rng.uniform(0.9, 1.4) * scale, rng.uniform(1.5, 3.0)
    )
    layers.append((rng.uniform(0.8, 1.2) * bulge, red))
    if barred:
      bar_angle = angle + rng.uniform(-np.pi / 2, np.pi / 2)
      bar_radius = elliptical_radius(x, y, rng.uniform(0.2, 0.3), bar_angle)
      bar = sersic(bar_radius, disk_scale * rng.uniform(1.0, 1.5) * 0.7, 0.5)
      layers.append((rng.uniform(0.7, 1.0) * bar, white))
  image = sum(m[..., None] * c for m, c in layers)
  # Foreground stars: point sources before the PSF.
  for _ in range(rng.integers(0, 3)):
    row, col = rng.integers(0, size, 2)
    image[row, col] += rng.uniform(2.0, 6.0) * unit**2 * white
  colour_jitter = rng.uniform(0.9, 1.1, 3)
  image = image * colour_jitter / max(image.max(), 1e-6)
  sigma = 0.7 * unit
  image = ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0.0))
  image = image.reshape(
    image_size, _SUPERSAMPLE, image_size, _SUPERSAMPLE, 3
  ).mean(axis=(1, 3))
  # SDSS-like asinh stretch, so the faint outskirts stay visible.
  image = image / max(image.max(), 1e-6)
  image = np.arcsinh(image / _SOFTENING) / np.arcsinh(1.0 / _SOFTENING)
  image = image * rng.uniform(0.6, 1.0)
  if rng.random() < 0.5:
    image = image[:, ::-1]
  image = image + rng.normal(0.0, rng.uniform(0.02, 0.05), image.shape)
  return np.clip(image, 0.0, 1.0).astype(np.float32)


def example_rng(split: str, index: int) -> np.random.Generator:
  return np.random.default_rng([SEED, _SPLIT_IDS[split], index])


def split_labels(split: str) -> np.ndarray:
  """Labels of a split in index order: class c fills a block of indices."""
  return np.repeat(np.arange(NUM_CLASSES), PER_CLASS[split]).astype(np.int32)


def render_split(
  split: str, image_size: int, num_per_class: int | None = None
) -> dict[str, np.ndarray]:
  """Renders a split (or its first `num_per_class` per class) in memory."""
  labels = split_labels(split)
  keep = np.arange(len(labels))
  if num_per_class is not None:
    keep = keep[(keep % PER_CLASS[split]) < num_per_class]
  images = np.stack(
    [
      render(int(labels[i]), image_size, example_rng(split, int(i)))
      for i in keep
    ]
  )
  return {"image": images, "label": labels[keep], "index": keep}


@dataclasses.dataclass
class GalaxiesConfig(tfds.core.BuilderConfig):
  image_size: int = DEFAULT_IMAGE_SIZE


def config_for(image_size: int) -> GalaxiesConfig:
  return GalaxiesConfig(
    name=f"s{image_size}",
    image_size=image_size,
    description=f"{image_size}x{image_size} RGB",
  )


class Galaxies(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Procedural 9-class galaxy morphologies (see module docstring)."""

  name = "galaxies"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "9 GZ2 classes, 200 train / 50 test per class."}
  BUILDER_CONFIGS = [config_for(s) for s in (16, 24, 32, 64)]
  code_path = epath.Path(__file__)  # See repro/data/digits.py.

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.image_size
    return tfds.core.DatasetInfo(
      builder=self,
      description="Procedurally rendered Galaxy Zoo 2 morphologies.",
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Tensor(
            shape=(size, size, 3), dtype=np.float32
          ),
          "label": tfds.features.ClassLabel(names=CLASS_NAMES),
          "index": tfds.features.Tensor(shape=(), dtype=np.int64),
        }
      ),
      supervised_keys=("image", "label"),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split):
    size = self.builder_config.image_size
    for index, label in enumerate(split_labels(split)):
      yield (
        index,
        {
          "image": render(int(label), size, example_rng(split, index)),
          "label": int(label),
          "index": index,
        },
      )


def is_prepared(data_dir: str, image_size: int) -> bool:
  return sources.is_prepared(Galaxies, data_dir, f"s{image_size}")


def prepare(data_dir: str, image_size: int = DEFAULT_IMAGE_SIZE) -> Galaxies:
  """Writes the array_record files once; returns a builder that reads them."""
  if image_size < 8:
    raise UserError(f"galaxies image_size must be >= 8, got {image_size}")
  config = config_for(image_size)
  if config.name in {c.name for c in Galaxies.BUILDER_CONFIGS}:
    config = config.name  # TFDS refuses a copy of a predefined config.
  return sources.prepare_once(Galaxies, data_dir, config=config)


def load(
  split: str, data_dir: str, image_size: int = DEFAULT_IMAGE_SIZE
) -> dict[str, np.ndarray]:
  """Returns `split` ordered by `index`: image, label (int32) and index."""
  if split not in SPLITS:
    raise UserError(
      f"unknown split {split!r} for galaxies; use one of {', '.join(SPLITS)}"
    )
  arrays = sources.read_split(prepare(data_dir, image_size), split)
  order = np.argsort(arrays["index"])
  return {
    "image": arrays["image"][order].astype(np.float32),
    "label": arrays["label"][order].astype(np.int32),
    "index": arrays["index"][order].astype(np.int64),
  }
