#!/usr/bin/env bash
# The main job, on a fresh machine: install (core, simulators, CPU torch), then reconstruct the
# bundled example photo with the embedded parser and the part DiT (offline), check the result in
# MuJoCo and PyBullet, and say where the preview is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ml
out="${1:-out}"
cli=.venv/bin/spark-articulate
$cli reconstruct examples/cabinet.png -o "$out/cabinet" --force
$cli check "$out"/cabinet/*.urdf
echo "preview: $out/cabinet/preview.png (the photo, the result as photographed, the result opened)"
