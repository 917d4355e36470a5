#!/usr/bin/env bash
# Install everything into .venv and run the linters and the test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
.venv/bin/ruff check spark_blender tests benchmarks scripts
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
