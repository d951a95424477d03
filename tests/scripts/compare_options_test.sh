#!/usr/bin/env bash
# Tests scripts/bench/compare_options.py on a tiny bench: both sides run in A B B A order, the
# summary gives the paired ratio and the layers whose implementation differs with their times,
# and a side whose bench fails stops the script with convoy's message.
#
#   tests/scripts/compare_options_test.sh CONVOY_BINARY
set -euo pipefail

repo_dir="$(cd "$(dirname "$0")/../.." && pwd)"
convoy="$1"
test_name=compare_options_test
source "$(dirname "$0")/output_check.sh"
bench="--recipe fashion-resnet20 --batch 4 --steps 1 --warmup 1 --input 1x12x12 --threads 1"
/usr/bin/python3 "$repo_dir/scripts/bench/compare_options.py" --convoy "$convoy" --rounds 2 \
  --bench "$bench" --a "--im2col-matmul always" --b "--im2col-matmul never" >"$out" 2>&1 ||
  fail "run"
[ "$(grep '^{' "$out" | sed 's/.*"side": "\([AB]\)".*/\1/' | tr -d '\n')" = ABBA ] || fail "order"
grep -q '^images/s: A [0-9.]*, B [0-9.]*; A/B paired median [0-9.]* (spread' "$out" || fail "summary"
# Every convolution differs (im2col against the primitives); BatchNorm, pooling and fc do not.
grep -q '^conv1 .*im2col matmul (.*); jit' "$out" || fail "conv1 row"
grep -q '^layer3.2.conv2 ' "$out" || fail "layer3.2.conv2 row"
grep -q '^bn1 ' "$out" && fail "bn1 listed although it runs the same implementation"
grep -q '^these layers ' "$out" || fail "total"

if /usr/bin/python3 "$repo_dir/scripts/bench/compare_options.py" --convoy "$convoy" --rounds 1 \
  --bench "$bench" --a "--im2col-matmul sometimes" --b "" >"$out" 2>&1; then
  fail "a failing bench did not fail the script"
fi
grep -q -- "--im2col-matmul sometimes: expected auto, always or never" "$out" || fail "message"
echo "compare_options_test: ok"
