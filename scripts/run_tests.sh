#!/usr/bin/env bash
# The whole test suite, set-up included: installs the Debian packages, configures and builds
# the release preset, and runs every test through CTest (single-process tests, MPI tests on
# 1, 2 and 4 ranks, the real-Slurm test, the PyTorch interoperability test).
# Usage: bash scripts/run_tests.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release -G Ninja >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release -j "$(nproc)" "$@"
