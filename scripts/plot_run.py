#!/usr/bin/python3
"""Plot a convoy run's loss, accuracy, learning rate and speed as one PNG.

  plot_run.py RUN_DIR [--output PATH]      (default RUN_DIR/run.png)

Reads RUN_DIR/metrics.jsonl: the {"kind": "train"} records (step, epoch, lr, loss, accuracy on
the training batch, images_per_second; every --log-every steps) and the {"kind": "eval"}
records (step, loss, accuracy = top-1, top5 on the test split). Uses Debian's
python3-matplotlib with the Agg backend (no display needed).
"""
import math
import os
import sys

import matplotlib

import metrics_records

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


# The keys each drawn series needs, so a record without one is named instead of misaligning the
# series.
REQUIRED = {"train": ["step", "lr", "loss", "accuracy", "images_per_second"],
            "eval": ["step", "loss", "accuracy"]}


def number(value):
    return math.nan if value is None else float(value)


def read_records(path):
    """{kind: {key: [values]}} for the train and eval records, in file order."""
    series = {"train": {}, "eval": {}}
    for record in metrics_records.records(path, "plot_run.py", REQUIRED):
        kind = record.get("kind")
        if kind not in series:
            continue
        for key, value in record.items():
            if key != "kind" and (value is None or isinstance(value, (int, float))):
                series[kind].setdefault(key, []).append(number(value))
    return series


def main():
    path, output = metrics_records.run_arguments(__doc__.splitlines()[0], "plot_run.py", "run.png")
    series = read_records(path)
    train, evaluation = series["train"], series["eval"]
    if not train.get("step"):
        sys.exit(f"plot_run.py: {path} has no training records (kind \"train\")")

    figure, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    loss, accuracy, learning_rate, speed = axes.flat
    loss.plot(train["step"], train["loss"], linewidth=1, label="train (batch)")
    accuracy.plot(train["step"], [100 * a for a in train["accuracy"]], linewidth=1,
                  label="train (batch)")
    if evaluation.get("step"):
        loss.plot(evaluation["step"], evaluation["loss"], "o-", label="eval")
        accuracy.plot(evaluation["step"], [100 * a for a in evaluation["accuracy"]], "o-",
                      label="eval top-1")
        if "top5" in evaluation:
            accuracy.plot(evaluation["step"], [100 * a for a in evaluation["top5"]], "s--",
                          label="eval top-5")
    all_losses = train["loss"] + evaluation.get("loss", [])
    positive_losses = [v for v in all_losses if v > 0 and math.isfinite(v)]
    if positive_losses and max(positive_losses) / min(positive_losses) > 100:
        loss.set_yscale("log")
    learning_rate.plot(train["step"], train["lr"], linewidth=1)
    # Images/s is 0 until the first measurement window closes: leave those points out.
    measured = [(s, v) for s, v in zip(train["step"], train["images_per_second"]) if v > 0]
    if measured:
        speed.plot([s for s, _ in measured], [v for _, v in measured], linewidth=1, marker="o",
                   markersize=3)
    for axis, title in [(loss, "loss"), (accuracy, "accuracy (%)"),
                        (learning_rate, "learning rate"), (speed, "images / s (all ranks)")]:
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(True, alpha=0.3)
    loss.legend()
    accuracy.legend()
    figure.suptitle(f"run {os.path.abspath(os.path.dirname(path))}")
    figure.savefig(output, dpi=100)
    print(f"plot_run.py: wrote {output}")


if __name__ == "__main__":
    main()
