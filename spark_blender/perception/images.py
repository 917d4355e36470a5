"""Image handling shared by the parsers: loading the input, data URLs, per-part crops.

Crops from the coarse URDF's 2D boxes are the per-part reference images when no image-edit
model is available (a local server, a local model, or an image API that answers 404).
"""

from __future__ import annotations

import base64
from pathlib import Path

from PIL import Image

from spark_blender.core.images import ImageError
from spark_blender.core.images import load_image as read_image
from spark_blender.perception.errors import PerceptionError
from spark_blender.perception.result import png_bytes
from spark_blender.perception.schema import CoarseURDF

MAX_SIDE = 1024  # larger photos are scaled down before they are sent: cost, not accuracy
CROP_MARGIN = 0.05  # of the box size on every side, so a part's edges stay in the crop


def load_image(image: Image.Image | Path | str) -> Image.Image:
    """The input photo as RGB (transparent pixels on white), at most `MAX_SIDE` pixels a side."""
    if isinstance(image, Image.Image):
        picture = image
    else:
        try:
            picture = read_image(image)  # the project's one loader: limits, EXIF, one line
        except ImageError as exc:
            raise PerceptionError(str(exc)) from None
    if picture.mode in ("RGBA", "LA", "P"):
        rgba = picture.convert("RGBA")
        picture = Image.new("RGB", rgba.size, (255, 255, 255))
        picture.paste(rgba, mask=rgba.getchannel("A"))
    picture = picture.convert("RGB")
    if max(picture.size) > MAX_SIDE:
        scale = MAX_SIDE / max(picture.size)
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    return picture


def data_url(image: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def part_crops(image: Image.Image, coarse: CoarseURDF) -> dict[str, Image.Image]:
    """Each part's 2D box (with a small margin) cut out of the photo."""
    crops = {}
    for part in coarse.parts:
        x0, y0, x1, y1 = part.box_2d
        mx, my = (x1 - x0) * CROP_MARGIN, (y1 - y0) * CROP_MARGIN
        box = (
            max(0, int((x0 - mx) * image.width)),
            max(0, int((y0 - my) * image.height)),
            min(image.width, max(1, round((x1 + mx) * image.width))),
            min(image.height, max(1, round((y1 + my) * image.height))),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        crops[part.name] = image.crop(box)
    return crops
