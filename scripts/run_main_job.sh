#!/usr/bin/env bash
# The main job, set-up included: trains the default recipe (ResNet-20 on Fashion-MNIST) across
# 2 MPI ranks on this machine, checkpointing into runs/fashion-resnet20/, then evaluates the
# final checkpoint. Re-running resumes from the newest checkpoint.
# Usage: bash scripts/run_main_job.sh [extra convoy train options]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release -G Ninja >/dev/null
cmake --build --preset release -j "$(nproc)" --target convoy

recipe=${CONVOY_RECIPE:-fashion-resnet20}
run_dir=${CONVOY_RUN_DIR:-runs/$recipe}
ranks=${CONVOY_RANKS:-2}
cores=$(nproc)
threads=$(( cores / ranks > 0 ? cores / ranks : 1 ))
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

mpirun -np "$ranks" --oversubscribe --bind-to none -x OMP_NUM_THREADS="$threads" \
  build/convoy train --recipe "$recipe" --run-dir "$run_dir" --threads "$threads" "$@"
mpirun -np "$ranks" --oversubscribe --bind-to none -x OMP_NUM_THREADS="$threads" \
  build/convoy eval --checkpoint "$run_dir/latest" --threads "$threads"
