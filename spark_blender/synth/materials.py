"""Procedural materials: per-part colours and textures (wood grain, brushed metal, plastic, glass).

A material becomes a core ``Material`` (colour, density) plus, for textured kinds, a small
texture image and UV coordinates on the part's mesh, so ``core.urdf.write_urdf`` writes it as
OBJ+MTL with ``map_Kd``. UVs are a fixed linear map of the position (``UV_MAP``) that is
non-degenerate on all three axis planes, so boxes, lathes and extrusions keep their shared
vertices (and stay watertight) while every face shows the texture without smearing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from PIL import Image

from spark_blender.core.model import Material

TEXTURE_SIZE = 64
# Metres -> texture repeats; rows are u and v. Each 2x2 minor (xy, xz, yz) has |det| = 1.
UV_MAP = np.array([[1.0, 1.0, 0.0], [0.5, -0.5, 1.0]]) * 2.5

KINDS = ("wood", "metal", "plastic", "glass", "painted")
DENSITY = {"wood": 600.0, "metal": 2000.0, "plastic": 950.0, "glass": 2500.0, "painted": 700.0}


@dataclass
class Finish:
    """A sampled surface finish: kind, base colour, and its texture (None for flat colour)."""

    name: str
    kind: str
    rgb: tuple[float, float, float]
    alpha: float = 1.0
    texture: Image.Image | None = None

    def material(self) -> Material:
        return Material(
            name=self.name, rgba=(*self.rgb, self.alpha), density=DENSITY.get(self.kind)
        )


PALETTES = {
    "wood": [(0.55, 0.36, 0.2), (0.72, 0.55, 0.36), (0.36, 0.22, 0.12), (0.82, 0.68, 0.48)],
    "metal": [(0.75, 0.76, 0.78), (0.55, 0.56, 0.58), (0.85, 0.84, 0.8), (0.3, 0.3, 0.32)],
    "plastic": [
        (0.92, 0.92, 0.9),
        (0.12, 0.12, 0.13),
        (0.7, 0.1, 0.1),
        (0.15, 0.3, 0.6),
        (0.85, 0.75, 0.2),
        (0.3, 0.55, 0.35),
    ],
    "glass": [(0.55, 0.7, 0.75)],
    "painted": [
        (0.95, 0.95, 0.93),
        (0.2, 0.25, 0.3),
        (0.6, 0.65, 0.6),
        (0.8, 0.78, 0.7),
        (0.45, 0.5, 0.6),
    ],
}


def sample_finish(rng: np.random.Generator, kind: str, name: str) -> Finish:
    """A random finish of `kind`: palette colour jittered, with a texture where the kind has one."""
    palette = PALETTES[kind]
    base = np.asarray(palette[int(rng.integers(len(palette)))])
    rgb = np.clip(base + rng.normal(0.0, 0.04, 3), 0.02, 0.98)
    texture = None
    if kind == "wood":
        texture = wood_texture(rng, rgb)
    elif kind == "metal":
        texture = brushed_metal_texture(rng, rgb)
    elif kind == "plastic" and rng.random() < 0.5:
        texture = speckle_texture(rng, rgb)
    alpha = 0.35 if kind == "glass" else 1.0
    return Finish(name, kind, tuple(float(c) for c in rgb), alpha, texture)


def _to_image(rgb_field: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(rgb_field, 0.0, 1.0) * 255).astype(np.uint8), "RGB")


def wood_texture(rng: np.random.Generator, rgb, size: int = TEXTURE_SIZE) -> Image.Image:
    """Growth rings: a sine of the distance to a random far-away centre, wobbled by noise."""
    y, x = np.mgrid[0:size, 0:size] / size
    centre = rng.uniform(-2.0, -1.0, 2)
    wobble = 0.02 * np.sin(2 * np.pi * (x * rng.integers(1, 4) + rng.random()))
    dist = np.hypot(x - centre[0], (y - centre[1]) * 0.15) + wobble
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * dist * rng.uniform(8, 16))
    fibres = rng.normal(0.0, 0.03, (size, 1)) * np.ones((1, size))
    shade = 0.78 + 0.22 * rings[..., None] + fibres[..., None]
    return _to_image(np.asarray(rgb)[None, None, :] * shade)


def brushed_metal_texture(rng: np.random.Generator, rgb, size: int = TEXTURE_SIZE) -> Image.Image:
    """Fine streaks along one direction: noise smoothed along rows only."""
    noise = rng.normal(0.0, 1.0, (size, size))
    kernel = np.ones(9) / 9.0
    streaks = np.apply_along_axis(
        lambda r: np.convolve(np.tile(r, 2), kernel, "same")[:size], 1, noise
    )
    shade = 0.92 + 0.06 * streaks
    return _to_image(np.asarray(rgb)[None, None, :] * shade[..., None])


def speckle_texture(rng: np.random.Generator, rgb, size: int = TEXTURE_SIZE) -> Image.Image:
    """Moulded plastic: faint speckles."""
    shade = 0.96 + 0.04 * rng.random((size, size))
    return _to_image(np.asarray(rgb)[None, None, :] * shade[..., None])


def uv_coordinates(vertices: np.ndarray) -> np.ndarray:
    """Texture coordinates of positions (in the link frame, so neighbouring parts line up)."""
    return np.asarray(vertices, float) @ UV_MAP.T


def apply_finish(mesh: trimesh.Trimesh, finish: Finish) -> trimesh.Trimesh:
    """`mesh` with `finish`'s texture as UV-mapped visuals (unchanged when untextured)."""
    if finish.texture is None:
        return mesh
    visual = trimesh.visual.TextureVisuals(uv=uv_coordinates(mesh.vertices), image=finish.texture)
    return trimesh.Trimesh(mesh.vertices, mesh.faces, visual=visual, process=False)


def sample_palette(rng: np.random.Generator, body_kinds: tuple[str, ...]) -> dict[str, Finish]:
    """One finish per role for a whole object: body and front share a kind most of the time."""
    body_kind = body_kinds[int(rng.integers(len(body_kinds)))]
    front_kind = body_kind if rng.random() < 0.7 else body_kinds[int(rng.integers(len(body_kinds)))]
    handle_kind = "metal" if rng.random() < 0.7 else "plastic"
    finishes = {
        "body": sample_finish(rng, body_kind, "body"),
        "front": sample_finish(rng, front_kind, "front"),
        "handle": sample_finish(rng, handle_kind, "handle"),
        "knob": sample_finish(rng, "plastic", "knob"),
        "button": sample_finish(rng, "plastic", "button"),
        "metal": sample_finish(rng, "metal", "metal"),
        "glass": sample_finish(rng, "glass", "glass"),
        "screen": Finish("screen", "glass", (0.05, 0.06, 0.08)),
        "trim": sample_finish(rng, "painted", "trim"),
        "accent": Finish("accent", "painted", (0.9, 0.15, 0.1)),
    }
    if rng.random() < 0.6:
        finishes["front"] = Finish(
            "front", body_kind, finishes["body"].rgb, 1.0, finishes["body"].texture
        )
    return finishes
