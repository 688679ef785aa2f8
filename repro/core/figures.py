"""Writing a study's matplotlib figures (Agg backend, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save_figure(fig, path: str, dpi: int = 110) -> None:
  """Lays ``fig`` out tightly, writes it to ``path`` and closes it."""
  fig.tight_layout()
  fig.savefig(path, dpi=dpi)
  plt.close(fig)
