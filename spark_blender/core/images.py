"""The one image loader of every verb that reads a photo (`parse`, `reconstruct`, the Blender
panel): an explicit pixel limit checked before decoding, and one `ImageError` line naming the
file and the problem (missing, a folder, a device or FIFO, empty, not an image, truncated, too
large). The result is upright (EXIF orientation applied) and RGB, or RGBA when the file has
transparency: palettes, grey, 16-bit and CMYK images are converted.
"""

from __future__ import annotations

import os
import stat
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 64_000_000  # 8000 x 8000: a large camera photo; decoding one takes ~200 MB
MAX_FILE_BYTES = 256 * 1024 * 1024
_PIL_LIMIT = threading.Lock()  # PIL's own bomb limit is a global: lifted only while opening


class ImageError(ValueError):
    """An image cannot be used; the message names the file and the problem."""


def load_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image at `path` as an upright RGB or RGBA `PIL.Image` (raises `ImageError`)."""
    path = Path(path)
    name = f"image '{path}'"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageError(f"{name} does not exist") from None
    except OSError as exc:
        raise ImageError(f"{name}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{name} is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"{name} is not a regular file (a device, pipe or socket)")
    if info.st_size == 0:
        raise ImageError(f"{name} is empty (0 bytes)")
    if info.st_size > MAX_FILE_BYTES:
        raise ImageError(f"{name} is {info.st_size} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _PIL_LIMIT:  # read the header with PIL's limit off; ours is checked next
                saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
                try:
                    opened = Image.open(path)
                finally:
                    Image.MAX_IMAGE_PIXELS = saved
            with opened:
                width, height = opened.size
                if width * height > max_pixels:
                    raise ImageError(
                        f"{name} is {width}x{height} pixels; the limit is {max_pixels} pixels"
                    )
                opened.load()
                picture = ImageOps.exif_transpose(opened) or opened.copy()
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name} is too large to decode: {exc}") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image PIL can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc).strip().splitlines()
        reason = text[0] if text else type(exc).__name__
        if "truncated" in reason.lower():
            raise ImageError(f"{name} is truncated ({reason})") from None
        raise ImageError(f"{name} cannot be decoded ({reason})") from None
    if picture.width < 1 or picture.height < 1:
        raise ImageError(f"{name} has no pixels")
    return to_rgb(picture)


def to_rgb(picture: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency; 16-bit, grey, palette, CMYK converted."""
    mode = picture.mode
    if mode in ("RGB", "RGBA"):
        return picture
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(picture, dtype=np.float64)
        top = 65535.0 if values.max() > 255 else 255.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode == "F":
        values = np.asarray(picture, dtype=np.float64)
        top = values.max() if values.max() > 1.0 else 1.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    transparent = mode in ("LA", "PA", "La", "RGBa") or (
        mode in ("P", "L", "RGB") and "transparency" in picture.info
    )
    return picture.convert("RGBA" if transparent else "RGB")
