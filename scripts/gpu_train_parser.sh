#!/usr/bin/env bash
# Parser run 10 on a lent GPU machine (one H200, 16 cores; docs/models.md): the training data is
# made there (15 synth folders, seeds 1101..1115, all 46 categories), a short probe measures the
# step rate, then one run from the shipped weights takes the steps that fit the time budget.
# The weights, losses and log land in $OUT. Run from the repository root:
#   OUT=/tmp/out BUDGET=540 bash scripts/gpu_train_parser.sh
# Locally (CPU, a smoke run of the script itself): DEVICE=cpu N=1 FOLDERS=2 BUDGET=120 ...
set -euo pipefail
OUT=${OUT:?set OUT to the folder the weights go to}
BUDGET=${BUDGET:-540}      # seconds for the whole script
DEVICE=${DEVICE:-cuda}
N=${N:-24}                 # objects per category per folder
FOLDERS=${FOLDERS:-15}
BATCH=${BATCH:-64}
WORKERS=${WORKERS:-14}
PY=${PY:-python3}
started=$(date +%s)
export PYTHONUNBUFFERED=1
if ! $PY -c "import diffusers, trimesh, yourdfpy, shapely, manifold3d, mapbox_earcut" 2>/dev/null; then
  # the lent machine has torch but not these: wheels carried in .whl (device README)
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
fi
data=/tmp/parser_data
rm -rf "$data" && mkdir -p "$data"
folders=()
for i in $(seq 1 "$FOLDERS"); do
  seed=$((1100 + i))
  folders+=("$data/train_$seed")
  $PY -m spark_blender.cli synth --n "$N" --seed "$seed" --size 160 --random-poses 2 \
    --categories all --out "$data/train_$seed" > "$data/synth_$seed.log" 2>&1 &
done
wait
for folder in "${folders[@]}"; do
  [ -f "$folder/manifest.json" ] || { tail -c 1500 "$data/synth_${folder##*_}.log"; exit 1; }
done
echo "synth: ${#folders[@]} folders in $(( $(date +%s) - started )) s"
common=(--data "${folders[@]}" --batch-size "$BATCH" --device "$DEVICE" --threads 2
        --workers "$WORKERS" --photo-share 0.5 --texture --crop --init models/parser)
# the probe: 60 steps, the rate from the last 40 (the loader processes are warm by then)
$PY -m spark_blender.cli train parser "${common[@]}" --steps 60 --seed 1120 \
  --out /tmp/probe --work /tmp/probe.work --checkpoint-every 1000 > /tmp/probe.log 2>&1
rate=$($PY - <<'EOF'
import json
rows = [json.loads(x) for x in open("/tmp/probe.work/losses.jsonl")]
print((rows[-1]["seconds"] - rows[19]["seconds"]) / (len(rows) - 20))
EOF
)
left=$(( BUDGET - ($(date +%s) - started) - 45 ))  # 45 s: loader start and the last save
steps=$($PY -c "print(max(50, int($left / ($rate * 1.08))))")
echo "probe: $rate s/step; $left s left -> $steps steps" | tee "$OUT/run.log"
$PY -m spark_blender.cli train parser "${common[@]}" --steps "$steps" --lr 5e-4 --seed 1101 \
  --out "$OUT/parser" --work /tmp/run10.work --checkpoint-every 250 2>&1 \
  | tr '\r' '\n' | grep -v "^$" | awk 'NR % 50 == 0 || /wrote|rror/' >> "$OUT/run.log"
cp /tmp/run10.work/losses.jsonl "$OUT/losses.jsonl"
echo "done in $(( $(date +%s) - started )) s" | tee -a "$OUT/run.log"
