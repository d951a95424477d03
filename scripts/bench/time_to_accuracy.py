#!/usr/bin/python3
"""Time to accuracy, convoy against PyTorch, on the Fashion-MNIST resnet20 recipe.

Runs `convoy train` (by default as the main job does: 2 MPI ranks x 1 thread) and
pytorch_time_to_accuracy.py (one process, 2 threads) with the same recipe, evaluating on the
test split after every epoch and stopping at the first epoch reaching --target. Rounds
alternate (convoy, PyTorch, convoy, ...) so machine noise hits both alike. Prints one JSON line
per run and a table: the wall time to the target, the epoch it was reached in, and the ratio.

Why it looks this way:
1. The PyTorch peer's hyperparameters are read from the recipe file itself, and a recipe field
   the peer does not implement is refused, so the two can never silently train different recipes.
2. Both clocks start when training starts (data already loaded) and include every evaluation;
   the whole command's wall time (process start, MPI start-up, data loading) is printed too.
3. A run that never reaches the target reports its last accuracy and no time: a missed target is
   a result, not an error.

  scripts/bench/time_to_accuracy.py                      # the real comparison, ~1 hour
  scripts/bench/time_to_accuracy.py --subset 2048 --test-subset 1000 --epochs 2 --target 0.5
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# What pytorch_time_to_accuracy.py implements, field by field of a convoy recipe: fields it
# takes as options, and fields it hard-codes (the recipe must hold exactly that value).
PEER_OPTIONS = {"epochs": "--epochs", "batch-size": "--batch", "lr": "--lr",
                "weight-decay": "--weight-decay", "warmup-epochs": "--warmup-epochs",
                "warmup-start-factor": "--warmup-start-factor", "min-lr": "--min-lr"}
PEER_FIXED = {"architecture": "resnet20", "variant": "cifar", "dataset": "fashion-mnist",
              "crop-padding": "2", "horizontal-flip": "true", "normalize-mean": "0.2860",
              "normalize-std": "0.3530", "optimizer": "sgd", "momentum": "0.9",
              "nesterov": "true", "schedule": "cosine", "no-decay-bias-norm": "false",
              "label-smoothing": "0", "clip-grad-norm": "0"}
PEER_IGNORED = {"log-every", "eval-every", "seed", "threads", "checkpoint-every",
                "keep-checkpoints", "progress"}
# convoy's RunConfig defaults for fields a recipe may leave out.
CONVOY_DEFAULTS = {"warmup-start-factor": "0.1", "min-lr": "0", "no-decay-bias-norm": "false",
                   "label-smoothing": "0", "clip-grad-norm": "0", "momentum": "0.9",
                   "nesterov": "false", "variant": "cifar"}


def read_recipe(path):
    fields = dict(CONVOY_DEFAULTS)
    with open(path) as file:
        for number, line in enumerate(file, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if "=" not in line:
                sys.exit(f"time_to_accuracy: {path}:{number}: expected 'key = value', got '{line}'")
            key, value = (part.strip() for part in line.split("=", 1))
            fields[key] = value
    return fields


def same_value(a, b):
    try:
        return float(a) == float(b)
    except ValueError:
        return a.lower() == b.lower()


def peer_arguments(recipe, path):
    arguments = []
    for key, value in recipe.items():
        if key in PEER_OPTIONS:
            arguments += [PEER_OPTIONS[key], value]
        elif key in PEER_FIXED:
            if not same_value(value, PEER_FIXED[key]):
                sys.exit(f"time_to_accuracy: {path}: {key} = {value}, but the PyTorch peer "
                         f"implements only {key} = {PEER_FIXED[key]}")
        elif key not in PEER_IGNORED:
            sys.exit(f"time_to_accuracy: {path}: the PyTorch peer does not implement '{key}'")
    return arguments


def overrides(args, epochs_flag, subset_flag, test_subset_flag):
    """This script's --epochs/--subset/--test-subset, in one framework's own flag names."""
    arguments = []
    for value, flag in ((args.epochs, epochs_flag), (args.subset, subset_flag),
                        (args.test_subset, test_subset_flag)):
        if value:
            arguments += [flag, str(value)]
    return arguments


def run_or_exit(command, environment, **options):
    """Runs a training command; its failure ends this script with one line (its own error
    message went to stderr already)."""
    result = subprocess.run(command, env=environment, check=False, **options)
    if result.returncode != 0:
        sys.exit(f"time_to_accuracy: {os.path.basename(command[0])} ... "
                 f"{' '.join(command[1:4])} ... failed with exit code {result.returncode}")
    return result


def run_convoy(args, recipe_path, run_dir):
    threads = max(1, args.cores // args.ranks)
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if os.geteuid() == 0:
        environment.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = ["mpirun", "-np", str(args.ranks), "--oversubscribe", "--bind-to", "none",
               "-x", "OMP_NUM_THREADS", args.convoy, "train", "--recipe", recipe_path,
               "--run-dir", run_dir, "--resume", "none", "--threads", str(threads),
               "--eval-every", "1", "--target-accuracy", str(args.target),
               "--precision", args.precision, "--progress", "lines", "--log-every", "1000",
               "--keep-checkpoints", "1",
               *overrides(args, "--epochs", "--train-samples", "--test-samples")]
    started = time.perf_counter()
    run_or_exit(command, environment, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    epochs = []
    with open(os.path.join(run_dir, "metrics.jsonl")) as file:
        for line in file:
            record = json.loads(line)
            if record.get("kind") == "eval":
                epochs.append({"epoch": record["epoch"], "seconds": record["seconds"],
                               "test_accuracy": record["accuracy"]})
    return epochs, wall


def run_pytorch(args, recipe, recipe_path):
    command = ["/usr/bin/python3", os.path.join(HERE, "pytorch_time_to_accuracy.py"),
               *peer_arguments(recipe, recipe_path), "--threads", str(args.cores),
               "--target-accuracy", str(args.target), "--precision", args.precision,
               *overrides(args, "--epochs", "--subset", "--test-subset")]
    environment = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.cores))
    started = time.perf_counter()
    output = run_or_exit(command, environment, stdout=subprocess.PIPE, text=True).stdout
    wall = time.perf_counter() - started
    epochs = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return epochs, wall


def summarize(framework, epochs, wall, target):
    reached = next((e for e in epochs if e["test_accuracy"] >= target), None)
    return {"framework": framework, "target": target,
            "seconds_to_target": reached["seconds"] if reached else None,
            "epoch_reached": reached["epoch"] if reached else None,
            "final_accuracy": epochs[-1]["test_accuracy"] if epochs else None,
            "epochs_run": len(epochs), "command_wall_seconds": wall,
            "accuracy_by_epoch": [round(e["test_accuracy"], 4) for e in epochs],
            "seconds_by_epoch": [round(e["seconds"], 1) for e in epochs]}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default=os.path.join(ROOT, "launcher/recipes/fashion-resnet20.cfg"))
    parser.add_argument("--target", type=float, default=0.925, help="test accuracy, 0..1")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--ranks", type=int, default=2, help="convoy MPI ranks")
    parser.add_argument("--cores", type=int, default=os.cpu_count(),
                        help="cores for each framework (convoy: split among its ranks)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--epochs", type=int, default=0, help="override the recipe's epochs")
    parser.add_argument("--subset", type=int, default=0, help="first N training images")
    parser.add_argument("--test-subset", type=int, default=0, help="first N test images")
    parser.add_argument("--convoy", default=os.environ.get("CONVOY_BIN",
                                                           os.path.join(ROOT, "build/convoy")))
    args = parser.parse_args()
    if not 0 < args.target <= 1:
        parser.error(f"--target is a fraction in (0, 1], got {args.target}")
    if not os.access(args.convoy, os.X_OK):
        parser.error(f"no convoy executable at {args.convoy} (build it, or pass --convoy)")
    recipe = read_recipe(args.recipe)
    peer_arguments(recipe, args.recipe)  # refuse a recipe the peer cannot follow before running

    results = {"convoy": [], "pytorch": []}
    scratch = tempfile.mkdtemp(prefix="convoy-time-to-accuracy-")
    try:
        for round_index in range(args.rounds):
            run_dir = os.path.join(scratch, f"round{round_index}")
            convoy = summarize(f"convoy {args.ranks}x{max(1, args.cores // args.ranks)}",
                               *run_convoy(args, args.recipe, run_dir), args.target)
            print(json.dumps(convoy), flush=True)
            pytorch = summarize(f"pytorch 1x{args.cores}",
                                *run_pytorch(args, recipe, args.recipe), args.target)
            print(json.dumps(pytorch), flush=True)
            results["convoy"].append(convoy)
            results["pytorch"].append(pytorch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median_seconds(runs):
        times = [r["seconds_to_target"] for r in runs]
        return statistics.median(times) if all(t is not None for t in times) else None

    print(f"\ntarget {100 * args.target:.2f} % test accuracy, {args.precision}, "
          f"medians of {args.rounds} round(s)")
    print(f"{'':14} {'seconds to target':>17} {'epoch':>6} {'final acc':>9} {'command s':>10}")
    for name, runs in results.items():
        seconds = median_seconds(runs)
        epoch = runs[-1]["epoch_reached"]
        print(f"{runs[-1]['framework']:14} "
              f"{('%.1f' % seconds) if seconds is not None else 'not reached':>17} "
              f"{('%.3g' % epoch) if epoch is not None else '-':>6} "
              f"{100 * runs[-1]['final_accuracy']:8.2f}% "
              f"{statistics.median(r['command_wall_seconds'] for r in runs):10.1f}")
    convoy_seconds, pytorch_seconds = median_seconds(results["convoy"]), median_seconds(results["pytorch"])
    if convoy_seconds is not None and pytorch_seconds is not None:
        print(f"PyTorch / convoy time to target: {pytorch_seconds / convoy_seconds:.2f}x")


if __name__ == "__main__":
    main()
