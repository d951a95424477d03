#!/usr/bin/env bash
# End-to-end test of scripts/slurm/*.sbatch on a real two-node Slurm cluster on this machine.
#
#   tests/slurm/slurm_test.sh --stand-in          # the MPI stand-in trainer (built here)
#   tests/slurm/slurm_test.sh build/convoy        # the real convoy executable
#
# Options:
#   --stand-in            compile tests/slurm/stand_in_trainer.c with mpicc and test with it
#   --recipe NAME         recipe for the real convoy       [fashion-resnet20]
#   --train-args "..."    extra `convoy train` options     [stand-in: 30 steps of 150 ms;
#                         convoy: --max-steps 60 --checkpoint-every 10]
#   --long-train-args ".." options for a run that outlives a 1-minute time limit
#                         [stand-in: --max-steps 100000 --step-ms 100; convoy: --max-steps 1000000]
#   --skip-time-limit     skip check 6 (it waits ~30 s for Slurm's time-limit warning)
#   --job-timeout S       longest wait for one job         [180]
#   --keep                keep the work folder (it is always kept on failure)
#
# What it proves, each with `sbatch --nodes=2`:
#  1. train.sbatch runs all ranks across node1 and node2 and finishes (exit 0, COMPLETED).
#  2. Preemption: `scancel --batch --signal=USR1` mid-training makes the batch shell forward
#     USR1 through mpirun, convoy checkpoints and exits 75, the script requeues the job, the
#     requeued run (started at once with `scontrol update StartTime=now`) resumes, finishes,
#     and its final parameters hash equal the uninterrupted run's.
#  3. resume.sbatch on a finished run resumes from its final checkpoint and leaves the same
#     parameters.
#  4. A convoy failure (an unknown option) ends the job FAILED without a requeue.
#  5. eval.sbatch evaluates the run's latest checkpoint and writes valid JSON.
#  6. The script's own `#SBATCH --signal=B:USR1@120`: with --time=1 Slurm sends the warning
#     (its periodic check, ~30 s here), and the run checkpoints and requeues itself.
# The cluster (its own folder and ports) is stopped on every exit, including failures.
set -euo pipefail

script_dir="$(cd "$(dirname "$0")" && pwd)"
repo_dir="$(cd "$script_dir/../.." && pwd)"
batch_dir="$repo_dir/scripts/slurm"

stand_in=0
convoy_bin=""
recipe="fashion-resnet20"
train_args=""
long_train_args=""
skip_time_limit=0
job_timeout=180
keep=0

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --stand-in) stand_in=1 ;;
    --recipe) recipe="${2:?--recipe needs a value}" && shift ;;
    --train-args) train_args="${2?--train-args needs a value}" && shift ;;
    --long-train-args) long_train_args="${2?--long-train-args needs a value}" && shift ;;
    --skip-time-limit) skip_time_limit=1 ;;
    --job-timeout) job_timeout="${2:?--job-timeout needs a value}" && shift ;;
    --keep) keep=1 ;;
    -h | --help) usage ;;
    -*) echo "slurm_test: unknown option '$1'" >&2 && usage ;;
    *) convoy_bin="$1" ;;
  esac
  shift
done
if [ "$stand_in" -eq 0 ] && [ -z "$convoy_bin" ]; then
  echo "slurm_test: give the convoy executable's path, or --stand-in" >&2
  usage
fi

mode="convoy"
[ "$stand_in" -eq 1 ] && mode="stand-in"
work_dir="$(mktemp -d /tmp/convoy-slurm-test.XXXXXX)"
chmod 0755 "$work_dir"
# A cluster of its own (folder and ports), so a cluster someone started by hand is untouched.
export CONVOY_SLURM_DIR="$work_dir/cluster"
export CONVOY_SLURM_PORT="${CONVOY_SLURM_TEST_PORT:-16917}"
export SLURM_CONF="$CONVOY_SLURM_DIR/slurm.conf"
cluster="$script_dir/local_cluster.sh"

checks=0
failures=0
finished=0

say() { echo "slurm_test: $*"; }

check() {
  local description="$1"
  shift
  checks=$((checks + 1))
  if "$@"; then
    say "ok   $description"
  else
    say "FAIL $description"
    failures=$((failures + 1))
  fi
}

on_exit() {
  local status=$?
  "$cluster" stop || true
  if [ "$finished" -ne 1 ]; then
    say "FAIL ($mode): the test stopped early (exit $status); work folder kept: $work_dir"
    exit 1
  fi
  if [ "$failures" -eq 0 ] && [ "$keep" -eq 0 ]; then rm -rf "$work_dir"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---- swap points: how a run is fingerprinted and where its newest checkpoint is ------------

# The "latest" pointer (a symlink or a file naming the checkpoint), else the newest
# checkpoint-step* file by its zero-padded step number. Mirrors eval.sbatch.
latest_checkpoint() {
  local run_dir="$1"
  if [ -L "$run_dir/latest" ]; then
    readlink -f "$run_dir/latest"
  elif [ -s "$run_dir/latest" ]; then
    local name
    name="$(head -n 1 "$run_dir/latest")"
    case "$name" in
      /*) echo "$name" ;;
      *) echo "$run_dir/$name" ;;
    esac
  else
    find "$run_dir" -maxdepth 1 -name 'checkpoint-step*' | sort | tail -n 1
  fi
}

# The parameters' hash of a run's newest checkpoint: `convoy inspect --hash` prints it (the
# first run of 16+ hex digits in its output is taken, so extra words around it do not matter).
parameter_hash() {
  local checkpoint
  checkpoint="$(latest_checkpoint "$1")"
  [ -n "$checkpoint" ] || return 0
  "$convoy_bin" inspect --hash "$checkpoint" 2>/dev/null | grep -Eo '[0-9a-f]{16,}' | head -n 1
}

# ---- Slurm helpers ------------------------------------------------------------------------

job_field() {
  scontrol -o show job "$1" 2>/dev/null | grep -Eo "(^| )$2=[^ ]*" | cut -d= -f2- || true
}

# submit SCRIPT [NAME=VALUE | --sbatch-option]...: submits with those environment settings
# and sbatch options; prints the job id.
submit() {
  local script="$1" argument
  local settings=() options=()
  shift
  for argument in "$@"; do
    case "$argument" in
      --*) options+=("$argument") ;;
      *) settings+=("$argument") ;;
    esac
  done
  env "${settings[@]}" sbatch --parsable --chdir="$work_dir" "${options[@]}" "$script"
}

nodes_idle() {
  local states
  states="$(sinfo -h -N -o %T)" || return 1
  ! grep -qvx idle <<<"$states"
}

# Waits until the job reaches a final state and prints it. A requeued job waits ~120 s for
# its begin time; moving the begin time to now starts it at once -- but only once the nodes
# are idle and a few seconds have passed: slurmd rejects a launch whose credential is from
# the same second as the revocation of the previous run's ("Job credential revoked").
wait_for_job_end() {
  local job="$1" deadline=$((SECONDS + job_timeout)) state reason requeued_at=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    state="$(job_field "$job" JobState)"
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
        echo "$state"
        return
        ;;
      PENDING)
        reason="$(job_field "$job" Reason)"
        if [ "$reason" = BeginTime ]; then
          [ -n "$requeued_at" ] || requeued_at="$SECONDS"
          if [ $((SECONDS - requeued_at)) -ge 3 ] && nodes_idle; then
            scontrol update JobId="$job" StartTime=now
          fi
        fi
        ;;
    esac
    sleep 0.5
  done
  echo "TIMEOUT_IN_TEST(${state:-unknown})"
}

# Waits until the run folder holds a checkpoint while the job still runs.
wait_for_first_checkpoint() {
  local job="$1" run_dir="$2" deadline=$((SECONDS + job_timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    case "$(job_field "$job" JobState)" in
      RUNNING)
        [ -z "$(find "$run_dir" -maxdepth 1 -name 'checkpoint-step*' 2>/dev/null)" ] || return 0
        ;;
      PENDING | CONFIGURING) ;;
      *) return 1 ;;
    esac
    sleep 0.2
  done
  return 1
}

output_of() { cat "$work_dir/$1-$2.out" 2>/dev/null || true; }
output_has() { output_of "$1" "$2" | grep -q -- "$3"; }
equal() { [ -n "$1" ] && [ "$1" = "$2" ]; }
is_json() { /usr/bin/python3 -c 'import json,sys; json.loads(sys.stdin.read().strip().splitlines()[-1])' <"$1"; }

# ---- the test -----------------------------------------------------------------------------

if [ "$stand_in" -eq 1 ]; then
  convoy_bin="$work_dir/stand_in_trainer"
  mpicc -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror -o "$convoy_bin" \
    "$script_dir/stand_in_trainer.c"
  recipe="stand-in"
  [ -n "$train_args" ] || train_args="--max-steps 30 --step-ms 150 --checkpoint-every 5"
  [ -n "$long_train_args" ] || long_train_args="--max-steps 100000 --step-ms 100"
else
  convoy_bin="$(cd "$(dirname "$convoy_bin")" && pwd)/$(basename "$convoy_bin")"
  [ -x "$convoy_bin" ] || { say "not an executable: $convoy_bin" && exit 2; }
  [ -n "$train_args" ] || train_args="--max-steps 60 --checkpoint-every 10"
  [ -n "$long_train_args" ] || long_train_args="--max-steps 1000000"
fi
say "mode $mode, convoy $convoy_bin, work folder $work_dir"

"$cluster" start

common=(CONVOY_BIN="$convoy_bin" CONVOY_RECIPE="$recipe" CONVOY_ARGS="$train_args")

# 1. An uninterrupted run, ranks bound to cores (the default placement).
run_full="$work_dir/runs/full"
job_full="$(submit "$batch_dir/train.sbatch" "${common[@]}" CONVOY_RUN_DIR="$run_full" --nodes=2)"
state="$(wait_for_job_end "$job_full")"
check "uninterrupted run $job_full COMPLETED (got $state)" equal "$state" COMPLETED
check "uninterrupted run exit code 0:0" equal "$(job_field "$job_full" ExitCode)" 0:0
check "uninterrupted run not restarted" equal "$(job_field "$job_full" Restarts)" 0
check "uninterrupted run allocated node1 and node2" \
  equal "$(job_field "$job_full" NodeList)" "node[1-2]"
check "train.sbatch computed 1 thread per rank" \
  output_has convoy-train "$job_full" "1 thread(s) per rank"
if [ "$stand_in" -eq 1 ]; then
  check "ranks ran on both nodes with OMP_NUM_THREADS=1" output_has convoy-train "$job_full" \
    "world_size=2 threads=1 OMP_NUM_THREADS=1 nodes=node1,node2"
fi
hash_full="$(parameter_hash "$run_full")"
check "uninterrupted run has a parameter hash ($hash_full)" test -n "$hash_full"

# 2. Preempted mid-training, requeued, resumed. No binding: both "nodes" share this
#    machine's cores, so bound ranks of the two nodes would pile onto the same core.
run_preempted="$work_dir/runs/preempted"
job_preempted="$(submit "$batch_dir/train.sbatch" "${common[@]}" CONVOY_MPI_BIND=none \
  CONVOY_RUN_DIR="$run_preempted" --nodes=2)"
if wait_for_first_checkpoint "$job_preempted" "$run_preempted"; then
  scancel --batch --signal=USR1 "$job_preempted"
  say "sent USR1 to the batch shell of job $job_preempted"
else
  check "job $job_preempted wrote a checkpoint while running (state now:\
 $(job_field "$job_preempted" JobState))" false
fi
state="$(wait_for_job_end "$job_preempted")"
check "preempted run $job_preempted COMPLETED after requeue (got $state)" \
  equal "$state" COMPLETED
check "preempted run restarted exactly once" equal "$(job_field "$job_preempted" Restarts)" 1
check "batch shell forwarded USR1 to mpirun" \
  output_has convoy-train "$job_preempted" "received SIGUSR1: asking convoy to checkpoint"
check "convoy exited 75 after checkpointing" \
  output_has convoy-train "$job_preempted" "convoy checkpointed and exited 75"
check "train.sbatch requeued the job" \
  output_has convoy-train "$job_preempted" "preempted: requeueing job $job_preempted"
check "the requeued run appended to the same output file (restart 1)" \
  output_has convoy-train "$job_preempted" "start: restart 1,"
check "the requeued run finished with exit 0" \
  output_has convoy-train "$job_preempted" "finished: convoy exited 0"
if [ "$stand_in" -eq 1 ]; then
  check "the requeued run resumed from the preemption checkpoint" \
    output_has convoy-train "$job_preempted" "resumed from step .* restart_count=1"
fi
hash_preempted="$(parameter_hash "$run_preempted")"
check "preempted+resumed parameters equal uninterrupted ($hash_preempted vs $hash_full)" \
  equal "$hash_preempted" "$hash_full"

# 3. resume.sbatch on the finished run: nothing left to train, same parameters.
job_resume="$(submit "$batch_dir/resume.sbatch" "${common[@]}" CONVOY_MPI_BIND=none \
  CONVOY_RUN_DIR="$run_preempted" --nodes=2)"
state="$(wait_for_job_end "$job_resume")"
check "resume.sbatch of a finished run COMPLETED (got $state)" equal "$state" COMPLETED
check "resume.sbatch kept the parameters" \
  equal "$(parameter_hash "$run_preempted")" "$hash_full"

# 4. A failing convoy is reported, not requeued.
job_bad="$(submit "$batch_dir/train.sbatch" CONVOY_BIN="$convoy_bin" CONVOY_RECIPE="$recipe" \
  CONVOY_ARGS="--no-such-option 1" CONVOY_MPI_BIND=none CONVOY_RUN_DIR="$work_dir/runs/bad" \
  --nodes=2)"
state="$(wait_for_job_end "$job_bad")"
check "a convoy usage error ends the job FAILED (got $state)" equal "$state" FAILED
check "a failed job is not requeued" equal "$(job_field "$job_bad" Restarts)" 0
check "train.sbatch reported the failure" output_has convoy-train "$job_bad" "failed: mpirun"

# 5. Evaluation of the latest checkpoint.
eval_json="$work_dir/eval.json"
job_eval="$(submit "$batch_dir/eval.sbatch" CONVOY_BIN="$convoy_bin" \
  CONVOY_RUN_DIR="$run_preempted" CONVOY_ARGS=--json CONVOY_EVAL_OUTPUT="$eval_json")"
state="$(wait_for_job_end "$job_eval")"
check "eval.sbatch COMPLETED (got $state)" equal "$state" COMPLETED
check "eval.sbatch wrote JSON" is_json "$eval_json"

# 6. The time-limit warning from the script's own #SBATCH --signal line.
if [ "$skip_time_limit" -eq 0 ]; then
  job_limit="$(submit "$batch_dir/train.sbatch" CONVOY_BIN="$convoy_bin" CONVOY_RECIPE="$recipe" \
    CONVOY_ARGS="$long_train_args" CONVOY_MPI_BIND=none CONVOY_RUN_DIR="$work_dir/runs/limit" \
    --nodes=2 --time=1)"
  say "waiting for Slurm's time-limit warning to job $job_limit (up to 90 s)"
  deadline=$((SECONDS + 90))
  until output_has convoy-train "$job_limit" "preempted: requeueing" ||
    [ "$SECONDS" -ge "$deadline" ]; do
    sleep 1
  done
  check "time-limit warning (--signal=B:USR1@120, --time=1) reached the batch shell" \
    output_has convoy-train "$job_limit" "received SIGUSR1: asking convoy to checkpoint"
  check "the warned run checkpointed, exited 75 and was requeued" \
    output_has convoy-train "$job_limit" "preempted: requeueing job $job_limit"
  sleep 1
  check "the warned job is pending again with 1 restart" \
    equal "$(job_field "$job_limit" JobState)/$(job_field "$job_limit" Restarts)" PENDING/1
  scancel "$job_limit"
fi

finished=1
if [ "$failures" -ne 0 ]; then
  for file in "$work_dir"/*.out; do
    echo "---- $file"
    cat "$file"
  done
  say "FAIL ($mode): $failures of $checks checks failed; work folder kept: $work_dir"
  exit 1
fi
say "PASS ($mode): all $checks checks passed"
