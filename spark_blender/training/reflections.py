"""Mirror-like finishes for training images: the engine's flat colours re-shaded as polished
metal, lacquer or glass reflecting a random studio around the object.

PartNet-Mobility renders (and photos of appliances) are full of chrome, steel and glossy
plastic: whole faces turn black or white with sharp diagonal boundaries where the reflected
room changes, and the pattern jumps at every edge. The data engine's finishes are flat. A
view's depth map and camera give each pixel's surface normal, the normal and the viewing ray
give the reflected direction, and that direction looks up an environment made of what a studio
has: a horizon between a bright top and a dark floor, soft boxes and windows, dark walls and
stands. Each link gets its own reflectivity and tint, so a door can be mirror-like on a matte
carcass. Numpy only, one (S, S) view at a time.
"""

from __future__ import annotations

import numpy as np

from spark_blender.core.camera import Camera

STEP = 2  # pixels each side for the normals' differences: float16 depth is coarse


def camera_points(depth: np.ndarray, camera: Camera) -> np.ndarray:
    """(S, S, 3) camera-frame points of a view's depth map (the camera looking along -Z, +Y up,
    depth along the view axis: `Camera.project`'s inverse)."""
    h, w = depth.shape
    if (w, h) != (camera.width, camera.height):  # a resized view
        camera = camera.scaled(w, h)
    fx, fy, cx, cy = camera.intrinsics()
    v, u = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    z = depth.astype(np.float32)
    return np.stack([(u - cx) / fx * z, -(v - cy) / fy * z, -z], axis=-1)


def normals(points: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(S, S, 3) unit normals facing the camera from central differences of `points` taken
    inside each link (a neighbour of another link or the background is replaced by the pixel
    itself, a one-sided difference); pixels without a usable difference face the camera."""

    def diff(axis: int) -> np.ndarray:
        ahead = np.roll(points, -STEP, axis)
        behind = np.roll(points, STEP, axis)
        ahead = np.where((np.roll(ids, -STEP, axis) == ids)[..., None], ahead, points)
        behind = np.where((np.roll(ids, STEP, axis) == ids)[..., None], behind, points)
        return ahead - behind

    n = np.cross(diff(1), diff(0))
    length = np.linalg.norm(n, axis=-1, keepdims=True)
    view = -points / np.maximum(np.linalg.norm(points, axis=-1, keepdims=True), 1e-9)
    n = np.where(length > 1e-9, n / np.maximum(length, 1e-12), view)
    flip = np.einsum("...i,...i->...", n, view) < 0
    n[flip] *= -1.0
    return n


def environment(directions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grey levels in [0, 1] of a random studio seen along world `directions` (..., 3), +Z up:
    a horizon (sharp or soft) between a bright top and a darker floor, 0-6 bright boxes and
    0-5 dark ones, each a patch of azimuth x elevation, and sometimes blinds (bands in azimuth)."""
    d = directions
    elevation = np.arcsin(np.clip(d[..., 2], -1, 1))
    azimuth = np.arctan2(d[..., 1], d[..., 0])
    top, floor = rng.uniform(0.55, 1.0), rng.uniform(0.0, 0.35)
    height, sharpness = rng.uniform(-0.35, 0.35), rng.choice([4.0, 15.0, 60.0])
    rise = np.clip(-sharpness * (elevation - height), -50, 50)
    value = floor + (top - floor) / (1 + np.exp(rise))
    if rng.random() < 0.3:
        wave = np.sin(azimuth * rng.integers(3, 12) + rng.uniform(0, 2 * np.pi))
        bands = wave > rng.uniform(-0.5, 0.5)
        value = np.where(bands, value, value * rng.uniform(0.0, 0.4))
    for level, count in ((rng.uniform(0.85, 1.0), rng.integers(0, 7)), (0.0, rng.integers(0, 6))):
        for _ in range(int(count)):
            centre_az, centre_el = rng.uniform(-np.pi, np.pi), rng.uniform(-0.6, 1.2)
            half_az, half_el = rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.6)
            gap = np.abs((azimuth - centre_az + np.pi) % (2 * np.pi) - np.pi)
            inside = (gap < half_az) & (np.abs(elevation - centre_el) < half_el)
            value = np.where(inside, level, value)
    return value


def reflective(rgb: np.ndarray, ids: np.ndarray, depth: np.ndarray, camera: Camera,
               rng: np.random.Generator, share: float = 0.6) -> np.ndarray:  # fmt: skip
    """`rgb` (S, S, 3) in [0, 1] with about `share` of its links re-shaded as reflective: each
    such link mixes the studio's reflection (tinted grey, or its own colour for coloured
    metal and lacquer) into its colour by its own reflectivity."""
    points = camera_points(depth, camera)
    n = normals(points, ids)
    ray = points / np.maximum(np.linalg.norm(points, axis=-1, keepdims=True), 1e-9)
    bounce = ray - 2 * np.einsum("...i,...i->...", ray, n)[..., None] * n
    rotation = camera.cam_to_world[:3, :3].astype(np.float32)
    seen = environment(bounce @ rotation.T, rng)[..., None]
    out = rgb.copy()
    for link in np.unique(ids):
        if link == 0 or rng.random() > share:
            continue
        where = ids == link
        base = out[where]
        if rng.random() < 0.6:  # steel, chrome: a near-grey tint
            tint = rng.uniform(0.8, 1.0) * (1 + rng.uniform(-0.08, 0.08, 3))
        else:  # coloured metal, lacquer: the link's own colour tints the reflection
            tint = base.mean(0) / max(float(base.mean()), 1e-3) * rng.uniform(0.6, 1.0)
        mirror = float(rng.uniform(0.45, 1.0))
        contrast = float(rng.uniform(1.0, 2.5))  # polished: the reflection's levels pushed apart
        shine = np.clip((seen[where] - 0.5) * contrast + 0.5, 0, 1) * tint
        out[where] = np.clip(mirror * shine + (1 - mirror) * base, 0, 1)
    return out
