"""Plot the embedded parser's training losses (``losses.jsonl`` of a training work folder).

    python scripts/plot_parser_losses.py WORK/losses.jsonl docs/images/parser_losses.png

Steps repeated by a resumed run keep their last record.
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

GROUPS = {
    "total": ["total"],
    "global (category, camera, aspect)": ["category", "azimuth", "elevation", "aspect"],
    "masks (foreground, parts)": ["fg", "part_mask"],
    "part slots (exists, label, type, parent)": ["exists", "label", "type", "parent"],
    "joints (axis, pivot, limits, observed)": ["axis", "pivot", "pivot_offset", "limits",
                                               "observed"],
}  # fmt: skip


def main(source: str, target: str) -> int:
    by_step = {}
    for line in open(source):
        record = json.loads(line)
        by_step[record["step"]] = record
    rows = [by_step[s] for s in sorted(by_step)]
    steps = np.array([r["step"] for r in rows])
    fig, axes = plt.subplots(1, len(GROUPS), figsize=(4 * len(GROUPS), 3.2))
    for ax, (title, keys) in zip(axes, GROUPS.items(), strict=True):
        values = np.array([sum(r.get(k, 0.0) for k in keys) for r in rows])
        window = max(1, len(values) // 40)
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        ax.plot(steps, values, alpha=0.25, lw=0.8)
        ax.plot(steps[window - 1 :], smooth, lw=1.6)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(target, dpi=90)
    print(f"wrote {target} ({len(rows)} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
