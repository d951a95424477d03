#!/usr/bin/env bash
# convoy vs PyTorch (Debian's python3-torch, same oneDNN 2.6.3) on the same architecture,
# batch, input and thread count, run alternately (convoy, PyTorch, convoy, ...) so machine
# noise hits both alike; prints one JSON line per run and a summary: the ratio of the medians,
# the median of each round's own ratio (paired) and the spread of those, and the median of each
# round's ratio of fastest steps (best: the step a shared machine disturbed least).
# The peer runs in both of PyTorch's memory formats each round (NCHW and channels-last; which is
# faster depends on the machine, model and precision) and the faster counts, so convoy is
# compared with the strongest PyTorch here; CONVOY_PEER_FORMATS="nchw" (or "channels-last")
# runs one.
#
#   scripts/bench/compare_with_pytorch.sh [ROUNDS] [ROWS...]
#   a row is ARCHITECTURE:VARIANT:BATCH:CxHxW:PRECISION, default: the README table rows
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
shift || true
rows=("$@")
if [ ${#rows[@]} -eq 0 ]; then
  rows=(resnet20:cifar:128:3x32x32:fp32 resnet18:cifar:128:3x32x32:fp32
        vgg11_bn:cifar:128:3x32x32:fp32 resnet50:imagenet:32:3x224x224:fp32)
fi
threads=${CONVOY_BENCH_THREADS:-2}
steps=${CONVOY_BENCH_STEPS:-10}
read -r -a formats <<<"${CONVOY_PEER_FORMATS:-nchw channels-last}"
for format in "${formats[@]}"; do
  case $format in
    nchw | channels-last) ;;
    *) echo "CONVOY_PEER_FORMATS: expected nchw and/or channels-last, got '$format'" >&2; exit 2 ;;
  esac
done
convoy=${CONVOY_BIN:-build/convoy}
out=$(mktemp -d)
export OPENBLAS_NUM_THREADS=$threads
for row in "${rows[@]}"; do
  IFS=: read -r architecture variant batch input precision <<<"$row"
  for round in $(seq "$rounds"); do
    "$convoy" bench --architecture "$architecture" --variant "$variant" --batch "$batch" \
      --input "$input" --classes 10 --threads "$threads" --steps "$steps" --precision "$precision" \
      --json --no-peak | tee -a "$out/convoy-${row//[:x]/_}.jsonl"
    for format in "${formats[@]}"; do
      layout=()
      [ "$format" = channels-last ] && layout=(--channels-last)
      /usr/bin/python3 scripts/bench/pytorch_peer.py --model "$architecture" --variant "$variant" \
        --batch "$batch" --input "$input" --classes 10 --threads "$threads" --steps "$steps" \
        --precision "$precision" "${layout[@]}" | tee -a "$out/pytorch-${row//[:x]/_}-$format.jsonl"
    done
  done
done
/usr/bin/python3 - "$out" "${formats[*]}" "${rows[@]}" <<'PY'
import json, statistics, sys
out, formats, rows = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
print(f"{'row':40} {'convoy img/s':>12} {'PyTorch img/s':>13} {'ratio':>6} {'paired':>6} "
      f"{'spread':>11} {'best':>5} {'convoy MB':>9} {'PyTorch MB':>10}  PyTorch's faster format")
for row in rows:
    key = row.replace(":", "_").replace("x", "_")
    c = [json.loads(l) for l in open(f"{out}/convoy-{key}.jsonl")]
    by_format = [[json.loads(l) for l in open(f"{out}/pytorch-{key}-{f}.jsonl")] for f in formats]
    # Each round, the peer's faster memory format and its run.
    faster, p = zip(*(max(zip(formats, runs), key=lambda fr: fr[1]["images_per_second"])
                      for runs in zip(*by_format)))
    ci = statistics.median(x["images_per_second"] for x in c)
    pi = statistics.median(x["images_per_second"] for x in p)
    # Each round's two runs are neighbours in time, so their ratio cancels the slow drifts of a
    # shared machine's speed that the ratio of the two medians still carries.
    paired = [a["images_per_second"] / b["images_per_second"] for a, b in zip(c, p)]
    spread = f"{min(paired):.2f}-{max(paired):.2f}"
    best = statistics.median(b["ms_per_step_min"] / a["ms_per_step_min"] for a, b in zip(c, p))
    cm = statistics.median(x["peak_rss_mb"] for x in c)
    pm = statistics.median(x.get("peak_rss_mb", 0) for x in p)
    print(f"{row:40} {ci:12.1f} {pi:13.1f} {ci/pi:6.2f} {statistics.median(paired):6.2f} "
          f"{spread:>11} {best:5.2f} {cm:9.0f} {pm:10.0f}  "
          + ", ".join(f"{f} {faster.count(f)}/{len(faster)}" for f in formats))
PY
