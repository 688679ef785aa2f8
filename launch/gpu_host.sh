#!/usr/bin/env bash
# Runs a study on the GPUs of this host (one process sees every GPU; the
# replica axis is sharded over all of them), or on several GPU hosts (one
# process per host, joined by jax.distributed).
#
#   launch/gpu_host.sh --study=goldilocks --data_dir=/data/tfds
#   launch/gpu_host.sh --gpus=0,1 --study=bnn_attacks --seed=1
#   # two hosts, run on each with its own --host_index:
#   launch/gpu_host.sh --hosts=2 --host_index=0 --coordinator=10.0.0.1:12355 \
#       --study=data_pruning --checkpoint_dir=/shared/ckpt
#   launch/gpu_host.sh --dry-run --study=goldilocks   # print, run nothing
#
# Options of this script (before or among the study flags):
#   --gpus=LIST         CUDA_VISIBLE_DEVICES for the run (default: all)
#   --hosts=N           number of hosts (default 1: no jax.distributed)
#   --host_index=I      this host's index, 0..N-1 (with --hosts)
#   --coordinator=H:P   address of host 0 (with --hosts)
#   --python=PATH       interpreter (default: python)
#   --dry-run           print the command instead of running it
# Every other argument goes to python -m repro.launch unchanged.
set -euo pipefail
dry_run=0; gpus=""; hosts=1; host_index=""; coordinator=""; python=python
args=()
for arg in "$@"; do
  case "$arg" in
    --dry-run|--dry_run) dry_run=1 ;;
    --gpus=*) gpus=${arg#*=} ;;
    --hosts=*) hosts=${arg#*=} ;;
    --host_index=*) host_index=${arg#*=} ;;
    --coordinator=*) coordinator=${arg#*=} ;;
    --python=*) python=${arg#*=} ;;
    *) args+=("$arg") ;;
  esac
done
command=("$python" -m repro.launch --accelerator=gpu)
if [ "$hosts" != 1 ]; then
  if [ -z "$host_index" ] || [ -z "$coordinator" ]; then
    echo "error: --hosts=$hosts needs --host_index=I and --coordinator=HOST:PORT" >&2
    exit 2
  fi
  command+=(--multihost "--coordinator_address=$coordinator"
            "--num_processes=$hosts" "--process_id=$host_index")
fi
command+=("${args[@]+"${args[@]}"}")
env_prefix=()
if [ -n "$gpus" ]; then env_prefix=(env "CUDA_VISIBLE_DEVICES=$gpus"); fi
if [ "$dry_run" = 1 ]; then
  printf '%q ' "${env_prefix[@]+"${env_prefix[@]}"}" "${command[@]}"; echo
  exit 0
fi
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "error: no NVIDIA GPU visible (nvidia-smi failed); use --accelerator=cpu" >&2
  exit 2
fi
exec "${env_prefix[@]+"${env_prefix[@]}"}" "${command[@]}"
