#!/usr/bin/python3
"""Plot the training-health records of a convoy run as one PNG.

  plot_health.py RUN_DIR [--output PATH]      (default RUN_DIR/health.png)

Reads the {"kind": "health"} lines that `convoy train --health-every N` appends to
RUN_DIR/metrics.jsonl and draws, per layer over the training steps: gradient norm, weight norm,
update-to-weight ratio (with the healthy band around 1e-3), activation standard deviation,
fraction of dead ReLU channels and mean |correlation| between channels. Lines are coloured by
depth (dark: near the input, light: near the output). `convoy health RUN_DIR` runs this script.
Uses Debian's python3-matplotlib with the Agg backend (no display needed).
"""
import json
import math
import os
import sys

import matplotlib

import metrics_records

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

# (record key, panel title, log scale)
PANELS = [
    ("grad_norm", "gradient norm", True),
    ("weight_norm", "weight norm", False),
    ("update_ratio", "update / weight ratio ||dw|| / ||w||", True),
    ("activation_std", "activation standard deviation", False),
    ("dead_fraction", "dead ReLU channels (fraction)", False),
    ("mean_abs_correlation", "mean |r| between channels", False),
]


def read_health(path):
    """Per layer (in network order): {key: ([steps], [values])}; null becomes NaN."""
    layers = {}
    records = 0
    for record in metrics_records.records(path, "plot_health.py", {"health": ["step", "layers"]}):
        if record.get("kind") != "health":
            continue
        records += 1
        for entry in record["layers"] if isinstance(record["layers"], list) else [None]:
            if not isinstance(entry, dict) or "name" not in entry:
                sys.exit(f"plot_health.py: {path}: the health record of step {record['step']} has "
                         f"a layer entry without a name: {json.dumps(entry)[:60]}")
            series = layers.setdefault(entry["name"], {})
            for key, _, _ in PANELS:
                if key in entry:
                    steps, values = series.setdefault(key, ([], []))
                    steps.append(record["step"])
                    value = entry[key]
                    values.append(math.nan if value is None else float(value))
    return layers, records


def main():
    path, output = metrics_records.run_arguments(__doc__.splitlines()[0], "plot_health.py", "health.png")
    layers, records = read_health(path)
    if records == 0:
        sys.exit(f"plot_health.py: {path} has no health records: train with --health-every N")

    names = list(layers)
    colours = plt.get_cmap("viridis")
    figure, axes = plt.subplots(2, 3, figsize=(16, 9), constrained_layout=True)
    for axis, (key, title, log_scale) in zip(axes.flat, PANELS):
        drawn = 0
        for depth, name in enumerate(names):
            if key not in layers[name]:
                continue
            steps, values = layers[name][key]
            colour = colours(depth / max(1, len(names) - 1))
            axis.plot(steps, values, color=colour, linewidth=1, label=name,
                      marker="o" if len(steps) == 1 else None, markersize=3)
            drawn += 1
        if key == "update_ratio":
            axis.axhspan(1e-5, 1e-1, color="green", alpha=0.06, label="flag outside")
            axis.axhline(1e-3, color="green", linestyle="--", linewidth=1, label="1e-3")
        if key == "dead_fraction":
            axis.axhline(0.5, color="red", linestyle="--", linewidth=1, label="flag above")
        if key == "mean_abs_correlation":
            axis.axhline(0.8, color="red", linestyle="--", linewidth=1, label="flag above")
        if log_scale and drawn:
            axis.set_yscale("log")
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(True, alpha=0.3)
        if 0 < drawn <= 8:
            axis.legend(fontsize=7)
        if drawn == 0:
            axis.text(0.5, 0.5, "no data", ha="center", va="center", transform=axis.transAxes)
    mappable = plt.cm.ScalarMappable(cmap=colours, norm=plt.Normalize(0, max(1, len(names) - 1)))
    bar = figure.colorbar(mappable, ax=axes, shrink=0.6)
    bar.set_label(f"layer depth: 0 = {names[0]}, {len(names) - 1} = {names[-1]}")
    figure.suptitle(f"training health of {os.path.abspath(os.path.dirname(path))} ({records} records)")
    figure.savefig(output, dpi=100)
    print(f"plot_health.py: wrote {output}")


if __name__ == "__main__":
    main()
