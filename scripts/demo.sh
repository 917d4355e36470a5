#!/usr/bin/env bash
# The main job, on a fresh machine: install, then (until single-image reconstruction lands)
#  1. write the bundled example cabinet as a URDF folder, describe it and prove it sim-ready;
#  2. generate procedural objects of three categories with the data engine (URDF folders with
#     textures, camera.json and preview.png, plus rendered training samples) and check each.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out="${1:-out}"
cli=.venv/bin/spark-articulate
$cli example -o "$out/example_cabinet" --force
$cli info "$out/example_cabinet/example_cabinet.urdf"
$cli check "$out/example_cabinet/example_cabinet.urdf"
$cli synth --categories StorageFurniture Microwave Laptop --n 1 --urdf --out "$out/synth" --force
for urdf in "$out"/synth/urdf/*/*.urdf; do
  $cli check "$urdf"
done
echo "outputs in $out/ (open $out/synth/urdf/*/preview.png)"
