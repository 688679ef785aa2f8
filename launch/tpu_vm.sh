#!/usr/bin/env bash
# Runs a study on every worker of a Cloud TPU VM slice:
#   launch/tpu_vm.sh TPU_NAME ZONE --study=NAME [flags]
# The repository must be checked out and installed (pip install -e .
# "jax[tpu]") at the same path on every worker.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "error: usage: launch/tpu_vm.sh TPU_NAME ZONE --study=NAME [flags]" >&2
  exit 2
fi
tpu=$1; zone=$2; shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
args=$(printf '%q ' "$@")
exec gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all \
  --command="cd $repo && python -m repro.launch --accelerator=tpu --multihost $args"
