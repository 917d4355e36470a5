"""The coarse URDF: what every parser (OpenAI, local transformers, embedded) returns.

A coarse URDF is the structure of the object in one photo, before any geometry exists:

- ``category``: one of PartNet-Mobility's category names (``CATEGORIES``);
- ``size_m``: estimated real-world size in metres, ``[width X, depth Y, height Z]`` of the
  canonical frame (ARCHITECTURE.md: +Z up, front faces -Y, origin at the bottom centre);
- ``camera``: ``azimuth_deg`` (0 = straight at the front, positive = camera moved towards +X),
  ``elevation_deg`` (positive = looking down at the object), ``fov_deg`` (horizontal);
- ``parts``: the parts that hang off the implicit root link ``base``. Each has a ``name``, a
  semantic ``label`` (PartNet-Mobility's words: door, drawer, lid, knob, ...), a ``parent``
  (``base`` or another part), a ``joint_type``, an ``axis`` (unit, canonical frame; opening is
  the positive direction), a coarse ``pivot`` in the *normalised object frame* (the canonical
  frame divided by the size: x and y in [-0.5, 0.5], z in [0, 1]; front face at y = -0.5),
  ``limits`` (radians or metres, containing 0 = closed), ``box_2d`` (``[x0, y0, x1, y1]``,
  fractions of the image width and height, origin top-left), an optional ``mask`` (a polygon
  of ``[x, y]`` image fractions, or null) and ``observed``: the joint value the photo shows
  (radians or metres, inside the limits; 0 = closed; a laptop photographed open has its screen's
  opening angle here).

`CoarseURDF.to_skeleton()` is the hand-over to generation and refinement: a core
`ArticulatedObject` of links without geometry (root ``base``, link names = part names, joint
names = ``<part>_joint``, joints in metres in the canonical frame), the core `Camera` of the
estimated view and the observed configuration (joint name -> value).

`coarse_urdf_json_schema()` exports the JSON Schema for strict structured outputs (every field
required, null for optional, no numeric or length keywords: the common subset that OpenAI,
vLLM and Ollama all enforce). `validate_coarse_urdf()` checks an answer and repairs what has
one sensible fix (non-unit axes, unknown parents, cycles, limits not containing 0, degrees,
centimetres, pixel boxes), listing each repair; what cannot be repaired raises
`CoarseURDFError` naming every problem.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from spark_blender.core.joint_types import JOINT_TYPES, MOVABLE_TYPES
from spark_blender.errors import one_line
from spark_blender.perception.errors import CoarseURDFError

SCHEMA_VERSION = 1
ROOT = "base"

# PartNet-Mobility's 46 categories, spelled as its meta files spell them.
CATEGORIES: tuple[str, ...] = (
    "Bottle", "Box", "Bucket", "Camera", "Cart", "Chair", "Clock", "CoffeeMachine", "Dishwasher",
    "Dispenser", "Display", "Door", "Eyeglasses", "Fan", "Faucet", "FoldingChair", "Globe",
    "Kettle", "Keyboard", "KitchenPot", "Knife", "Lamp", "Laptop", "Lighter", "Microwave",
    "Mouse", "Oven", "Pen", "Phone", "Pliers", "Printer", "Refrigerator", "Remote", "Safe",
    "Scissors", "Stapler", "StorageFurniture", "Suitcase", "Switch", "Table", "Toaster",
    "Toilet", "TrashCan", "USB", "WashingMachine", "Window",
)  # fmt: skip

# Words models use for a category or a joint type, mapped to the schema's names.
CATEGORY_SYNONYMS: dict[str, str] = {
    "cabinet": "StorageFurniture", "cupboard": "StorageFurniture", "wardrobe": "StorageFurniture",
    "dresser": "StorageFurniture", "drawer": "StorageFurniture", "nightstand": "StorageFurniture",
    "fridge": "Refrigerator", "freezer": "Refrigerator", "trash": "TrashCan", "bin": "TrashCan",
    "garbagecan": "TrashCan", "trashbin": "TrashCan", "pot": "KitchenPot", "saucepan": "KitchenPot",
    "coffeemaker": "CoffeeMachine", "espressomachine": "CoffeeMachine", "washer": "WashingMachine",
    "monitor": "Display", "tv": "Display", "television": "Display", "notebook": "Laptop",
    "desk": "Table", "chest": "Box", "lightswitch": "Switch", "luggage": "Suitcase",
    "tap": "Faucet", "stove": "Oven", "glasses": "Eyeglasses", "smartphone": "Phone",
}  # fmt: skip
JOINT_TYPE_SYNONYMS: dict[str, str] = {
    "hinge": "revolute", "hinged": "revolute", "rotational": "revolute", "rotation": "revolute",
    "rotary": "revolute", "revolve": "revolute", "slide": "prismatic", "slider": "prismatic",
    "sliding": "prismatic", "linear": "prismatic", "translation": "prismatic",
    "translational": "prismatic", "spin": "continuous", "free": "continuous",
    "static": "fixed", "rigid": "fixed", "none": "fixed",
}  # fmt: skip

# Beyond these the value was almost surely given in other units (see the repairs).
_MAX_OBJECT_SIZE_M = 10.0
_MAX_REVOLUTE_RAD = 2.0 * math.pi + 1e-6


@dataclass
class CameraEstimate:
    azimuth_deg: float = 0.0
    elevation_deg: float = 15.0
    fov_deg: float = 40.0


@dataclass
class CoarsePart:
    name: str
    label: str
    parent: str
    joint_type: str
    axis: list[float]
    pivot: list[float]  # normalised object frame (see the module docstring)
    limits: list[float]  # [lower, upper], radians (revolute) or metres (prismatic)
    box_2d: list[float]  # [x0, y0, x1, y1], image fractions, origin top-left
    mask: list[list[float]] | None = None  # polygon of [x, y] image fractions
    observed: float = 0.0  # the joint value the photo shows (radians or metres; 0 = closed)

    @property
    def movable(self) -> bool:
        return self.joint_type in MOVABLE_TYPES

    @property
    def joint_name(self) -> str:
        """The name of the joint that moves this part in `CoarseURDF.to_skeleton()`."""
        return f"{self.name}_joint"


@dataclass
class Skeleton:
    """`CoarseURDF.to_skeleton()`: links without geometry, the view and the observed pose."""

    model: Any  # core.model.ArticulatedObject
    camera: Any  # core.camera.Camera
    observed: dict[str, float]  # joint name -> value the photo shows


@dataclass
class CoarseURDF:
    category: str
    size_m: list[float]  # [width X, depth Y, height Z]
    camera: CameraEstimate
    parts: list[CoarsePart] = field(default_factory=list)

    def part(self, name: str) -> CoarsePart:
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(f"no part named '{name}'")

    def children(self, name: str) -> list[CoarsePart]:
        return [part for part in self.parts if part.parent == name]

    def pivot_metres(self, part: CoarsePart) -> list[float]:
        """The part's pivot in the canonical frame, in metres."""
        return [p * s for p, s in zip(part.pivot, self.size_m, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}

    def to_skeleton(self, width: int = 512, height: int = 512, margin: float = 1.1) -> Skeleton:
        """The core skeleton, the core camera (`width` x `height` pixels) and the observed pose.

        Links carry no geometry; each link's frame sits on its joint's pivot (metres, canonical
        frame), so a joint's origin is its pivot relative to its parent's. The camera looks at
        the centre of the size box from ``camera.azimuth_deg`` / ``elevation_deg`` with
        ``fov_deg``, far enough away that the box's bounding sphere times `margin` fits.
        """
        import numpy as np

        from spark_blender.core.camera import Camera
        from spark_blender.core.model import ArticulatedObject, Joint, Link
        from spark_blender.core.transforms import translation

        pivots = {ROOT: np.zeros(3)}
        links = [Link(ROOT, label="base")]
        joints = []
        observed: dict[str, float] = {}
        for part in _parents_first(list(self.parts)):
            pivot = np.asarray(self.pivot_metres(part), dtype=float)
            pivots[part.name] = pivot
            links.append(Link(part.name, label=part.label))
            lower, upper = part.limits
            joints.append(Joint(
                name=part.joint_name, type=part.joint_type, parent=part.parent, child=part.name,
                origin=translation(pivot - pivots[part.parent]), axis=np.asarray(part.axis, float),
                lower=float(lower), upper=float(upper), label=part.label,
            ))  # fmt: skip
            if part.movable:
                observed[part.joint_name] = float(part.observed)
        model = ArticulatedObject("coarse", links, joints, category=self.category)
        w, d, h = (float(v) for v in self.size_m)
        centre = np.array([0.0, 0.0, h / 2])
        radius = 0.5 * math.sqrt(w * w + d * d + h * h)
        half_fov = math.radians(self.camera.fov_deg) / 2
        half_fov = min(half_fov, math.atan(math.tan(half_fov) * height / width))
        distance = margin * radius / math.sin(half_fov)
        az, el = math.radians(self.camera.azimuth_deg), math.radians(self.camera.elevation_deg)
        direction = np.array(
            [math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)]
        )
        camera = Camera.look_at(
            centre + distance * direction, centre, width, height, self.camera.fov_deg
        )
        return Skeleton(model, camera, observed)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


@dataclass
class Validated:
    """A coarse URDF that passed validation, with the repairs it needed (empty when none)."""

    coarse: CoarseURDF
    repairs: list[str]


# --- JSON Schema -------------------------------------------------------------------------------
def _vector(description: str) -> dict:
    return {"type": "array", "items": {"type": "number"}, "description": description}


def part_json_schema() -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "name", "label", "parent", "joint_type", "axis", "pivot", "limits", "box_2d", "mask",
            "observed",
        ],
        "properties": {
            "name": {"type": "string", "description": "unique part name, e.g. door_left"},
            "label": {"type": "string", "description": "semantic label: door, drawer, lid, ..."},
            "parent": {"type": "string", "description": "'base' or the name of another part"},
            "joint_type": {"type": "string", "enum": [*MOVABLE_TYPES, "fixed"]},  # movable first
            "axis": _vector("3 numbers: unit joint axis, canonical frame, opening is positive"),
            "pivot": _vector("3 numbers: point on the axis, normalised object frame"),
            "limits": _vector("2 numbers: [lower, upper]; radians or metres; contains 0"),
            "box_2d": _vector("4 numbers: [x0, y0, x1, y1] image fractions, origin top-left"),
            "mask": {
                "anyOf": [
                    {"type": "array", "items": _vector("[x, y] image fractions")},
                    {"type": "null"},
                ],
                "description": "outline polygon of the part, or null",
            },
            "observed": {
                "type": "number",
                "description": "the joint value the photo shows (radians or metres, inside the "
                "limits; 0 = closed)",
            },
        },
    }  # fmt: skip


def coarse_urdf_json_schema() -> dict:
    """The strict JSON Schema of a coarse URDF (structured outputs' common subset)."""
    camera = {
        "type": "object",
        "additionalProperties": False,
        "required": ["azimuth_deg", "elevation_deg", "fov_deg"],
        "properties": {
            "azimuth_deg": {"type": "number"},
            "elevation_deg": {"type": "number"},
            "fov_deg": {"type": "number"},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["category", "size_m", "camera", "parts"],
        "properties": {
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "size_m": _vector("3 numbers: real-world [width X, depth Y, height Z] in metres"),
            "camera": camera,
            "parts": {"type": "array", "items": part_json_schema()},
        },
    }


def category_json_schema() -> dict:
    """Pass 1: the category alone, with a short reason (it improves the choice)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["category", "reason"],
        "properties": {
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "reason": {"type": "string"},
        },
    }


def axis_check_json_schema() -> dict:
    """Pass 3: for every movable part, the re-checked axis (and pivot) in the canonical frame."""
    item = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "axis", "pivot", "changed"],
        "properties": {
            "name": {"type": "string"},
            "axis": _vector("3 numbers: unit axis, canonical frame"),
            "pivot": _vector("3 numbers: normalised object frame"),
            "changed": {"type": "boolean"},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["parts"],
        "properties": {"parts": {"type": "array", "items": item}},
    }


# --- JSON text -> object -----------------------------------------------------------------------
def extract_json_object(text: str) -> dict:
    """The first JSON object in a model's answer (code fences and chatter around it allowed).

    Raises ValueError with a one-line reason when there is none.
    """
    stripped = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.DOTALL)
    candidates = [fenced.group(1)] if fenced else []
    candidates.append(stripped)
    decoder = json.JSONDecoder()
    last_error = "no '{' in the answer"
    for candidate in candidates:
        for start in [m.start() for m in re.finditer(r"\{", candidate)][:50]:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError as exc:
                last_error = f"{exc.msg} at character {exc.pos}"
                continue
            if isinstance(value, dict):
                return value
    raise ValueError(f"no JSON object found ({last_error}): {one_line(text, 160)!r}")


# --- validation and repair ---------------------------------------------------------------------
def match_category(name: Any) -> str | None:
    """The PartNet-Mobility category a model's word means, or None."""
    if not isinstance(name, str) or not name.strip():
        return None
    if name in CATEGORIES:
        return name
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    by_key = {re.sub(r"[^a-z0-9]", "", c.lower()): c for c in CATEGORIES}
    if key in by_key:
        return by_key[key]
    if key in CATEGORY_SYNONYMS:
        return CATEGORY_SYNONYMS[key]
    if key.endswith("s") and key[:-1] in by_key:
        return by_key[key[:-1]]
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.8)
    return by_key[close[0]] if close else None


def validate_coarse_urdf(
    data: Any, source: str = "the answer", image_size: tuple[int, int] | None = None
) -> Validated:
    """Check a decoded answer against the schema and repair what has one sensible fix.

    `source` names the input in messages ("gpt-4o at https://api.openai.com/v1"); `image_size`
    (width, height) lets pixel boxes be turned into fractions. Raises `CoarseURDFError`.
    """
    checker = _Checker(source, image_size)
    coarse = checker.check(data)
    if checker.problems:
        raise CoarseURDFError(source, checker.problems)
    return Validated(coarse, checker.repairs)


def coarse_urdf_from_dict(data: dict, source: str = "the file") -> CoarseURDF:
    """Read a saved coarse URDF (``CoarseURDF.to_dict()``); repairs are applied silently."""
    return validate_coarse_urdf(data, source).coarse


class _Checker:
    def __init__(self, source: str, image_size: tuple[int, int] | None):
        self.source = source
        self.image_size = image_size
        self.problems: list[str] = []
        self.repairs: list[str] = []

    # helpers ----------------------------------------------------------------------------------
    def numbers(self, value: Any, count: int, where: str) -> list[float] | None:
        if isinstance(value, dict) and count <= 3:  # {"x":..,"y":..,"z":..}
            keys = ("x", "y", "z")[:count]
            if all(k in value for k in keys):
                value = [value[k] for k in keys]
                self.repairs.append(f"{where}: read from an {{x, y, z}} object")
        if not isinstance(value, list | tuple) or len(value) != count:
            self.problems.append(f"{where} must be a list of {count} numbers, got {_show(value)}")
            return None
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int | float):
                self.problems.append(f"{where} must hold numbers, got {_show(value)}")
                return None
            if not math.isfinite(item):
                self.problems.append(f"{where} holds a non-finite number")
                return None
            out.append(float(item))
        return out

    # the object -------------------------------------------------------------------------------
    def check(self, data: Any) -> CoarseURDF | None:
        if not isinstance(data, dict):
            self.problems.append(f"the answer must be a JSON object, got {_show(data)}")
            return None
        missing = [k for k in ("category", "size_m", "camera", "parts") if k not in data]
        if missing:
            self.problems.append(f"missing field(s) {', '.join(missing)}")
        category = self.category(data.get("category"))
        size = self.size(data.get("size_m")) if "size_m" in data else None
        camera = self.camera(data.get("camera")) if "camera" in data else None
        parts_data = data.get("parts", [])
        if not isinstance(parts_data, list):
            self.problems.append(f"parts must be a list, got {_show(parts_data)}")
            parts_data = []
        parts = [p for i, item in enumerate(parts_data) if (p := self.part(item, i)) is not None]
        if self.problems:
            return None
        parts = self.tree(parts)
        return CoarseURDF(category, size, camera, parts)

    def category(self, value: Any) -> str:
        found = match_category(value)
        if found is None:
            if value is not None:
                self.problems.append(f"category {_show(value)} is not a PartNet-Mobility category")
            return ""
        if found != value:
            self.repairs.append(f"category {value!r} read as {found!r}")
        return found

    def size(self, value: Any) -> list[float] | None:
        size = self.numbers(value, 3, "size_m")
        if size is None:
            return None
        if min(size) <= 0.0:
            self.problems.append(f"size_m must be positive, got {size}")
            return None
        if max(size) > _MAX_OBJECT_SIZE_M:
            unit = 1000.0 if max(size) > 100 * _MAX_OBJECT_SIZE_M else 100.0
            size = [s / unit for s in size]
            self.repairs.append(f"size_m looked like {'mm' if unit == 1000 else 'cm'}; divided")
        return size

    def camera(self, value: Any) -> CameraEstimate | None:
        if not isinstance(value, dict):
            self.problems.append(f"camera must be an object, got {_show(value)}")
            return None
        got = {}
        for key in ("azimuth_deg", "elevation_deg", "fov_deg"):
            item = value.get(key)
            if (
                isinstance(item, bool)
                or not isinstance(item, int | float)
                or not math.isfinite(item)
            ):
                self.problems.append(f"camera.{key} must be a number, got {_show(item)}")
                return None
            got[key] = float(item)
        azimuth = (got["azimuth_deg"] + 180.0) % 360.0 - 180.0
        elevation = min(max(got["elevation_deg"], -89.0), 89.0)
        fov = min(max(got["fov_deg"], 5.0), 120.0)
        if (azimuth, elevation, fov) != (got["azimuth_deg"], got["elevation_deg"], got["fov_deg"]):
            self.repairs.append("camera angles brought into range")
        return CameraEstimate(azimuth, elevation, fov)

    # one part ---------------------------------------------------------------------------------
    def part(self, item: Any, index: int) -> CoarsePart | None:
        where = f"parts[{index}]"
        if not isinstance(item, dict):
            self.problems.append(f"{where} must be an object, got {_show(item)}")
            return None
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            name = f"part_{index}"
            self.repairs.append(f"{where} had no name; called it {name!r}")
        where = f"part '{name}'"
        joint_type = self.joint_type(item.get("joint_type"), where)
        axis = self.numbers(item.get("axis"), 3, f"{where} axis")
        pivot = self.numbers(item.get("pivot", [0.0, 0.0, 0.5]), 3, f"{where} pivot")
        limits = self.numbers(item.get("limits", [0.0, 0.0]), 2, f"{where} limits")
        box = self.box(item.get("box_2d"), where)
        observed = self.observed(item.get("observed", 0.0), where)
        if None in (joint_type, axis, pivot, limits, box):
            return None
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            label = re.sub(r"[_\d]+$", "", name) or "part"
            self.repairs.append(f"{where} had no label; used {label!r}")
        parent = item.get("parent")
        parent = parent if isinstance(parent, str) and parent.strip() else ROOT
        axis = self.axis(axis, joint_type, where)
        if axis is None:
            return None
        pivot = self.pivot(pivot, where)
        degrees = joint_type == "revolute" and max(map(abs, limits)) > _MAX_REVOLUTE_RAD
        given_axis = axis
        axis, limits = self.limits(limits, axis, joint_type, where)
        if degrees:
            observed = math.radians(observed)
        if axis != given_axis:  # the limits were flipped to open positively: so is the value
            observed = -observed
        observed = self.observed_in_limits(observed, limits, joint_type, where)
        mask = self.mask(item.get("mask"), where)
        return CoarsePart(
            name, label.strip(), parent, joint_type, axis, pivot, limits, box, mask, observed
        )

    def observed(self, value: Any, where: str) -> float:
        if value is None:
            return 0.0
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            self.repairs.append(f"{where}: observed value {_show(value)} unreadable; set to 0")
            return 0.0
        return float(value)

    def observed_in_limits(
        self, value: float, limits: list[float], joint_type: str, where: str
    ) -> float:
        if joint_type == "fixed":
            return 0.0
        if joint_type == "continuous":
            return value
        clipped = min(max(value, limits[0]), limits[1])
        if clipped != value:
            self.repairs.append(f"{where}: observed value {value:.4g} clipped into the limits")
        return clipped

    def joint_type(self, value: Any, where: str) -> str | None:
        if isinstance(value, str):
            key = value.strip().lower()
            if key in JOINT_TYPES:
                return key
            if key in JOINT_TYPE_SYNONYMS:
                found = JOINT_TYPE_SYNONYMS[key]
                self.repairs.append(f"{where}: joint type {value!r} read as {found!r}")
                return found
        self.problems.append(f"{where} has joint type {_show(value)}, not one of {JOINT_TYPES}")
        return None

    def axis(self, axis: list[float], joint_type: str, where: str) -> list[float] | None:
        norm = math.sqrt(sum(a * a for a in axis))
        if norm < 1e-9:
            if joint_type == "fixed":
                return [0.0, 0.0, 1.0]
            self.problems.append(f"{where} has a zero axis")
            return None
        if abs(norm - 1.0) > 1e-6:
            self.repairs.append(f"{where}: axis of length {norm:.3g} normalised")
        return [a / norm for a in axis]

    def pivot(self, pivot: list[float], where: str) -> list[float]:
        bounds = ((-1.0, 1.0), (-1.0, 1.0), (-0.5, 1.5))
        clipped = [min(max(p, lo), hi) for p, (lo, hi) in zip(pivot, bounds, strict=True)]
        if clipped != pivot:
            self.repairs.append(f"{where}: pivot {pivot} clipped to the normalised frame")
        return clipped

    def limits(
        self, limits: list[float], axis: list[float], joint_type: str, where: str
    ) -> tuple[list[float], list[float]]:
        if joint_type == "fixed":
            return axis, [0.0, 0.0]
        if joint_type == "continuous":
            return axis, [-math.pi, math.pi]
        lower, upper = limits
        if lower > upper:
            lower, upper = upper, lower
            self.repairs.append(f"{where}: limits were reversed")
        if joint_type == "revolute" and max(abs(lower), abs(upper)) > _MAX_REVOLUTE_RAD:
            lower, upper = math.radians(lower), math.radians(upper)
            self.repairs.append(f"{where}: limits looked like degrees; converted to radians")
        if upper <= 0.0 and lower < 0.0:  # opens the negative way: flip so opening is positive
            axis = [-a for a in axis]
            lower, upper = -upper, -lower
            self.repairs.append(f"{where}: opened along -axis; axis and limits flipped")
        if lower > 0.0:
            lower = 0.0
            self.repairs.append(f"{where}: limits did not contain 0 (closed); lower set to 0")
        if upper - lower < 1e-9:
            upper = lower + (math.pi / 2 if joint_type == "revolute" else 0.1)
            self.repairs.append(f"{where}: empty range widened to {upper:.3g}")
        return axis, [lower, upper]

    def box(self, value: Any, where: str) -> list[float] | None:
        box = self.numbers(value, 4, f"{where} box_2d")
        if box is None:
            return None
        if max(box) > 1.0 + 1e-6:
            if self.image_size is not None:
                w, h = self.image_size
                box = [box[0] / w, box[1] / h, box[2] / w, box[3] / h]
                self.repairs.append(f"{where}: box_2d in pixels converted to fractions")
            elif max(box) <= 1000.0:
                box = [b / 1000.0 for b in box]
                self.repairs.append(f"{where}: box_2d read on a 0-1000 scale")
        x0, y0, x1, y1 = box
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        fixed = [min(max(v, 0.0), 1.0) for v in (x0, y0, x1, y1)]
        if fixed != box:
            self.repairs.append(f"{where}: box_2d ordered and clipped to the image")
        if fixed[2] - fixed[0] < 1e-3 or fixed[3] - fixed[1] < 1e-3:
            self.problems.append(f"{where} has an empty box_2d {box}")
            return None
        return fixed

    def mask(self, value: Any, where: str) -> list[list[float]] | None:
        if value is None:
            return None
        ok = isinstance(value, list) and len(value) >= 3
        ok = ok and all(
            isinstance(p, list | tuple)
            and len(p) == 2
            and all(isinstance(v, int | float) and math.isfinite(v) for v in p)
            for p in value
        )
        if not ok:
            self.repairs.append(f"{where}: unreadable mask dropped")
            return None
        return [[min(max(float(v), 0.0), 1.0) for v in p] for p in value]

    # the tree ---------------------------------------------------------------------------------
    def tree(self, parts: list[CoarsePart]) -> list[CoarsePart]:
        self.unique_names(parts)
        names = {p.name for p in parts}
        folded = {_fold(n): n for n in names}
        for part in parts:
            if part.parent in names or part.parent == ROOT:
                continue
            match = folded.get(_fold(part.parent))
            if _fold(part.parent) in (_fold(ROOT), "root", "body", "frame", "world", "none"):
                match = ROOT
            self.repairs.append(
                f"part '{part.name}': parent '{part.parent}' is not a part; "
                f"attached to '{match or ROOT}'"
            )
            part.parent = match or ROOT
        for part in parts:
            if part.parent == part.name:
                part.parent = ROOT
                self.repairs.append(f"part '{part.name}' was its own parent; attached to base")
        self.break_cycles(parts)
        return _parents_first(parts)

    def unique_names(self, parts: list[CoarsePart]) -> None:
        seen: set[str] = {ROOT}
        for part in parts:
            clean = re.sub(r"[^A-Za-z0-9_\-]", "_", part.name.strip()) or "part"
            candidate, n = clean, 2
            while candidate in seen:
                candidate, n = f"{clean}_{n}", n + 1
            if candidate != part.name:
                self.repairs.append(f"part '{part.name}' renamed '{candidate}' (unique, URDF-safe)")
                for other in parts:  # children that named the old spelling follow it
                    if other is not part and other.parent == part.name and part.name != ROOT:
                        other.parent = candidate
                part.name = candidate
            seen.add(candidate)

    def break_cycles(self, parts: list[CoarsePart]) -> None:
        by_name = {p.name: p for p in parts}
        for part in parts:
            chain: list[str] = []
            node = part.name
            while node != ROOT and node not in chain:
                chain.append(node)
                node = by_name[node].parent
            if node != ROOT:  # walked into a loop: cut it where it closes
                cut = by_name[node]
                self.repairs.append(
                    f"parts {' -> '.join(chain[chain.index(node) :] + [node])} form a cycle; "
                    f"'{cut.name}' attached to base"
                )
                cut.parent = ROOT


def _parents_first(parts: list[CoarsePart]) -> list[CoarsePart]:
    placed: set[str] = {ROOT}
    ordered: list[CoarsePart] = []
    pending = list(parts)
    while pending:
        ready = [p for p in pending if p.parent in placed]
        if not ready:  # cannot happen after break_cycles; never loop forever on a bad tree
            raise AssertionError(f"parts {[p.name for p in pending]} do not reach the base")
        for part in ready:
            ordered.append(part)
            placed.add(part.name)
        pending = [p for p in pending if p.name not in placed]
    return ordered


def _fold(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _show(value: Any) -> str:
    return one_line(json.dumps(value, default=str), 80)
