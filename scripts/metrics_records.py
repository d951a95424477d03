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
