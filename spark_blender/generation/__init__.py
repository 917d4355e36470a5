"""Stage 3 (part geometry) and stage 5 (texture): the part DiT and its token decoder.

``generate(coarse, image, part_images, k)`` samples K hypotheses of an object's parts from its
coarse structure and photo (``sample``); ``tokens`` holds the part tokens, ``encode`` and
``decode``; ``part_dit`` the model; ``texture`` projects the photo onto a reconstruction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spark_blender.core.model import ArticulatedObject


def generate(coarse, image, part_images=None, k: int = 8, seed: int = 0, device: str = "cpu",
             features: dict | None = None) -> list[ArticulatedObject]:  # fmt: skip
    """K decoded hypotheses (see ``spark_blender.generation.sample.generate``)."""
    from spark_blender.generation.sample import generate as _generate

    return _generate(coarse, image, part_images, k, seed, device, features)
