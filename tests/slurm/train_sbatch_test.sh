#!/usr/bin/env bash
# Fast tests of train.sbatch's own logic, without a cluster: the script runs as a plain
# process with a made-up Slurm environment and fake `mpirun` and `scontrol` first on PATH.
# Covers the thread and placement arithmetic, exit-code handling (0, 75 -> requeue, the
# requeue limit, a failed requeue, other failures) and signal forwarding (USR1 and TERM to the
# batch shell reach mpirun as USR1). slurm_test.sh proves the same on the real Slurm.
#
#   tests/slurm/train_sbatch_test.sh
set -euo pipefail

script_dir="$(cd "$(dirname "$0")" && pwd)"
train_script="$script_dir/../../scripts/slurm/train.sbatch"
work_dir="$(mktemp -d /tmp/convoy-train-sbatch-test.XXXXXX)"
trap 'rm -rf "$work_dir"' EXIT
fake_bin="$work_dir/bin"
mkdir -p "$fake_bin"

# mpirun: records its arguments, then exits FAKE_EXIT after FAKE_SECONDS, or, on USR1,
# records the signal and exits 75 as convoy would after checkpointing.
cat >"$fake_bin/mpirun" <<'EOF'
#!/usr/bin/env bash
echo "$*" >"$FAKE_DIR/mpirun.args"
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS SRUN_CPUS_PER_TASK=$SRUN_CPUS_PER_TASK" >"$FAKE_DIR/mpirun.env"
sleep "${FAKE_SECONDS:-0}" &
sleeper=$!
trap 'kill "$sleeper"; wait "$sleeper"; echo USR1 >>"$FAKE_DIR/mpirun.signals"; exit 75' USR1
touch "$FAKE_DIR/mpirun.started"
wait "$sleeper"
exit "${FAKE_EXIT:-0}"
EOF
cat >"$fake_bin/scontrol" <<'EOF'
#!/usr/bin/env bash
echo "$*" >>"$FAKE_DIR/scontrol.calls"
exit "${FAKE_SCONTROL_EXIT:-0}"
EOF
chmod +x "$fake_bin/mpirun" "$fake_bin/scontrol"

checks=0
failures=0
check() {
  local description="$1"
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "train_sbatch_test: ok   $description"
  else
    echo "train_sbatch_test: FAIL $description"
    failures=$((failures + 1))
  fi
}
file_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ] || { echo "  $1: '$(cat "$1" 2>/dev/null)'" && return 1; }; }
file_has() { grep -qF -- "$2" "$1" 2>/dev/null || { echo "  $1: '$(cat "$1" 2>/dev/null)'" && return 1; }; }
absent() { [ ! -e "$1" ]; }

case_number=0
# run_case [NAME=VALUE]... : runs train.sbatch in a fresh case folder (FAKE_DIR); sets
# $case_dir and $status. The default allocation: 2 nodes, 1 task per node, 2 CPUs per node.
run_case() {
  case_number=$((case_number + 1))
  case_dir="$work_dir/case$case_number"
  mkdir -p "$case_dir"
  status=0
  env -i PATH="$fake_bin:$PATH" HOME="$work_dir" FAKE_DIR="$case_dir" \
    SLURM_JOB_ID=42 SLURM_SUBMIT_DIR="$case_dir" SLURM_JOB_NODELIST="node[1-2]" \
    SLURM_TASKS_PER_NODE="1(x2)" SLURM_CPUS_ON_NODE=2 CONVOY_BIN=/opt/convoy \
    "$@" bash "$train_script" >"$case_dir/output" 2>&1 || status=$?
}

# run_signalled_case SIGNAL [NAME=VALUE]...: as run_case, with SIGNAL sent to the batch shell
# once mpirun has started.
run_signalled_case() {
  local signal="$1"
  shift
  case_number=$((case_number + 1))
  case_dir="$work_dir/case$case_number"
  mkdir -p "$case_dir"
  env -i PATH="$fake_bin:$PATH" HOME="$work_dir" FAKE_DIR="$case_dir" FAKE_SECONDS=30 \
    SLURM_JOB_ID=42 SLURM_SUBMIT_DIR="$case_dir" SLURM_JOB_NODELIST="node[1-2]" \
    SLURM_TASKS_PER_NODE="1(x2)" SLURM_CPUS_ON_NODE=2 CONVOY_BIN=/opt/convoy \
    "$@" bash "$train_script" >"$case_dir/output" 2>&1 &
  local pid=$! waited=0
  until [ -e "$case_dir/mpirun.started" ] || [ "$waited" -ge 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -"$signal" "$pid"
  status=0
  wait "$pid" || status=$?
}

run_case
check "finished run exits 0" [ "$status" -eq 0 ]
check "default placement: 1 rank per node, 2 threads bound to cores, --resume auto" \
  file_is "$case_dir/mpirun.args" "--map-by ppr:1:node:PE=2 --bind-to core -x OMP_NUM_THREADS /opt/convoy train --recipe fashion-resnet20 --run-dir $case_dir/runs/fashion-resnet20-42 --resume auto --threads 2"
check "OMP_NUM_THREADS and SRUN_CPUS_PER_TASK exported" \
  file_is "$case_dir/mpirun.env" "OMP_NUM_THREADS=2 SRUN_CPUS_PER_TASK=2"
check "a finished run is not requeued" absent "$case_dir/scontrol.calls"

run_case SLURM_TASKS_PER_NODE="2(x2)" SLURM_CPUS_ON_NODE=8 CONVOY_RECIPE=r \
  CONVOY_RUN_DIR=/tmp/r CONVOY_ARGS="--epochs 3 --lr 0.1" CONVOY_MPIRUN_ARGS="--mca btl self"
check "2 tasks per node on 8 CPUs: 4 threads each; CONVOY_* settings passed on" \
  file_is "$case_dir/mpirun.args" "--map-by ppr:2:node:PE=4 --bind-to core -x OMP_NUM_THREADS --mca btl self /opt/convoy train --recipe r --run-dir /tmp/r --resume auto --threads 4 --epochs 3 --lr 0.1"

run_case SLURM_NTASKS_PER_NODE=1 SLURM_CPUS_PER_TASK=3 SLURM_CPUS_ON_NODE=4 \
  CONVOY_MPI_BIND=none CONVOY_RESUME=/ckpt.h5
check "SLURM_CPUS_PER_TASK wins; CONVOY_MPI_BIND=none; CONVOY_RESUME" \
  file_has "$case_dir/mpirun.args" "--map-by ppr:1:node --bind-to none -x OMP_NUM_THREADS /opt/convoy train --recipe fashion-resnet20 --run-dir $case_dir/runs/fashion-resnet20-42 --resume /ckpt.h5 --threads 3"

run_case FAKE_EXIT=75
check "exit 75 requeues the job and the batch script exits 0" [ "$status" -eq 0 ]
check "exit 75 runs scontrol requeue 42" file_is "$case_dir/scontrol.calls" "requeue 42"

run_case FAKE_EXIT=75 SLURM_RESTART_COUNT=3 CONVOY_MAX_REQUEUES=3
check "past CONVOY_MAX_REQUEUES: exit 75, no requeue" [ "$status" -eq 75 ]
check "past CONVOY_MAX_REQUEUES: scontrol not called" absent "$case_dir/scontrol.calls"

run_case FAKE_EXIT=75 FAKE_SCONTROL_EXIT=1
check "a failed requeue exits 75" [ "$status" -eq 75 ]
check "a failed requeue says how to resume" \
  file_has "$case_dir/output" "scontrol requeue failed; resubmit"

run_case FAKE_EXIT=3
check "another failure exits with its code, not requeued" [ "$status" -eq 3 ]
check "another failure: scontrol not called" absent "$case_dir/scontrol.calls"

run_signalled_case USR1
check "USR1 to the batch shell reaches mpirun as USR1" file_is "$case_dir/mpirun.signals" USR1
check "after USR1 the job is requeued" file_is "$case_dir/scontrol.calls" "requeue 42"
check "after USR1 the batch script exits 0" [ "$status" -eq 0 ]

run_signalled_case TERM
check "TERM to the batch shell reaches mpirun as USR1" file_is "$case_dir/mpirun.signals" USR1
check "after TERM the job is requeued" file_is "$case_dir/scontrol.calls" "requeue 42"

status=0
env -u SLURM_JOB_ID bash "$train_script" >"$work_dir/outside" 2>&1 || status=$?
check "outside Slurm: exit 2" [ "$status" -eq 2 ]
check "outside Slurm: says to use sbatch" file_has "$work_dir/outside" "run me with sbatch"

if [ "$failures" -ne 0 ]; then
  echo "train_sbatch_test: FAIL: $failures of $checks checks failed"
  exit 1
fi
echo "train_sbatch_test: PASS: all $checks checks passed"
