"""The main job: one photo -> a sim-ready articulated object in an output folder.

``reconstruct(image, out_dir, options, progress)`` runs the stages of the method in order, each
reporting through the one progress callback type:

1. **load**: the photo through the one image loader (any mode, EXIF orientation, a pixel
   limit), a working copy of at most ``working_size`` pixels on the long side; the object mask
   is the photo's alpha when it has a real one, else the parser's;
2. **parse**: the coarse URDF (category, parts, joints, size, camera, observed pose) from the
   chosen parser (``embedded`` by default: offline);
3. **generate**: K hypotheses from the part DiT, decoded through the part builders (with
   ``categories`` > 1, K/2 more for each of the parser's next likeliest categories);
4. **verify**: every hypothesis posed as the photo shows it, the camera placed on the parser's
   view so it frames the mask, scored by silhouette IoU (plus the parser's part masks); the
   best one is kept, and its category with it;
5. **pose**: the observed configuration searched joint by joint against the mask
   (``refinement.pose``), a hinge's limit widened when the photo shows it open further;
6. **fit**: the camera pose and the object's width and depth (relative to its height) by
   gradient descent through the soft rasteriser against the mask;
7. **refine**: joints against the moved-state photo (``moved_image``) when there is one;
8. **scale** to ``height`` metres or the parser's size estimate;
9. **texture**: the photo projected onto the faces the camera sees;
10. **write** the output folder atomically (URDF + meshes, ``camera.json`` with the camera and the
   ``observed_configuration``, ``preview.png``, ``parse/``), then run the sim-readiness check.

Nothing is written until the last step, which stages the folder and renames it into place: a
failure or Ctrl-C anywhere leaves no output folder behind.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from spark_blender.core.camera import Camera
from spark_blender.core.model import ArticulatedObject
from spark_blender.core.output_folder import OutputFolderError, check_output_target
from spark_blender.errors import one_line
from spark_blender.progress import ProgressCallback, ProgressEvent, no_progress

# An alternative category is tried when the parser gives it at least this share of its first
# category's probability: on the dev photos the right category is the first one 38% of the
# time and among the first three 62% (docs/models.md).
ALTERNATIVE_SHARE = 0.1
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class ReconstructError(ValueError):
    """The input cannot be reconstructed; the message names the input and the problem."""


@dataclass
class ReconstructOptions:
    parser: str = "embedded"
    parser_options: dict = field(default_factory=dict)
    moved_image: str | Path | None = None
    height: float | None = None  # metres; None: the parser's estimate
    device: str = "cpu"
    samples: int = 8  # K hypotheses; 1 = no verification
    categories: int = 1  # the parser's top categories hypotheses are generated for
    seed: int = 0
    texture: bool = True
    pose: bool = True
    fit: bool = True
    refine: bool = True
    check: bool = True
    overwrite: bool = False
    working_size: int = 512  # long side of the working copy of the photo
    threads: int | None = None  # torch threads (None: leave torch's default)


@dataclass
class ReconstructResult:
    folder: Path
    urdf: Path
    object: ArticulatedObject
    camera: Camera
    observed: dict[str, float]
    category: str
    scores: list[float]  # verification score of each hypothesis
    chosen: int
    fit_iou: tuple[float, float] | None  # (before, after)
    check_passed: bool | None
    check_text: str
    seconds: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    hypothesis_categories: list[str] = field(default_factory=list)  # beside `scores`

    def summary(self) -> dict:
        joints = [
            {"name": j.name, "type": j.type, "child": j.child, "limits": list(j.limits)}
            for j in self.object.movable_joints
        ]
        return {
            "folder": str(self.folder),
            "urdf": str(self.urdf),
            "preview": str(self.folder / "preview.png"),
            "category": self.category,
            "links": len(self.object.links),
            "joints": joints,
            "observed_configuration": self.observed,
            "hypotheses": [round(s, 4) for s in self.scores],
            "hypothesis_categories": self.hypothesis_categories,
            "chosen": self.chosen,
            "fit_iou": None if self.fit_iou is None else [round(v, 4) for v in self.fit_iou],
            "sim_ready": self.check_passed,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "warnings": self.warnings,
        }

    def to_text(self) -> str:
        s = self.summary()
        movable = ", ".join(f"{j['child']} ({j['type']})" for j in s["joints"]) or "none"
        lines = [
            f"reconstruct {self.urdf}: {self.category}, {s['links']} links; movable: {movable}",
            "  observed     "
            + (", ".join(f"{k}={v:.3g}" for k, v in self.observed.items() if v) or "all closed"),
            f"  hypotheses   {len(self.scores)} scored; kept #{self.chosen} "
            f"(silhouette score {self.scores[self.chosen]:.3f})",
        ]
        if self.fit_iou is not None:
            lines.append(f"  fit          mask IoU {self.fit_iou[0]:.3f} -> {self.fit_iou[1]:.3f}")
        check = {True: "PASSED", False: "FAILED", None: "not run"}[self.check_passed]
        lines.append(f"  check        {check}")
        lines.append(f"  preview      {self.folder / 'preview.png'}")
        lines += [f"  warning      {w}" for w in self.warnings]
        total = sum(self.seconds.values())
        lines.append(
            f"  time         {total:.1f} s ("
            + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items())
            + ")"
        )
        return "\n".join(lines)


# --- stages ---------------------------------------------------------------------------------
def load_photo(
    path: str | Path, working_size: int, what: str = "image"
) -> tuple[Image.Image, tuple[int, int]]:
    """The photo as RGB or RGBA, downscaled so its long side is at most `working_size`, and
    its original size (after EXIF orientation)."""
    from spark_blender.core.images import load_image

    path = Path(path)
    try:
        image = load_image(path)
    except (ValueError, OSError) as exc:
        raise ReconstructError(one_line(exc)) from None
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    if min(image.size) < 16:
        raise ReconstructError(f"{what} '{path}' is {image.width}x{image.height} pixels; "
                               "at least 16x16 is needed")  # fmt: skip
    original = image.size
    scale = working_size / max(image.size)
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image, original


def alpha_mask(image: Image.Image) -> np.ndarray | None:
    """The object mask from a real alpha channel (some pixels transparent), else None."""
    if image.mode != "RGBA":
        return None
    alpha = np.asarray(image.getchannel("A"))
    if alpha.min() > 250:
        return None
    return alpha > 127


def _mask_of(result, image: Image.Image, name: str) -> np.ndarray:
    """The object mask: the alpha when it is real; else, on a plain backdrop (the border's
    colour barely varies), the pixels that differ from it (the largest blob, holes filled);
    else the parser's mask."""
    mask = alpha_mask(image)
    if mask is None:
        mask = backdrop_mask(image)
    if mask is None and getattr(result, "mask", None) is not None:
        mask = np.asarray(result.mask.convert("L").resize(image.size)) > 127
    if mask is None:
        raise ReconstructError(f"{name}: the parser gave no object mask and the image has no alpha")
    return _check_mask(mask, name)


def backdrop_mask(image: Image.Image, spread: float = 6.0, tolerance: float = 0.1):
    """The object on a plain backdrop, or None when the border is not one colour (its pixels'
    median absolute deviation above `spread` levels of 255 in some channel)."""
    from scipy import ndimage

    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    median = np.median(border, axis=0)
    if np.median(np.abs(border - median), axis=0).max() > spread:
        return None
    mask = np.abs(rgb - median).max(axis=2) > 255.0 * tolerance
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    keep = np.isin(labels, 1 + np.nonzero(sizes >= 0.05 * sizes.max())[0])
    return ndimage.binary_fill_holes(keep)


def _check_mask(mask: np.ndarray, name: str) -> np.ndarray:
    if mask.sum() < 0.001 * mask.size:
        raise ReconstructError(f"{name}: no object found in the image")
    if mask.all():
        raise ReconstructError(f"{name}: the object fills the whole image; no background")
    return mask


def _part_masks(result, image: Image.Image) -> dict[str, np.ndarray]:
    masks = getattr(result, "part_masks", None) or {}
    return {name: np.asarray(m.convert("L").resize(image.size)) > 127 for name, m in masks.items()}


def observed_configuration(obj: ArticulatedObject, coarse) -> dict[str, float]:
    """The coarse parts' observed values on the object's joints (joint of part p: the joint
    whose child is p), clipped into each joint's limits; continuous joints keep their value."""
    by_child = {j.child: j for j in obj.movable_joints}
    values: dict[str, float] = {}
    for part in coarse.parts:
        joint = by_child.get(part.name)
        value = float(getattr(part, "observed", 0.0) or 0.0)
        if joint is None or not math.isfinite(value) or value == 0.0:
            continue
        if joint.type != "continuous":
            value = min(max(value, joint.lower), joint.upper)
        values[joint.name] = value
    return values


def _height(obj: ArticulatedObject) -> float:
    from spark_blender.core.kinematics import posed_mesh

    bounds = posed_mesh(obj, obj.rest_configuration()).bounds
    return float(bounds[1, 2] - bounds[0, 2])


def _scale_camera(camera: Camera, factor: float) -> Camera:
    """The same view of the object scaled by `factor` about the origin."""
    pose = camera.cam_to_world.copy()
    pose[:3, 3] *= factor
    return Camera.from_intrinsics(camera.width, camera.height, camera.fx, camera.fy, camera.cx,
                                  camera.cy, pose, camera.sensor_width)  # fmt: skip


def preview_image(
    photo: Image.Image, obj: ArticulatedObject, camera: Camera, observed: Mapping[str, float]
) -> Image.Image:
    """The photo beside renders of the result at the observed pose and opened, 256 px each."""
    from spark_blender.core.kinematics import moved_configuration
    from spark_blender.synth.camera import Background
    from spark_blender.synth.render_fast import render, scene_geometry

    size = 256
    scale = size / max(photo.size)
    w, h = max(1, round(photo.width * scale)), max(1, round(photo.height * scale))
    small = camera.scaled(w, h)
    geometry = scene_geometry(obj)
    white = Background(kind="plain", colour=(1.0, 1.0, 1.0))
    views = [
        render(obj, small, configuration, background=white, geometry=geometry)
        for configuration in (dict(observed), moved_configuration(obj))
    ]
    canvas = Image.new("RGB", (3 * w, h), "white")
    source = photo.convert("RGBA").resize((w, h), Image.Resampling.LANCZOS)
    canvas.paste(source, (0, 0), source)
    for i, view in enumerate(views, start=1):
        canvas.paste(Image.fromarray(view.rgba[..., :3]), (i * w, 0))
    return canvas


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class _Clock:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now


# --- the job --------------------------------------------------------------------------------
def reconstruct(
    image: str | Path,
    out_dir: str | Path,
    options: ReconstructOptions | None = None,
    progress: ProgressCallback | None = None,
) -> ReconstructResult:
    """One photo -> the output folder `out_dir` (see the module docstring)."""
    opts = options or ReconstructOptions()
    report = progress or no_progress
    _validate(opts, Path(out_dir))
    clock = _Clock()
    if opts.threads:
        import torch

        torch.set_num_threads(int(opts.threads))

    def step(stage: str, fraction: float, message: str) -> None:
        report(ProgressEvent(stage, fraction, message))

    name = f"image '{image}'"
    step("load", 0.0, f"loading {Path(image).name}")
    photo, original_size = load_photo(image, opts.working_size)
    known = alpha_mask(photo)
    if known is None:
        known = backdrop_mask(photo)
        if known is not None:
            # A plain backdrop gives the mask outright; the parser then sees a cut-out.
            photo = photo.convert("RGBA")
            photo.putalpha(Image.fromarray((known * 255).astype(np.uint8), "L"))
    if known is not None:
        _check_mask(known, name)  # nothing in it: say so before any model runs
    clock.lap("load")

    step("parse", 0.05, f"parsing with the {opts.parser} parser")
    parser = _parser(opts)
    parsed = _parse(parser, photo, name)
    coarse = parsed.coarse
    mask = _mask_of(parsed, photo, name)
    part_masks = _part_masks(parsed, photo)
    clock.lap("parse")

    step("generate", 0.2, f"{coarse.category}: generating {opts.samples} hypotheses")
    warnings: list[str] = []
    cutout = _cutout(photo, mask)  # what the DiT sees: the photo with the object's mask
    coarse, hypotheses = _generate(parsed, cutout, opts, warnings)
    hypotheses += _alternatives(parsed, coarse, cutout, opts)
    clock.lap("generate")

    kinds = [h.category for h in hypotheses]
    counts = ", ".join(f"{c} {kinds.count(c)}" for c in dict.fromkeys(kinds))
    step("verify", 0.4, f"scoring {len(hypotheses)} hypotheses ({counts}) against the mask")
    obj, camera, observed, scores, chosen = _verify(hypotheses, coarse, mask, part_masks)
    if obj.category != coarse.category:  # an alternative category's hypothesis won
        coarse = with_category(coarse, obj.category, getattr(parsed, "category_heights_m", {}))
    clock.lap("verify")

    verified = (obj, camera, dict(observed))
    if opts.pose:
        step("pose", 0.45, "fitting the observed pose to the mask")
        obj, camera, observed = _pose(obj, camera, coarse, observed, mask, part_masks,
                                      warnings)  # fmt: skip
        clock.lap("pose")

    fit_iou = None
    generated = (obj, camera, dict(observed))
    if opts.fit:
        step("fit", 0.5, "fitting the camera and the proportions to the mask")
        obj, camera, fit_iou = _fit(obj, camera, observed, mask)
        clock.lap("fit")

    moved = _moved_photo(opts, parsed, photo)
    if opts.refine and moved is not None:
        step("refine", 0.65, "refining joints against the moved-state photo")
        obj, camera = _refine(obj, camera, observed, mask, moved, opts, parser)
        clock.lap("refine")

    def finish(obj, camera, observed, overwrite: bool):
        target = opts.height if opts.height is not None else float(coarse.size_m[2])
        factor = target / max(_height(obj), 1e-9)
        before, obj, camera = obj, _scaled(obj, factor), _scale_camera(camera, factor)
        pose = carried_observed(observed, before, obj)
        if opts.texture:
            step("texture", 0.8, "projecting the photo onto the parts")
            from spark_blender.generation.texture import project_texture

            project_texture(obj, photo, camera, pose, mask)
            clock.lap("texture")
        step("write", 0.9, "writing the output folder")
        write_opts = ReconstructOptions(**{**opts.__dict__, "overwrite": overwrite})
        urdf = _write(obj, out, photo, camera.scaled(*original_size), pose, parsed,
                      write_opts)  # fmt: skip
        clock.lap("write")
        checked = None
        if opts.check:
            step("check", 0.95, "checking sim-readiness")
            checked = _check(urdf)
            clock.lap("check")
        return obj, camera, pose, urdf, checked

    out = Path(out_dir)
    # What to write, best first; the next is tried while the one written still collides:
    # stretching the parts by the fitted factors can close a clearance the decoder kept, and a
    # widened hinge can swing into a neighbour; the generated object at the parser's pose is
    # collision-free by construction.
    choices = [
        ((obj, camera, observed), ""),
        (generated, "the fitted proportions made parts collide; kept the generated ones"),
        (verified, "the searched pose made parts collide; kept the parser's pose"),
    ]
    tried = []
    for last, reason in choices:
        if any(last[0] is other for other in tried):
            continue  # no stage changed the object: it was written already
        if tried:
            warnings.append(reason)
        tried.append(last[0])
        obj, camera, pose, urdf, checked = finish(*last, opts.overwrite or len(tried) > 1)
        for _ in range(CUT_BACK_TRIES):
            # The decoder keeps parts clear on their pieces' boxes; the check collides convex
            # hulls, a little fuller, so a sweep may still graze a neighbour near its far end.
            if checked is None or not checked.penetrations or not _only_penetrations(checked):
                break
            warnings.extend(cut_back(last[0], obj, checked.penetrations))
            obj, camera, pose, urdf, checked = finish(*last, True)
        if checked is None or not checked.penetrations:
            break
    passed = None if checked is None else bool(checked.passed)
    text = "" if checked is None else checked.to_text()
    step("done", 1.0, f"wrote {urdf}")
    return ReconstructResult(out, urdf, obj, camera, pose, coarse.category, scores, chosen,
                             fit_iou, passed, text, clock.seconds, warnings, kinds)  # fmt: skip


def _validate(opts: ReconstructOptions, out: Path) -> None:
    if opts.samples < 1 or opts.samples > 64:
        raise ReconstructError(f"--samples must be in [1, 64], got {opts.samples}")
    if opts.categories < 1 or opts.categories > 10:
        raise ReconstructError(f"--categories must be in [1, 10], got {opts.categories}")
    if opts.height is not None and not (math.isfinite(opts.height) and 0.001 <= opts.height <= 100):
        raise ReconstructError(f"--height must be in [0.001, 100] metres, got {opts.height}")
    if opts.working_size < 64:
        raise ReconstructError(f"working size must be at least 64 pixels, got {opts.working_size}")
    # The one output-folder rule (core.output_folder), before any work: not a file or device,
    # not '' or '.', parent writable, an existing folder only replaced with --force.
    try:
        check_output_target(out, opts.overwrite)
    except FileExistsError as exc:
        raise ReconstructError(f"{exc} (use --force)") from None
    except OutputFolderError as exc:
        raise ReconstructError(str(exc)) from None


def _parser(opts: ReconstructOptions):
    from dataclasses import fields

    from spark_blender.perception.parsers import get_parser, parser_options_type

    options = dict(opts.parser_options)
    try:
        if "device" in {f.name for f in fields(parser_options_type(opts.parser))}:
            options.setdefault("device", opts.device)
        return get_parser(opts.parser, options)
    except Exception as exc:
        raise ReconstructError(f"parser '{opts.parser}': {one_line(exc)}") from None


def _parse(parser, photo: Image.Image, name: str):
    from spark_blender.perception.errors import PerceptionError

    try:
        return parser.parse(photo)
    except PerceptionError as exc:
        raise ReconstructError(f"{name}: {one_line(exc)}") from None


def _cutout(photo: Image.Image, mask: np.ndarray) -> Image.Image:
    cutout = photo.convert("RGBA")
    cutout.putalpha(Image.fromarray((mask * 255).astype(np.uint8), "L"))
    return cutout


def _generate(parsed, cutout: Image.Image, opts: ReconstructOptions, warnings):
    """K hypotheses; a part no hypothesis can place (the decoder refuses it: it cannot move
    without hitting its neighbours, say) is dropped with its children and the rest generated
    again, so a doubtful part costs that part, not the whole reconstruction."""
    import copy

    from spark_blender.generation import generate
    from spark_blender.generation.tokens import DecodeError

    coarse = copy.deepcopy(parsed.coarse)
    while True:
        try:
            hypotheses = generate(coarse, cutout, dict(parsed.part_images), k=opts.samples,
                                  seed=opts.seed, device=opts.device,
                                  features=getattr(parsed, "features", None))  # fmt: skip
        except DecodeError as exc:
            dropped = _refused_part(coarse, str(exc))
            if dropped is None:
                raise ReconstructError(
                    f"the part DiT gave no valid object: {one_line(exc)}"
                ) from None
            warnings.append(f"dropped part '{dropped}': {one_line(exc)}")
            continue
        if hypotheses:
            return coarse, hypotheses


def alternative_categories(parsed, count: int) -> list[str]:
    """The parser's next likeliest categories after its first (at most `count` - 1), those it
    gives at least ALTERNATIVE_SHARE of the first one's probability."""
    ranked = list(getattr(parsed, "category_probs", None) or [])
    if count < 2 or len(ranked) < 2:
        return []
    first = ranked[0][1]
    return [c for c, p in ranked[1:count] if p >= ALTERNATIVE_SHARE * first]


def _alternatives(
    parsed, coarse, cutout: Image.Image, opts: ReconstructOptions
) -> list[ArticulatedObject]:
    """K/2 hypotheses for each alternative category, on the same parts (the parser's part
    heads do not depend on its category): the photo's silhouette then decides between
    categories as it decides between shapes. A category whose builders refuse these parts
    gives none."""
    from spark_blender.generation import generate
    from spark_blender.generation.tokens import DecodeError

    if opts.samples < 2:
        return []  # no verification, nothing to choose between
    out = []
    for index, category in enumerate(alternative_categories(parsed, opts.categories), 1):
        # the same size: the parts' prismatic limits are in the parser's metres
        other = with_category(coarse, category, {})
        try:
            out += generate(other, cutout, dict(parsed.part_images), k=max(1, opts.samples // 2),
                            seed=opts.seed + index, device=opts.device)  # fmt: skip
        except DecodeError:
            continue
    return out


def with_category(coarse, category: str, heights: Mapping[str, float]):
    """`coarse` as `category`: its size rescaled to the height the parser gives that category
    (when it gives both heights), so the object is written at a size its category has."""
    import copy

    out = copy.deepcopy(coarse)
    out.category = category
    before, after = heights.get(coarse.category), heights.get(category)
    if before and after:
        out.size_m = [float(v) * after / before for v in coarse.size_m]
    return out


def _refused_part(coarse, message: str) -> str | None:
    """Remove the part a decoder error names (else the last part) and its subtree from
    `coarse`; returns its name, or None when there is no part left to remove."""
    import re

    if not coarse.parts:
        return None
    names = [p.name for p in coarse.parts]
    found = re.search(r"part '([^']+)'", message)
    name = found.group(1) if found and found.group(1) in names else names[-1]
    doomed = {name}
    grew = True
    while grew:
        children = {p.name for p in coarse.parts if p.parent in doomed} - doomed
        grew = bool(children)
        doomed |= children
    coarse.parts = [p for p in coarse.parts if p.name not in doomed]
    return name


def _verify(hypotheses, coarse, mask, part_masks):
    from spark_blender.refinement.fit import place_camera, posed_silhouette, silhouette_score

    best = None
    scores = []
    view = coarse.camera
    for index, obj in enumerate(hypotheses):
        observed = observed_configuration(obj, coarse)
        shape = posed_silhouette(obj, observed)
        camera = place_camera(
            shape.vertices, mask, view.azimuth_deg, view.elevation_deg, view.fov_deg
        )
        score = silhouette_score(shape, camera, mask, part_masks) if len(hypotheses) > 1 else 0.0
        scores.append(score)
        if best is None or score > best[0]:
            best = (score, index, obj, camera, observed)
    _, chosen, obj, camera, observed = best
    return obj, camera, observed, scores, chosen


def _pose(obj, camera, coarse, observed, mask, part_masks, warnings):
    from spark_blender.refinement.fit import place_camera, posed_silhouette
    from spark_blender.refinement.pose import fit_observed, with_limits

    view = (coarse.camera.azimuth_deg, coarse.camera.elevation_deg, coarse.camera.fov_deg)
    found = fit_observed(obj, observed, mask, view, part_masks)
    if found.score_after <= found.score_before:
        return obj, camera, observed
    for name, (_, upper) in found.widened.items():
        warnings.append(f"the photo shows '{name}' at {math.degrees(upper):.0f} deg; its upper "
                        f"limit was widened to take it")  # fmt: skip
    obj = with_limits(obj, found.widened) if found.widened else obj
    camera = place_camera(posed_silhouette(obj, found.observed).vertices, mask, *view)
    return obj, camera, found.observed


def _fit(obj, camera, observed, mask):
    from spark_blender.refinement.fit import fit_view_and_proportions, posed_silhouette

    shape = posed_silhouette(obj, observed)
    result = fit_view_and_proportions(shape, camera, mask)
    if np.allclose(result.scale, 1.0):
        return obj, result.camera, (result.iou_before, result.iou_after)
    fitted = _scaled(obj, result.scale)
    observed.update(carried_observed(observed, obj, fitted))
    return fitted, result.camera, (result.iou_before, result.iou_after)


def carried_observed(observed: Mapping[str, float], before, after) -> dict[str, float]:
    """The observed pose on a resized copy of an object: a prismatic joint's value scales with
    its range (its travel is a length and was scaled with the object), then every value is
    clipped into its joint's new limits so the pose written is one the URDF can take."""
    old = {j.name: j for j in before.movable_joints}
    carried = {}
    for joint in after.movable_joints:
        if joint.name not in observed:
            continue
        value = float(observed[joint.name])
        was = old.get(joint.name)
        if joint.type == "prismatic" and was is not None and was.upper - was.lower > 1e-12:
            value *= (joint.upper - joint.lower) / (was.upper - was.lower)
        if joint.type != "continuous":
            value = min(max(value, joint.lower), joint.upper)
        carried[joint.name] = value
    return carried


def _scaled(obj, factors):
    from spark_blender.core.resize import scaled

    return scaled(obj, factors)


def _moved_photo(opts: ReconstructOptions, parsed, photo: Image.Image) -> Image.Image | None:
    """The moved-state photo: the user's (`moved_image`), else one the parser generated (the
    OpenAI backend's image edit), at the working copy's size; None without either."""
    if opts.moved_image is not None:
        moved, _ = load_photo(opts.moved_image, opts.working_size, "moved image")
    elif getattr(parsed, "moved_image", None) is not None:
        moved = parsed.moved_image
    else:
        return None
    if moved.size != photo.size:
        if abs(moved.width / moved.height - photo.width / photo.height) > 0.02:
            raise ReconstructError(
                f"moved image is {moved.width}x{moved.height}, which does not match the "
                f"photo's aspect ({photo.width}x{photo.height})"
            )
        moved = moved.resize(photo.size, Image.Resampling.LANCZOS)
    return moved


def _refine(obj, camera, observed, mask, moved: Image.Image, opts: ReconstructOptions, parser):
    from spark_blender.refinement import RefineOptions, Targets, refine_joints

    moved_mask = alpha_mask(moved)
    if moved_mask is None:
        moved_mask = _mask_of(_parse(parser, moved, "moved image"), moved, "moved image")
    options = RefineOptions(device=opts.device, observed=dict(observed))
    # The photo's mask goes in with its pose (RefineOptions.observed): open parts explain both.
    targets = Targets(moved_mask=moved_mask, rest_mask=mask)
    result = refine_joints(obj, camera, targets, options)
    observed.clear()
    observed.update(result.observed)
    return result.object, result.camera


def _write(obj, out: Path, photo, camera: Camera, observed, parsed, opts) -> Path:
    from spark_blender.core.urdf import WriteOptions, safe_file_name, write_urdf

    view = parsed.coarse.camera
    camera_json = {
        **camera.to_dict(),
        "azimuth_deg": view.azimuth_deg,
        "elevation_deg": view.elevation_deg,
        "observed_configuration": {k: float(v) for k, v in observed.items()},
    }
    extra = {
        "camera.json": (json.dumps(camera_json, indent=1) + "\n").encode(),
        "preview.png": _png(preview_image(photo, obj, camera, observed)),
        "parse/coarse.json": (parsed.coarse.to_json() + "\n").encode(),
        "parse/parse.json": (json.dumps(parsed.record(), indent=1) + "\n").encode(),
    }
    for name, image in parsed.part_images.items():
        extra[f"parse/parts/{safe_file_name(name)}.png"] = _png(image)
    options = WriteOptions(overwrite=opts.overwrite, extra_files=extra)
    return write_urdf(obj, out, options)


def _check(urdf: Path):
    """The sim check's report on the written URDF."""
    from spark_blender.core.simcheck import check_urdf

    return check_urdf(urdf)


def _only_penetrations(report) -> bool:
    """Are penetrations all that keeps `report` from passing (so shortening ranges can help)?"""
    return {f.check for f in report.findings if f.severity == "error"} == {"penetration"}


CUT_BACK_TRIES = 3
CUT_BACK = 0.8  # a colliding joint's far limit moves to this share of the colliding value


def cut_back(obj: ArticulatedObject, checked: ArticulatedObject, overlaps: list[dict]) -> list[str]:
    """Shorten, in place on `obj`, each joint whose sweep collided in `checked` (the written,
    rescaled copy; `overlaps`: the check's penetrations, each at its deepest value) to CUT_BACK
    of the way to that value, as a share of its range (so it holds through the rescaling), at
    most by half; one warning each."""
    messages = []
    for name in sorted({o["joint"] for o in overlaps if o["joint"] != "rest"}):
        value = max((o["value"] for o in overlaps if o["joint"] == name), key=abs)
        joint, seen = obj.joint(name), checked.joint(name)
        if joint.type not in ("revolute", "prismatic"):
            continue
        if value > 0 and seen.upper > 0:
            joint.upper *= max(CUT_BACK * min(value / seen.upper, 1.0), 0.5)
        elif value < 0 and seen.lower < 0:
            joint.lower *= max(CUT_BACK * min(value / seen.lower, 1.0), 0.5)
        else:
            continue
        messages.append(f"'{name}' collided near {value:.3g}: its range was shortened")
    return messages


# --- command line ---------------------------------------------------------------------------
def options_from_args(args) -> ReconstructOptions:
    from spark_blender.perception.parsers import parser_options_from_args

    name, parser_options = parser_options_from_args(args)
    return ReconstructOptions(
        parser=name,
        parser_options=parser_options,
        moved_image=args.moved_image,
        height=args.height,
        device=args.device,
        samples=args.samples,
        categories=args.categories,
        seed=args.seed,
        texture=not args.no_texture,
        pose=not args.no_pose,
        fit=not args.no_fit,
        refine=not args.no_refine,
        overwrite=args.force,
    )


def options_from_settings(settings: Mapping) -> ReconstructOptions:
    """Options from the shared settings vocabulary (the worker's request, Blender's panel and
    preferences): the parser's keys go through `parser_options_from_settings`, the rest map
    onto `ReconstructOptions` fields by name; unknown keys are ignored."""
    from dataclasses import fields

    from spark_blender.perception.parsers import parser_options_from_settings

    settings = {k: v for k, v in dict(settings).items() if v is not None}
    name, parser_options = parser_options_from_settings({"parser": "embedded", **settings})
    known = {f.name for f in fields(ReconstructOptions)} - {"parser", "parser_options"}
    values = {k: v for k, v in settings.items() if k in known}
    return ReconstructOptions(parser=name, parser_options=parser_options, **values)


def photos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def run_cli(args, user_error: type[Exception]) -> int:
    """`spark-articulate reconstruct IMAGE|DIR -o OUT`: one photo, or one folder per photo."""
    from spark_blender.evaluation.console import ProgressBar

    opts = options_from_args(args)
    source: Path = args.image
    if not source.exists():
        raise user_error(f"image '{source}' does not exist")
    if source.is_dir():
        return _run_folder(source, args.out, opts, args.json, user_error)
    try:
        result = reconstruct(source, args.out, opts, ProgressBar())
    except ReconstructError as exc:
        raise user_error(str(exc)) from None
    print(json.dumps(result.summary(), indent=1) if args.json else result.to_text())
    return 0


def _run_folder(folder: Path, out: Path, opts, as_json: bool, user_error) -> int:
    import sys

    photos = photos_in(folder)
    if not photos:
        raise user_error(f"folder '{folder}' has no images ({', '.join(IMAGE_SUFFIXES)})")
    try:  # the folder that takes one output folder a photo: the same rule as any output
        check_output_target(out)
    except FileExistsError:
        pass  # a folder of earlier results takes more; each photo's own folder is checked
    except OutputFolderError as exc:
        raise user_error(str(exc)) from None
    failed, summaries = [], []
    for index, photo in enumerate(photos):
        print(f"[{index + 1}/{len(photos)}] {photo.name}", file=sys.stderr)
        try:
            result = reconstruct(photo, out / photo.stem, opts)
        except (ReconstructError, FileExistsError) as exc:
            failed.append(photo.name)
            print(f"  skipped: {one_line(exc)}", file=sys.stderr)
            continue
        summaries.append(result.summary())
        if not as_json:
            print(result.to_text())
    if as_json:
        print(json.dumps({"results": summaries, "failed": failed}, indent=1))
    print(f"{len(summaries)} reconstructed, {len(failed)} failed", file=sys.stderr)
    return 1 if failed else 0
