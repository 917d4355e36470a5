"""Measure the per-category part statistics on the data engine once and write them as JSON.

    .venv/bin/python scripts/make_category_stats.py

writes spark_blender/perception/synth_statistics.json: for every category ``spark_blender.synth``
makes, the statistics of SYNTH_SAMPLES objects (seeds 0..n-1). Perception reads the file;
rerun this script whenever the generator changes.
"""

from __future__ import annotations

import json

from spark_blender.perception.category_stats import (
    SYNTH_SAMPLES,
    SYNTH_TABLE,
    _measure,
    stats_to_dict,
)
from spark_blender.perception.schema import CATEGORIES as PERCEPTION_CATEGORIES
from spark_blender.synth import CATEGORIES, generate


def main() -> int:
    table = {}
    for category in CATEGORIES:
        if category not in PERCEPTION_CATEGORIES:
            continue
        objects = [generate(category, seed) for seed in range(SYNTH_SAMPLES)]
        table[category] = stats_to_dict(_measure(category, objects))
    text = json.dumps({"command": "python scripts/make_category_stats.py",
                       "samples": SYNTH_SAMPLES, "categories": table}, indent=1)  # fmt: skip
    SYNTH_TABLE.write_text(text + "\n")
    print(f"wrote {SYNTH_TABLE} ({len(table)} categories)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
