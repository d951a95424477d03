"""Reading a convoy run's metrics.jsonl (one JSON object per line), shared by the plot scripts."""
import sys


def records(path, program, required=None):
    """The records of the file in order, as a list. convoy writes a record and its newline at once,
    so a last line without its newline that is not JSON is a write cut short (the run was killed):
    it is skipped with a warning. Any other line that is not a JSON object, or a record of a kind
    in `required` ({kind: [keys]}) that lacks one of those keys, ends `program` with the file and
    line named. Each run writes a {"kind": "start", "step": N} record; a resumed run redoes the
    steps its predecessor took past the checkpoint, so a start record drops the earlier records of
    steps after N (as TensorBoard's purge_step does) and every step is drawn once."""
    import json

    # Bytes that are not UTF-8 (a damaged file) become U+FFFD and fail as "not JSON" below.
    with open(path, encoding="utf-8", errors="replace") as file:
        lines = file.readlines()
    kept = []
    for line_number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{program}: {path}:{line_number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            if line_number == len(lines) and not line.endswith("\n"):
                print(f"{where}: warning: skipping the last line, cut short ({error}); the run "
                      "was probably killed while writing it", file=sys.stderr)
                break
            sys.exit(f"{where}: not JSON ({error})")
        if not isinstance(record, dict):
            sys.exit(f"{where}: not a JSON object but {type(record).__name__} {line.strip()[:40]}")
        kind = record.get("kind")
        if not isinstance(kind, (str, type(None))):
            sys.exit(f"{where}: \"kind\" is {json.dumps(kind)[:40]}, not a string")
        needed = (required or {}).get(kind, [])
        missing = [key for key in needed if key not in record]
        if missing:
            sys.exit(f"{where}: a \"{kind}\" record without {', '.join(missing)}")
        if kind == "start":
            start = record.get("step")
            if not isinstance(start, int) or isinstance(start, bool):
                sys.exit(f"{where}: a \"start\" record needs an integer \"step\"")
            kept = [r for r in kept if not isinstance(r.get("step"), int) or r["step"] <= start]
        kept.append(record)
    return kept


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
