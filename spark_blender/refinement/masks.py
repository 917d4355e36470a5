"""Object masks from images: the alpha of an RGBA render, or everything unlike a plain background.

Also resizing a mask to the optimizer's working resolution (area averaging, so a mask's border
pixels become fractional and the loss sees sub-pixel edges).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


class MaskError(ValueError):
    """An image from which no object mask can be taken."""


def _as_array(image, name: str) -> np.ndarray:
    if isinstance(image, (str, Path)):
        try:
            with Image.open(image) as opened:
                opened.load()
                image = opened.copy()
        except OSError as exc:
            raise MaskError(f"{image}: cannot read image: {exc}") from exc
    if isinstance(image, Image.Image):
        image = np.asarray(
            image.convert("RGBA") if "A" in image.getbands() else image.convert("RGB")
        )
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise MaskError(f"{name}: expected an HxW, HxWx3 or HxWx4 image, got shape {array.shape}")
    return array.astype(np.float32) / (255.0 if array.dtype == np.uint8 else 1.0)


def mask_from_image(
    image,
    background: tuple[float, float, float] | None = None,
    tolerance: float = 0.08,
    name: str = "image",
) -> np.ndarray:
    """Boolean (H, W) object mask.

    An image with a varying alpha channel gives alpha > 0.5. Otherwise a pixel belongs to the
    object when its colour differs from the background by more than `tolerance` (0-1 scale) in
    some channel; the background is given, or the median colour of the image's border.
    """
    array = _as_array(image, name)
    if array.shape[2] == 4 and array[..., 3].min() < 0.99:
        mask = array[..., 3] > 0.5
    else:
        rgb = array[..., :3] if array.shape[2] >= 3 else np.repeat(array, 3, axis=2)
        if background is None:
            border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
            background = np.median(border, axis=0)
        mask = np.abs(rgb - np.asarray(background, np.float32)).max(axis=2) > tolerance
    if not mask.any():
        raise MaskError(f"{name}: no object found (the mask is empty)")
    if mask.all():
        raise MaskError(f"{name}: the whole image is object; no background to separate")
    return mask


def resize_mask(mask, width: int, height: int) -> torch.Tensor:
    """Float (height, width) mask in [0, 1], area-averaged from any size."""
    tensor = torch.as_tensor(np.asarray(mask, dtype=np.float32))[None, None]
    if tensor.shape[-2:] == (height, width):
        return tensor[0, 0]
    return F.interpolate(tensor, size=(height, width), mode="area")[0, 0]
