"""`EmbeddedParser`: the default structure parser, a model this project trains (no network).

Registered as ``embedded`` in `perception.parsers`. `parse(image)` runs the model twice: once on
the whole photo (letterboxed to a square) for the foreground mask, then on a square crop around
the object for everything else: category (top-3), camera (azimuth, elevation; fov from EXIF
when the photo has a 35 mm focal length, else 40 deg), size (the predicted aspect times the
category's median height in the training data), the parts with their joints and observed
values, per-part masks, and the image features the part DiT reads. An RGBA input with real
alpha uses its alpha as the mask. The per-part reference images are the photo cropped to each
part with the other parts masked out (transparent).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from spark_blender.core.images import MAX_PIXELS, ImageError, load_image, to_rgb
from spark_blender.perception.embedded import targets as T
from spark_blender.perception.errors import CoarseURDFError, PerceptionError
from spark_blender.perception.result import ParseResult
from spark_blender.perception.schema import ROOT, validate_coarse_urdf
from spark_blender.progress import ProgressCallback, ProgressEvent, no_progress

MODEL_VARIABLE = "SPARK_PARSER_MODEL"  # a model folder to use instead of the shipped one
DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "models" / "parser"
FOV_PRIOR_DEG = 40.0
MIN_SIDE = 16  # pixels
CROP_MARGIN = 1.3  # the object's longer box side times this = the side of the second pass
MIN_OBJECT_FRACTION = 0.002  # a mask smaller than this share of the image: no object


@dataclass
class EmbeddedOptions:
    model_path: str | None = None  # default: $SPARK_PARSER_MODEL, else models/parser
    device: str = "cpu"
    threads: int = 0  # torch CPU threads (0: leave torch's setting)
    reference_images: str = "crop"  # "crop" (part cut-outs) or "none"
    mirror: bool = True  # also run the mirrored crop and average the view-independent heads
    count: str = "argmax"  # the part count from the count head: "argmax" or "median"

    def __post_init__(self) -> None:
        if self.reference_images not in ("crop", "none"):
            raise PerceptionError("reference_images must be crop or none for the embedded parser")
        if self.count not in ("median", "argmax"):
            raise PerceptionError("count must be median or argmax for the embedded parser")


def load_photo(image: Image.Image | Path | str) -> Image.Image:
    """The input as an RGB or RGBA image; one clear `PerceptionError` for anything unusable.

    A path goes through the project's one loader (`core.images.load_image`: pixel limit, EXIF
    orientation, CMYK / 16-bit / palette converted); an image object through its conversion.
    The parser adds only its own need: at least `MIN_SIDE` pixels a side.
    """
    if isinstance(image, Image.Image):
        name = "the image"
        if image.width * image.height > MAX_PIXELS:
            raise PerceptionError(f"{name} is {image.width}x{image.height} pixels; the limit is "
                                  f"{MAX_PIXELS} pixels")  # fmt: skip
        picture = to_rgb(image)
    else:
        name = f"image '{image}'"
        try:
            picture = load_image(image, max_pixels=MAX_PIXELS)
        except ImageError as exc:
            raise PerceptionError(str(exc)) from None
    if min(picture.size) < MIN_SIDE:
        raise PerceptionError(f"{name} is {picture.width}x{picture.height}: at least "
                              f"{MIN_SIDE} pixels a side needed")  # fmt: skip
    return picture


def exif_fov(picture: Image.Image) -> float | None:
    """Horizontal fov from EXIF FocalLengthIn35mmFilm (36 mm wide frame), when present."""
    try:
        exif = picture.getexif().get_ifd(0x8769)
        focal = float(exif.get(41989) or 0)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the hint
        return None
    if not 8.0 <= focal <= 1200.0:
        return None
    long_side = 36.0 if picture.width >= picture.height else 24.0
    return math.degrees(2 * math.atan(long_side / (2 * focal)))


class EmbeddedParser:
    """`parse(image)` -> `ParseResult` with the model in ``models/parser`` (see the module doc)."""

    name = "embedded"

    def __init__(self, options: EmbeddedOptions | None = None):
        self.options = options or EmbeddedOptions()
        self._model = None

    @property
    def model_path(self) -> Path:
        given = self.options.model_path or os.environ.get(MODEL_VARIABLE)
        return Path(given) if given else DEFAULT_MODEL

    def load(self):
        if self._model is not None:
            return self._model
        path = self.model_path
        if not (path / "config.json").is_file():
            raise PerceptionError(
                f"the embedded parser's model folder '{path}' has no config.json (train one with "
                "'spark-articulate train parser', or set SPARK_PARSER_MODEL)"
            )
        import torch

        from spark_blender.perception.embedded.model import StructureParserModel

        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        if self.options.device.startswith("cuda") and not torch.cuda.is_available():
            raise PerceptionError(f"device '{self.options.device}' requested but CUDA is absent")
        try:
            model = StructureParserModel.from_pretrained(str(path), low_cpu_mem_usage=False)
        except (OSError, ValueError, RuntimeError) as exc:
            raise PerceptionError(f"the embedded parser cannot load '{path}': {exc}") from None
        self._model = model.to(self.options.device).eval()
        return self._model

    # --- the two passes -----------------------------------------------------------------------
    def _run(self, square: np.ndarray, mirror: bool = False) -> dict[str, np.ndarray]:
        """The model on one square crop; with `mirror`, on the crop and its mirror image in one
        batch, the heads a mirror leaves alone averaged (`mirror_average`)."""
        import torch

        model = self._model
        size = model.config.image_size
        image = Image.fromarray(square).resize((size, size), Image.Resampling.BILINEAR)
        x = torch.from_numpy(np.asarray(image, np.float32) / 255).permute(2, 0, 1)[None]
        if mirror:
            x = torch.cat([x, x.flip(3)])
        with torch.no_grad():
            out = model(x.to(self.options.device))
        out = {k: v.float().cpu().numpy() for k, v in out.items()}
        if mirror:
            first, second = ({k: v[i] for k, v in out.items()} for i in (0, 1))
            return mirror_average(first, second, model.config.azimuth_range)
        return {k: v[0] for k, v in out.items()}

    def parse(
        self, image: Image.Image | Path | str, progress: ProgressCallback | None = None
    ) -> ParseResult:
        progress = progress or no_progress
        started = time.monotonic()
        picture = load_photo(image)
        progress(ProgressEvent("perception", 0.0, f"embedded parser: {self.model_path.name}"))
        model = self.load()
        config = model.config
        grey = int(config.background_grey)
        rgb = np.asarray(picture.convert("RGB"), np.uint8)
        alpha = np.asarray(picture.getchannel("A")) if picture.mode == "RGBA" else None
        real_alpha = alpha is not None and alpha.min() < 250
        if real_alpha:
            a = alpha[..., None].astype(np.float32) / 255
            rgb = (rgb * a + grey * (1 - a)).astype(np.uint8)
        h, w = rgb.shape[:2]

        # pass 1: the whole photo -> the foreground mask
        side = max(h, w)
        box1 = ((w - side) / 2, (h - side) / 2, side)
        first = self._run(_square_crop(rgb, box1, grey))
        mask_logits = _paste(first["mask"], box1, (h, w))
        if real_alpha:
            fg = alpha >= 128
        else:
            fg = mask_logits > 0
        if fg.sum() < MIN_OBJECT_FRACTION * h * w:
            raise PerceptionError("no object found in the image (the foreground mask is empty)")
        progress(ProgressEvent("perception", 0.4, "embedded parser: parts"))

        # pass 2: a square around the object -> everything else
        ys, xs = np.nonzero(fg)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        side2 = max(x1 - x0, y1 - y0) * CROP_MARGIN
        box2 = ((x0 + x1) / 2 - side2 / 2, (y0 + y1) / 2 - side2 / 2, side2)
        second = self._run(_square_crop(rgb, box2, grey), mirror=self.options.mirror)
        if not real_alpha:  # the crop's finer mask inside the crop, the first pass's outside
            fine = _paste(second["mask"], box2, (h, w), fill=np.nan)
            mask_logits = np.where(np.isnan(fine), mask_logits, fine)
            fg = mask_logits > 0
            if fg.sum() < MIN_OBJECT_FRACTION * h * w:
                raise PerceptionError("no object found in the image (the foreground mask is empty)")

        coarse_dict, slots = self._decode(second, box2, (w, h), picture)
        try:
            validated = validate_coarse_urdf(coarse_dict, "the embedded parser", (w, h))
        except CoarseURDFError as exc:  # a decoding bug, not the user's input
            raise PerceptionError(
                f"the embedded parser made an invalid coarse URDF: {exc}"
            ) from None
        coarse = validated.coarse
        part_masks = {}
        for part in coarse.parts:
            logits = _paste(second["part_masks"][slots[part.name]], box2, (h, w), fill=-10.0)
            part_masks[part.name] = (logits > 0) & fg
        probabilities = _softmax(second["category"])
        top = np.argsort(-probabilities)[:3]
        result = ParseResult(
            coarse=coarse,
            parser="embedded",
            model=f"embedded:{self.model_path.name}",
            prices={},
            repairs=validated.repairs,
            mask=Image.fromarray((fg * 255).astype(np.uint8), "L"),
            part_masks={
                n: Image.fromarray((m * 255).astype(np.uint8), "L") for n, m in part_masks.items()
            },  # fmt: skip
            features={
                "global": second["global"].astype(np.float32),
                "patches": second["patches"].astype(np.float32),
            },
            category_probs=[(config.categories[i], float(probabilities[i])) for i in top],
            category_heights_m={
                config.categories[i]: _category_height(config, config.categories[i]) for i in top
            },
        )
        if self.options.reference_images == "crop":
            result.part_images = part_cutouts(picture, coarse, part_masks)
            result.part_image_source = "crop"
        result.warnings.append("the embedded parser makes no moved-state image")
        result.seconds = time.monotonic() - started
        progress(ProgressEvent("perception", 1.0, "embedded parser: done"))
        return result

    def _decode(self, out, box, size, picture) -> tuple[dict, dict[str, int]]:
        """The coarse URDF as a dict (validated afterwards) and each part's slot."""
        config = self._model.config
        w, h = size
        category = config.categories[int(np.argmax(out["category"]))]
        azimuth = out.get("azimuth_value")  # both views' mean (`mirror_average`)
        if azimuth is None:
            azimuth = _bin_value(out["azimuth_bins"], out["azimuth_offsets"], config.azimuth_range)
        azimuth = float(azimuth)
        elevation = _bin_value(
            out["elevation_bins"], out["elevation_offsets"], config.elevation_range
        )
        aspect = np.exp(np.clip(out["aspect"], -4, 4))
        height = _category_height(config, category)
        size_m = [float(aspect[0] * height), float(aspect[1] * height), height]
        # the count head says how many parts; the slots' exists scores say which
        count = decode_count(out["count"], self.options.count)
        chosen = [int(s) for s in np.argsort(-out["exists"])[:count]]
        names: dict[int, str] = {}
        counts: dict[str, int] = {}
        for slot in chosen:
            label = config.labels[int(np.argmax(out["label"][slot]))]
            names[slot] = f"{label}_{counts.get(label, 0)}"
            counts[label] = counts.get(label, 0) + 1
        x0, y0, side = box
        parts = []
        for slot in chosen:
            kind = config.types[int(np.argmax(out["type"][slot]))]
            axis_class = int(np.argmax(out["axis"][slot]))
            pivot_class = int(np.argmax(out["pivot"][slot]))
            box3d = out["box3d"][slot]
            pivot, axis = T.decode_joint(box3d, axis_class, pivot_class, out["pivot_offset"][slot])
            lower, upper = (float(v) for v in out["limits"][slot])
            lower, upper = min(lower, 0.0), max(upper, 0.0)
            if kind == "prismatic":
                dim = axis_class // 2
                lower, upper = lower * size_m[dim], max(upper * size_m[dim], 0.01)
            elif kind == "revolute":
                upper = max(upper, 0.05)
            else:
                lower, upper = -math.pi, math.pi
            observed = 0.0
            if kind != "continuous":
                observed = T.observed_value(float(out["observed"][slot]), lower, upper)
            keys = out["parent"][slot].copy()
            allowed = [0] + [s + 1 for s in chosen if s != slot]
            key = max(allowed, key=lambda k: keys[k])
            parent = ROOT if key == 0 else names[key - 1]
            cx, cy, bw, bh = (float(v) for v in out["box2d"][slot])
            box_2d = [
                (x0 + (cx - bw / 2) * side) / w, (y0 + (cy - bh / 2) * side) / h,
                (x0 + (cx + bw / 2) * side) / w, (y0 + (cy + bh / 2) * side) / h,
            ]  # fmt: skip
            box_2d = [min(max(v, 0.0), 1.0) for v in box_2d]
            if box_2d[2] - box_2d[0] < 2e-3 or box_2d[3] - box_2d[1] < 2e-3:
                continue
            parts.append({
                "name": names[slot], "label": names[slot].rsplit("_", 1)[0], "parent": parent,
                "joint_type": kind, "axis": axis, "pivot": pivot, "limits": [lower, upper],
                "box_2d": box_2d, "mask": None, "observed": observed,
            })  # fmt: skip
        kept = {p["name"] for p in parts}
        for part in parts:
            if part["parent"] not in kept:
                part["parent"] = ROOT
        fov = exif_fov(picture) or FOV_PRIOR_DEG
        coarse = {
            "category": category,
            "size_m": size_m,
            "camera": {"azimuth_deg": azimuth, "elevation_deg": elevation, "fov_deg": fov},
            "parts": parts,
        }
        return coarse, {names[s]: s for s in chosen}


def part_cutouts(
    picture: Image.Image, coarse, part_masks: dict[str, np.ndarray], margin: float = 0.05
) -> dict[str, Image.Image]:
    """Each part's box cut out of the photo (RGBA), the other parts' pixels transparent."""
    rgba = np.asarray(picture.convert("RGBA")).copy()
    h, w = rgba.shape[:2]
    out = {}
    for part in coarse.parts:
        others = np.zeros((h, w), bool)
        for name, m in part_masks.items():
            if name != part.name:
                others |= m
        others &= ~part_masks.get(part.name, np.zeros((h, w), bool))
        x0, y0, x1, y1 = part.box_2d
        mx, my = (x1 - x0) * margin, (y1 - y0) * margin
        c0, r0 = max(0, int((x0 - mx) * w)), max(0, int((y0 - my) * h))
        c1, r1 = (
            min(w, max(c0 + 1, round((x1 + mx) * w))),
            min(h, max(r0 + 1, round((y1 + my) * h))),
        )
        crop = rgba[r0:r1, c0:c1].copy()
        crop[..., 3] = np.where(others[r0:r1, c0:c1], 0, crop[..., 3])
        out[part.name] = Image.fromarray(crop, "RGBA")
    return out


def mirror_average(out: dict, mirrored: dict, azimuth_range: tuple[float, float]) -> dict:
    """`out` with the heads a left-right mirror does not change (category, part count, aspect,
    elevation) replaced by the mean of both views' log-probabilities or values; the azimuth,
    which a mirror negates, by the mean of the two estimates. A cheap ensemble: the training
    data are mirrored half the time, so both views are ones the model knows. The rest (parts,
    masks, features) stays the unmirrored view's, whose pixels it describes."""
    merged = dict(out)
    for key in ("category", "count", "elevation_bins"):
        merged[key] = (_log_softmax(out[key]) + _log_softmax(mirrored[key])) / 2
    merged["aspect"] = (out["aspect"] + mirrored["aspect"]) / 2
    merged["elevation_offsets"] = (out["elevation_offsets"] + mirrored["elevation_offsets"]) / 2
    merged["azimuth_value"] = (
        _bin_value(out["azimuth_bins"], out["azimuth_offsets"], azimuth_range)
        - _bin_value(mirrored["azimuth_bins"], mirrored["azimuth_offsets"], azimuth_range)
    ) / 2
    return merged


def _category_height(config, category: str) -> float:
    """The category's median height in the training data (metres; 0.8 when it has none)."""
    return float((config.height_prior_m or {}).get(category, 0.8))


def decode_count(logits: np.ndarray, rule: str = "argmax") -> int:
    """The part count from the count head's logits (classes 0..slots): "argmax" its most likely
    count, "median" the distribution's median (the least expected absolute error if the head is
    calibrated; on held-out synthetic images it is not better: mean error 1.49 against 1.46)."""
    if rule == "argmax":
        return int(np.argmax(logits))
    cumulative = np.cumsum(_softmax(np.asarray(logits, np.float64)))
    return int(np.searchsorted(cumulative, 0.5))


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def _bin_value(logits, offsets, lo_hi) -> float:
    index = int(np.argmax(logits))
    return float(T.bin_decode(index, float(offsets[index]), lo_hi[0], lo_hi[1], len(logits)))


def _square_crop(rgb: np.ndarray, box, fill: int) -> np.ndarray:
    """The square (x0, y0, side) of `rgb`, padded with `fill` outside the image."""
    x0, y0, side = box
    side_i = max(1, int(round(side)))
    x0_i, y0_i = int(round(x0)), int(round(y0))
    out = np.full((side_i, side_i, 3), fill, np.uint8)
    h, w = rgb.shape[:2]
    sx0, sy0 = max(0, x0_i), max(0, y0_i)
    sx1, sy1 = min(w, x0_i + side_i), min(h, y0_i + side_i)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0_i : sy1 - y0_i, sx0 - x0_i : sx1 - x0_i] = rgb[sy0:sy1, sx0:sx1]
    return out


def _paste(logits: np.ndarray, box, shape, fill: float = -10.0) -> np.ndarray:
    """Logits predicted on the square `box` resampled onto the image grid (`fill` outside)."""
    x0, y0, side = box
    h, w = shape
    n = logits.shape[0]
    xs = (np.arange(w) + 0.5 - x0) / side * n - 0.5
    ys = (np.arange(h) + 0.5 - y0) / side * n - 0.5
    inside_x = (xs >= -0.5) & (xs <= n - 0.5)
    inside_y = (ys >= -0.5) & (ys <= n - 0.5)
    xs, ys = np.clip(xs, 0, n - 1), np.clip(ys, 0, n - 1)
    xi, yi = np.minimum(xs.astype(int), n - 2), np.minimum(ys.astype(int), n - 2)
    fx, fy = xs - xi, ys - yi
    top = logits[yi][:, xi] * (1 - fx) + logits[yi][:, xi + 1] * fx
    bottom = logits[yi + 1][:, xi] * (1 - fx) + logits[yi + 1][:, xi + 1] * fx
    out = top * (1 - fy)[:, None] + bottom * fy[:, None]
    return np.where(inside_y[:, None] & inside_x[None, :], out, fill)
