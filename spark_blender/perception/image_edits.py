"""Reference images through an Images edit API (``gpt-image-1`` by default), for the OpenAI
backend: one image per part, shown alone, and one moved-state image with every part opened.

The per-part images start as crops of the 2D boxes; each edit that succeeds replaces its crop.
A server without an image API (HTTP 404/405/501 on the first edit, sent alone so such a server
is asked once) keeps the crops and has no moved-state image, with a warning; any other failed
edit costs only its own image. Requests go through the session's client and retries
(`openai_parser._Session`): ``client``, ``with_retries``, ``usage`` (with ``usage_lock``, as
edits run on worker threads), ``host`` and ``options``.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image

from spark_blender.perception.errors import PerceptionError, StatusError
from spark_blender.perception.images import part_crops
from spark_blender.perception.prompts import render
from spark_blender.perception.result import ParseResult, png_bytes
from spark_blender.perception.schema import CoarseURDF

# Statuses that mean "this server has no such API" rather than "this request failed".
NO_API_STATUSES = {404, 405, 501}
_MOVED = "\0moved-state"  # the moved-state image's job key (no part name has a NUL)


def reference_images(session: Any, picture: Image.Image, result: ParseResult) -> None:
    """`result`'s part images (and moved-state image) as the session's options ask: crops,
    edits or none; what fell back to crops is in `result.warnings`."""
    options = session.options
    mode = options.reference_images
    if mode == "none":
        return
    crops = part_crops(picture, result.coarse)
    result.part_images, result.part_image_source = dict(crops), "crop"
    if mode == "crop":
        return
    coarse = result.coarse
    jobs = [
        (
            part.name,
            render("part_image", label=part.label, category=coarse.category, name=part.name),
        )
        for part in coarse.parts[: options.max_part_images]
    ]
    motions = moved_state_motions(coarse)
    if motions:
        jobs.append((_MOVED, render("moved_image", category=coarse.category, motions=motions)))
    if not jobs:
        return
    photo_png = png_bytes(picture)
    size = options.image_size
    if size == "match":
        size = edit_size_for(picture.size)

    def edit(job: tuple[str, str]) -> Image.Image | PerceptionError:
        name, prompt = job
        moved = name == _MOVED
        what = "moved-state image" if moved else f"part image {name}"
        fidelity = options.moved_input_fidelity if moved else None
        try:
            image = edit_image(session, photo_png, prompt, what, size, fidelity)
        except PerceptionError as exc:
            return exc
        # Same camera as the photo: the moved-state image is compared pixel for pixel.
        return image.resize(picture.size, Image.Resampling.LANCZOS) if moved else image

    # The first edit alone: a server without an image API says so once, not N times.
    outcomes = {jobs[0][0]: edit(jobs[0])}
    first = outcomes[jobs[0][0]]
    if isinstance(first, StatusError) and first.status in NO_API_STATUSES:
        result.warnings.append(
            f"{session.host} has no image edit API (HTTP {first.status}): per-part crops from "
            "the 2D boxes are the reference images and there is no moved-state image"
        )
        return
    with ThreadPoolExecutor(max(1, options.image_concurrency)) as pool:
        results = list(pool.map(edit, jobs[1:]))
    outcomes.update(zip([name for name, _ in jobs[1:]], results, strict=True))
    for name, outcome in outcomes.items():
        if isinstance(outcome, PerceptionError):
            instead = "no moved-state image" if name == _MOVED else "its crop is used"
            result.warnings.append(f"image edit failed, {instead}: {outcome}")
    edited = {n: o for n, o in outcomes.items() if isinstance(o, Image.Image)}
    result.moved_image = edited.pop(_MOVED, None)
    if len(coarse.parts) > options.max_part_images:
        result.warnings.append(f"parts beyond the first {options.max_part_images} got crops")
    result.part_images = {name: edited.get(name, crop) for name, crop in crops.items()}
    if edited:
        result.part_image_source = "edit" if len(edited) == len(crops) else "mixed"


def edit_image(
    session: Any,
    photo_png: bytes,
    prompt: str,
    what: str,
    size: str,
    fidelity: str | None = None,
) -> Image.Image:
    """One edit of the photo by `prompt`, as RGB; its tokens are added to the session's usage."""
    options = session.options
    what = f"{options.image_model} at {session.host} ({what})"
    extra = {"input_fidelity": fidelity} if fidelity else {}

    def request(timeout: float):
        return session.client.images.edit(
            model=options.image_model,
            image=("photo.png", photo_png, "image/png"),
            prompt=prompt,
            size=size,
            quality=options.image_quality,
            n=1,
            timeout=timeout,
            **extra,
        )

    response = session.with_retries(what, request, options.image_timeout_s)
    usage = getattr(response, "usage", None)
    details = getattr(usage, "input_tokens_details", None)
    image_tokens = getattr(details, "image_tokens", 0) or 0
    text_tokens = getattr(details, "text_tokens", None)
    if text_tokens is None:
        text_tokens = (getattr(usage, "input_tokens", 0) or 0) - image_tokens
    with session.usage_lock:
        session.usage.add(
            options.image_model,
            input_tokens=text_tokens,
            image_input_tokens=image_tokens,
            output_tokens=getattr(usage, "output_tokens", 0) or 0,
        )
    data = getattr(response, "data", None)
    encoded = getattr(data[0], "b64_json", None) if isinstance(data, list) and data else None
    if not encoded:
        raise PerceptionError(f"{what}: the answer held no image data")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(encoded)))
        image.load()
    except (binascii.Error, OSError, ValueError) as exc:
        raise PerceptionError(f"{what}: the image data cannot be read ({exc})") from None
    return image.convert("RGB")


def edit_size_for(photo_size: tuple[int, int]) -> str:
    """The image-edit size (gpt-image-1's three) closest in aspect to the photo."""
    width, height = photo_size
    sizes = {"1024x1024": 1.0, "1536x1024": 1.5, "1024x1536": 1 / 1.5}
    aspect = width / max(height, 1)
    return min(sizes, key=lambda s: abs(math.log(aspect / sizes[s])))


def moved_state_motions(coarse: CoarseURDF) -> str:
    """What the moved-state image must show, in words, for the parts that visibly move."""
    motions = []
    for part in coarse.parts:
        if part.joint_type == "revolute":
            degrees = round(math.degrees(min(part.limits[1], math.radians(150))))
            motions.append(f"the {part.label} '{part.name}' swung open by about {degrees} degrees")
        elif part.joint_type == "prismatic":
            motions.append(f"the {part.label} '{part.name}' pulled out all the way")
    return "; ".join(motions)
