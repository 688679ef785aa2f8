"""One sub-package per reproduced paper."""
