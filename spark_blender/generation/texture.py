"""Texturing a reconstruction from its photo (stage 5): project the pixels onto what the camera saw.

For every link, one texture atlas: the photo cropped to the link's projected box, with a strip
below it filled with the link's dominant colour (the median photo colour of the pixels where the
link is visible and the object mask agrees). Faces the camera sees (they own at least one pixel
of the rendered face buffer at the observed pose) get the photo's pixels under them as UVs;
every other face (occluded, facing away, the inside of a drawer) maps into the strip. Meshes are
unwelded per face so a vertex on the border of a seen and an unseen face can carry both.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import trimesh
from PIL import Image

from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import link_poses
from spark_blender.core.model import ArticulatedObject, Material
from spark_blender.synth.render_fast import rasterise

ATLAS = 256  # atlas side in pixels: square and the same for every link (renderers stack them)
STRIP = 8  # rows of dominant colour at the atlas's bottom


def project_texture(
    obj: ArticulatedObject,
    photo: Image.Image,
    camera: Camera,
    configuration: Mapping[str, float] | None = None,
    mask: np.ndarray | None = None,
) -> ArticulatedObject:
    """`obj` with every visual UV-mapped onto an atlas cut from `photo` (changed in place and
    returned). `camera` must have the photo's size; `mask` (H, W) bool limits the colours taken
    for the dominant colour to the object."""
    rgb = np.asarray(photo.convert("RGB"))
    height, width = rgb.shape[:2]
    if (camera.width, camera.height) != (width, height):
        camera = camera.scaled(width, height)
    poses = link_poses(obj, configuration)
    # Every visual's triangles in the world at the observed pose, in one buffer.
    entries, triangles = [], []
    for link in obj.links:
        for visual in link.visuals:
            world = poses[link.name] @ visual.origin
            tri = np.asarray(visual.mesh.vertices, float)[np.asarray(visual.mesh.faces)]
            triangles.append(tri @ world[:3, :3].T + world[:3, 3])
            entries.append((link, visual))
    if not triangles:
        return obj
    counts = [len(t) for t in triangles]
    starts = np.concatenate([[0], np.cumsum(counts)])
    world = np.concatenate(triangles)
    face, pix, _, _ = rasterise(world, camera)
    seen = np.zeros(len(world), bool)
    seen[face] = True
    owner = np.full(height * width, -1, np.int64)
    owner[pix] = face
    object_mask = np.ones(height * width, bool) if mask is None else np.asarray(mask).reshape(-1)
    pixels, depth = camera.project(world.reshape(-1, 3))
    pixels = pixels.reshape(-1, 3, 2)
    for link in obj.links:
        indices = [i for i, (owner_link, _) in enumerate(entries) if owner_link is link]
        if not indices:
            continue
        faces_of_link = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in indices])
        _texture_link(link, entries, indices, starts, faces_of_link, seen, owner, object_mask,
                      pixels, rgb)  # fmt: skip
    return obj


def _texture_link(link, entries, indices, starts, faces_of_link, seen, owner, object_mask,
                  pixels, rgb) -> None:  # fmt: skip
    height, width = rgb.shape[:2]
    visible = faces_of_link[seen[faces_of_link]]
    in_link = np.isin(owner, faces_of_link) & object_mask
    colour = (
        np.median(rgb.reshape(-1, 3)[in_link], axis=0)
        if in_link.any()
        else np.asarray(link.visuals[0].material.rgba[:3]) * 255.0
    )
    if len(visible):
        corners = pixels[visible].reshape(-1, 2)
        x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int) - 1, 0, [width - 1, height - 1])
        x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 1, [x0 + 1, y0 + 1],
                         [width, height])  # fmt: skip
    else:
        x0, y0, x1, y1 = 0, 0, 1, 1
    crop = Image.fromarray(np.ascontiguousarray(rgb[y0:y1, x0:x1]), "RGB")
    atlas = np.empty((ATLAS, ATLAS, 3), np.uint8)
    atlas[: ATLAS - STRIP] = np.asarray(
        crop.resize((ATLAS, ATLAS - STRIP), Image.Resampling.BILINEAR)
    )
    atlas[ATLAS - STRIP :] = np.clip(colour, 0, 255).astype(np.uint8)
    image = Image.fromarray(atlas, "RGB")
    cw, ch = x1 - x0, y1 - y0
    strip_uv = np.array([0.5, (STRIP / 2) / ATLAS])  # v runs up from the atlas's bottom row
    for i in indices:
        _, visual = entries[i]
        mesh = visual.mesh
        faces = np.asarray(mesh.faces)
        tri = np.asarray(mesh.vertices, float)[faces].reshape(-1, 3)
        face_ids = np.arange(starts[i], starts[i + 1])
        uv = np.tile(strip_uv, (len(face_ids) * 3, 1))
        hit = seen[face_ids]
        if hit.any():
            px = pixels[face_ids[hit]].reshape(-1, 2)
            u = (px[:, 0] - x0) / cw
            v = 1.0 - (px[:, 1] - y0) / ch * (ATLAS - STRIP) / ATLAS
            rows = np.repeat(np.nonzero(hit)[0] * 3, 3) + np.tile(np.arange(3), int(hit.sum()))
            uv[rows] = np.stack([np.clip(u, 0, 1), np.clip(v, 0, 1)], axis=1)
        new_faces = np.arange(len(tri)).reshape(-1, 3)
        visual.mesh = trimesh.Trimesh(
            tri, new_faces, visual=trimesh.visual.TextureVisuals(uv=uv, image=image),
            process=False,
        )  # fmt: skip
        rgba = (*[float(c) / 255.0 for c in colour], 1.0)
        visual.material = Material(name=f"{link.name}_photo", rgba=rgba,
                                   density=visual.material.density)  # fmt: skip
