#!/usr/bin/env bash
# Runs a study on this host's GPU(s): launch/gpu_host.sh --study=NAME [flags]
set -euo pipefail
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "error: no NVIDIA GPU visible (nvidia-smi failed); use --accelerator=cpu" >&2
  exit 2
fi
exec python -m repro.launch --accelerator=gpu "$@"
