#!/usr/bin/env bash
# Tests scripts/convoy_mpirun.sh: the mpirun command it builds (hosts, host files, ranks,
# threads per rank, binding, --threads for train), its usage errors, and a real 2-rank run of
# the MPI stand-in trainer on this machine. Prints PASS/FAIL; exits non-zero on failure.
#
#   tests/scripts/convoy_mpirun_test.sh
set -euo pipefail

script_dir="$(cd "$(dirname "$0")" && pwd)"
repo_dir="$(cd "$script_dir/../.." && pwd)"
wrapper="$repo_dir/scripts/convoy_mpirun.sh"
work_dir="$(mktemp -d /tmp/convoy-mpirun-test.XXXXXX)"
trap 'rm -rf "$work_dir"' EXIT

checks=0
failures=0
check() {
  local description="$1"
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "convoy_mpirun_test: ok   $description"
  else
    echo "convoy_mpirun_test: FAIL $description"
    failures=$((failures + 1))
  fi
}
# dry_run_is EXPECTED WRAPPER-ARGS...: the printed command equals EXPECTED.
dry_run_is() {
  local expected="$1" actual
  shift
  actual="$("$wrapper" --dry-run "$@" 2>&1)" || true
  actual="${actual% }"
  [ "$actual" = "$expected" ] || {
    echo "  expected: $expected"
    echo "  actual:   $actual"
    return 1
  }
}
# fails_with MESSAGE WRAPPER-ARGS...: exit 2 and MESSAGE on stderr.
fails_with() {
  local message="$1" output status=0
  shift
  output="$("$wrapper" "$@" 2>&1)" || status=$?
  if [ "$status" -ne 2 ] || ! grep -qF -- "$message" <<<"$output"; then
    echo "  exit $status, output: $output"
    return 1
  fi
}

check "two hosts x 2 ranks on 8 cores: 4 threads per rank, bound, --threads added" \
  dry_run_is 'mpirun -np 4 --host a:2\,b:2 --map-by ppr:2:node:PE=4 --bind-to core -x OMP_NUM_THREADS convoy train --recipe r --threads 4' \
  --hosts a,b --ranks-per-host 2 --cores-per-host 8 --convoy convoy -- train --recipe r

check "an explicit --threads is kept, not doubled" \
  dry_run_is 'mpirun -np 1 --host a:1 --map-by ppr:1:node:PE=6 --bind-to core -x OMP_NUM_THREADS convoy train --threads 2' \
  --hosts a --cores-per-host 6 --convoy convoy -- train --threads 2

printf 'h1 slots=4\n# a comment\n\n  h2   # trailing comment\n' >"$work_dir/hosts"
check "host file: first words only, comments and blank lines skipped; eval gets no --threads" \
  dry_run_is 'mpirun -np 2 --host h1:1\,h2:1 --map-by ppr:1:node --bind-to none -x OMP_NUM_THREADS /x/convoy eval --checkpoint c' \
  --hostfile "$work_dir/hosts" --cores-per-host 4 --bind none --convoy /x/convoy -- eval --checkpoint c

check "more ranks than cores falls back to 1 thread per rank" \
  dry_run_is "$(printf '%s\n%s' 'convoy_mpirun: 4 ranks on 2 cores oversubscribes every host; using 1 thread per rank' \
    'mpirun -np 4 --host a:4 --map-by ppr:4:node:PE=1 --bind-to core -x OMP_NUM_THREADS convoy bench')" \
  --hosts a --ranks-per-host 4 --cores-per-host 2 --convoy convoy -- bench

check "--ranks-per-host 0 is rejected" fails_with "--ranks-per-host: expected a positive integer, got '0'" \
  --ranks-per-host 0 -- train
check "--bind other than core/none is rejected" fails_with "--bind: expected core or none, got 'socket'" \
  --bind socket -- train
check "a missing host file is named" fails_with "--hostfile: cannot read '$work_dir/none'" \
  --hostfile "$work_dir/none" -- train
check "no convoy command is an error" fails_with "no convoy command after --" --hosts a
check "an unknown option points at --" fails_with "unknown option '--recipe' (convoy's own arguments go after --)" \
  --recipe r

# A real run: 2 ranks on this machine, each with cores/2 threads.
mpicc -std=c11 -O2 -o "$work_dir/stand_in_trainer" "$repo_dir/tests/slurm/stand_in_trainer.c"
cores="$(nproc)"
threads=$((cores / 2 > 0 ? cores / 2 : 1))
output="$(cd "$work_dir" && "$wrapper" --ranks-per-host 2 --bind none \
  --convoy "$work_dir/stand_in_trainer" -- train --recipe r --run-dir run --max-steps 5 \
  --step-ms 10 2>&1)" || true
check "2 ranks ran with $threads thread(s) each and finished" \
  grep -q "world_size=2 threads=$threads OMP_NUM_THREADS=$threads" <<<"$output"
check "the run reached its last step" grep -q "finished step 5" <<<"$output"

# SIGTERM to the wrapper reaches the ranks as SIGUSR1: they checkpoint and the wrapper exits 75.
# mpirun itself turns a SIGTERM into exit 1 and kills the ranks a second later.
(cd "$work_dir" && exec "$wrapper" --ranks-per-host 2 --bind none \
  --convoy "$work_dir/stand_in_trainer" -- train --recipe r --run-dir preempted \
  --max-steps 100000 --step-ms 10 >"$work_dir/preempted.out" 2>&1) &
wrapper_pid=$!
for _ in $(seq 300); do
  [ -e "$work_dir/preempted/latest" ] && break
  sleep 0.1
done
kill -TERM "$wrapper_pid"
status=0
wait "$wrapper_pid" || status=$?
check "SIGTERM to the wrapper: exit 75 after the ranks checkpoint (got $status)" [ "$status" -eq 75 ]
check "the ranks stopped as preempted" grep -q "preempted at step" "$work_dir/preempted.out"

if [ "$failures" -ne 0 ]; then
  echo "convoy_mpirun_test: FAIL: $failures of $checks checks failed"
  exit 1
fi
echo "convoy_mpirun_test: PASS: all $checks checks passed"
