#!/usr/bin/env bash
# Tests scripts/bench/compare_with_pytorch.sh on one tiny row: convoy and the PyTorch peer each
# print their JSON lines, the peer once per memory format, and the summary gives the ratios with
# the peer's faster format per round; a bad CONVOY_PEER_FORMATS is refused by name.
#
#   tests/scripts/compare_with_pytorch_test.sh CONVOY_BINARY
set -euo pipefail

repo_dir="$(cd "$(dirname "$0")/../.." && pwd)"
convoy="$1"
test_name=compare_with_pytorch_test
source "$(dirname "$0")/output_check.sh"
row=resnet20:cifar:4:3x16x16:fp32
CONVOY_BIN="$convoy" CONVOY_BENCH_STEPS=1 CONVOY_BENCH_THREADS=1 \
  bash "$repo_dir/scripts/bench/compare_with_pytorch.sh" 1 "$row" >"$out" 2>&1 || fail "run"
[ "$(grep -c '"framework": "pytorch"' "$out")" = 2 ] || fail "the peer did not run twice"
grep -q '"channels_last": true' "$out" || fail "no channels-last run"
grep -q '"channels_last": false' "$out" || fail "no NCHW run"
grep -q '"architecture":"resnet20"' "$out" || fail "no convoy run"
grep -Eq "^$row +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ .*(nchw|channels-last) 1/1" "$out" ||
  fail "summary"

if CONVOY_BIN="$convoy" CONVOY_PEER_FORMATS="nhwc" \
  bash "$repo_dir/scripts/bench/compare_with_pytorch.sh" 1 "$row" >"$out" 2>&1; then
  fail "a bad format was accepted"
fi
grep -q "CONVOY_PEER_FORMATS: expected nchw and/or channels-last, got 'nhwc'" "$out" ||
  fail "message"
echo "compare_with_pytorch_test: ok"
