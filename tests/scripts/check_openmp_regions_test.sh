#!/usr/bin/env bash
# Tests scripts/check_openmp_regions.py: the kernels pass, and a file that puts a parallel loop
# in an always-inlined helper of a target_clones function (the pattern that left the batched
# Winograd's filter transforms on SSE2) fails, naming the file, line and helper; the same region
# moved into the cloned function passes.
#
#   tests/scripts/check_openmp_regions_test.sh
set -euo pipefail

repo_dir="$(cd "$(dirname "$0")/../.." && pwd)"
test_name=check_openmp_regions_test
source "$(dirname "$0")/output_check.sh"
check="$repo_dir/scripts/check_openmp_regions.py"
/usr/bin/python3 "$check" >"$out" 2>&1 || fail "the kernels"
grep -q '^0 misplaced OpenMP regions in [1-9][0-9]* files with per-target clones$' "$out" ||
  fail "the kernels' summary"

fixture="$(mktemp -d "/tmp/convoy-${test_name}.XXXXXX")"
trap 'rm -rf "$fixture" "$out"' EXIT
cat >"$fixture/helper.cpp" <<'CPP'
[[gnu::always_inline]] inline void scale_all(float* values, long count) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < count; ++i) values[i] *= 2;
}

__attribute__((target_clones("avx2", "default"))) static void scale(float* values, long count) {
  scale_all(values, count);
}
CPP
cat >"$fixture/cloned.cpp" <<'CPP'
[[gnu::always_inline]] inline void scale_one(float* values, long i) { values[i] *= 2; }

__attribute__((target_clones("avx2", "default"))) static void scale(float* values, long count) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < count; ++i) scale_one(values, i);
}
CPP
if /usr/bin/python3 "$check" "$fixture/helper.cpp" >"$out" 2>&1; then
  fail "a region in an always-inlined helper passed"
fi
grep -q "helper.cpp:2: an OpenMP parallel region outside a function with a target attribute (in: \[\[gnu::always_inline\]\] inline void scale_all" "$out" ||
  fail "the message"
/usr/bin/python3 "$check" "$fixture/cloned.cpp" >"$out" 2>&1 || fail "the region in the cloned function"
echo "check_openmp_regions_test: ok"
