"""Per-category part statistics: what parts a category usually has, how they move, how big it is.

The second prompt pass fills its template with these numbers (SPARK shapes its URDF template by
per-category statistics). `category_statistics(category)` is the one entry point:

1. For the categories the procedural generator ``spark_blender.synth`` makes, the statistics
   were measured once on `SYNTH_SAMPLES` objects of each (seeds 0..n-1) by
   ``scripts/make_category_stats.py`` and committed as ``synth_statistics.json`` beside this
   module (rerun the script when the generator changes); nothing runs the generator at parse
   time.
2. Otherwise (or for a category the generator does not make) they come from `TABLE` below: a
   small hand-written summary of PartNet-Mobility's categories (typical size in metres, and per
   movable-part kind: count range, joint type, axis in the canonical frame, limits, pivot in the
   normalised object frame). The numbers are typical household objects, not fitted to any case.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from spark_blender.perception.schema import CATEGORIES

log = logging.getLogger(__name__)

SYNTH_SAMPLES = 8
SYNTH_TABLE = Path(__file__).with_name("synth_statistics.json")
_HALF_PI = math.pi / 2


@dataclass(frozen=True)
class PartStats:
    label: str
    joint_type: str
    count: tuple[int, int]  # (fewest, most) per object
    axis: tuple[float, float, float]  # canonical frame, opening positive
    limits: tuple[float, float]
    pivot: tuple[float, float, float]  # normalised object frame (typical)
    note: str = ""


@dataclass(frozen=True)
class CategoryStats:
    category: str
    size_m: tuple[float, float, float]  # typical [width, depth, height]
    parts: tuple[PartStats, ...] = field(default_factory=tuple)
    source: str = "table"  # "table" or "synth (n samples)"


def _p(label, joint_type, count, axis, limits, pivot, note="") -> PartStats:
    return PartStats(label, joint_type, count, axis, limits, pivot, note)


# Axes: a door hinged on its left edge (seen from the front) opens about -Z with its pivot at
# x = -0.5; on the right edge about +Z at x = +0.5 (the free edge swings towards -Y); a drawer
# slides out along -Y; a lid hinged at the back opens about -X (its front rises) with its pivot
# at y = +0.5, z = 1.
_DOOR_L = _p("door", "revolute", (0, 2), (0, 0, -1), (0, 2.0), (-0.5, -0.5, 0.5), "left hinge")
_DOOR_R = _p("door", "revolute", (0, 2), (0, 0, 1), (0, 2.0), (0.5, -0.5, 0.5), "right hinge")
_DRAWER = _p("drawer", "prismatic", (0, 6), (0, -1, 0), (0, 0.35), (0, -0.5, 0.5), "slides out")
_LID = _p("lid", "revolute", (1, 1), (-1, 0, 0), (0, 1.9), (0, 0.5, 1.0), "hinged at the back")
_KNOB = _p("knob", "continuous", (0, 4), (0, -1, 0), (-math.pi, math.pi), (0.3, -0.5, 0.8))
_BUTTON = _p("button", "prismatic", (0, 6), (0, 1, 0), (0, 0.005), (0.3, -0.5, 0.5), "pushed in")

TABLE: dict[str, CategoryStats] = {
    c.category: c
    for c in (
        CategoryStats("StorageFurniture", (0.8, 0.45, 1.0), (_DOOR_L, _DOOR_R, _DRAWER)),
        CategoryStats("Table", (1.2, 0.7, 0.75), (
            _p("drawer", "prismatic", (0, 4), (0, -1, 0), (0, 0.3), (0, -0.5, 0.85)),
            _p("door", "revolute", (0, 2), (0, 0, -1), (0, 1.6), (-0.5, -0.5, 0.4)),
        )),
        CategoryStats("Refrigerator", (0.7, 0.7, 1.8), (
            _p("door", "revolute", (1, 3), (0, 0, 1), (0, 2.0), (0.5, -0.5, 0.6), "either side"),
            _p("drawer", "prismatic", (0, 1), (0, -1, 0), (0, 0.4), (0, -0.5, 0.2), "freezer"),
        )),
        CategoryStats("Microwave", (0.5, 0.38, 0.3), (
            _p("door", "revolute", (1, 1), (0, 0, -1), (0, 1.9), (-0.5, -0.5, 0.5), "hinge left"),
            _KNOB, _BUTTON,
        )),
        CategoryStats("Oven", (0.6, 0.6, 0.85), (
            _p("door", "revolute", (1, 2), (1, 0, 0), (0, 1.5), (0, -0.5, 0.1), "hinge at bottom"),
            _KNOB,
            _p("tray", "prismatic", (0, 2), (0, -1, 0), (0, 0.3), (0, -0.5, 0.4)),
        )),
        CategoryStats("Dishwasher", (0.6, 0.6, 0.85), (
            _p("door", "revolute", (1, 1), (1, 0, 0), (0, 1.6), (0, -0.5, 0.05), "hinge at bottom"),
            _p("rack", "prismatic", (0, 2), (0, -1, 0), (0, 0.4), (0, -0.5, 0.5)),
            _BUTTON,
        )),
        CategoryStats("WashingMachine", (0.6, 0.6, 0.85), (
            _p("door", "revolute", (1, 1), (0, 0, -1), (0, 1.9), (-0.35, -0.5, 0.5), "round front"),
            _KNOB, _BUTTON,
        )),
        CategoryStats("Laptop", (0.33, 0.23, 0.02), (
            _p("screen", "revolute", (1, 1), (-1, 0, 0), (0, 2.0), (0, 0.5, 1.0),
               "hinge along the back edge of the base"),
        )),
        CategoryStats("Box", (0.35, 0.25, 0.2), (_LID,)),
        CategoryStats("TrashCan", (0.35, 0.3, 0.6), (
            _LID,
            _p("pedal", "revolute", (0, 1), (1, 0, 0), (0, 0.4), (0, -0.5, 0.05)),
            _p("wheel", "continuous", (0, 2), (1, 0, 0), (-math.pi, math.pi), (0.4, 0.4, 0.05)),
        )),
        CategoryStats("Safe", (0.4, 0.4, 0.5), (
            _p("door", "revolute", (1, 1), (0, 0, 1), (0, 1.9), (0.5, -0.5, 0.5)),
            _p("knob", "continuous", (0, 2), (0, -1, 0), (-math.pi, math.pi), (0.1, -0.5, 0.6),
               "dial"),
            _BUTTON,
        )),
        CategoryStats("Toilet", (0.4, 0.7, 0.75), (
            _p("lid", "revolute", (1, 1), (-1, 0, 0), (0, 1.7), (0, 0.1, 0.55), "hinged at back"),
            _p("seat", "revolute", (0, 1), (-1, 0, 0), (0, 1.7), (0, 0.1, 0.52)),
            _p("lever", "revolute", (0, 1), (0, -1, 0), (0, 0.6), (-0.3, 0.3, 0.9)),
        )),
        CategoryStats("Suitcase", (0.45, 0.25, 0.65), (
            _p("handle", "prismatic", (0, 1), (0, 0, 1), (0, 0.4), (0, 0.35, 1.0),
               "telescopic"),
            _p("lid", "revolute", (0, 1), (1, 0, 0), (0, 1.6), (0, -0.5, 0.05)),
            _BUTTON,
        )),
        CategoryStats("KitchenPot", (0.3, 0.25, 0.18), (
            _p("lid", "prismatic", (1, 1), (0, 0, 1), (0, 0.2), (0, 0, 1.0), "lifts off"),
        )),
        CategoryStats("Bucket", (0.3, 0.3, 0.3), (
            _p("handle", "revolute", (1, 1), (1, 0, 0), (-1.5, 1.5), (0, 0, 0.9), "swings"),
        )),
        CategoryStats("Faucet", (0.06, 0.25, 0.3), (
            _p("switch", "revolute", (1, 2), (0, 0, 1), (-1.0, 1.0), (0, 0.3, 0.8), "lever"),
            _p("spout", "revolute", (0, 1), (0, 0, 1), (-1.5, 1.5), (0, 0, 0.5)),
        )),
        CategoryStats("Door", (0.9, 0.1, 2.0), (
            _p("door", "revolute", (1, 2), (0, 0, -1), (0, 1.6), (-0.45, 0, 0.5), "leaf in frame"),
            _p("handle", "revolute", (0, 2), (0, -1, 0), (0, 0.8), (0.4, -0.5, 0.5)),
        )),
        CategoryStats("Window", (1.0, 0.1, 1.2), (
            _p("window", "prismatic", (1, 2), (1, 0, 0), (0, 0.5), (0, 0, 0.5), "sliding sash"),
            _p("window", "revolute", (0, 2), (0, 0, -1), (0, 1.5), (-0.5, 0, 0.5), "casement"),
        )),
        CategoryStats("Toaster", (0.3, 0.18, 0.2), (
            _p("slider", "prismatic", (1, 2), (0, 0, -1), (0, 0.08), (0.4, -0.5, 0.8), "lever"),
            _KNOB, _BUTTON,
        )),
        CategoryStats("CoffeeMachine", (0.25, 0.35, 0.35), (
            _p("lid", "revolute", (0, 2), (-1, 0, 0), (0, 1.6), (0, 0.3, 1.0)),
            _KNOB, _BUTTON,
            _p("lever", "revolute", (0, 1), (-1, 0, 0), (0, 1.0), (0, -0.3, 0.8)),
        )),
        CategoryStats("Stapler", (0.05, 0.17, 0.06), (
            _p("lid", "revolute", (1, 2), (-1, 0, 0), (0, 1.2), (0, 0.45, 0.6),
               "top arm hinged at the back"),
        )),
        CategoryStats("Bottle", (0.08, 0.08, 0.25), (
            _p("lid", "continuous", (1, 1), (0, 0, 1), (-math.pi, math.pi), (0, 0, 1.0), "cap"),
        )),
        CategoryStats("Kettle", (0.22, 0.16, 0.25), (
            _p("lid", "revolute", (1, 1), (-1, 0, 0), (0, 1.5), (0, 0.2, 1.0)),
            _BUTTON,
        )),
        CategoryStats("Switch", (0.08, 0.02, 0.08), (
            _p("toggle_button", "revolute", (1, 3), (1, 0, 0), (0, 0.3), (0, -0.5, 0.5)),
        )),
        CategoryStats("Display", (0.6, 0.2, 0.45), (
            _p("screen", "revolute", (1, 1), (1, 0, 0), (-0.3, 0.3), (0, 0, 0.3), "tilts"),
        )),
        CategoryStats("Chair", (0.5, 0.5, 0.9), (
            _p("seat", "continuous", (0, 1), (0, 0, 1), (-math.pi, math.pi), (0, 0, 0.5), "swivel"),
            _p("wheel", "continuous", (0, 5), (1, 0, 0), (-math.pi, math.pi), (0, 0, 0.03)),
        )),
        CategoryStats("FoldingChair", (0.45, 0.5, 0.8), (
            _p("seat", "revolute", (1, 1), (1, 0, 0), (0, 1.5), (0, 0, 0.5)),
        )),
        CategoryStats("Lamp", (0.2, 0.2, 0.5), (
            _p("arm", "revolute", (1, 3), (1, 0, 0), (-1.0, 1.0), (0, 0, 0.5)),
        )),
        CategoryStats("Printer", (0.45, 0.4, 0.25), (
            _p("lid", "revolute", (0, 1), (-1, 0, 0), (0, 1.3), (0, 0.5, 1.0)),
            _p("drawer", "prismatic", (0, 1), (0, -1, 0), (0, 0.2), (0, -0.5, 0.2), "paper tray"),
            _BUTTON,
        )),
        CategoryStats("Dispenser", (0.1, 0.1, 0.2), (
            _p("lid", "prismatic", (1, 1), (0, 0, -1), (0, 0.02), (0, 0, 1.0), "pump head"),
        )),
        CategoryStats("Eyeglasses", (0.14, 0.15, 0.04), (
            _p("leg", "revolute", (2, 2), (0, 0, 1), (0, 1.6), (0.5, -0.5, 0.5), "temple arms"),
        )),
        CategoryStats("Fan", (0.35, 0.25, 0.5), (
            _p("rotor", "continuous", (1, 1), (0, -1, 0), (-math.pi, math.pi), (0, -0.2, 0.7)),
        )),
        CategoryStats("Globe", (0.3, 0.3, 0.4), (
            _p("sphere", "continuous", (1, 1), (0, 0, 1), (-math.pi, math.pi), (0, 0, 0.6)),
        )),
        CategoryStats("Keyboard", (0.45, 0.15, 0.03), (
            _p("key", "prismatic", (1, 100), (0, 0, -1), (0, 0.004), (0, 0, 1.0)),
        )),
        CategoryStats("Cart", (0.9, 0.5, 1.0), (
            _p("wheel", "continuous", (2, 4), (1, 0, 0), (-math.pi, math.pi), (0.4, 0.4, 0.05)),
        )),
        CategoryStats("Clock", (0.3, 0.08, 0.3), (
            _p("hand", "continuous", (1, 3), (0, -1, 0), (-math.pi, math.pi), (0, -0.5, 0.5)),
        )),
        CategoryStats("Camera", (0.13, 0.08, 0.09), (
            _p("button", "prismatic", (0, 2), (0, 0, -1), (0, 0.003), (0.3, 0, 1.0)),
            _p("knob", "continuous", (0, 2), (0, 0, 1), (-math.pi, math.pi), (-0.3, 0, 1.0)),
        )),
        CategoryStats("Knife", (0.02, 0.2, 0.03), (
            _p("blade", "revolute", (1, 2), (1, 0, 0), (0, 3.1), (0, 0.45, 0.5), "folding"),
        )),
        CategoryStats("Lighter", (0.04, 0.02, 0.08), (
            _p("lid", "revolute", (0, 1), (0, 1, 0), (0, 2.5), (0.5, 0, 0.7)),
            _p("wheel", "continuous", (0, 1), (1, 0, 0), (-math.pi, math.pi), (0, 0, 0.9)),
        )),
        CategoryStats("Mouse", (0.06, 0.11, 0.04), (
            _p("button", "revolute", (1, 2), (1, 0, 0), (0, 0.05), (0, 0.2, 0.8), "click"),
            _p("wheel", "continuous", (0, 1), (1, 0, 0), (-math.pi, math.pi), (0, -0.2, 0.9)),
        )),
        CategoryStats("Pen", (0.015, 0.015, 0.14), (
            _p("cap", "prismatic", (0, 1), (0, 0, 1), (0, 0.05), (0, 0, 1.0)),
            _p("button", "prismatic", (0, 1), (0, 0, -1), (0, 0.005), (0, 0, 1.0)),
        )),
        CategoryStats("Phone", (0.07, 0.01, 0.15), (
            _p("button", "prismatic", (0, 12), (0, 1, 0), (0, 0.002), (0, -0.5, 0.4)),
            _p("screen", "revolute", (0, 1), (-1, 0, 0), (0, 2.8), (0, 0.5, 0.5), "flip phone"),
        )),
        CategoryStats("Pliers", (0.05, 0.2, 0.02), (
            _p("leg", "revolute", (1, 1), (0, 0, 1), (0, 0.5), (0, 0, 0.5), "jaw"),
        )),
        CategoryStats("Remote", (0.05, 0.02, 0.18), (
            _p("button", "prismatic", (1, 30), (0, 1, 0), (0, 0.002), (0, -0.5, 0.5)),
        )),
        CategoryStats("Scissors", (0.08, 0.2, 0.01), (
            _p("blade", "revolute", (1, 1), (0, 0, 1), (0, 0.6), (0, 0, 0.5)),
        )),
        CategoryStats("USB", (0.02, 0.06, 0.01), (
            _p("cap", "revolute", (0, 1), (0, 0, 1), (0, 3.1), (0, 0.4, 0.5), "swivel cover"),
        )),
    )
}  # fmt: skip


@lru_cache(maxsize=64)
def category_statistics(category: str) -> CategoryStats:
    """The part statistics of `category`: the generated synth table when it holds the category,
    else `TABLE`. Raises KeyError for a name that is not a category."""
    if category not in CATEGORIES:
        raise KeyError(f"'{category}' is not a PartNet-Mobility category")
    measured = _synth_table()
    if category in measured:
        return measured[category]
    if category in TABLE:
        return TABLE[category]
    return CategoryStats(category, (0.5, 0.4, 0.5), ())


@lru_cache(maxsize=1)
def _synth_table() -> dict[str, CategoryStats]:
    """``synth_statistics.json`` (written by scripts/make_category_stats.py), parsed."""
    if not SYNTH_TABLE.is_file():
        log.warning("%s is missing: using the hand-written table", SYNTH_TABLE.name)
        return {}
    data = json.loads(SYNTH_TABLE.read_text())
    return {name: stats_from_dict(entry) for name, entry in data["categories"].items()}


def stats_to_dict(stats: CategoryStats) -> dict:
    return {
        "category": stats.category,
        "size_m": list(stats.size_m),
        "source": stats.source,
        "parts": [
            {
                "label": p.label,
                "joint_type": p.joint_type,
                "count": list(p.count),
                "axis": list(p.axis),
                "limits": list(p.limits),
                "pivot": list(p.pivot),
                "note": p.note,
            }
            for p in stats.parts
        ],
    }


def stats_from_dict(entry: dict) -> CategoryStats:
    parts = tuple(
        PartStats(
            p["label"],
            p["joint_type"],
            tuple(p["count"]),
            tuple(p["axis"]),
            tuple(p["limits"]),
            tuple(p["pivot"]),
            p.get("note", ""),
        )
        for p in entry["parts"]
    )
    return CategoryStats(entry["category"], tuple(entry["size_m"]), parts, entry["source"])


def _measure(category: str, objects) -> CategoryStats:
    """Statistics of sampled `ArticulatedObject`s (canonical frame, rest pose)."""
    from spark_blender.core.kinematics import joint_frames, posed_mesh

    sizes = []
    counts, axes, pivots, limits = (defaultdict(list) for _ in range(4))
    for obj in objects:
        rest = obj.rest_configuration()
        low, high = posed_mesh(obj, rest).bounds
        extent = np.maximum(high - low, 1e-6)
        bottom_centre = np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, low[2]])
        sizes.append(extent)
        frames = joint_frames(obj, rest)
        seen: dict[tuple[str, str], int] = defaultdict(int)
        for joint in obj.movable_joints:
            pivot, axis = frames[joint.name]
            # Left- and right-hinged doors are different kinds: split by axis direction.
            label = obj.link(joint.child).label or joint.label or "part"
            key = (label, joint.type, _direction(np.asarray(axis, float)))
            seen[key] += 1
            axes[key].append(np.asarray(axis, float))
            pivots[key].append((np.asarray(pivot, float) - bottom_centre) / extent)
            limits[key].append(joint.limits)
        for key in set(counts) | set(seen):
            counts[key].append(seen.get(key, 0))
    n = len(objects)
    parts = []
    for key, found in counts.items():
        found = found + [0] * (n - len(found))
        label, joint_type, _ = key
        axis = _dominant_axis(axes[key])
        parts.append(
            PartStats(
                label,
                joint_type,
                (int(min(found)), int(max(found))),
                axis,
                tuple(float(v) for v in np.median(np.array(limits[key]), axis=0)),
                tuple(round(float(v), 2) for v in np.median(np.array(pivots[key]), axis=0)),
            )
        )
    size = tuple(round(float(v), 3) for v in np.median(np.array(sizes), axis=0))
    return CategoryStats(category, size, tuple(parts), f"synth ({n} samples)")


def _direction(axis: np.ndarray) -> tuple[int, int, int] | None:
    """The canonical direction (+-X, +-Y, +-Z) `axis` is close to, or None when oblique."""
    index = int(np.argmax(np.abs(axis)))
    if abs(axis[index]) < 0.9 * np.linalg.norm(axis):
        return None
    direction = [0, 0, 0]
    direction[index] = 1 if axis[index] > 0 else -1
    return tuple(direction)


def _dominant_axis(axes: list[np.ndarray]) -> tuple[float, float, float]:
    """The most common axis, rounded to the nearest canonical direction when close to one."""
    mean = np.mean(np.array(axes), axis=0)
    if np.linalg.norm(mean) < 1e-6:
        mean = axes[0]
    mean = mean / np.linalg.norm(mean)
    snapped = np.round(mean)
    if np.count_nonzero(snapped) == 1 and abs(float(mean @ snapped)) > 0.95:
        mean = snapped
    return tuple(round(float(v), 3) for v in mean)


def format_statistics(stats: CategoryStats) -> str:
    """The statistics as the prompt shows them: one line per movable-part kind."""
    w, d, h = stats.size_m
    lines = [f"Typical {stats.category}: about {w:.2f} m wide, {d:.2f} m deep, {h:.2f} m tall."]
    if not stats.parts:
        lines.append("No typical movable parts are recorded for this category.")
    for part in stats.parts:
        lo, hi = part.count
        count = f"{lo}" if lo == hi else f"{lo}-{hi}"
        unit = "m" if part.joint_type == "prismatic" else "rad"
        limits = (
            "no limits"
            if part.joint_type == "continuous"
            else f"limits [{part.limits[0]:.3g}, {part.limits[1]:.3g}] {unit}"
        )
        axis = "[" + ", ".join(f"{v:g}" for v in part.axis) + "]"
        pivot = "[" + ", ".join(f"{v:g}" for v in part.pivot) + "]"
        note = f" ({part.note})" if part.note else ""
        lines.append(
            f"- {part.label}: {count} per object, {part.joint_type}, axis {axis}, "
            f"pivot near {pivot}, {limits}{note}"
        )
    return "\n".join(lines)
