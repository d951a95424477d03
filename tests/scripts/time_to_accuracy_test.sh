#!/usr/bin/env bash
# Tests scripts/bench/time_to_accuracy.py end to end on a sliver of Fashion-MNIST: both
# frameworks train, report per-epoch accuracies and the seconds to a target they reach, a
# target they miss is "not reached", and a recipe the PyTorch peer cannot follow is refused
# before anything runs.
#
#   tests/scripts/time_to_accuracy_test.sh CONVOY_BINARY
set -euo pipefail

script_dir="$(cd "$(dirname "$0")" && pwd)"
repo_dir="$(cd "$script_dir/../.." && pwd)"
convoy="$1"
work_dir="$(mktemp -d /tmp/convoy-time-to-accuracy-test.XXXXXX)"
trap 'rm -rf "$work_dir"' EXIT
fail() {
  echo "time_to_accuracy_test: FAIL $*"
  exit 1
}
run() {
  /usr/bin/python3 "$repo_dir/scripts/bench/time_to_accuracy.py" --convoy "$convoy" --cores 2 \
    --subset 512 --test-subset 200 "$@"
}

# Chance is 10 %: after one epoch both are above 5 % (and stop there), neither reaches 100 %.
# Two epochs: the recipe warms up for one.
run --epochs 2 --target 0.05 >"$work_dir/reached.txt" 2>&1 || fail "run: $(cat "$work_dir/reached.txt")"
/usr/bin/python3 - "$work_dir/reached.txt" <<'PY' || fail "reached: $(cat "$work_dir/reached.txt")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
runs = [json.loads(line) for line in lines if line.startswith("{")]
assert [r["framework"].split()[0] for r in runs] == ["convoy", "pytorch"], runs
for r in runs:
    assert r["epochs_run"] == 1 and r["epoch_reached"] == 1, r
    assert 0 < r["seconds_to_target"] <= r["command_wall_seconds"], r
    assert r["accuracy_by_epoch"][0] >= 0.05, r
assert any(line.startswith("PyTorch / convoy time to target:") for line in lines), lines
PY

run --epochs 2 --target 1.0 >"$work_dir/missed.txt" 2>&1 || fail "run: $(cat "$work_dir/missed.txt")"
[ "$(grep -c '"epochs_run": 2' "$work_dir/missed.txt")" -eq 2 ] || fail "missed: $(cat "$work_dir/missed.txt")"
[ "$(grep -c "not reached" "$work_dir/missed.txt")" -eq 2 ] || fail "missed: $(cat "$work_dir/missed.txt")"
grep -q "time to target:" "$work_dir/missed.txt" && fail "a ratio without both times"

sed 's/^label-smoothing.*//' "$repo_dir/launcher/recipes/fashion-resnet20.cfg" >"$work_dir/smooth.cfg"
echo "label-smoothing = 0.1" >>"$work_dir/smooth.cfg"
if run --recipe "$work_dir/smooth.cfg" >"$work_dir/refused.txt" 2>&1; then
  fail "a recipe with label smoothing was accepted"
fi
grep -q "smooth.cfg: label-smoothing = 0.1, but the PyTorch peer implements only label-smoothing = 0" \
  "$work_dir/refused.txt" || fail "refusal message: $(cat "$work_dir/refused.txt")"
echo "time_to_accuracy_test: ok"
