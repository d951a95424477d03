"""Reading a convoy run's metrics.jsonl (one JSON object per line), shared by the plot scripts."""
import sys


def records(path, program):
    """Yields every record of the file in order; a line that is not JSON ends `program` with the
    file and line named."""
    import json

    with open(path) as file:
        for line_number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                sys.exit(f"{program}: {path}:{line_number}: not JSON ({error})")


def run_arguments(description, program, default_png):
    """The plot scripts' command line, RUN_DIR [--output PATH]: returns (metrics.jsonl path,
    PNG path); ends `program` with a message when RUN_DIR has no metrics.jsonl."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("run_dir")
    parser.add_argument("--output", help=f"PNG to write (default RUN_DIR/{default_png})")
    args = parser.parse_args()
    path = os.path.join(args.run_dir, "metrics.jsonl")
    if not os.path.isfile(path):
        sys.exit(f"{program}: no {path}")
    return path, args.output or os.path.join(args.run_dir, default_png)
