"""*The* camera of the project: Blender's perspective camera as plain data, shared by the data
engine, the evaluation, the pipeline, the optimizer and the Blender layer.

The camera looks along its local -Z axis with local +Y up (Blender's convention); ``cam_to_world``
places it in the world. It is stored as what camera.json holds: pinhole intrinsics in pixels
(``fx`` == ``fy``, square pixels; principal point ``cx``, ``cy``) and the pose, so a camera built
from a field of view or read from a file keeps those numbers exactly. Blender's fields are derived
(``blender_fields``): ``sensor_width`` (mm) spans the larger image dimension (sensor fit AUTO),
``lens`` = fx * sensor_width / max(width, height) and the principal point is Blender's
``shift_x`` / ``shift_y`` (fractions of the larger dimension); ``from_blender`` reads any sensor
fit back.

Pixel coordinates: x to the right, y down, pixel (i, j) covers [i, i+1) x [j, j+1), so the image
centre is (width / 2, height / 2). ``from_dict`` / ``to_dict`` are camera.json's fields;
``from_json`` / ``to_json`` read and write such a file (a path, never a dict).

The orbit camera (a view from azimuth / elevation around a target: azimuth 0 looks straight at
the front from -Y, positive azimuth moves the camera towards +X, positive elevation looks down)
is ``Camera.orbit``, and ``orbit_camera`` frames a bounding box with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spark_blender.core.transforms import look_at_pose

SENSOR_FITS = ("AUTO", "HORIZONTAL", "VERTICAL")
CONVENTION = "Blender camera: looks along local -Z, local +Y up; canonical frame Z up, front -Y"


class CameraError(ValueError):
    """A camera description that Blender's camera model cannot represent."""


def focal_from_fov(width: float, fov_deg: float) -> float:
    """Focal length in pixels of a horizontal field of view `fov_deg` across `width` pixels."""
    return (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)


def orbit_direction(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector from the target to an orbit camera (azimuth 0: in front, on -Y)."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return np.array([math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)])


@dataclass
class Camera:
    width: int
    height: int
    fx: float  # focal length in pixels (fy == fx)
    cx: float | None = None  # principal point in pixels; None: the image centre
    cy: float | None = None
    cam_to_world: np.ndarray = field(default_factory=lambda: np.eye(4))
    sensor_width: float = 36.0  # mm across the larger image dimension (Blender's AUTO fit)
    clip_start: float = 0.01
    clip_end: float = 100.0

    def __post_init__(self) -> None:
        self.cam_to_world = np.asarray(self.cam_to_world, dtype=float).reshape(4, 4)
        if self.width <= 0 or self.height <= 0:
            raise CameraError(f"camera size {self.width}x{self.height} is not positive")
        self.cx = self.width / 2.0 if self.cx is None else float(self.cx)
        self.cy = self.height / 2.0 if self.cy is None else float(self.cy)
        if not (math.isfinite(self.fx) and self.fx > 0 and self.sensor_width > 0):
            raise CameraError("camera focal length and sensor width must be positive")
        if not (math.isfinite(self.cx) and math.isfinite(self.cy)):
            raise CameraError("camera principal point is not finite")

    # --- intrinsics -----------------------------------------------------------------------
    @property
    def fy(self) -> float:
        return self.fx

    @property
    def focal_pixels(self) -> float:
        return self.fx

    @property
    def fit_pixels(self) -> float:
        """Pixels spanned by the sensor width (Blender's shift is in these units)."""
        return float(max(self.width, self.height))

    @property
    def sensor_fit(self) -> str:
        return "AUTO"

    @property
    def sensor_height(self) -> float:
        return self.sensor_width * min(self.width, self.height) / max(self.width, self.height)

    @property
    def lens(self) -> float:
        """Blender's focal length in mm."""
        return self.fx * self.sensor_width / self.fit_pixels

    @lens.setter
    def lens(self, value: float) -> None:
        self.fx = float(value) / self.sensor_width * self.fit_pixels

    @property
    def shift_x(self) -> float:
        # A positive shift moves the view window right, so the scene moves left in the image.
        return (self.width / 2.0 - self.cx) / self.fit_pixels

    @shift_x.setter
    def shift_x(self, value: float) -> None:
        self.cx = self.width / 2.0 - float(value) * self.fit_pixels

    @property
    def shift_y(self) -> float:
        return (self.cy - self.height / 2.0) / self.fit_pixels

    @shift_y.setter
    def shift_y(self, value: float) -> None:
        self.cy = self.height / 2.0 + float(value) * self.fit_pixels

    @property
    def fov_x_deg(self) -> float:
        return math.degrees(2.0 * math.atan(self.width / (2.0 * self.fx)))

    @property
    def world_to_cam(self) -> np.ndarray:
        R, t = self.cam_to_world[:3, :3], self.cam_to_world[:3, 3]
        out = np.eye(4)
        out[:3, :3] = R.T
        out[:3, 3] = -R.T @ t
        return out

    def intrinsics(self) -> tuple[float, float, float, float]:
        return self.fx, self.fy, self.cx, self.cy

    def blender_fields(self) -> dict:
        """What a Blender camera needs: lens, sensor, fit and shift."""
        return {
            "lens": self.lens,
            "sensor_width": self.sensor_width,
            "sensor_height": self.sensor_height,
            "sensor_fit": self.sensor_fit,
            "shift_x": self.shift_x,
            "shift_y": self.shift_y,
        }

    def scaled(self, width: int, height: int | None = None) -> Camera:
        """The same view at another resolution (same aspect ratio expected)."""
        height = height if height is not None else round(width * self.height / self.width)
        scale = max(width, height) / self.fit_pixels
        return Camera(
            width=width,
            height=height,
            fx=self.fx * scale,
            cx=width / 2.0 - self.shift_x * max(width, height),
            cy=height / 2.0 + self.shift_y * max(width, height),
            cam_to_world=self.cam_to_world.copy(),
            sensor_width=self.sensor_width,
            clip_start=self.clip_start,
            clip_end=self.clip_end,
        )

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) and depth in front of the camera (N,) of world points."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        cam = points @ self.world_to_cam[:3, :3].T + self.world_to_cam[:3, 3]
        depth = -cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            x = self.cx + self.fx * cam[:, 0] / depth
            y = self.cy - self.fy * cam[:, 1] / depth
        return np.stack([x, y], axis=1), depth

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def from_intrinsics(
        cls,
        width: int,
        height: int,
        fx: float,
        fy: float,
        cx: float,
        cy: float,
        cam_to_world,
        sensor_width: float = 36.0,
    ) -> Camera:
        """The camera with these pinhole intrinsics (fx must equal fy)."""
        if not math.isclose(fx, fy, rel_tol=1e-6):
            raise CameraError(f"camera fx {fx} != fy {fy}: Blender cameras have square pixels")
        return cls(int(width), int(height), float(fx), float(cx), float(cy),
                   np.asarray(cam_to_world, dtype=float), float(sensor_width))  # fmt: skip

    @classmethod
    def from_blender(
        cls,
        width: int,
        height: int,
        lens: float,
        sensor_width: float = 36.0,
        sensor_height: float = 24.0,
        sensor_fit: str = "AUTO",
        shift_x: float = 0.0,
        shift_y: float = 0.0,
        cam_to_world=None,
        clip_start: float = 0.01,
        clip_end: float = 100.0,
    ) -> Camera:
        """The camera a Blender camera with these settings renders at `width` x `height`."""
        if sensor_fit not in SENSOR_FITS:
            raise CameraError(f"camera sensor_fit '{sensor_fit}' is not one of {SENSOR_FITS}")
        if not (lens > 0 and sensor_width > 0 and sensor_height > 0):
            raise CameraError("camera lens and sensor sizes must be positive")
        horizontal = sensor_fit == "HORIZONTAL" or (sensor_fit == "AUTO" and width >= height)
        fit_pixels = float(width if horizontal else height)
        sensor = sensor_height if sensor_fit == "VERTICAL" else sensor_width
        fx = lens / sensor * fit_pixels
        # Blender's shift is a fraction of the larger image dimension whatever the fit.
        larger = float(max(width, height))
        return cls(
            int(width),
            int(height),
            fx,
            width / 2.0 - shift_x * larger,
            height / 2.0 + shift_y * larger,
            np.eye(4) if cam_to_world is None else np.asarray(cam_to_world, dtype=float),
            sensor_width=lens * larger / fx,
            clip_start=clip_start,
            clip_end=clip_end,
        )

    @classmethod
    def look_at(
        cls,
        eye,
        target,
        width: int = 256,
        height: int = 256,
        fov_deg: float = 40.0,
        up=(0.0, 0.0, 1.0),
    ) -> Camera:
        """A camera at `eye` looking at `target` with world `up` up and this horizontal FOV."""
        eye, target, up = (np.asarray(v, dtype=float) for v in (eye, target, up))
        view = target - eye
        if np.linalg.norm(np.cross(view / np.linalg.norm(view), up)) < 1e-9:
            raise CameraError("camera look_at: view direction is parallel to up")
        return cls(int(width), int(height), focal_from_fov(width, fov_deg),
                   cam_to_world=look_at_pose(eye, target, up))  # fmt: skip

    @classmethod
    def orbit(
        cls,
        target,
        distance: float,
        azimuth_deg: float,
        elevation_deg: float,
        width: int = 256,
        height: int = 256,
        fov_deg: float = 40.0,
    ) -> Camera:
        """The camera `distance` from `target` at this azimuth and elevation, looking at it."""
        target = np.asarray(target, dtype=float)
        eye = target + distance * orbit_direction(azimuth_deg, elevation_deg)
        return cls(int(width), int(height), focal_from_fov(width, fov_deg),
                   cam_to_world=look_at_pose(eye, target))  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Camera:
        """A camera from camera.json's fields (fx, fy, cx, cy, width, height, cam_to_world)."""
        try:
            width, height = int(data["width"]), int(data["height"])
            fx, fy, cx, cy = (float(data[k]) for k in ("fx", "fy", "cx", "cy"))
            cam_to_world = np.asarray(data["cam_to_world"], dtype=float)
        except (KeyError, TypeError, ValueError) as exc:
            raise CameraError(f"camera description lacks or mangles a field: {exc}") from exc
        if cam_to_world.shape != (4, 4) or not np.all(np.isfinite(cam_to_world)):
            raise CameraError("camera cam_to_world is not a finite 4x4 matrix")
        camera = cls.from_intrinsics(
            width, height, fx, fy, cx, cy, cam_to_world, float(data.get("sensor_width", 36.0))
        )
        camera.clip_start = float(data.get("clip_start", camera.clip_start))
        camera.clip_end = float(data.get("clip_end", camera.clip_end))
        return camera

    @classmethod
    def from_json(cls, path: str | Path) -> Camera:
        """The camera of a camera.json file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CameraError(f"{path}: cannot read camera: {exc}") from exc
        try:
            return cls.from_dict(data)
        except CameraError as exc:
            raise CameraError(f"{path}: {exc}") from exc

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "fx": self.fx,
            "fy": self.fy,
            "cx": self.cx,
            "cy": self.cy,
            "fov_deg": self.fov_x_deg,
            "lens": self.lens,
            "sensor_width": self.sensor_width,
            "sensor_fit": self.sensor_fit,
            "cam_to_world": self.cam_to_world.tolist(),
            "clip_start": self.clip_start,
            "clip_end": self.clip_end,
            "convention": CONVENTION,
        }

    def to_json(self, path: str | Path) -> None:
        """Write camera.json to `path`."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))


def orbit_camera(
    bounds: np.ndarray,
    azimuth_deg: float,
    elevation_deg: float,
    fov_deg: float,
    width: int,
    height: int,
    margin: float = 1.05,
) -> Camera:
    """An orbit camera around the box `bounds` (2x3) that keeps the whole box in view."""
    bounds = np.asarray(bounds, float)
    centre = bounds.mean(axis=0)
    radius = 0.5 * float(np.linalg.norm(bounds[1] - bounds[0]))
    half_fov = math.radians(fov_deg) / 2.0
    half_fov = min(half_fov, math.atan(math.tan(half_fov) * height / width))
    distance = margin * radius / math.sin(half_fov)
    return Camera.orbit(centre, distance, azimuth_deg, elevation_deg, width, height, fov_deg)
