"""The data engine's random views, lighting and backgrounds, shared by both renderers.

Cameras are ``core.camera.Camera`` (Blender convention: looks along local -Z, local +Y up),
placed by ``core.camera.orbit_camera`` around the object. A sample's record of its camera
(``camera_record``) holds camera.json's fields (width, height, fx, fy, cx, cy, fov_deg
(horizontal), cam_to_world) and the orbit it was drawn from (azimuth_deg, elevation_deg).
Azimuth 0 looks straight at the front (camera on -Y); positive azimuth moves the camera to +X.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spark_blender.core.camera import CONVENTION, Camera, orbit_camera

__all__ = ["Camera", "orbit_camera"]  # the one camera, re-exported for the data engine's users


@dataclass
class OrbitView:
    """One drawn view: where the orbit camera sits and how wide it sees."""

    azimuth_deg: float
    elevation_deg: float
    fov_deg: float  # horizontal
    margin: float = 1.05

    def camera(self, bounds: np.ndarray, width: int, height: int) -> Camera:
        return orbit_camera(bounds, self.azimuth_deg, self.elevation_deg, self.fov_deg, width,
                            height, self.margin)  # fmt: skip

    def record(self, camera: Camera) -> dict:
        """camera.json's fields of `camera` (drawn from this view) and the orbit."""
        return {
            "width": int(camera.width),
            "height": int(camera.height),
            "fx": float(camera.fx),
            "fy": float(camera.fy),
            "cx": float(camera.cx),
            "cy": float(camera.cy),
            "fov_deg": float(self.fov_deg),
            "cam_to_world": [[float(v) for v in row] for row in camera.cam_to_world],
            "azimuth_deg": float(self.azimuth_deg),
            "elevation_deg": float(self.elevation_deg),
            "convention": CONVENTION,
        }


@dataclass
class ViewRanges:
    """The randomised view of the data engine: front 3/4 views."""

    azimuth_deg: tuple[float, float] = (-45.0, 45.0)
    elevation_deg: tuple[float, float] = (0.0, 40.0)
    fov_deg: tuple[float, float] = (30.0, 60.0)
    margin: tuple[float, float] = (1.0, 1.25)


def sample_view(rng: np.random.Generator, ranges: ViewRanges) -> OrbitView:
    return OrbitView(
        float(rng.uniform(*ranges.azimuth_deg)),
        float(rng.uniform(*ranges.elevation_deg)),
        float(rng.uniform(*ranges.fov_deg)),
        float(rng.uniform(*ranges.margin)),
    )


def sample_camera(
    rng: np.random.Generator, bounds: np.ndarray, width: int, height: int, ranges: ViewRanges
) -> Camera:
    return sample_view(rng, ranges).camera(bounds, width, height)


@dataclass
class Lighting:
    """One directional key light (towards the scene, world frame) plus ambient light."""

    direction: np.ndarray = field(default_factory=lambda: np.array([-0.4, 0.6, -0.7]))
    intensity: float = 0.8
    ambient: float = 0.35
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def to_json(self) -> dict:
        return {
            "direction": [float(v) for v in self.direction],
            "intensity": float(self.intensity),
            "ambient": float(self.ambient),
            "colour": [float(c) for c in self.colour],
        }


def sample_lighting(rng: np.random.Generator, camera: Camera) -> Lighting:
    """A key light from the camera's side of the object, above it, with a random warm/cool tint."""
    eye = camera.cam_to_world[:3, 3]
    to_camera = eye / max(np.linalg.norm(eye), 1e-9)
    jitter = rng.normal(0.0, 0.6, 3)
    source = to_camera + jitter + np.array([0.0, 0.0, rng.uniform(0.3, 1.2)])
    direction = -source / np.linalg.norm(source)
    tint = 1.0 + rng.uniform(-0.08, 0.08, 3)
    return Lighting(
        direction, float(rng.uniform(0.55, 0.95)), float(rng.uniform(0.25, 0.45)),
        tuple(float(c) for c in np.clip(tint, 0.8, 1.1)),
    )  # fmt: skip


BACKGROUNDS = ("transparent", "plain", "texture")


@dataclass
class Background:
    kind: str = "transparent"  # transparent, plain, texture
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0)
    seed: int = 0  # texture pattern seed

    def to_json(self) -> dict:
        return {"kind": self.kind, "colour": [float(c) for c in self.colour], "seed": self.seed}

    def image(self, width: int, height: int) -> np.ndarray:
        """(H, W, 3) float image of this background (zeros when transparent)."""
        if self.kind == "transparent":
            return np.zeros((height, width, 3))
        base = np.broadcast_to(np.asarray(self.colour, float), (height, width, 3)).copy()
        if self.kind == "plain":
            return base
        rng = np.random.default_rng(self.seed)
        y, x = np.mgrid[0:height, 0:width] / max(width, height)
        angle = rng.uniform(0, math.pi)
        freq = rng.uniform(4, 20)
        stripes = 0.5 + 0.5 * np.sin(
            2 * math.pi * freq * (x * math.cos(angle) + y * math.sin(angle))
        )
        coarse = rng.random((8, 8))
        blotch = coarse[(y * 7.99).astype(int), (x * 7.99).astype(int)]
        second = np.clip(np.asarray(self.colour) + rng.uniform(-0.3, 0.3, 3), 0, 1)
        mix = (0.6 * stripes + 0.4 * blotch)[..., None]
        return base * (1 - mix) + second * mix


def sample_background(rng: np.random.Generator, kinds=BACKGROUNDS) -> Background:
    kind = str(kinds[int(rng.integers(len(kinds)))])
    return Background(kind, tuple(float(c) for c in rng.uniform(0.1, 0.95, 3)),
                      int(rng.integers(2**31)))  # fmt: skip
