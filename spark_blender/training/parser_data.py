"""Training batches for the embedded parser: synth shards -> augmented images + targets.

Shards are read a few at a time and a few views kept from each (a shuffle buffer over many
shards), so memory stays small for any dataset size and every batch mixes categories.
Every (sample, pose) is one training image; per image, in this order:

1. mirror left-right (p 0.5) with the record mirrored too (`targets.mirror_record`: hinge
   sides swap, azimuth changes sign);
2. per-link colour remaps (p 0.5): each link's pixels get their own gain and offset, so colours
   stop following parts or follow them with high contrast (dark interiors, bright fronts);
   a shiny variant mixes a grey ramp into links (metal-like); with `reflect`, mirror-like
   finishes (`reflections.reflective`: a studio reflected through the depth map's normals);
3. scale (0.7-1.2), translation (+-15%) and a crop to the model's input size;
4. the background: a new one (plain, gradient, noise texture, stripes, clutter of random
   shapes) behind the object mask, or the render's own when it has one (p 0.2);
5. photometric: exposure, contrast, saturation / grey scale, gamma, channel swaps, blur,
   noise and JPEG.

Targets follow the warped masks: the foreground mask, per-part masks and 2D boxes; parts left
without a visible pixel are dropped (their children then hang from the dropped part's parent).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from spark_blender.core.camera import Camera
from spark_blender.perception.embedded import targets as T
from spark_blender.perception.embedded.parser import CROP_MARGIN
from spark_blender.synth.dataset import SynthDataset
from spark_blender.training.reflections import reflective


@dataclass
class Batch:
    images: torch.Tensor  # (B, 3, S, S) in [0, 1]
    fg: torch.Tensor  # (B, S/2, S/2) float {0, 1}
    category: torch.Tensor  # (B,)
    azimuth: torch.Tensor  # (B,) degrees
    elevation: torch.Tensor  # (B,)
    aspect: torch.Tensor  # (B, 2)
    parts: list[dict]  # per image: tensors of its visible parts (see `_part_tensors`)


def _ramp(size: int, rng) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:size, 0:size] / size
    return (np.cos(angle) * x + np.sin(angle) * y)[..., None]


BACKGROUND_KINDS = ("plain", "gradient", "noise", "stripes", "clutter")


def background(size: int, rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
    """A random (size, size, 3) float background in [0, 1] (of `kind`, or a random kind)."""
    if kind is None:
        kind = str(rng.choice(BACKGROUND_KINDS, p=[0.25, 0.2, 0.2, 0.1, 0.25]))
    c1, c2 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    if kind == "plain":
        out = np.broadcast_to(c1, (size, size, 3)).copy()
    elif kind == "gradient":
        t = _ramp(size, rng)
        t = (t - t.min()) / max(np.ptp(t), 1e-6)
        out = c1 * (1 - t) + c2 * t
    elif kind == "noise":
        cells = int(rng.integers(3, 24))
        low = rng.uniform(0, 1, (cells, cells, 3)).astype(np.float32)
        up = np.asarray(Image.fromarray((low * 255).astype(np.uint8)).resize((size, size),
                        Image.Resampling.BICUBIC), np.float32) / 255  # fmt: skip
        out = c1 * 0.5 + up * 0.5
    elif kind == "stripes":
        period = rng.uniform(4, 40)
        t = (np.sin(_ramp(size, rng) * size * 2 * np.pi / period) > 0).astype(float)
        out = c1 * (1 - t) + c2 * t
    else:
        out = np.broadcast_to(c1, (size, size, 3)).copy()
        y, x = np.mgrid[0:size, 0:size]
        for _ in range(int(rng.integers(4, 16))):
            cx, cy = rng.uniform(-0.1, 1.1, 2) * size
            rx, ry = rng.uniform(0.03, 0.35, 2) * size
            colour = rng.uniform(0, 1, 3)
            if rng.random() < 0.5:
                inside = (np.abs(x - cx) < rx) & (np.abs(y - cy) < ry)
            else:
                inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1
            out[inside] = colour
    return np.clip(out, 0, 1).astype(np.float32)


def _recolour(rgb: np.ndarray, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-link gains and offsets (and a metal-like grey ramp on some links)."""
    out = rgb.copy()
    for link in np.unique(ids):
        if link == 0 or rng.random() < 0.3:
            continue
        where = ids == link
        pixels = out[where]
        if rng.random() < 0.2:  # metal: grey, high contrast, a reflection ramp
            grey = pixels.mean(1, keepdims=True)
            ramp = _ramp(rgb.shape[0], rng)[where]
            ramp = np.sin(ramp * rng.uniform(3, 12) + rng.uniform(0, 6)) * 0.5 + 0.5
            pixels = np.clip(0.3 * grey + 0.7 * ramp * rng.uniform(0.5, 1.2), 0, 1)
            pixels = np.repeat(pixels, 3, 1) * rng.uniform(0.85, 1.0, 3)
        else:
            pixels = pixels * rng.uniform(0.2, 1.6, 3) + rng.uniform(-0.25, 0.25, 3)
        out[where] = np.clip(pixels, 0, 1)
    return out


def _texture(rgb: np.ndarray, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-link surface texture: the engine's flat finishes get grain, speckle, stripes or
    shading ramps (real objects are wood, brushed metal, printed plastic), and some links a
    white specular band; each link its own pattern and strength."""
    out = rgb.copy()
    size = rgb.shape[0]
    for link in np.unique(ids):
        if link == 0 or rng.random() < 0.4:
            continue
        where = ids == link
        kind = str(rng.choice(["noise", "stripes", "gradient", "grain", "blobs"]))
        if kind == "blobs":  # printed or camouflage-like: hard black-and-white patches
            noise = background(size, rng, "noise").mean(2)
            pattern = (noise > np.quantile(noise, rng.uniform(0.3, 0.7)))[..., None] * 1.0
        elif kind == "grain":  # wood-like: fine wavy stripes
            t = _ramp(size, rng)[..., 0] * size
            wobble = background(size, rng, "noise").mean(2) * rng.uniform(5, 30)
            pattern = (np.sin((t + wobble) * 2 * np.pi / rng.uniform(2, 8)) * 0.5 + 0.5)[..., None]
        else:
            pattern = background(size, rng, kind).mean(2, keepdims=True)
        strength = float(rng.uniform(0.15, 0.6))
        pixels = out[where] * ((1 - strength) + strength * 2 * pattern[where])
        if rng.random() < 0.25:  # a specular band
            ramp = _ramp(size, rng)[where][:, 0]
            centre, width = rng.uniform(ramp.min(), ramp.max() + 1e-6), rng.uniform(0.02, 0.15)
            band = np.exp(-((ramp - centre) ** 2) / (2 * width**2))[:, None]
            pixels = pixels + band * rng.uniform(0.3, 0.9)
        out[where] = np.clip(pixels, 0, 1)
    return out


def _photometric(img: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Exposure, contrast, saturation, gamma, channel swaps, blur, noise on one (3, S, S)."""
    img = img * float(rng.uniform(0.6, 1.4))
    mean = img.mean()
    img = (img - mean) * float(rng.uniform(0.6, 1.5)) + mean
    grey = img.mean(0, keepdim=True)
    saturation = 0.0 if rng.random() < 0.15 else float(rng.uniform(0.3, 1.5))
    img = grey + (img - grey) * saturation
    img = img.clamp(0, 1) ** float(rng.uniform(0.7, 1.4))
    if rng.random() < 0.15:
        img = img[torch.as_tensor(rng.permutation(3))]
    if rng.random() < 0.3:
        sigma = float(rng.uniform(0.4, 1.3))
        k = torch.exp(-(torch.arange(-2, 3, dtype=torch.float32) ** 2) / (2 * sigma**2))
        k = k / k.sum()
        img = F.conv2d(img[:, None], k.view(1, 1, 1, 5), padding=(0, 2))
        img = F.conv2d(img, k.view(1, 1, 5, 1), padding=(2, 0))[:, 0]
    if rng.random() < 0.5:
        img = img + torch.randn_like(img) * float(rng.uniform(0.0, 0.04))
    img = img.clamp(0, 1)
    if rng.random() < 0.3:
        array = (img.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, "JPEG", quality=int(rng.integers(25, 90)))
        img = torch.from_numpy(np.asarray(Image.open(buffer), np.float32) / 255).permute(2, 0, 1)
    return img


def _part_tensors(parts: list[T.PartTarget], ids: torch.Tensor, size: int) -> dict:
    """Targets of the parts visible in the warped id map `ids` (S, S)."""
    keep, boxes, masks = [], [], []
    for k, part in enumerate(parts):
        where = ids == part.mask_id
        if int(where.sum()) < 2:
            continue
        ys, xs = torch.nonzero(where, as_tuple=True)
        x0, x1 = xs.min().item() / size, (xs.max().item() + 1) / size
        y0, y1 = ys.min().item() / size, (ys.max().item() + 1) / size
        boxes.append([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0])
        masks.append(F.avg_pool2d(where[None].float(), 4)[0])
        keep.append(k)
    new_index = {k: i for i, k in enumerate(keep)}

    def parent_of(k: int) -> int:  # walk up past dropped parts
        p = parts[k].parent
        while p and (p - 1) not in new_index:
            p = parts[p - 1].parent
        return 0 if p == 0 else new_index[p - 1] + 1

    chosen = [parts[k] for k in keep]
    n = len(chosen)
    return {
        "label": torch.tensor([p.label for p in chosen], dtype=torch.long),
        "type": torch.tensor([p.type for p in chosen], dtype=torch.long),
        "parent": torch.tensor([parent_of(k) for k in keep], dtype=torch.long),
        "axis": torch.tensor([p.axis for p in chosen], dtype=torch.long),
        "pivot": torch.tensor([p.pivot for p in chosen], dtype=torch.long),
        "pivot_offset": torch.tensor([p.pivot_offset for p in chosen]).view(n, 2),
        "box2d": torch.tensor(boxes).view(n, 4),
        "box3d": torch.tensor([p.box3d for p in chosen]).view(n, 6),
        "limits": torch.tensor([p.limits for p in chosen]).view(n, 2),
        "observed": torch.tensor([p.observed for p in chosen]).view(n),
        "mask": torch.stack(masks) if masks else torch.zeros(0, size // 4, size // 4),
    }


def _object_crop(ids: np.ndarray, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """The zoom and shift (normalised image units) of a square around the object like the one
    `EmbeddedParser`'s second pass cuts (the box's longer side x CROP_MARGIN), jittered: the
    engine frames every pose of an object at once, so at rest it fills far less of the render
    than of the parser's crop."""
    src = ids.shape[0]
    ys, xs = np.nonzero(ids > 0)
    side = max(xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()) * CROP_MARGIN
    side *= float(rng.uniform(0.9, 1.15))
    centre = np.array([(xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2])
    centre = centre + rng.uniform(-0.05, 0.05, 2) * side
    return src / side, centre / src * 2 - 1


def make_item(rgba, ids, meta, pose: str, size: int, rng, augment: bool = True,
              texture: bool = False, crop: bool = False, depth=None,
              reflect: float = 0.0):  # fmt: skip
    """One training image and its targets from one rendered view (`texture`: also the per-link
    surface textures, `_texture`; `crop`: 70% of the images framed as the parser's second pass
    frames a photo, `_object_crop`; `reflect`: the share of images whose links may turn
    mirror-like, `reflections.reflective`, which needs the view's `depth`)."""
    record = meta
    azimuth, elevation = T.camera_targets(meta["camera"])
    mirrored = augment and rng.random() < 0.5
    if mirrored:
        rgba, ids = rgba[:, ::-1], ids[:, ::-1]
        record = T.mirror_record(meta)
        azimuth = -azimuth
    rgb = rgba[..., :3].astype(np.float32) / 255
    transparent = rgba[..., 3].min() < 128
    if augment and rng.random() < 0.5:
        rgb = _recolour(rgb, ids, rng)
    if augment and depth is not None and rng.random() < reflect:
        # a mirrored view is a view of the mirrored object: its depth is mirrored too
        shown = depth[:, ::-1] if mirrored else depth
        rgb = reflective(rgb, ids, shown, Camera.from_dict(meta["camera"]), rng)
    if augment and texture and rng.random() < 0.5:
        rgb = _texture(rgb, ids, rng)
    parts = T.encode_parts(record, meta["poses"][pose])
    src = rgb.shape[0]
    if augment and crop and (ids > 0).any() and rng.random() < 0.7:
        scale, shift = _object_crop(ids, rng)
    elif augment:
        scale = float(rng.uniform(0.7, 1.2))  # > 1: zoom in
        shift = rng.uniform(-0.15, 0.15, 2)
    else:
        scale, shift = 1.0, np.zeros(2)
    theta = torch.tensor([[1 / scale, 0, shift[0]], [0, 1 / scale, shift[1]]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], (1, 3, size, size), align_corners=False)
    rgb_t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
    ids_t = torch.from_numpy(np.ascontiguousarray(ids)).float()[None, None]
    keep_own = augment and not transparent and rng.random() < 0.2
    warped = F.grid_sample(rgb_t, grid, "bilinear", "border" if keep_own else "zeros", False)[0]
    ids_w = F.grid_sample(ids_t, grid, "nearest", "zeros", False)[0, 0].round().long()
    fg = (ids_w > 0).float()
    if not keep_own:
        bg = background(size, rng) if augment else np.full((size, size, 3), 200 / 255, np.float32)
        bg_t = torch.from_numpy(bg).permute(2, 0, 1)
        alpha = F.avg_pool2d(F.pad(fg[None, None], (1, 1, 1, 1), mode="replicate"), 3, 1)[0]
        alpha = torch.where(fg[None] > 0, torch.maximum(alpha, torch.tensor(0.5)), alpha * 0.5)
        warped = warped * alpha + bg_t * (1 - alpha)
    image = _photometric(warped, rng) if augment else warped.clamp(0, 1)
    del src
    return {
        "image": image,
        "fg": F.avg_pool2d(fg[None, None], 2)[0, 0].gt(0.5).float(),
        "category": T.CATEGORIES.index(meta["category"]),
        "azimuth": azimuth,
        "elevation": elevation,
        "aspect": T.aspect_target(record),
        "parts": _part_tensors(parts, ids_w, size),
    }


def collate(items: list[dict]) -> Batch:
    return Batch(
        images=torch.stack([i["image"] for i in items]),
        fg=torch.stack([i["fg"] for i in items]),
        category=torch.tensor([i["category"] for i in items]),
        azimuth=torch.tensor([i["azimuth"] for i in items], dtype=torch.float32),
        elevation=torch.tensor([i["elevation"] for i in items], dtype=torch.float32),
        aspect=torch.tensor([i["aspect"] for i in items], dtype=torch.float32),
        parts=[i["parts"] for i in items],
    )


def batches(
    roots,
    batch_size: int,
    size: int,
    rng: np.random.Generator,
    shards_at_once: int = 16,
    per_shard: int = 12,
    augment: bool = True,
    rest_share: float | None = None,
    photo_share: float | None = None,
    texture: bool = False,
    crop: bool = False,
    reflect: float = 0.0,
) -> Iterator[Batch]:
    """Endless augmented batches from one dataset folder or several (a list: synth runs made
    side by side with different seeds). A shard holds consecutive samples (one or two
    categories), so each round draws `per_shard` random (sample, pose) views from each of
    `shards_at_once` random shards of all the folders and shuffles them together: every batch
    mixes categories. `rest_share`: the share of views drawn from the rest pose (None: every
    pose alike); photos mostly show objects closed (EVAL.md), the data engine's poses mostly
    open (rest, moved and random ones), so a larger share brings training nearer to photos.
    `photo_share` (instead): the share drawn from each sample's pose nearest its observed
    configuration (`photo_pose`: rest for most, an open view for laptops). `texture`: the
    per-link surface textures (`_texture`) on half the images; `crop`: most images framed as
    the parser's second pass frames a photo (`_object_crop`); `reflect`: the share of images
    with mirror-like finishes (`reflections.reflective`)."""
    datasets = [SynthDataset(r) for r in dataset_folders(roots)]
    shards = [(ds, n) for ds in datasets for n in range(len(ds.manifest["shards"]))]
    pool: list = []
    while True:
        # a small dataset may give less than a batch per round: gather until there is one
        while len(pool) < batch_size:
            pool += _views(shards, rng, shards_at_once, per_shard, rest_share, photo_share)
        order = rng.permutation(len(pool))
        usable = len(order) - len(order) % batch_size
        for start in range(0, usable, batch_size):
            items = []
            for i in order[start : start + batch_size]:
                rgba, ids, meta, pose, depth = pool[i]
                items.append(make_item(rgba, ids, meta, pose, size, rng, augment, texture, crop,
                                       depth, reflect))  # fmt: skip
            yield collate(items)
        pool = [pool[i] for i in order[usable:]]


def dataset_folders(roots) -> list:
    """One dataset folder (a path) or several (a sequence of paths), as a list."""
    return [roots] if isinstance(roots, (str, Path)) else list(roots)


def photo_pose(meta: dict, poses: list[str]) -> str:
    """The sample's pose nearest the pose a photo of it would show (its meta's
    ``observed_configuration``; datasets made before it: all closed), joint values taken as
    fractions of their ranges."""
    observed = meta.get("observed_configuration", {})
    spans = {j["name"]: max(j["upper"] - j["lower"], 1e-6) for j in meta["joints"]}

    def distance(pose: str) -> float:
        values = meta["poses"].get(pose, {})
        return sum(abs(values.get(n, 0.0) - observed.get(n, 0.0)) / w for n, w in spans.items())

    return min(poses, key=distance)


def _views(shards: list, rng: np.random.Generator, shards_at_once: int, per_shard: int,
           rest_share: float | None = None, photo_share: float | None = None) -> list:  # fmt: skip
    """One round: up to `per_shard` random (sample, pose) views of `shards_at_once` shards,
    the rest pose's views making up `rest_share` of the draw, or each sample's `photo_pose`
    `photo_share` of it (None: all views alike)."""
    chosen = rng.choice(len(shards), size=min(shards_at_once, len(shards)), replace=False)
    pool = []
    for number in chosen:
        ds, shard = shards[int(number)]
        data = ds._shard(shard)
        poses = ds.poses
        views = [(j, p) for j in range(len(data["meta"])) for p in range(len(poses))]
        share = photo_share if photo_share is not None else rest_share
        if share is None or len(poses) < 2 or (photo_share is None and "rest" not in poses):
            picked = rng.permutation(len(views))[:per_shard]  # the draw of the earlier runs
        else:
            best = [photo_pose(m, poses) if photo_share is not None else "rest"
                    for m in data["meta"]]  # fmt: skip
            preferred = np.array([poses[p] == best[j] for j, p in views])
            weights = np.where(preferred, share / preferred.sum(), (1 - share) / (~preferred).sum())
            count = min(per_shard, len(views))
            picked = rng.choice(len(views), size=count, replace=False, p=weights)
        for k in picked:
            j, p = views[k]
            pool.append((data["rgba"][j, p].copy(), data["mask"][j, p].copy(),
                         data["meta"][j], poses[p], data["depth"][j, p].copy()))  # fmt: skip
        ds._cached = None
    return pool
