#!/usr/bin/env python3
"""convoy against itself: the same `convoy bench` run with two sets of options, alternated in
A B B A order so that a shared machine's drifts hit both alike.

Prints each run's JSON line, then the median images/s of each side, the median of the rounds'
own ratios A/B (paired: each round's two runs are neighbours in time) and their spread, and for
every layer whose implementation differs between the sides (or, with --layers, the named ones)
its median forward + backward milliseconds on each side.

  scripts/bench/compare_options.py --rounds 3 \\
      --bench "--architecture resnet18 --variant cifar --batch 128 --input 3x32x32 --threads 2" \\
      --a "--im2col-matmul auto" --b "--im2col-matmul never"
"""
import argparse
import json
import shlex
import statistics
import subprocess
import sys


def bench(convoy, arguments):
    command = [convoy, "bench", *arguments, "--json", "--no-peak"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compare_options: {' '.join(command)} failed ({result.returncode}):\n"
                 f"{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def layer_ms(report):
    return {row["name"]: row["forward_ms"] + row["backward_ms"] for row in report["layers"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--convoy", default="build/convoy")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bench", required=True, help="convoy bench options both sides share")
    parser.add_argument("--a", required=True, help="options of side A")
    parser.add_argument("--b", required=True, help="options of side B")
    parser.add_argument("--layers", default="", help="comma-separated layers to report")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    shared = shlex.split(args.bench)
    sides = {"A": shared + shlex.split(args.a), "B": shared + shlex.split(args.b)}
    runs = {"A": [], "B": []}
    for round_index in range(args.rounds):
        for side in ("A", "B") if round_index % 2 == 0 else ("B", "A"):
            report = bench(args.convoy, sides[side])
            runs[side].append(report)
            print(json.dumps({"side": side, "round": round_index + 1, **report}), flush=True)

    images = {side: [r["images_per_second"] for r in runs[side]] for side in runs}
    paired = [a / b for a, b in zip(images["A"], images["B"])]
    print(f"A: {args.a}\nB: {args.b}")
    print(f"images/s: A {statistics.median(images['A']):.1f}, B {statistics.median(images['B']):.1f}"
          f"; A/B paired median {statistics.median(paired):.3f} "
          f"(spread {min(paired):.3f}-{max(paired):.3f}, {args.rounds} rounds)")

    implementations = {
        side: {row["name"]: row["implementation"] for row in runs[side][0]["layers"]}
        for side in runs}
    if args.layers:
        names = args.layers.split(",")
    else:
        names = [name for name in implementations["A"]
                 if implementations["A"][name] != implementations["B"].get(name)]
    if not names:
        print("no layer runs another implementation on the two sides")
        return
    total = {"A": 0.0, "B": 0.0}
    print(f"{'layer':28} {'A ms':>9} {'B ms':>9} {'A/B':>6}  implementations (A; B)")
    for name in names:
        medians = {}
        for side in runs:
            times = [layer_ms(report).get(name) for report in runs[side]]
            if None in times:
                sys.exit(f"compare_options: no layer {name} in the {side} runs")
            medians[side] = statistics.median(times)
            total[side] += medians[side]
        print(f"{name:28} {medians['A']:9.2f} {medians['B']:9.2f} "
              f"{medians['A'] / medians['B']:6.3f}  {implementations['A'].get(name)}; "
              f"{implementations['B'].get(name)}")
    print(f"{'these layers':28} {total['A']:9.2f} {total['B']:9.2f} {total['A'] / total['B']:6.3f}")


if __name__ == "__main__":
    main()
