#!/usr/bin/env bash
# Data parallel on one 2-core node: the same global batch as np=1 x 2 threads and as
# np=2 x 1 thread (default 25 MB bucket and a small one), run alternately so machine noise hits
# every configuration alike; then the allreduce against its bandwidth bound on the same link.
# Prints one JSON line per run and a table of medians.
#
#   scripts/bench/data_parallel.sh [ROUNDS] [RECIPE] [BATCH]    (default 5 fashion-resnet20 128)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
recipe=${2:-fashion-resnet20}
batch=${3:-128}
steps=${CONVOY_BENCH_STEPS:-20}
convoy=${CONVOY_BIN:-build/convoy}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun --oversubscribe --bind-to none -x OMP_NUM_THREADS)
out=$(mktemp -d)
common=(bench --recipe "$recipe" --batch "$batch" --steps "$steps" --json --no-peak)
for round in $(seq "$rounds"); do
  OMP_NUM_THREADS=2 "${mpirun[@]}" -np 1 "$convoy" "${common[@]}" --threads 2 \
    >>"$out/np1x2.jsonl"; tail -n1 "$out/np1x2.jsonl" | cut -c1-160
  OMP_NUM_THREADS=1 "${mpirun[@]}" -np 2 "$convoy" "${common[@]}" --threads 1 \
    >>"$out/np2x1-bucket25.jsonl"; tail -n1 "$out/np2x1-bucket25.jsonl" | cut -c1-160
  OMP_NUM_THREADS=1 "${mpirun[@]}" -np 2 "$convoy" "${common[@]}" --threads 1 --bucket-mb 0.25 \
    >>"$out/np2x1-bucket0.25.jsonl"; tail -n1 "$out/np2x1-bucket0.25.jsonl" | cut -c1-160
done
OMP_NUM_THREADS=1 "${mpirun[@]}" -np 2 "$convoy" bench-allreduce --recipe "$recipe" \
  --repetitions 20 --json | tee "$out/allreduce.json"
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
def runs(name):
    return [json.loads(line) for line in open(f"{out}/{name}.jsonl")]
base = statistics.median(r["images_per_second"] for r in runs("np1x2"))
print(f"\n{'configuration':28} {'img/s':>8} {'vs np1x2':>8} {'allreduce ms':>12} "
      f"{'exposed ms':>10} {'hidden':>7} {'buckets':>7}")
for name, label in [("np1x2", "np=1 x 2 threads"), ("np2x1-bucket25", "np=2 x 1, bucket 25 MB"),
                    ("np2x1-bucket0.25", "np=2 x 1, bucket 0.25 MB")]:
    r = runs(name)
    ips = statistics.median(x["images_per_second"] for x in r)
    med = lambda key: statistics.median(x.get(key, 0) for x in r)
    print(f"{label:28} {ips:8.1f} {ips / base:8.2f} {med('allreduce_ms_per_step'):12.2f} "
          f"{med('exposed_allreduce_ms_per_step'):10.2f} "
          f"{100 * med('allreduce_hidden_fraction') if r[0]['ranks'] > 1 else 0:6.0f}% "
          f"{int(med('buckets')):7d}")
a = json.load(open(f"{out}/allreduce.json"))
print(f"\nallreduce on {a['ranks']} ranks (bound 2(p-1)/p*N/B(N/p), medians of {a['repetitions']}):")
print(f"{'bytes':>10} {'B GB/s':>7} {'ms':>8} {'bound ms':>8} {'of bound':>8}")
for row in a["rows"]:
    print(f"{row['bytes']:10d} {row['link_bandwidth_gbs']:7.2f} {row['allreduce_ms']:8.3f} "
          f"{row['bound_ms']:8.3f} {100 * row['fraction_of_bound']:7.0f}%  {row['what']}")
PY
