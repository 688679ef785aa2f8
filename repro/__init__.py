"""repro: JAX reproductions of ten machine-learning papers, one study each.

Run a study with ``python -m repro.launch --study=NAME``; see README.md.
"""

__version__ = "0.1.0"
