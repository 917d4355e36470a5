#!/usr/bin/env bash
# Create the project's virtual environment in .venv and install into it. Idempotent: it
# reinstalls only when pyproject.toml or this script changed.
#   scripts/setup.sh        core + simulators (check, convert, synth)
#   scripts/setup.sh ml     core + simulators + the ML stages (reconstruct: the demo)
#   scripts/setup.sh all    everything: ML stages, VLM clients, bpy, test tools
set -euo pipefail
cd "$(dirname "$0")/.."
extras="sim"
[ "${1:-}" = "ml" ] && extras="sim,ml"
[ "${1:-}" = "all" ] && extras="sim,ml,vlm,blender,eval,coacd,dev"
python_bin="${PYTHON:-$(command -v python3.11 || command -v python3)}"
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
stamp=".venv/.install-stamp-${extras//,/-}"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$extras" != "sim" ]; then
    # The CPU build first: a looser torch requirement would pull several GB of CUDA packages.
    .venv/bin/python -m pip install -q torch==2.13.0
  fi
  .venv/bin/python -m pip install -q -e ".[${extras}]"
  echo "$want" > "$stamp"
fi
