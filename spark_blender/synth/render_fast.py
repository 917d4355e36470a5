"""The fast back end: a vectorised numpy z-buffer rasteriser for bulk data.

Per view it gives RGB with alpha, a per-link instance mask (link index + 1, 0 = background), a
depth map (metres along the camera's view axis, 0 = background) and the camera. Triangles are
back-face culled, every candidate pixel of every triangle's bounding box is tested at once, the
nearest surface per pixel wins (perspective-correct), and only visible pixels are shaded:
Lambert with ambient light on flat face normals, colours from the material or its texture
(perspective-correct UVs, nearest texel). Deterministic: same inputs, same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import link_poses
from spark_blender.core.meshes import texture_image
from spark_blender.core.model import ArticulatedObject
from spark_blender.synth.camera import Background, Lighting

NEAR = 1e-3


@dataclass
class SceneGeometry:
    """An object's triangles grouped per link, in link frames, ready to pose and draw."""

    link_names: list[str]
    link_of_face: np.ndarray  # (F,) link index
    vertices: np.ndarray  # (F, 3, 3) triangle corners in their link frame
    albedo: np.ndarray  # (F, 3) flat colour
    texture_of_face: np.ndarray  # (F,) texture index, -1 = none
    uv: np.ndarray  # (F, 3, 2)
    textures: np.ndarray  # (K, S, S, 3) float


def scene_geometry(obj: ArticulatedObject) -> SceneGeometry:
    names = [link.name for link in obj.links]
    corners, links, albedo, tex_ids, uvs, textures = [], [], [], [], [], []
    texture_index: dict[int, int] = {}
    for li, link in enumerate(obj.links):
        for visual in link.visuals:
            mesh = visual.mesh
            tri = np.asarray(mesh.vertices, float)[np.asarray(mesh.faces)]
            tri = tri @ visual.origin[:3, :3].T + visual.origin[:3, 3]
            n = len(tri)
            corners.append(tri)
            links.append(np.full(n, li))
            albedo.append(np.tile(np.asarray(visual.material.rgba[:3], float), (n, 1)))
            image = texture_image(mesh)
            if image is not None:
                key = id(image)
                if key not in texture_index:
                    texture_index[key] = len(textures)
                    textures.append(_texture_array(image))
                tex_ids.append(np.full(n, texture_index[key]))
                uvs.append(np.asarray(mesh.visual.uv, float)[np.asarray(mesh.faces)])
            else:
                tex_ids.append(np.full(n, -1))
                uvs.append(np.zeros((n, 3, 2)))
    size = max((t.shape[0] for t in textures), default=1)
    stack = np.zeros((max(len(textures), 1), size, size, 3))
    for i, t in enumerate(textures):
        stack[i, : t.shape[0], : t.shape[1]] = t
    return SceneGeometry(
        names,
        np.concatenate(links),
        np.concatenate(corners),
        np.concatenate(albedo),
        np.concatenate(tex_ids),
        np.concatenate(uvs),
        stack,
    )


def _texture_array(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=float) / 255.0


@dataclass
class RenderResult:
    rgba: np.ndarray  # (H, W, 4) uint8
    mask: np.ndarray  # (H, W) uint8 link index + 1, 0 = background
    depth: np.ndarray  # (H, W) float32 metres along the view axis, 0 = background
    camera: Camera
    link_names: list[str]


def posed_triangles(geometry: SceneGeometry, obj: ArticulatedObject, configuration) -> np.ndarray:
    poses = link_poses(obj, configuration)
    stack = np.stack([poses[name] for name in geometry.link_names])  # (L, 4, 4)
    rot = stack[geometry.link_of_face, :3, :3]  # (F, 3, 3)
    shift = stack[geometry.link_of_face, :3, 3]  # (F, 3)
    return np.einsum("fij,fkj->fki", rot, geometry.vertices) + shift[:, None, :]


def render(
    obj: ArticulatedObject,
    camera: Camera,
    configuration: Mapping[str, float] | None = None,
    lighting: Lighting | None = None,
    background: Background | None = None,
    geometry: SceneGeometry | None = None,
    two_sided: bool = False,
) -> RenderResult:
    """Render `obj` posed at `configuration` from `camera`. `two_sided` draws back faces too,
    lit as if they faced the camera (for meshes from elsewhere, which rarely wind
    consistently); the data engine's renders are one-sided."""
    geometry = geometry or scene_geometry(obj)
    lighting = lighting or Lighting()
    background = background or Background()
    world = posed_triangles(geometry, obj, configuration)
    H, W = camera.height, camera.width
    face, pix, bary, depth = rasterise(world, camera, two_sided)
    rgba = np.empty((H * W, 4), np.uint8)
    rgba[:, :3] = background_pixels(background, W, H)
    rgba[:, 3] = 0 if background.kind == "transparent" else 255
    mask = np.zeros(H * W, np.uint8)
    depth_map = np.zeros(H * W, np.float32)
    if len(face):
        eye = camera.cam_to_world[:3, 3] if two_sided else None
        colour = shade(geometry, world, face, bary, lighting, eye)
        rgba[pix, :3] = np.clip(colour * 255.0 + 0.5, 0, 255).astype(np.uint8)
        rgba[pix, 3] = 255
        mask[pix] = (geometry.link_of_face[face] + 1).astype(np.uint8)
        depth_map[pix] = depth.astype(np.float32)
    return RenderResult(rgba.reshape(H, W, 4), mask.reshape(H, W), depth_map.reshape(H, W),
                        camera, geometry.link_names)  # fmt: skip


_BACKGROUND_CACHE: dict[tuple, np.ndarray] = {}


def background_pixels(background: Background, width: int, height: int) -> np.ndarray:
    """(H*W, 3) uint8 background, cached: the views of one sample share it."""
    key = (background.kind, tuple(background.colour), background.seed, width, height)
    if key not in _BACKGROUND_CACHE:
        if len(_BACKGROUND_CACHE) > 64:
            _BACKGROUND_CACHE.clear()
        image = background.image(width, height).reshape(-1, 3)
        pixels = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
        pixels.flags.writeable = False
        _BACKGROUND_CACHE[key] = pixels
    return _BACKGROUND_CACHE[key]


def rasterise(world: np.ndarray, camera: Camera, two_sided: bool = False):
    """Visible triangle per pixel: (face, pixel index, perspective barycentrics, depth); back
    faces are culled unless `two_sided`."""
    H, W = camera.height, camera.width
    pose = camera.cam_to_world
    cam = (world - pose[:3, 3]) @ pose[:3, :3]  # (F, 3, 3) in camera coordinates
    d = -cam[..., 2]  # depth along the view axis
    keep = np.all(d > NEAR, axis=1)
    # Back faces: the outward normal points away from the camera (at the origin).
    normal = np.cross(cam[:, 1] - cam[:, 0], cam[:, 2] - cam[:, 0])
    if not two_sided:
        keep &= np.einsum("fi,fi->f", normal, cam[:, 0]) < 0.0
    faces = np.nonzero(keep)[0]
    cam, d = cam[faces], d[faces]
    sx = camera.fx * cam[..., 0] / d + camera.cx  # pixel coordinates, y down
    sy = camera.cy - camera.fy * cam[..., 1] / d
    # Edge functions as planes over the image: w_i(x, y) = A_i x + B_i y + C_i, normalised so
    # the three sum to 1 inside the triangle.
    x, y = sx, sy
    area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (y[:, 1] - y[:, 0]) * (x[:, 2] - x[:, 0])
    ok = np.abs(area) > 1e-12
    faces, x, y, d, area = faces[ok], x[ok], y[ok], d[ok], area[ok]
    j, k = [1, 2, 0], [2, 0, 1]
    A = (y[:, j] - y[:, k]) / area[:, None]  # (F, 3)
    B = (x[:, k] - x[:, j]) / area[:, None]
    C = (x[:, j] * y[:, k] - x[:, k] * y[:, j]) / area[:, None]
    # Rows each triangle covers (pixel centres at +0.5).
    y0 = np.clip(np.ceil(y.min(1) - 0.5).astype(np.int64), 0, H)
    y1 = np.clip(np.floor(y.max(1) - 0.5).astype(np.int64), -1, H - 1)
    rows = np.maximum(y1 - y0 + 1, 0)
    if rows.sum() == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros((0, 3)), np.zeros(0)
    rt = np.repeat(np.arange(len(faces)), rows)  # triangle of each row
    ry = y0[rt] + np.arange(rows.sum()) - np.repeat(np.cumsum(rows) - rows, rows)
    # The span of x where all three edge functions are >= 0 on the row's centre line.
    a, offset = A[rt], B[rt] * (ry[:, None] + 0.5) + C[rt]
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = -offset / a
    lo = np.where(a > 1e-12, bound, -np.inf).max(1)
    hi = np.where(a < -1e-12, bound, np.inf).min(1)
    flat = np.abs(a) <= 1e-12  # an edge parallel to the row: in or out for the whole row
    lo = np.where(np.any(flat & (offset < -1e-9), axis=1), np.inf, lo)
    xa = np.clip(np.ceil(lo - 0.5 - 1e-9), 0, W).astype(np.int64)
    xb = np.clip(np.floor(hi - 0.5 + 1e-9), -1, W - 1).astype(np.int64)
    span = np.maximum(xb - xa + 1, 0)
    t = np.repeat(rt, span)
    py = np.repeat(ry, span)
    px = np.repeat(xa, span) + np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    fx_, fy_ = px + 0.5, py + 0.5
    w0 = A[t, 0] * fx_ + B[t, 0] * fy_ + C[t, 0]
    w1 = A[t, 1] * fx_ + B[t, 1] * fy_ + C[t, 1]
    w2 = 1.0 - w0 - w1
    inv = 1.0 / d
    invd = w0 * inv[t, 0] + w1 * inv[t, 1] + w2 * inv[t, 2]
    pix = py * W + px
    # Nearest per pixel: a max-buffer of 1/depth, then among the entries that reach it the
    # highest triangle number (so ties resolve the same way every time).
    nearest = np.zeros(H * W)
    np.maximum.at(nearest, pix, invd)
    front = invd >= nearest[pix]
    owner = np.full(H * W, -1, np.int64)
    np.maximum.at(owner, pix[front], t[front])
    win = np.nonzero(front & (owner[pix] == t))[0]
    t, invd = t[win], invd[win]
    bary = np.stack([w0[win] * inv[t, 0], w1[win] * inv[t, 1], w2[win] * inv[t, 2]], 1)
    bary /= invd[:, None]
    return faces[t], pix[win], bary, 1.0 / invd


def shade(
    geometry: SceneGeometry, world, face, bary, lighting: Lighting, eye: np.ndarray | None = None
) -> np.ndarray:
    """Colour of the visible pixels: albedo (or texel) x (ambient + diffuse key light); with
    the camera position `eye`, faces turned away from it are lit as if they faced it."""
    # Light per face (flat shading), computed once per visible face, not per pixel.
    visible, local = np.unique(face, return_inverse=True)
    tri = world[visible]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    if eye is not None:
        away = np.einsum("fi,fi->f", normal, eye - tri.mean(axis=1)) < 0.0
        normal[away] *= -1.0
    to_light = -np.asarray(lighting.direction, float)
    to_light /= np.linalg.norm(to_light)
    light = lighting.ambient + lighting.intensity * np.clip(normal @ to_light, 0.0, 1.0)
    tint = light[:, None] * np.asarray(lighting.colour)[None, :]  # (visible faces, 3)
    colour = geometry.albedo[visible] * tint
    out = colour[local]
    textured = geometry.texture_of_face[face] >= 0
    if textured.any():
        f = face[textured]
        uv = np.einsum("pk,pkj->pj", bary[textured], geometry.uv[f])
        size = geometry.textures.shape[1]
        u = (uv[:, 0] * size).astype(np.int64) % size
        v = ((1.0 - uv[:, 1]) * size).astype(np.int64) % size
        out[textured] = geometry.textures[geometry.texture_of_face[f], v, u] * tint[local[textured]]
    return out
