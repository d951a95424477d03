#!/usr/bin/env bash
# convoy vs PyTorch (Debian's python3-torch, same oneDNN 2.6.3) on the same architecture,
# batch, input and thread count, run alternately (convoy, PyTorch, convoy, ...) so machine
# noise hits both alike; prints one JSON line per run and a summary: the ratio of the medians,
# the median of each round's own ratio (paired) and the spread of those, and the median of each
# round's ratio of fastest steps (best: the step a shared machine disturbed least).
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
convoy=${CONVOY_BIN:-build/convoy}
out=$(mktemp -d)
export OPENBLAS_NUM_THREADS=$threads
for row in "${rows[@]}"; do
  IFS=: read -r architecture variant batch input precision <<<"$row"
  for round in $(seq "$rounds"); do
    "$convoy" bench --architecture "$architecture" --variant "$variant" --batch "$batch" \
      --input "$input" --classes 10 --threads "$threads" --steps "$steps" --precision "$precision" \
      --json --no-peak | tee -a "$out/convoy-${row//[:x]/_}.jsonl"
    /usr/bin/python3 scripts/bench/pytorch_peer.py --model "$architecture" --variant "$variant" \
      --batch "$batch" --input "$input" --classes 10 --threads "$threads" --steps "$steps" \
      --precision "$precision" | tee -a "$out/pytorch-${row//[:x]/_}.jsonl"
  done
done
/usr/bin/python3 - "$out" "${rows[@]}" <<'PY'
import json, statistics, sys
out, rows = sys.argv[1], sys.argv[2:]
print(f"{'row':40} {'convoy img/s':>12} {'PyTorch img/s':>13} {'ratio':>6} {'paired':>6} "
      f"{'spread':>11} {'best':>5} {'convoy MB':>9} {'PyTorch MB':>10}")
for row in rows:
    key = row.replace(":", "_").replace("x", "_")
    c = [json.loads(l) for l in open(f"{out}/convoy-{key}.jsonl")]
    p = [json.loads(l) for l in open(f"{out}/pytorch-{key}.jsonl")]
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
          f"{spread:>11} {best:5.2f} {cm:9.0f} {pm:10.0f}")
PY
