"""Sampling the part DiT: K hypotheses of an object's geometry from its coarse structure and photo.

``generate(coarse, image, part_images, k)`` builds the conditioning once (the coarse tree, the
photo's and every part's crop features), draws K noise sets and runs one batched rectified-flow
sampling loop with diffusers' ``FlowMatchEulerDiscreteScheduler`` (``STEPS`` Euler steps,
classifier-free guidance on the image), then decodes each row set through ``tokens.decode``
at the coarse size. Categories the model was not trained on (its config's `categories`) borrow the
conditioning of the nearest one it was (``fallback_category``) and say so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from spark_blender.core.model import ArticulatedObject
from spark_blender.generation.conditioning import (
    CROP_SIZE,
    IMAGE_SIZE,
    Structure,
    category_id,
    collate,
    crop_box,
    image_array,
    label_id,
    limits_normalised,
)
from spark_blender.generation.tokens import (
    JOINT_TYPES,
    KINDS,
    PARAM_DIM,
    DecodeError,
    PartToken,
    PartTokens,
    decode,
)
from spark_blender.synth import CATEGORIES

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "dit"
STEPS = 12
GUIDANCE = 1.5
ROOT = "base"
_FALLBACK_BY_LABEL = (  # the first label found among the parts picks the stand-in category
    ("drawer", "StorageFurniture"), ("door", "StorageFurniture"), ("screen", "Laptop"),
    ("lid", "Box"), ("knob", "Microwave"), ("button", "Switch"), ("switch", "Switch"),
    ("lever", "Faucet"), ("handle", "Bucket"), ("wheel", "Suitcase"), ("window", "Window"),
)  # fmt: skip


def fallback_category(category: str, labels: list[str], known: Sequence[str] = CATEGORIES) -> str:
    """`category` when it is `known` (the categories a model was trained on), else the nearest
    one that is (by part labels)."""
    if category in known:
        return category
    for label, stand_in in _FALLBACK_BY_LABEL:
        if label in labels:
            return stand_in
    return "Box"


@lru_cache(maxsize=4)
def load_model(path: str | None = None, device: str = "cpu"):
    from spark_blender.generation.part_dit import PartDiT

    folder = Path(path) if path else MODEL_DIR
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"no part DiT weights in '{folder}' (config.json missing)")
    # low_cpu_mem_usage=False: the default asks for `accelerate` and prints a warning otherwise
    model = PartDiT.from_pretrained(str(folder), low_cpu_mem_usage=False).to(device)
    model.eval()
    return model


def coarse_structure(
    coarse, category: str, categories: Sequence[str] = CATEGORIES
) -> tuple[Structure, list]:
    """The conditioning of a coarse URDF: the root ``base`` first, then its parts, parents
    first; returns it with the part list in that order (None stands for the root)."""
    size = np.asarray(coarse.size_m, float)
    largest = float(size.max())
    parts = [None] + _parents_first(coarse.parts)
    names = [ROOT] + [p.name for p in parts[1:]]
    label, joint, parent, cond = [label_id("base")], [0], [-1], [[0.0] * 8 + [0.0, 0.0, 1.0, 1.0]]
    for part in parts[1:]:
        jtype = part.joint_type if part.joint_type in JOINT_TYPES[1:] else "fixed"
        label.append(label_id(part.label))
        joint.append(JOINT_TYPES.index(jtype))
        parent.append(names.index(part.parent) if part.parent in names else 0)
        cond.append(
            [*part.axis, *part.pivot, *limits_normalised(jtype, part.limits, largest),
             *part.box_2d]
        )  # fmt: skip
    structure = Structure(
        category_id(category, categories),
        size / largest,
        np.array(label),
        np.array(joint),
        np.array(parent),
        np.asarray(cond, float),
    )
    return structure, parts


def _parents_first(parts: list) -> list:
    out, placed = [], {ROOT}
    pending = list(parts)
    while pending:
        progressed = False
        for part in list(pending):
            if part.parent in placed or part.parent not in {p.name for p in parts}:
                out.append(part)
                placed.add(part.name)
                pending.remove(part)
                progressed = True
        if not progressed:  # a cycle: hang the rest off the root
            out += pending
            break
    return out


def sample_rows(model, structure: Structure, image: np.ndarray, crops: np.ndarray, k: int,
                seed: int, device: str = "cpu", steps: int = STEPS,
                guidance: float = GUIDANCE) -> np.ndarray:  # fmt: skip
    """(k, n, TOKEN_DIM) denormalised token rows: one batched sampling loop."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler

    batch = collate([structure], [image], [crops])
    batch = {key: v.to(device) for key, v in batch.items()}
    n = batch["mask"].shape[1]
    expand = {key: v.expand(k, *v.shape[1:]) for key, v in batch.items() if key != "crops"}
    mean = torch.tensor(model.config.mean, dtype=torch.float32, device=device)
    std = torch.tensor(model.config.std, dtype=torch.float32, device=device)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    x = torch.randn(k, n, model.config.token_dim, generator=generator).to(device)
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)
    scheduler.set_timesteps(steps, device=device)
    with torch.no_grad():
        features = model.encode_images(batch["image"], batch["crops"])
        cfg = guidance != 1.0
        both = {key: torch.cat([v, v]) for key, v in expand.items()} if cfg else expand
        drop = torch.cat([torch.zeros(k), torch.ones(k)]).bool().to(device) if cfg else None
        for t in scheduler.timesteps:  # the visible loop: one model call per step
            sigma = (t / 1000.0).expand(2 * k if cfg else k)
            xin = torch.cat([x, x]) if cfg else x
            v = model(xin, sigma, both, features=features, drop=drop)
            if cfg:
                cond, uncond = v.chunk(2)
                v = uncond + guidance * (cond - uncond)
            x = scheduler.step(v, t, x).prev_sample
    return (x * std + mean).cpu().numpy().astype(float)


def rows_to_tokens(rows: np.ndarray, coarse, parts: list, category: str) -> PartTokens:
    """Token set from generated rows and the coarse structure (names, tree, joints)."""
    size = np.asarray(coarse.size_m, float)
    out = []
    for row, part in zip(rows, parts, strict=True):
        builder = KINDS[int(np.argmax(row[9 + PARAM_DIM :]))]
        common = dict(
            centre=row[0:3], size=row[3:6], pivot=row[6:9], builder=builder,
            params=row[9 : 9 + PARAM_DIM],
        )  # fmt: skip
        if part is None:
            out.append(PartToken(ROOT, "base", "", "root", np.zeros(3), (0.0, 0.0), **common))
            continue
        jtype = part.joint_type if part.joint_type in JOINT_TYPES[1:] else "fixed"
        limits = (float(part.limits[0]), float(part.limits[1])) if part.limits else (0.0, 0.0)
        out.append(
            PartToken(part.name, part.label, part.parent if part.parent else ROOT, jtype,
                      np.asarray(part.axis, float), limits, **common)
        )  # fmt: skip
    return PartTokens(category, size, out, None)


def _as_pil(image) -> Image.Image:
    return image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))


def generate(
    coarse,
    image,
    part_images: dict | None = None,
    k: int = 8,
    seed: int = 0,
    device: str = "cpu",
    features: dict | None = None,
    model_dir: str | None = None,
) -> list[ArticulatedObject]:
    """K decoded hypotheses for `coarse` (a perception ``CoarseURDF``) seen in `image`.

    `part_images` maps part names to reference crops (PIL); a part without one is cropped from
    the photo at its ``box_2d``. `features` (the embedded parser's) are not used yet: the DiT
    has its own patch encoder. Hypotheses that do not decode are left out; when none does,
    raises ``DecodeError``.
    """
    del features  # the DiT's own encoder stands in for the parser's features (docs/models.md)
    model = load_model(model_dir, device)
    known = list(getattr(model.config, "categories", None) or CATEGORIES)
    category = fallback_category(coarse.category, [p.label for p in coarse.parts], known)
    if category != coarse.category:
        log.warning("part DiT: not trained on '%s'; using %s's", coarse.category, category)
    photo = _as_pil(image)
    structure, parts = coarse_structure(coarse, category, known)
    part_images = part_images or {}
    crops = []
    for part in parts:
        if part is None:
            crop = part_images.get(ROOT, photo)
        else:
            crop = part_images.get(part.name) or crop_box(photo, part.box_2d)
        crops.append(image_array(_as_pil(crop), CROP_SIZE))
    rows = sample_rows(
        model, structure, image_array(photo, IMAGE_SIZE), np.stack(crops), k, seed, device
    )
    objects, reasons = [], []
    for hypothesis in rows:
        tokens = rows_to_tokens(hypothesis, coarse, parts, category)
        try:
            obj = decode(tokens, category)
        except DecodeError as exc:
            reasons.append(str(exc))
            continue
        obj.category = coarse.category
        objects.append(obj)
    if not objects:
        raise DecodeError(f"none of the {k} hypotheses decoded: {reasons[0]}")
    return objects
