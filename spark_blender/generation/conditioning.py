"""What the part DiT is conditioned on, as arrays: one definition for training and sampling.

Per part: label id, joint-type id, parent index (-1 for the root), and ``COND_DIM`` floats: the
joint axis (canonical frame), the pivot in the normalised object frame (x, y in [-0.5, 0.5],
z in [0, 1]), the limits (revolute / pi, prismatic / the object's largest side) and the part's
2D box in the photo (fractions). Per object: category id and aspect (extent / largest side).
Images: the photo resized to ``IMAGE_SIZE`` and every part's reference crop at ``CROP_SIZE``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from spark_blender.generation.tokens import JOINT_TYPES, PartTokens
from spark_blender.synth import CATEGORIES

LABELS: tuple[str, ...] = (
    "part", "base", "door", "drawer", "lid", "knob", "button", "screen", "slider", "lever",
    "handle", "wheel", "pedal", "seat", "spout", "switch", "window", "arm", "cover", "cap",
    "toggle", "tray", "flap", "shelf", "leg", "rotor", "fan", "wing", "key",
)  # fmt: skip
IMAGE_SIZE = 64
CROP_SIZE = 32
MAX_PARTS = 32


def label_id(label: str) -> int:
    label = (label or "").lower()
    return LABELS.index(label) if label in LABELS else 0


def category_id(category: str, categories: Sequence[str] = CATEGORIES) -> int:
    """The index of `category` in `categories` (a model's own list: a model trained on fewer
    categories has no embedding for the others), or len(categories) for "unknown"."""
    return list(categories).index(category) if category in categories else len(categories)


@dataclass
class Structure:
    """The conditioning of one object (numpy, unpadded)."""

    category: int
    aspect: np.ndarray  # (3,)
    label: np.ndarray  # (n,) int
    joint: np.ndarray  # (n,) int
    parent: np.ndarray  # (n,) int, -1 for the root
    cond: np.ndarray  # (n, COND_DIM)


def limits_normalised(joint_type: str, limits, largest: float) -> list[float]:
    if joint_type == "revolute":
        return [limits[0] / math.pi, limits[1] / math.pi]
    if joint_type == "prismatic":
        return [limits[0] / largest, limits[1] / largest]
    return [0.0, 0.0]


def structure_of(
    tokens: PartTokens, boxes_2d: list[list[float]], categories: Sequence[str] = CATEGORIES
) -> Structure:
    """The conditioning a synthetic object's true structure gives (training, evaluation)."""
    names = [p.name for p in tokens.parts]
    largest = float(np.max(tokens.extent))
    cond = []
    for part, box in zip(tokens.parts, boxes_2d, strict=True):
        pivot = part.centre + part.pivot * part.size if part.parent else np.zeros(3)
        cond.append(
            [*part.axis, *pivot, *limits_normalised(part.joint_type, part.limits, largest), *box]
        )
    return Structure(
        category_id(tokens.category, categories),
        np.asarray(tokens.extent) / largest,
        np.array([label_id(p.label) for p in tokens.parts]),
        np.array([JOINT_TYPES.index(p.joint_type) for p in tokens.parts]),
        np.array([names.index(p.parent) if p.parent else -1 for p in tokens.parts]),
        np.asarray(cond, float),
    )


def image_array(image, size: int) -> np.ndarray:
    """(3, size, size) float32 in [0, 1]: RGB over white where there is alpha."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image = image.convert("RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, image).convert("RGB").resize((size, size), Image.BILINEAR)
    return np.asarray(rgb, np.float32).transpose(2, 0, 1) / 255.0


def crop_box(image: Image.Image, box_2d, margin: float = 0.1) -> Image.Image:
    """The part's reference crop: `box_2d` (fractions) grown by `margin` of its size."""
    w, h = image.size
    x0, y0, x1, y1 = (float(v) for v in box_2d)
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    left, top = max(0, int((x0 - mx) * w)), max(0, int((y0 - my) * h))
    right, bottom = min(w, int(math.ceil((x1 + mx) * w))), min(h, int(math.ceil((y1 + my) * h)))
    if right - left < 2 or bottom - top < 2:
        return image
    return image.crop((left, top, right, bottom))


def collate(structures: list[Structure], images: list[np.ndarray], crops: list[np.ndarray],
            rows: list[np.ndarray] | None = None) -> dict:  # fmt: skip
    """Padded torch batch. `images` (3, S, S) each, `crops` (n, 3, s, s) each, `rows` the
    normalised token rows (n, TOKEN_DIM) each when training."""
    b = len(structures)
    n = max(len(s.label) for s in structures)
    batch = {
        "category": torch.tensor([s.category for s in structures]),
        "aspect": torch.tensor(np.stack([s.aspect for s in structures]), dtype=torch.float32),
        "label": torch.zeros(b, n, dtype=torch.long),
        "joint": torch.zeros(b, n, dtype=torch.long),
        "parent": torch.full((b, n), -1, dtype=torch.long),
        "cond": torch.zeros(b, n, structures[0].cond.shape[1]),
        "mask": torch.zeros(b, n, dtype=torch.bool),
        "image": torch.tensor(np.stack(images)),
        "crops": torch.zeros(b, n, 3, crops[0].shape[-2], crops[0].shape[-1]),
    }
    if rows is not None:
        batch["x0"] = torch.zeros(b, n, rows[0].shape[1])
    for i, s in enumerate(structures):
        k = len(s.label)
        batch["label"][i, :k] = torch.tensor(s.label)
        batch["joint"][i, :k] = torch.tensor(s.joint)
        batch["parent"][i, :k] = torch.tensor(s.parent)
        batch["cond"][i, :k] = torch.tensor(s.cond, dtype=torch.float32)
        batch["mask"][i, :k] = True
        batch["crops"][i, :k] = torch.tensor(crops[i])
        if rows is not None:
            batch["x0"][i, :k] = torch.tensor(rows[i], dtype=torch.float32)
    return batch
