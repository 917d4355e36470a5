"""Fitting a generated object to the photo's silhouette: camera placement, verification, fit.

The parser estimates the view (azimuth, elevation, field of view) and the object's proportions;
the photo fixes where the object is and how large it looks. Three steps use that:

- `place_camera`: the camera on the parser's view direction, at the distance and with the
  lateral offset that make the object's projected bounding box match the mask's (closed form,
  a few fixed-point rounds; no gradients);
- `silhouette_score`: how well a hypothesis explains the mask (IoU, plus the parts' IoU with the
  parser's part masks), rendered hard at a low resolution: cheap enough for K hypotheses;
- `fit_view_and_proportions`: gradient descent through the soft rasteriser on the camera pose
  (rotation vector and translation in the camera frame) and the object's width and depth
  relative to its height (a uniform scale is the camera distance, so it is left out).

Everything works on the object posed as the photo shows it (its observed configuration).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from spark_blender.core.camera import Camera
from spark_blender.core.camera import orbit_direction as view_direction
from spark_blender.core.kinematics import posed_mesh
from spark_blender.core.model import ArticulatedObject
from spark_blender.refinement.adam import Adam
from spark_blender.refinement.kinematics import rotation_vector_matrix
from spark_blender.refinement.masks import resize_mask
from spark_blender.refinement.raster import (
    Intrinsics,
    RasterSettings,
    hard_silhouette,
    render_silhouette,
)
from spark_blender.refinement.simplify import simplify_mesh


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 (pixels, inclusive-exclusive) of a boolean mask's true pixels."""
    rows, cols = np.nonzero(mask)
    return float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)


def _projected_box(camera: Camera, points: np.ndarray) -> tuple[float, float, float, float]:
    pixels, depth = camera.project(points)
    pixels = pixels[depth > 1e-6]
    return (*pixels.min(axis=0), *pixels.max(axis=0))


def place_camera(
    points: np.ndarray,
    mask: np.ndarray,
    azimuth_deg: float,
    elevation_deg: float,
    fov_deg: float,
    rounds: int = 4,
) -> Camera:
    """A camera looking along the parser's view that frames `points` (N, 3) as `mask` frames
    the object: same projected box size (the larger of the width and height ratios, so a
    misjudged depth does not blow the object up) and the same box centre."""
    height, width = mask.shape
    target = np.asarray(mask_box(mask))
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-6)
    direction = view_direction(azimuth_deg, elevation_deg)
    distance = 2.5 * radius / math.tan(math.radians(fov_deg) / 2)
    look = centre.copy()
    camera = Camera.look_at(centre + distance * direction, centre, width, height, fov_deg)
    for _ in range(rounds):
        box = np.asarray(_projected_box(camera, points))
        size, want = box[2:] - box[:2], target[2:] - target[:2]
        ratio = max(size[0] / max(want[0], 1.0), size[1] / max(want[1], 1.0))
        distance *= max(ratio, 1e-3)
        # Move the look-at point across the view so the box centres agree.
        pose = camera.cam_to_world
        shift_px = (target[:2] + target[2:]) / 2 - (box[:2] + box[2:]) / 2
        metres_per_px = distance / camera.fx
        look = look - pose[:3, 0] * shift_px[0] * metres_per_px  # image x runs along right
        look = look + pose[:3, 1] * shift_px[1] * metres_per_px  # image y runs down
        eye = look + distance * direction
        camera = Camera.look_at(eye, look, width, height, fov_deg)
    return camera


@dataclass
class Silhouette:
    vertices: np.ndarray  # (V, 3) world, posed
    faces: np.ndarray  # (F, 3)
    link_of_face: np.ndarray  # (F,) index into link_names
    link_names: list[str]


def posed_silhouette(
    obj: ArticulatedObject, configuration: Mapping[str, float], max_faces: int = 1500
) -> Silhouette:
    """The object's surface at `configuration`, simplified per link for silhouette work."""
    vertices, faces, owners = [], [], []
    offset = 0
    names = [link.name for link in obj.links]
    for index, name in enumerate(names):
        mesh = posed_mesh(obj, configuration, links=[name])
        if not len(mesh.faces):
            continue
        mesh = simplify_mesh(mesh, max_faces)
        vertices.append(np.asarray(mesh.vertices, float))
        faces.append(np.asarray(mesh.faces, np.int64) + offset)
        owners.append(np.full(len(mesh.faces), index))
        offset += len(mesh.vertices)
    if not vertices:
        raise ValueError(f"object '{obj.name}' has no visual geometry to fit")
    return Silhouette(
        np.concatenate(vertices), np.concatenate(faces), np.concatenate(owners), names
    )


def _torch_camera(camera: Camera) -> tuple[torch.Tensor, Intrinsics]:
    return torch.as_tensor(camera.world_to_cam, dtype=torch.float32), Intrinsics.from_camera(camera)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def silhouette_score(
    shape: Silhouette,
    camera: Camera,
    mask: np.ndarray,
    part_masks: Mapping[str, np.ndarray] | None = None,
    resolution: int = 128,
    part_weight: float = 0.3,
) -> float:
    """IoU of the hard silhouette with `mask` at `resolution`, plus `part_weight` x the mean IoU
    of each part the parser masked (parts it did not mask are not scored)."""
    small = camera.scaled(*_working_size(camera, resolution))
    world_to_cam, intrinsics = _torch_camera(small)
    target = resize_mask(mask, small.width, small.height).numpy() > 0.5
    vertices = torch.as_tensor(shape.vertices, dtype=torch.float32)
    whole = hard_silhouette(
        vertices, torch.as_tensor(shape.faces), world_to_cam, intrinsics, small.width, small.height
    ).numpy()
    score = iou(whole, target)
    scores = []
    for name, part_mask in (part_masks or {}).items():
        if name not in shape.link_names:
            continue
        faces = shape.faces[shape.link_of_face == shape.link_names.index(name)]
        if not len(faces):
            continue
        drawn = hard_silhouette(
            vertices, torch.as_tensor(faces), world_to_cam, intrinsics, small.width, small.height
        ).numpy()
        want = resize_mask(part_mask, small.width, small.height).numpy() > 0.5
        scores.append(iou(drawn, want))
    if scores:
        score += part_weight * float(np.mean(scores))
    return score


def _working_size(camera: Camera, resolution: int) -> tuple[int, int]:
    scale = resolution / max(camera.width, camera.height)
    return max(8, round(camera.width * scale)), max(8, round(camera.height * scale))


@dataclass
class FitResult:
    camera: Camera
    scale: np.ndarray  # (3,) factors on x, y, z about the object's origin (z stays 1)
    iou_before: float
    iou_after: float
    iterations: int


def fit_view_and_proportions(
    shape: Silhouette,
    camera: Camera,
    mask: np.ndarray,
    iterations: int = 60,
    resolution: int = 64,
    proportion_prior: float = 0.05,
    depth_prior: float = 1.0,
    max_log_scale: float = 0.7,
    lr_scale: float = 0.05,
) -> FitResult:
    """Adam on (camera rotation vector, camera translation, log width and depth factors) to
    match the soft silhouette with `mask`; `proportion_prior` pulls the factors towards 1 (the
    parser's proportions), and `depth_prior` the depth, which a frontal view barely shows."""
    small = camera.scaled(*_working_size(camera, resolution))
    world_to_cam0, intrinsics = _torch_camera(small)
    target = resize_mask(mask, small.width, small.height)
    vertices0 = torch.as_tensor(shape.vertices, dtype=torch.float32)
    faces = torch.as_tensor(shape.faces)
    distance = float(np.linalg.norm(camera.world_to_cam[:3, 3]))
    rot = torch.zeros(3, requires_grad=True)
    shift = torch.zeros(3, requires_grad=True)
    log_scale = torch.zeros(2, requires_grad=True)
    optimiser = Adam(
        [
            {"params": [rot], "lr": 0.004},
            {"params": [shift], "lr": 0.004 * distance},
            {"params": [log_scale], "lr": lr_scale},
        ]
    )
    prior = torch.tensor([proportion_prior, depth_prior])

    def transform(rot, shift, log_scale):
        factors = torch.cat([torch.exp(log_scale.clamp(-max_log_scale, max_log_scale)),
                             torch.ones(1)])  # fmt: skip
        delta = torch.eye(4)
        delta[:3, :3] = rotation_vector_matrix(rot)
        delta[:3, 3] = shift
        return delta @ world_to_cam0, vertices0 * factors

    def loss_of(pred):
        bce = torch.nn.functional.binary_cross_entropy(pred.clamp(1e-5, 1 - 1e-5), target)
        dice = 1 - 2 * (pred * target).sum() / (pred.sum() + target.sum() + 1e-6)
        return bce + dice

    settings = RasterSettings(small.width, small.height, sharpness=2.0)
    with torch.no_grad():
        before = _hard_iou(vertices0, faces, world_to_cam0, intrinsics, small, target)
    best = (before, rot.detach().clone(), shift.detach().clone(), log_scale.detach().clone())
    for step in range(iterations):
        sharp = 1.0 + 3.0 * step / max(iterations - 1, 1)
        settings = RasterSettings(small.width, small.height, sharpness=sharp)
        world_to_cam, vertices = transform(rot, shift, log_scale)
        pred = render_silhouette(vertices, faces, world_to_cam, intrinsics, settings)
        loss = loss_of(pred) + (prior * log_scale**2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 10 == 9 or step == iterations - 1:
            with torch.no_grad():
                w2c, verts = transform(rot, shift, log_scale)
                score = _hard_iou(verts, faces, w2c, intrinsics, small, target)
            if score > best[0]:
                best = (score, rot.detach().clone(), shift.detach().clone(),
                        log_scale.detach().clone())  # fmt: skip
    score, rot, shift, log_scale = best
    with torch.no_grad():
        world_to_cam, _ = transform(rot, shift, log_scale)
        factors = np.exp(np.clip(log_scale.numpy(), -max_log_scale, max_log_scale))
    fitted = _camera_with_pose(camera, np.linalg.inv(world_to_cam.double().numpy()))
    scale = np.array([factors[0], factors[1], 1.0])
    return FitResult(fitted, scale, before, score, iterations)


def _hard_iou(vertices, faces, world_to_cam, intrinsics, small: Camera, target) -> float:
    drawn = hard_silhouette(vertices, faces, world_to_cam, intrinsics, small.width, small.height)
    return iou(drawn.numpy(), target.numpy() > 0.5)


def _camera_with_pose(camera: Camera, cam_to_world: np.ndarray) -> Camera:
    """`camera` with another pose; the rotation re-orthonormalised (float32 drift)."""
    u, _, vt = np.linalg.svd(cam_to_world[:3, :3])
    pose = np.eye(4)
    pose[:3, :3] = u @ vt
    pose[:3, 3] = cam_to_world[:3, 3]
    return Camera.from_intrinsics(
        camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy, pose,
        camera.sensor_width,
    )  # fmt: skip


__all__ = [
    "FitResult",
    "Silhouette",
    "fit_view_and_proportions",
    "iou",
    "mask_box",
    "place_camera",
    "posed_silhouette",
    "silhouette_score",
    "view_direction",
]
