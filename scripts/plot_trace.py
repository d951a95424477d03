#!/usr/bin/python3
"""Draw a `convoy bench --trace` or `convoy train --trace` file as one PNG: a row per rank and
lane, time across.

  plot_trace.py TRACE.json [--output PATH] [--step K]   (default TRACE.png, the last step)

Forward spans are blue, backward orange, each gradient bucket's allreduce green (on its own
row, so its overlap with backward shows), the wait for the allreduce red, the optimizer grey,
the wait for the next batch (train) purple. Times are milliseconds from the start of the chosen step on rank 0. Uses Debian's
python3-matplotlib with the Agg backend (no display needed).
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

COLOURS = {"forward": "tab:blue", "backward": "tab:orange", "allreduce": "tab:green",
           "allreduce wait": "tab:red", "optimizer": "tab:grey", "data wait": "tab:purple",
           "evaluation": "tab:brown", "checkpoint": "tab:pink"}


def kind_of(span):
    name = span["name"]
    if span.get("cat") == "allreduce":
        return "allreduce"
    for kind in ("allreduce wait", "optimizer", "data wait", "evaluation", "checkpoint"):
        if name == kind:
            return kind
    return "backward" if name.endswith(" backward") else "forward"


def read_trace(path):
    """(spans, step spans, lane names) from a Chrome trace written by convoy bench --trace."""
    try:
        with open(path) as file:
            events = json.load(file)["traceEvents"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        sys.exit(f"plot_trace.py: {path}: not a convoy --trace file ({error})")
    lanes = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    spans = [e for e in events if e.get("ph") == "X" and e["name"] != "step"]
    steps = [e for e in events if e.get("ph") == "X" and e["name"] == "step"]
    if not steps:
        sys.exit(f"plot_trace.py: {path} has no step spans")
    return spans, steps, lanes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--output", help="PNG to write (default: the trace's name with .png)")
    parser.add_argument("--step", type=int, default=-1,
                        help="which timed step to draw, 0-based (default: the last)")
    args = parser.parse_args()
    spans, steps, lanes = read_trace(args.trace)
    rank0_steps = sorted((s for s in steps if s["pid"] == 0), key=lambda s: s["ts"])
    try:
        window = rank0_steps[args.step]
    except IndexError:
        sys.exit(f"plot_trace.py: --step {args.step}: the trace has {len(rank0_steps)} steps")
    begin = window["ts"]
    # Every rank's step that overlaps rank 0's chosen one (ranks start each step together).
    end = max(s["ts"] + s["dur"] for s in steps if s["ts"] < window["ts"] + window["dur"]
              and s["ts"] + s["dur"] > begin)
    shown = [s for s in spans if s["ts"] + s["dur"] > begin and s["ts"] < end]
    rows = sorted({(s["pid"], s["tid"]) for s in shown})
    figure, axes = plt.subplots(figsize=(12, 0.8 + 0.6 * len(rows)))
    for row, key in enumerate(rows):
        for kind, colour in COLOURS.items():
            bars = [((s["ts"] - begin) / 1e3, s["dur"] / 1e3) for s in shown
                    if (s["pid"], s["tid"]) == key and kind_of(s) == kind]
            if bars:
                axes.broken_barh(bars, (row - 0.4, 0.8), facecolors=colour, edgecolor="white",
                                 linewidth=0.3)
    axes.set_yticks(range(len(rows)))
    axes.set_yticklabels([f"rank {pid} {lanes.get((pid, tid), tid)}" for pid, tid in rows])
    axes.invert_yaxis()
    axes.set_xlabel("ms since the step began on rank 0")
    axes.set_xlim(0, (end - begin) / 1e3)
    present = {kind_of(s) for s in shown}
    handles = [matplotlib.patches.Patch(color=c, label=k) for k, c in COLOURS.items() if k in present]
    axes.legend(handles=handles, loc="upper center",
                bbox_to_anchor=(0.5, -0.35 if len(rows) < 4 else -0.2), ncol=len(handles),
                frameon=False)
    axes.set_title(f"{os.path.basename(args.trace)}: recorded step {rank0_steps.index(window) + 1} "
                   f"of {len(rank0_steps)}")
    figure.tight_layout()
    output = args.output or os.path.splitext(args.trace)[0] + ".png"
    figure.savefig(output, dpi=110)
    print(output)


if __name__ == "__main__":
    main()
