#!/usr/bin/env bash
# The main job, on a fresh machine: install, build the bundled example cabinet with the project's
# own code, write it as a URDF folder, and prove it is simulation-ready in MuJoCo and PyBullet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out="${1:-out/example_cabinet}"
.venv/bin/spark-articulate example -o "$out" --force
.venv/bin/spark-articulate info "$out/example_cabinet.urdf"
.venv/bin/spark-articulate check "$out/example_cabinet.urdf"
