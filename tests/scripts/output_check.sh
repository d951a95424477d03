# Sourced by the script tests that check one command's output: `out` is a temporary file for it,
# removed on exit, and `fail WHAT` prints "NAME: FAIL WHAT" with the output and exits 1.
#
#   test_name=compare_options_test; source "$(dirname "$0")/output_check.sh"
out="$(mktemp "/tmp/convoy-${test_name}.XXXXXX")"
trap 'rm -f "$out"' EXIT
fail() {
  echo "$test_name: FAIL $*"
  cat "$out"
  exit 1
}
