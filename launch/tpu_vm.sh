#!/usr/bin/env bash
# Runs a study on every worker of a Cloud TPU VM (or slice) and copies the
# results back:
#
#   launch/tpu_vm.sh --tpu=repro-v4 --zone=us-central2-b \
#       --accelerator_type=v4-32 --study=bnn_attacks --data_dir=gs://b/tfds
#   launch/tpu_vm.sh --dry-run --tpu=repro-v4 --zone=us-central2-b \
#       --study=goldilocks                       # print the commands only
#
# Steps (each printed before it runs):
#   1. reuse the TPU VM if it exists, else create it;
#   2. install on all workers: clone (or update) the repository, pip install
#      it with jax[tpu];
#   3. run python -m repro.launch --accelerator=tpu --multihost on all
#      workers at once (JAX finds the slice's processes by itself; process 0
#      writes the results);
#   4. copy worker 0's results into --dest (default results_tpu/TPU).
# Options of this script:
#   --tpu=NAME  --zone=ZONE      (required)
#   --project=ID                 gcloud project (default: gcloud's)
#   --accelerator_type=TYPE      used when creating (default v4-8)
#   --version=IMAGE              TPU VM image (default tpu-ubuntu2204-base)
#   --spot                       create as a Spot VM
#   --repo=URL  --branch=NAME    what to install (default: this checkout's
#                                origin URL and current branch)
#   --dest=DIR                   local folder for the results
#   --delete                     delete the TPU VM after copying back
#   --dry-run                    print every command, run nothing
# Every other argument goes to python -m repro.launch on the workers.
set -euo pipefail
dry_run=0; tpu=""; zone=""; project=""; type=v4-8
version=tpu-ubuntu2204-base; spot=0; repo=""; branch=""; dest=""; delete=0
args=()
for arg in "$@"; do
  case "$arg" in
    --dry-run|--dry_run) dry_run=1 ;;
    --tpu=*) tpu=${arg#*=} ;;
    --zone=*) zone=${arg#*=} ;;
    --project=*) project=${arg#*=} ;;
    --accelerator_type=*) type=${arg#*=} ;;
    --version=*) version=${arg#*=} ;;
    --spot) spot=1 ;;
    --repo=*) repo=${arg#*=} ;;
    --branch=*) branch=${arg#*=} ;;
    --dest=*) dest=${arg#*=} ;;
    --delete) delete=1 ;;
    # The older form launch/tpu_vm.sh TPU_NAME ZONE [flags] still works.
    -*) args+=("$arg") ;;
    *) if [ -z "$tpu" ]; then tpu=$arg; elif [ -z "$zone" ]; then zone=$arg
       else args+=("$arg"); fi ;;
  esac
done
if [ -z "$tpu" ] || [ -z "$zone" ]; then
  echo "error: usage: launch/tpu_vm.sh --tpu=NAME --zone=ZONE [options] --study=NAME [flags]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$repo" ]; then
  repo=$(git -C "$here" remote get-url origin 2>/dev/null || true)
  if [ -z "$repo" ]; then
    echo "error: no git remote 'origin' in $here; pass --repo=URL" >&2
    exit 2
  fi
fi
if [ -z "$branch" ]; then
  branch=$(git -C "$here" rev-parse --abbrev-ref HEAD 2>/dev/null || echo main)
fi
dest=${dest:-results_tpu/$tpu}
gcloud=(gcloud compute tpus tpu-vm)
where=("--zone=$zone")
if [ -n "$project" ]; then where+=("--project=$project"); fi
create_flags=("--accelerator-type=$type" "--version=$version")
if [ "$spot" = 1 ]; then create_flags+=(--spot); fi
study_args=$(printf '%q ' "${args[@]+"${args[@]}"}")
install="set -e; if [ -d repro/.git ]; then git -C repro fetch --depth=1 origin $(printf %q "$branch") && git -C repro checkout -q FETCH_HEAD; else git clone --depth=1 --branch $(printf %q "$branch") $(printf %q "$repo") repro; fi; cd repro && python3 -m pip install -q -e '.[paper]' 'jax[tpu]'"
run="cd repro && python3 -m repro.launch --accelerator=tpu --multihost --workdir=results $study_args"

step() {  # Prints a command, then runs it unless --dry-run.
  printf '+ '; printf '%q ' "$@"; echo
  if [ "$dry_run" = 0 ]; then "$@"; fi
}

if [ "$dry_run" = 1 ] || ! "${gcloud[@]}" describe "$tpu" "${where[@]}" >/dev/null 2>&1; then
  [ "$dry_run" = 1 ] && echo "# if '${gcloud[*]} describe $tpu' fails:"
  step "${gcloud[@]}" create "$tpu" "${where[@]}" "${create_flags[@]}"
fi
step "${gcloud[@]}" ssh "$tpu" "${where[@]}" --worker=all --command="$install"
step "${gcloud[@]}" ssh "$tpu" "${where[@]}" --worker=all --command="$run"
step mkdir -p "$dest"
step "${gcloud[@]}" scp --recurse "${where[@]}" --worker=0 "$tpu:repro/results/*" "$dest/"
if [ "$delete" = 1 ]; then
  step "${gcloud[@]}" delete "$tpu" "${where[@]}" --quiet
fi
