"""A small flat-shaded rasteriser (numpy + PIL) for the report's thumbnails.

Triangles are projected through the case camera (Blender convention: the camera looks along its
local -Z with +Y up) and painted far to near with PIL, shaded by the angle between their normal
and the view ray; it is drawn at twice the size and reduced, which smooths the edges. Good for
seeing what a reconstruction looks like, not a reference renderer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh
from PIL import Image, ImageDraw

from spark_blender.evaluation.cases import Camera

NEAR = 1e-3
SUPERSAMPLE = 2
LIGHT = np.array([-0.35, 0.55, 0.76]) / np.linalg.norm([-0.35, 0.55, 0.76])  # camera frame
# Distinct part colours (linear-ish RGB in 0-1): the first part (usually the base) is grey.
PART_COLOURS = (
    (0.72, 0.72, 0.74),
    (0.90, 0.55, 0.25),
    (0.30, 0.60, 0.90),
    (0.45, 0.78, 0.40),
    (0.85, 0.40, 0.55),
    (0.65, 0.50, 0.85),
    (0.90, 0.80, 0.30),
    (0.35, 0.80, 0.80),
)


def render_meshes(
    meshes: Sequence[trimesh.Trimesh],
    camera: Camera,
    size: int = 256,
    colours: Sequence[tuple[float, float, float]] | None = None,
    background: tuple[int, int, int, int] = (255, 255, 255, 0),
) -> Image.Image:
    """An RGBA image of `meshes` (world frame) seen by `camera`, `size` pixels wide."""
    colours = colours or PART_COLOURS
    scale = size * SUPERSAMPLE / camera.width
    height = round(camera.height * scale)
    image = Image.new("RGBA", (size * SUPERSAMPLE, height), background)
    polygons, depths, shades = [], [], []
    world_to_camera = np.linalg.inv(camera.cam_to_world)
    for index, mesh in enumerate(meshes):
        if len(mesh.faces) == 0:
            continue
        points, depth, shade = _project(mesh, world_to_camera, camera, scale)
        colour = np.asarray(colours[index % len(colours)])
        polygons.append(points)
        depths.append(depth)
        shades.append(shade[:, None] * colour[None, :])
    if polygons:
        _paint(image, np.concatenate(polygons), np.concatenate(depths), np.concatenate(shades))
    return image.resize((size, round(height / SUPERSAMPLE)), Image.LANCZOS)


def _project(mesh: trimesh.Trimesh, world_to_camera: np.ndarray, camera: Camera, scale: float):
    vertices = trimesh.transform_points(np.asarray(mesh.vertices, float), world_to_camera)
    triangles = vertices[np.asarray(mesh.faces)]  # (M, 3, 3) in the camera frame
    depth = -triangles[:, :, 2]  # distance along the viewing direction
    visible = np.all(depth > NEAR, axis=1)
    triangles, depth = triangles[visible], depth[visible]
    u = camera.cx + camera.fx * triangles[:, :, 0] / depth
    v = camera.cy - camera.fy * triangles[:, :, 1] / depth
    points = np.stack([u, v], axis=2) * scale  # (M, 3, 2) pixels
    normal = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    # Two-sided: meshes from elsewhere rarely wind consistently, so turn each normal to face
    # the camera, then light it from above-left behind the camera.
    centre = triangles.mean(axis=1)
    normal *= np.where(np.einsum("md,md->m", normal, centre) > 0.0, -1.0, 1.0)[:, None]
    shade = 0.3 + 0.7 * np.clip(normal @ LIGHT, 0.0, 1.0)
    return points, depth.mean(axis=1), shade


def _paint(image: Image.Image, points: np.ndarray, depth: np.ndarray, colours: np.ndarray) -> None:
    draw = ImageDraw.Draw(image)
    rgb = np.clip(colours * 255.0, 0, 255).astype(np.uint8)
    for index in np.argsort(-depth):  # far to near: nearer triangles paint over
        fill = (*rgb[index].tolist(), 255)
        draw.polygon([tuple(p) for p in points[index].tolist()], fill=fill)


def on_white(image: Image.Image, size: int | None = None) -> Image.Image:
    """An RGBA render or photo flattened onto white (and resized to `size` wide)."""
    image = image.convert("RGBA")
    if size is not None and image.width != size:
        height = round(image.height * size / image.width)
        image = image.resize((size, height), Image.LANCZOS)
    flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat.alpha_composite(image)
    return flat.convert("RGB")
