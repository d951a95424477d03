#!/usr/bin/env bash
# Runs convoy data-parallel over a list of hosts with mpirun, outside any batch system.
#
#   scripts/convoy_mpirun.sh --hosts node1,node2 --ranks-per-host 2 -- \
#       train --recipe fashion-resnet20 --run-dir runs/fashion
#   scripts/convoy_mpirun.sh --hostfile hosts.txt -- eval --checkpoint runs/x/latest
#
# Options (before --; everything after -- goes to convoy):
#   --hosts h1,h2,...     hosts to run on (default: this machine)
#   --hostfile FILE       one host per line (Open MPI style "host slots=N" is fine: only the
#                         first word counts; # comments and blank lines are skipped)
#   --ranks-per-host R    MPI ranks on every host (default 1)
#   --cores-per-host C    cores of one host (default: nproc here; hosts must be alike)
#   --bind core|none      pin every rank to its own cores (default core)
#   --convoy PATH         convoy executable (default $CONVOY_BIN, else build/convoy, else PATH)
#   --dry-run             print the mpirun command instead of running it
# Environment: CONVOY_MPIRUN_ARGS, more mpirun options split on spaces.
# Signals: SIGTERM or SIGUSR1 to this script reach convoy as SIGUSR1 (convoy train finishes the
# step, checkpoints and exits 75, and so does this script); send them here, not to mpirun.
#
# Why: one rank per host with every core as an OpenMP thread is usually fastest for oneDNN,
# but several ranks per host (one per socket) can win on big machines; either way each rank
# gets cores / ranks threads (OMP_NUM_THREADS exported to every host with -x, and
# `--threads` added to `convoy train`) and, with --bind core, exactly those cores
# (--map-by ppr:R:node:PE=T), so ranks never share a core.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

fail() {
  echo "convoy_mpirun: $*" >&2
  exit 2
}

hosts=()
ranks_per_host=1
cores_per_host="$(nproc)"
bind=core
default_bin=convoy
script_dir="$(cd "$(dirname "$0")" && pwd)"
[ -x "$script_dir/../build/convoy" ] && default_bin="$(cd "$script_dir/.." && pwd)/build/convoy"
convoy_bin="${CONVOY_BIN:-$default_bin}"
dry_run=0

read_hostfile() {
  [ -r "$1" ] || fail "--hostfile: cannot read '$1'"
  local line
  while read -r line || [ -n "$line" ]; do
    line="${line%%#*}"
    read -r line _ <<<"$line" || true
    [ -n "$line" ] && hosts+=("$line")
  done <"$1"
  [ ${#hosts[@]} -gt 0 ] || fail "--hostfile: no host names in '$1'"
}

positive_integer() {
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || fail "$1: expected a positive integer, got '$2'"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --hosts)
      [ $# -ge 2 ] || fail "--hosts needs a value"
      IFS=, read -r -a hosts <<<"$2"
      shift 2
      ;;
    --hostfile)
      [ $# -ge 2 ] || fail "--hostfile needs a value"
      read_hostfile "$2"
      shift 2
      ;;
    --ranks-per-host)
      positive_integer "$1" "${2:-}"
      ranks_per_host="$2"
      shift 2
      ;;
    --cores-per-host)
      positive_integer "$1" "${2:-}"
      cores_per_host="$2"
      shift 2
      ;;
    --bind)
      [[ "${2:-}" =~ ^(core|none)$ ]] || fail "--bind: expected core or none, got '${2:-}'"
      bind="$2"
      shift 2
      ;;
    --convoy)
      [ $# -ge 2 ] || fail "--convoy needs a value"
      convoy_bin="$2"
      shift 2
      ;;
    --dry-run)
      dry_run=1
      shift
      ;;
    -h | --help) usage ;;
    --)
      shift
      break
      ;;
    *) fail "unknown option '$1' (convoy's own arguments go after --)" ;;
  esac
done
[ $# -gt 0 ] || fail "no convoy command after -- (e.g. -- train --recipe fashion-resnet20)"
[ ${#hosts[@]} -gt 0 ] || hosts=(localhost)

threads=$((cores_per_host / ranks_per_host))
if [ "$threads" -lt 1 ]; then
  echo "convoy_mpirun: $ranks_per_host ranks on $cores_per_host cores oversubscribes" \
    "every host; using 1 thread per rank" >&2
  threads=1
fi

convoy_args=("$@")
if [ "${convoy_args[0]}" = train ]; then
  has_threads=0
  for argument in "${convoy_args[@]}"; do
    [[ "$argument" = --threads || "$argument" = --threads=* ]] && has_threads=1
  done
  [ "$has_threads" -eq 1 ] || convoy_args+=(--threads "$threads")
fi

host_list=""
for host in "${hosts[@]}"; do host_list+="${host_list:+,}$host:$ranks_per_host"; done
placement=(--map-by "ppr:$ranks_per_host:node:PE=$threads" --bind-to core)
[ "$bind" = core ] || placement=(--map-by "ppr:$ranks_per_host:node" --bind-to none)
read -r -a extra_mpirun_args <<<"${CONVOY_MPIRUN_ARGS:-}"

export OMP_NUM_THREADS="$threads"
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
command=(mpirun -np $((${#hosts[@]} * ranks_per_host)) --host "$host_list" "${placement[@]}"
  -x OMP_NUM_THREADS "${extra_mpirun_args[@]}" "$convoy_bin" "${convoy_args[@]}")

if [ "$dry_run" -eq 1 ]; then
  printf '%q ' "${command[@]}"
  echo
  exit 0
fi
echo "convoy_mpirun: ${#hosts[@]} host(s) x $ranks_per_host rank(s), $threads thread(s)" \
  "per rank" >&2

# Open MPI 4.1's mpirun answers SIGTERM by forwarding it and killing the ranks a second later
# (odls_base_sigkill_timeout) with exit 1: a checkpoint could be cut short and the requeue
# code 75 is lost. SIGUSR1 it forwards and leaves alone, so a TERM (or USR1) sent to this
# script reaches convoy as USR1: finish the step, checkpoint, exit 75. mpirun runs in the
# background because bash runs a trap only between commands (as in scripts/slurm/*.sbatch).
"${command[@]}" &
mpirun_pid=$!
trap 'kill -USR1 "$mpirun_pid" 2>/dev/null || true' TERM USR1
while true; do
  status=0
  wait "$mpirun_pid" || status=$?
  # `wait` returns early (status > 128) when a trapped signal arrives: wait again.
  if [ "$status" -gt 128 ] && kill -0 "$mpirun_pid" 2>/dev/null; then continue; fi
  break
done
if [ "$status" -gt 128 ]; then
  again=0
  wait "$mpirun_pid" 2>/dev/null || again=$?
  [ "$again" -ne 127 ] && status=$again
fi
exit "$status"
