"""The embedded parser's vocabulary and its box-relative joint encoding.

Everything the model predicts is a class or a small number tied to the data engine's records
(`synth.dataset.object_record`): categories, part labels, joint types, and, per part, its rest
box in the *normalised object frame* (the canonical frame divided by the object's size: x and y
in [-0.5, 0.5] about the centre, z in [0, 1] from the bottom, the coarse URDF's pivot frame).

Joints are encoded relative to the part's box, so a left/right hinge mistake is a class error:

- ``axis`` one of 6 classes: the box directions +X, -X, +Y, -Y, +Z, -Z (canonical frame),
  signed so that opening is positive;
- ``pivot`` one of 5 classes in the plane across the axis: the 4 box edges parallel to the axis
  ((lo, lo), (hi, lo), (lo, hi), (hi, hi) of the two other dimensions, in index order) or the
  box's centre line; plus a continuous correction in box fractions;
- ``limits`` revolute in radians, prismatic in object sizes along the axis;
- ``observed`` the joint value shown in the image as a fraction of the limit it moves towards.

`mirror_record` mirrors a record left-right (X -> -X), which swaps hinge sides: an image
flipped horizontally shows the mirrored object. `encode_parts` turns a record into per-part
targets; `decode_joint` turns predicted classes back into a pivot and an axis.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

# The data engine's 46 categories (synth.CATEGORIES, spelt out to keep perception free of the
# data engine's imports; a test holds them equal), in a fixed order: the classifier's outputs.
# The first 24 were the first data engine's; `train parser --init` carries their rows over.
CATEGORIES: tuple[str, ...] = (
    "StorageFurniture", "Table", "Refrigerator", "Microwave", "Oven", "Dishwasher",
    "WashingMachine", "Safe", "Box", "TrashCan", "Suitcase", "KitchenPot", "Bucket", "Bottle",
    "Kettle", "Laptop", "Toaster", "CoffeeMachine", "Stapler", "Switch", "Faucet", "Door",
    "Window", "Toilet", "Camera", "Cart", "Chair", "Clock", "Dispenser", "Display",
    "Eyeglasses", "Fan", "FoldingChair", "Globe", "Keyboard", "Knife", "Lamp", "Lighter", "Mouse",
    "Pen", "Phone", "Pliers", "Printer", "Remote", "Scissors", "USB",
)  # fmt: skip
LABELS: tuple[str, ...] = (
    "door", "drawer", "lid", "knob", "button", "switch", "handle", "window", "lever", "screen",
    "slider", "arm", "seat", "wheel", "pedal", "spout", "cap", "key", "blade", "caster", "hand",
    "pendulum", "leg", "head", "rotor", "sphere", "ring", "lens", "back", "flap",
)  # fmt: skip
TYPES: tuple[str, ...] = ("revolute", "prismatic", "continuous")
AXES: tuple[str, ...] = ("+X", "-X", "+Y", "-Y", "+Z", "-Z")
PIVOT_POINTS: tuple[tuple[float, float], ...] = ((0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0.5))

AZIMUTH_RANGE = (-60.0, 60.0)
ELEVATION_RANGE = (-10.0, 50.0)
AZIMUTH_BINS = 12
ELEVATION_BINS = 8


def axis_class(axis) -> int:
    axis = np.asarray(axis, float)
    dim = int(np.argmax(np.abs(axis)))
    return 2 * dim + (0 if axis[dim] >= 0 else 1)


def axis_vector(cls: int) -> np.ndarray:
    out = np.zeros(3)
    out[cls // 2] = 1.0 if cls % 2 == 0 else -1.0
    return out


def across(dim: int) -> tuple[int, int]:
    """The two dimensions across an axis along `dim`, in index order."""
    i, j = (d for d in range(3) if d != dim)
    return i, j


def bin_encode(value: float, lo: float, hi: float, bins: int) -> tuple[int, float]:
    """The bin of `value` in [lo, hi] and its offset from the bin centre (in bin widths)."""
    width = (hi - lo) / bins
    position = (min(max(value, lo), hi - 1e-6) - lo) / width
    index = int(position)
    return index, float(position - index - 0.5)


def bin_decode(index: int, offset: float, lo: float, hi: float, bins: int) -> float:
    width = (hi - lo) / bins
    return lo + (index + 0.5 + float(np.clip(offset, -0.5, 0.5))) * width


@dataclass
class PartTarget:
    """What the model learns about one moving part (a link with a movable parent joint)."""

    name: str
    mask_id: int  # the part's pixel value in the synth mask
    label: int
    type: int
    parent: int  # 0 = base, k + 1 = part k (same record order)
    axis: int
    pivot: int
    pivot_offset: tuple[float, float]
    box3d: tuple[float, ...]  # centre xyz, size xyz, normalised object frame
    limits: tuple[float, float]
    observed: float  # fraction of the limit moved towards, in [-1, 1]


def object_frame(record: dict) -> tuple[np.ndarray, np.ndarray]:
    """(origin, size) of the normalised object frame: origin at the bottom centre."""
    lo = np.min([link["bbox_min"] for link in record["links"]], axis=0)
    hi = np.max([link["bbox_max"] for link in record["links"]], axis=0)
    origin = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    return origin, np.maximum(hi - lo, 1e-6)


def mirror_record(record: dict) -> dict:
    """The record of the object mirrored across X = 0 (the image flipped left-right).

    Points and prismatic axes flip X; a rotation axis is a pseudovector, so a revolute or
    continuous axis becomes (ax, -ay, -az): opening stays positive, left hinges become right.
    """
    out = copy.deepcopy(record)
    for link in out["links"]:
        lo, hi = link["bbox_min"], link["bbox_max"]
        link["bbox_min"] = [-hi[0], lo[1], lo[2]]
        link["bbox_max"] = [-lo[0], hi[1], hi[2]]
    for joint in out["joints"]:
        joint["pivot"] = [-joint["pivot"][0], joint["pivot"][1], joint["pivot"][2]]
        ax = joint["axis"]
        if joint["type"] == "prismatic":
            joint["axis"] = [-ax[0], ax[1], ax[2]]
        else:
            joint["axis"] = [ax[0], -ax[1], -ax[2]]
    return out


def encode_parts(record: dict, configuration: dict[str, float]) -> list[PartTarget]:
    """Per-part targets of a record at a configuration (joint name -> value)."""
    origin, size = object_frame(record)
    links = {link["name"]: link for link in record["links"]}
    movable = [j for j in record["joints"] if j["type"] in TYPES]
    order = {j["child"]: k for k, j in enumerate(movable)}
    parts = []
    for joint in movable:
        link = links[joint["child"]]
        lo = (np.asarray(link["bbox_min"]) - origin) / size
        hi = (np.asarray(link["bbox_max"]) - origin) / size
        extent = np.maximum(hi - lo, 1e-4)
        axis = axis_class(joint["axis"])
        dim = axis // 2
        i, j = across(dim)
        pivot = (np.asarray(joint["pivot"]) - origin) / size
        uv = np.array([(pivot[i] - lo[i]) / extent[i], (pivot[j] - lo[j]) / extent[j]])
        distances = [np.linalg.norm(uv - np.asarray(p)) for p in PIVOT_POINTS]
        pivot_class = int(np.argmin(distances))
        offset = np.clip(uv - np.asarray(PIVOT_POINTS[pivot_class]), -0.5, 0.5)
        lower, upper = float(joint["lower"]), float(joint["upper"])
        if joint["type"] == "prismatic":
            lower, upper = lower / size[dim], upper / size[dim]
        value = float(configuration.get(joint["name"], 0.0))
        if joint["type"] == "continuous":
            observed = 0.0
        elif value >= 0:
            observed = value / joint["upper"] if joint["upper"] > 1e-9 else 0.0
        else:
            observed = value / -joint["lower"] if joint["lower"] < -1e-9 else 0.0
        label = joint.get("label") or link.get("label") or "door"
        parts.append(PartTarget(
            name=link["name"],
            mask_id=int(link["mask_id"]),
            label=LABELS.index(label) if label in LABELS else 0,
            type=TYPES.index(joint["type"]),
            parent=order[joint["parent"]] + 1 if joint["parent"] in order else 0,
            axis=axis,
            pivot=pivot_class,
            pivot_offset=(float(offset[0]), float(offset[1])),
            box3d=tuple(float(v) for v in np.concatenate([(lo + hi) / 2, extent])),
            limits=(lower, upper),
            observed=float(np.clip(observed, -1.0, 1.0)),
        ))  # fmt: skip
    return parts


def decode_joint(box3d, axis: int, pivot: int, offset) -> tuple[list[float], list[float]]:
    """(pivot, axis) in the normalised object frame from a part box and the joint classes."""
    box3d = np.asarray(box3d, float)
    centre, extent = box3d[:3], np.maximum(box3d[3:], 1e-4)
    lo = centre - extent / 2
    dim = axis // 2
    i, j = across(dim)
    uv = np.asarray(PIVOT_POINTS[pivot], float) + np.clip(np.asarray(offset, float), -0.5, 0.5)
    point = centre.copy()
    point[i] = lo[i] + uv[0] * extent[i]
    point[j] = lo[j] + uv[1] * extent[j]
    return point.tolist(), axis_vector(axis).tolist()


def observed_value(fraction: float, lower: float, upper: float) -> float:
    """The joint value from a predicted fraction of the limit it moves towards."""
    if fraction >= 0:
        return float(fraction * upper)
    return float(-fraction * lower)


def camera_targets(camera: dict) -> tuple[float, float]:
    return float(camera.get("azimuth_deg", 0.0)), float(camera.get("elevation_deg", 0.0))


def aspect_target(record: dict) -> tuple[float, float]:
    """log(width / height), log(depth / height) of the rest box."""
    _, size = object_frame(record)
    return math.log(size[0] / size[2]), math.log(size[1] / size[2])
