"""Figures and tables for docs/synth.md: contact sheets (both back ends) and the comparison of
generated objects with the dev cases (bounding-box aspect ratios, movable parts, joint types).

    python -m spark_blender.synth.report sheets --out docs/images [--cycles]
    python -m spark_blender.synth.report compare --dev ../shared/data/partnet_dev --seeds 50

Contact sheets show generated objects only; dev cases enter the table as numbers. Proportions
are measured as the dev cases' are: in the pose the object is shown in (a dev case's extent is
its mesh as modelled, e.g. PartNet laptops open; a generated object's is its observed
configuration, ``synth.dataset.observed_configuration``).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from spark_blender.core.kinematics import moved_configuration, posed_mesh
from spark_blender.synth import CATEGORIES, generate
from spark_blender.synth.camera import Background, Lighting, orbit_camera
from spark_blender.synth.dataset import coupled, observed_configuration
from spark_blender.synth.render_fast import render, scene_geometry

SHEET_SEED = 1
PER_ROW = 4  # categories per row; each shows rest and moved


def _views(category: str, size: int):
    obj = generate(category, SHEET_SEED)
    moved = coupled(obj, moved_configuration(obj))
    bounds = np.concatenate([posed_mesh(obj).bounds, posed_mesh(obj, moved).bounds])
    bounds = np.stack([bounds.min(0), bounds.max(0)])
    camera = orbit_camera(bounds, 30.0, 22.0, 40.0, size, size, 1.02)
    light = Lighting(np.array([-0.45, 0.55, -0.7]), 0.75, 0.35)
    return obj, moved, camera, light


def contact_sheet(backend: str, size: int = 160, samples: int = 16) -> Image.Image:
    """Every category at rest and moved, labelled, on white."""
    tiles = []
    white = Background("plain", (1.0, 1.0, 1.0))
    for category in CATEGORIES:
        obj, moved, camera, light = _views(category, size)
        if backend == "cycles":
            from spark_blender.synth.render_cycles import View, render_cycles

            views = [View({}, camera, light, white), View(moved, camera, light, white)]
            images = [r.rgba for r in render_cycles(obj, views, samples=samples)]
        else:
            geometry = scene_geometry(obj)
            images = [render(obj, camera, c, light, white, geometry).rgba for c in ({}, moved)]
        pair = Image.fromarray(np.concatenate(images, axis=1)).convert("RGB")
        ImageDraw.Draw(pair).text((4, 2), f"{category} (rest | moved)", fill=(0, 0, 0))
        tiles.append(pair)
    rows = [tiles[i : i + PER_ROW] for i in range(0, len(tiles), PER_ROW)]
    sheet = Image.new("RGB", (PER_ROW * 2 * size, len(rows) * size), (255, 255, 255))
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            sheet.paste(tile, (c * 2 * size, r * size))
    return sheet


# --- comparison with the dev cases ------------------------------------------------------------
def _aspect(extent) -> tuple[float, float]:
    w, d, h = (float(v) for v in extent)
    return w / h, d / h


def generated_stats(category: str, seeds: int) -> dict:
    """Aspect ratios in the observed pose, movable-part counts and joint types over `seeds`."""
    aspects, parts, types = [], [], Counter()
    for seed in range(seeds):
        obj = generate(category, seed)
        aspects.append(_aspect(posed_mesh(obj, observed_configuration(obj, seed)).extents))
        parts.append(len(obj.movable_joints))
        types.update(j.type for j in obj.movable_joints)
    aspects = np.array(aspects)
    return {
        "w_h": (aspects[:, 0].mean(), aspects[:, 0].min(), aspects[:, 0].max()),
        "d_h": (aspects[:, 1].mean(), aspects[:, 1].min(), aspects[:, 1].max()),
        "parts": (float(np.mean(parts)), min(parts), max(parts)),
        "part_counts": set(parts),
        "types": types,
    }


def misses(cases: list[dict], gen: dict) -> list[str]:
    """What of the dev `cases` the generated range does not cover: w/h or d/h outside the
    generated [min, max], or a movable-part count the generator never makes."""
    found = []
    for case in cases:
        for k, key in enumerate(("w_h", "d_h")):
            value, (_, low, high) = case["aspect"][k], gen[key]
            if not low <= value <= high:
                found.append(f"{key.replace('_', '/')} {value:.2f}")
        if case["parts"] not in gen["part_counts"]:
            found.append(f"{case['parts']} parts")
    return found


def dev_stats(dev: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for gt in sorted(dev.glob("*/gt.json")):
        data = json.loads(gt.read_text())
        out.setdefault(data["category"], []).append({
            "aspect": _aspect(data["extent"]),
            "parts": len([j for j in data["joints"] if j["type"] != "fixed"]),
            "types": Counter(j["type"] for j in data["joints"] if j["type"] != "fixed"),
        })  # fmt: skip
    return out


def _types(counter: Counter) -> str:
    short = {"revolute": "rev", "prismatic": "pri", "continuous": "cont"}
    return ", ".join(f"{short.get(t, t)} {n}" for t, n in sorted(counter.items()))


def comparison_table(dev: Path, seeds: int) -> str:
    dev_by_category = dev_stats(dev)
    lines = [
        "| category | dev w/h, d/h | generated w/h mean [min-max] | generated d/h mean "
        "[min-max] | movable parts dev / gen mean [min-max] | joint types dev / gen "
        f"(over {seeds} seeds) | dev cases covered |",
        "|---|---|---|---|---|---|---|",
    ]
    for category in CATEGORIES:
        if category not in dev_by_category:
            continue
        cases = dev_by_category[category]
        gen = generated_stats(category, seeds)
        dev_aspect = "; ".join(f"{c['aspect'][0]:.2f}, {c['aspect'][1]:.2f}" for c in cases)
        dev_parts = ", ".join(str(c["parts"]) for c in cases)
        dev_types = _types(sum((c["types"] for c in cases), Counter()))
        w, d, p = gen["w_h"], gen["d_h"], gen["parts"]
        lines.append(
            f"| {category} | {dev_aspect} | {w[0]:.2f} [{w[1]:.2f}-{w[2]:.2f}] | "
            f"{d[0]:.2f} [{d[1]:.2f}-{d[2]:.2f}] | {dev_parts} / {p[0]:.1f} [{p[1]}-{p[2]}] | "
            f"{dev_types} / {_types(gen['types'])} | "
            f"{'yes' if not misses(cases, gen) else 'no: ' + ', '.join(misses(cases, gen))} |"
        )
    missing = sorted(set(dev_by_category) - set(CATEGORIES))
    if missing:
        lines.append(f"\nDev categories without a generator: {', '.join(missing)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="figures and tables for docs/synth.md")
    sub = parser.add_subparsers(dest="what", required=True)
    sheets = sub.add_parser("sheets")
    sheets.add_argument("--out", type=Path, default=Path("docs/images"))
    sheets.add_argument("--cycles", action="store_true", help="also the Cycles sheet (slow)")
    sheets.add_argument("--size", type=int, default=160)
    compare = sub.add_parser("compare")
    compare.add_argument("--dev", type=Path, required=True)
    compare.add_argument("--seeds", type=int, default=50)
    args = parser.parse_args(argv)
    if args.what == "sheets":
        args.out.mkdir(parents=True, exist_ok=True)
        contact_sheet("fast", args.size).save(args.out / "synth_contact_fast.png", optimize=True)
        if args.cycles:
            sheet = contact_sheet("cycles", args.size)
            sheet.save(args.out / "synth_contact_cycles.png", optimize=True)
    else:
        print(comparison_table(args.dev, args.seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
