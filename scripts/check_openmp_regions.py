#!/usr/bin/env python3
"""Checks that every OpenMP parallel region in a kernel file with per-target clones sits in a
function that carries the target attribute itself.

Why: convoy compiles its hot hand-written loops once per ISA (`target_clones("avx2", ...)`,
`target("arch=x86-64-v4")`) and keeps the helpers they call always-inlined. GCC outlines an
OpenMP parallel region *before* it inlines, so a `#pragma omp parallel` inside an always-inlined
helper becomes one outlined function compiled for the baseline target (SSE2) only, whichever
clone calls it: the results stay the same, the vector code silently does not run. The batched
Winograd's filter transforms ran so for seven sessions. `nm -C build/convoy | grep _omp_fn`
shows the clones of each region; this check catches the mistake in the source.

  scripts/check_openmp_regions.py [FILE.cpp ...]   # default: framework/kernels/*.cpp

Prints each offending region as FILE:LINE with the function it sits in; exits 1 if any.
"""

import pathlib
import re
import sys

TARGET_ATTRIBUTE = re.compile(r"__attribute__\(\(target(_clones)?\(")
PARALLEL_PRAGMA = re.compile(r"^\s*#pragma omp parallel\b")


def function_head(lines, pragma_index):
    """The source between the end of the previous top-level definition and the pragma: the
    enclosing top-level function's head and the body up to the pragma (the code style puts a
    definition's closing brace at column 0)."""
    start = pragma_index
    while start > 0 and not lines[start - 1].startswith("}"):
        start -= 1
    return lines[start:pragma_index]


def offending_regions(path):
    lines = path.read_text().splitlines()
    if not any(TARGET_ATTRIBUTE.search(line) for line in lines):
        return []  # no per-target clones in this file: its regions are meant for the baseline
    found = []
    for index, line in enumerate(lines):
        if not PARALLEL_PRAGMA.match(line):
            continue
        head = function_head(lines, index)
        if not any(TARGET_ATTRIBUTE.search(text) for text in head):
            name = next((text.strip() for text in head
                         if text and not text.startswith((" ", "/", "#", "template"))), "?")
            found.append(f"{path}:{index + 1}: an OpenMP parallel region outside a function with a "
                         f"target attribute (in: {name}); move the parallel loop into the "
                         "target_clones function")
    return found


def main(arguments):
    root = pathlib.Path(__file__).resolve().parent.parent
    files = [pathlib.Path(a) for a in arguments] or sorted(
        (root / "framework" / "kernels").glob("*.cpp"))
    problems = [problem for path in files for problem in offending_regions(path)]
    for problem in problems:
        print(problem)
    checked = sum(1 for path in files if TARGET_ATTRIBUTE.search(path.read_text()))
    print(f"{len(problems)} misplaced OpenMP regions in {checked} files with per-target clones")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
