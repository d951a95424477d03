#!/usr/bin/env bash
# The README's pictures, made by convoy's own commands from a trained Fashion-MNIST model and
# two short diagnostic runs (a healthy one and one with a far too high learning rate).
#
#   scripts/make_readme_figures.sh [TRAINED_RUN_DIR]   (default runs/fashion-vgg11_bn)
# Writes scripts/figures/*.png and *.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/fashion-vgg11_bn}
convoy=${CONVOY_BIN:-build/convoy}
out=scripts/figures
scratch=$(mktemp -d)
mkdir -p "$out"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

"$convoy" filters --checkpoint "$run/latest" --output "$out/filters.png" | tee "$out/filters.txt"
"$convoy" units --checkpoint "$run/latest" --layer features.8 --channels 0,1,2,3,4,5 --top 8 \
  --samples 2000 --output "$out/units.png" > "$out/units.txt"
"$convoy" receptive-field --checkpoint "$run/latest" --layer features.11 --images 32 \
  --output "$out/receptive_field.png" | tee "$out/receptive_field.txt"
/usr/bin/python3 scripts/plot_run.py "$run" --output "$out/training_curves.png"

# Healthy vs broken: the same 192 steps of ResNet-20, once at the recipe's learning rate and
# once at 50x it.
short=(train --recipe fashion-resnet20 --train-samples 4096 --test-samples 1000 --epochs 6
       --batch-size 128 --health-every 8 --progress lines --threads 1)
"$convoy" "${short[@]}" --run-dir "$scratch/healthy" > /dev/null
"$convoy" "${short[@]}" --run-dir "$scratch/broken" --lr 5 --on-nonfinite skip > /dev/null || true
"$convoy" health "$scratch/healthy" --no-plots | tee "$out/health_healthy.txt"
"$convoy" health "$scratch/broken" | tee "$out/health_broken.txt"
cp "$scratch/broken/health.png" "$out/health_broken.png"
