"""Joint refinement by silhouette matching (stage 4): pivots, moved-state values, limits, camera.

Given an articulated object with coarse joints, the camera and the object's mask in the moved
state (optionally the photo's mask, its pose `RefineOptions.observed`, and per-part masks), it
finds for every movable joint the axis sign, the pivot (revolute) and the value in the moved
state that explain the moved mask. The rest pose never changes: geometry is held in world rest
coordinates and a joint moves its subtree by a rigid motion about its world rest axis line, so
moving a pivot does not move the part at rest (the refined object's geometry is compensated).

Per joint (others held at their current estimate; joints not searched yet stay closed):
1. Screening, no gradients: hard silhouettes at a low resolution of every hypothesis, batched:
   both axis signs x pivots (the coarse one and a 3x3 grid over the moving part's box across
   the axis) x a grid of opening values. The error counts missing pixels once and pixels painted
   outside the target mask `1 + outside_weight` times, so a part that opens into places the
   target does not show (a door into its own carcass seen from the side, a lid into the box)
   loses to one that explains the opening.
2. The best few (sign, pivot) hypotheses and the coarse input itself are refined together
   (batched) by Adam through the soft renderer, coarse to fine (the screening resolution, then
   the working resolution at two sharpnesses), each level stopped early when the loss stops
   falling, within the per-joint and total time budgets.
3. The winner is the lowest loss; the coarse input (its value fitted) is kept when it is not
   beaten, so the result is never worse than the input by the optimizer's own loss.
4. Confidence: how much of the silhouette change the opening explains that the opposite sign
   cannot, scaled down when the change itself is small. Below `min_confidence` the coarse sign
   and pivot are kept (the caller can keep its own answer); the value is still fitted.
All joints are then screened again with the others in their estimated moved state (parts that
move in the same image are explained together, not one at a time against each other's pixels),
and polished jointly.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
import trimesh

from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import link_poses
from spark_blender.core.model import ArticulatedObject
from spark_blender.core.transforms import invert
from spark_blender.progress import ProgressCallback, ProgressEvent, no_progress
from spark_blender.refinement.adam import Adam
from spark_blender.refinement.kinematics import ROTATING, rotation_vector_matrix, skew
from spark_blender.refinement.masks import resize_mask
from spark_blender.refinement.raster import (
    Intrinsics,
    RasterSettings,
    hard_silhouettes,
    render_silhouettes,
)
from spark_blender.refinement.simplify import simplify_mesh

_SCREEN_FACES = 400_000  # faces per batched screening render (bounds its memory)


@dataclass
class Targets:
    """What the refined object must look like; masks are HxW arrays (bool or [0, 1]) of any
    size with the camera's aspect ratio.

    `moved_mask`: the object in its moved state (every joint opened some way); `rest_mask` and
    `observed_part_masks`: the object (and its parts, visible pixels only) as the photo shows it,
    posed at `RefineOptions.observed` (all closed by default); `part_masks`: parts in the moved
    state. Without a moved mask only joints the photo shows open can be refined (their pivots)."""

    moved_mask: np.ndarray | None = None
    rest_mask: np.ndarray | None = None
    part_masks: Mapping[str, np.ndarray] = field(default_factory=dict)  # link -> moved-state mask
    observed_part_masks: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RefineOptions:
    resolution: int = 128  # working image size (long side) of the fine levels
    explore_iterations: int = 30  # per start at the screening resolution (at most: early stop)
    refine_iterations: int = 40  # for the best start at the working resolution
    polish_iterations: int = 40  # all joints together at the end
    keep_starts: int = 2  # screened hypotheses refined by gradient, besides the coarse input
    multi_start: bool = True  # search signs and pivots; False: the coarse ones, values only
    optimize_camera: bool = False
    sharpness: tuple[float, float] = (2.0, 4.0)  # 1/pixel at the screening / working resolution
    lr_pivot: float = 0.02  # fraction of the object size per step
    lr_value: float = 0.03  # radians per step (prismatic: fraction of the object size)
    lr_camera: float = 0.003
    bce_weight: float = 1.0
    dice_weight: float = 1.0
    edge_weight: float = 1.0
    part_weight: float = 0.5
    pivot_reg: float = 1.0  # on (pivot change from the start's / object size)^2
    coarse_pivot_reg: float = 1.0  # on (distance from the input's pivot line / object size)^2
    value_reg: float = 1e-4
    camera_reg: float = 1.0
    moved_fraction: float | None = None  # the moved state's share of the upper limit, if known
    initial_values: Mapping[str, float] = field(default_factory=dict)  # moved-value guesses
    max_faces_per_link: int = 2000  # at the working resolution
    screen_max_faces: int = 500  # per link at the screening resolution
    device: str = "cpu"
    # --- added for real renders ---------------------------------------------------------------
    observed: Mapping[str, float] = field(default_factory=dict)  # the photo's pose (coarse axes)
    screen_resolution: int = 64  # long side of the screening and first gradient level
    screen_values: int = 16  # opening values screened per (sign, pivot)
    local_starts: int = 4  # per sign, the best screened (sign, pivot) pairs searched locally
    pivot_grid: int = 3  # pivots screened: a grid of this size over the part's box, + coarse
    screen_error_px: float = 0.5  # simplification tolerance, pixels at each level's resolution
    outside_weight: float = 1.0  # extra weight of painted pixels outside the target mask
    rounds: int = 2  # screening rounds over all joints (the later ones with the others moved)
    patience: int = 6  # iterations without a `min_improvement` fall before a level stops
    min_improvement: float = 2e-3  # relative
    min_change: float = 0.01  # share of the target's pixels an opening must explain to decide
    min_confidence: float = 0.25  # below: the coarse sign and pivot are kept
    sign_margin: float = 0.1  # the other sign's pixel error this much (relative) above: ruled out
    joint_time_budget_s: float | None = 2.0  # gradient work per joint and round
    time_budget_s: float | None = 6.0  # everything; screening always runs, gradients stop


@dataclass
class JointEstimate:
    name: str
    type: str
    pivot: np.ndarray  # world, rest pose
    axis: np.ndarray  # world unit direction, rest pose
    value: float  # in the moved state
    lower: float
    upper: float
    sign_flipped: bool  # the axis is the reverse of the coarse one
    # 0..1: how clearly the moved mask decides the sign and pivot; below
    # RefineOptions.min_confidence the coarse sign and pivot were kept.
    confidence: float = 1.0


@dataclass
class StartRecord:
    joint: str
    sign: int
    pivot_candidate: int  # 0 = the coarse pivot, 1.. = the grid over the part's box, -1: current
    explore_loss: float  # the screening error (pixels at the screening resolution)
    final_loss: float | None = None  # the optimizer's loss after gradient refinement, if refined


@dataclass
class RefineResult:
    object: ArticulatedObject  # joints refined, rest pose unchanged
    joints: dict[str, JointEstimate]
    camera: Camera
    loss: float
    history: list[float]
    starts: list[StartRecord]
    observed: dict[str, float] = field(default_factory=dict)  # the photo's pose, refined axes
    seconds: float = 0.0


# ==============================================================================================
# Problem data
# ==============================================================================================
@dataclass
class _Mesh:
    vertices: torch.Tensor  # (V, 3) world, rest pose
    faces: torch.Tensor  # (F, 3)


@dataclass
class _Level:
    """One image resolution: camera, targets and link meshes simplified for it."""

    camera: Camera
    intrinsics: Intrinsics
    world_to_cam: torch.Tensor
    moved: torch.Tensor | None
    rest: torch.Tensor | None
    part_masks: dict[str, torch.Tensor]
    observed_part_masks: dict[str, torch.Tensor]
    meshes: dict[str, _Mesh]


@dataclass
class _JointInfo:
    name: str
    type: str
    parent: str
    child: str
    pivot: np.ndarray  # coarse world rest pivot
    axis: np.ndarray  # coarse world rest unit axis
    u: np.ndarray  # unit directions across the axis
    v: np.ndarray
    subtree: list[str]
    observed: float  # the photo's value, coarse convention


@dataclass
class _Estimate:
    sign: int
    value: float
    pivot: np.ndarray
    confidence: float = 0.0
    coarse_value: float = 0.0  # the value fitted with the coarse sign and pivot


class _Clock:
    def __init__(self, opts: RefineOptions):
        self.start = time.perf_counter()
        self.total = math.inf if opts.time_budget_s is None else float(opts.time_budget_s)
        self.per_joint = (
            math.inf if opts.joint_time_budget_s is None else float(opts.joint_time_budget_s)
        )

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def joint_deadline(self, reserve: float) -> float:
        now = time.perf_counter()
        return min(now + self.per_joint, self.start + self.total - reserve)

    def total_deadline(self) -> float:
        return self.start + self.total


class _Problem:
    """The fixed data of one refinement: geometry, joints, cameras and target masks."""

    def __init__(self, obj: ArticulatedObject, camera: Camera, targets: Targets, opts):
        self.obj, self.opts = obj, opts
        self.device = torch.device(opts.device)
        self.dtype = torch.float32
        self.original_camera = camera
        if targets.moved_mask is None and targets.rest_mask is None:
            raise ValueError("targets: give a moved_mask or a rest_mask (nothing to match)")
        link_names = {link.name for link in obj.links}
        for label, masks in (
            ("part_masks", targets.part_masks),
            ("observed_part_masks", targets.observed_part_masks),
        ):
            unknown = set(masks) - link_names
            if unknown:
                raise ValueError(
                    f"{label} name links the object lacks: {', '.join(sorted(unknown))}"
                )
        unknown = set(opts.observed) - {j.name for j in obj.joints}
        if unknown:
            raise ValueError(
                f"observed names joints the object lacks: {', '.join(sorted(unknown))}"
            )
        rest = link_poses(obj)
        self.rest_link = dict(rest)
        self.rest_joint = {j.name: rest[j.parent] @ j.origin for j in obj.joints}
        self.merged = self._merged(rest)
        if not self.merged:
            raise ValueError(f"object '{obj.name}' has no visual geometry to render")
        points = np.concatenate([v for v, _ in self.merged.values()])
        self.size = float(np.ptp(points, axis=0).max()) or 1.0
        depth = -(points @ camera.world_to_cam[:3, :3].T + camera.world_to_cam[:3, 3])[:, 2]
        self.near_depth = (
            float(max(depth[depth > 1e-6].min(), 1e-6)) if (depth > 1e-6).any() else 1.0
        )
        self.screen = self._level(opts.screen_resolution, targets, opts.screen_max_faces)
        self.fine = self._level(opts.resolution, targets, opts.max_faces_per_link)
        self.joints = {j.name: self._joint_info(j) for j in obj.joints_from_root() if j.movable}
        self.movable = list(self.joints)
        self.moving = set(obj.moving_links())

    def _tensor(self, array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=self.dtype, device=self.device)

    def _merged(self, rest) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per link, its visuals merged in world rest coordinates (vertices, faces)."""
        merged = {}
        for link in self.obj.links:
            vertices, faces, offset = [], [], 0
            for visual in link.visuals:
                T = rest[link.name] @ visual.origin
                points = np.asarray(visual.mesh.vertices, float)
                vertices.append(points @ T[:3, :3].T + T[:3, 3])
                faces.append(np.asarray(visual.mesh.faces, np.int64) + offset)
                offset += len(points)
            if vertices and offset:
                merged[link.name] = (np.concatenate(vertices), np.concatenate(faces))
        return merged

    def _mask(self, mask, name: str, camera: Camera) -> torch.Tensor:
        """A target mask at a level's resolution; it must have the camera's aspect ratio."""
        array = np.asarray(mask, dtype=np.float32)
        if array.ndim != 2 or min(array.shape) == 0:
            raise ValueError(f"{name}: expected an HxW mask, got shape {array.shape}")
        original = self.original_camera
        if abs(array.shape[1] / array.shape[0] - original.width / original.height) > 0.02:
            raise ValueError(
                f"{name}: {array.shape[1]}x{array.shape[0]} does not have the camera's aspect "
                f"ratio ({original.width}x{original.height})"
            )
        return resize_mask(array, camera.width, camera.height).to(self.device)

    def _level(self, resolution: int, targets: Targets, max_faces: int) -> _Level:
        original = self.original_camera
        scale = resolution / max(original.width, original.height)
        camera = original.scaled(
            max(1, round(original.width * scale)), max(1, round(original.height * scale))
        )
        # A screen-space error of e pixels is e * depth / focal in world units at that depth.
        cell = self.opts.screen_error_px * self.near_depth / camera.focal_pixels
        meshes = {}
        for name, (vertices, faces) in self.merged.items():
            mesh = trimesh.Trimesh(vertices, faces, process=False)
            mesh = simplify_mesh(mesh, max_faces, cell=cell)
            meshes[name] = _Mesh(
                self._tensor(mesh.vertices),
                torch.as_tensor(np.asarray(mesh.faces), dtype=torch.long, device=self.device),
            )
        masks = {
            "moved": None if targets.moved_mask is None else targets.moved_mask,
            "rest": None if targets.rest_mask is None else targets.rest_mask,
        }
        return _Level(
            camera,
            Intrinsics.from_camera(camera),
            self._tensor(camera.world_to_cam),
            None if masks["moved"] is None else self._mask(masks["moved"], "moved_mask", camera),
            None if masks["rest"] is None else self._mask(masks["rest"], "rest_mask", camera),
            {k: self._mask(m, f"part_masks['{k}']", camera) for k, m in targets.part_masks.items()},
            {
                k: self._mask(m, f"observed_part_masks['{k}']", camera)
                for k, m in targets.observed_part_masks.items()
            },
            meshes,
        )

    def _joint_info(self, joint) -> _JointInfo:
        frame = self.rest_joint[joint.name]
        axis = frame[:3, :3] @ np.asarray(joint.axis, float)
        axis = axis / np.linalg.norm(axis)
        helper = np.eye(3)[np.argmin(np.abs(axis))]
        u = helper - (helper @ axis) * axis
        u /= np.linalg.norm(u)
        return _JointInfo(
            joint.name,
            joint.type,
            joint.parent,
            joint.child,
            frame[:3, 3].copy(),
            axis,
            u,
            np.cross(axis, u),
            self.obj.subtree(joint.child),
            float(self.opts.observed.get(joint.name, 0.0)),
        )

    # --- kinematics: world rest geometry -> world posed geometry ------------------------------
    def motions(self, params: Mapping[str, tuple], batch: int = 1) -> dict[str, torch.Tensor]:
        """(B, 4, 4) motion of every link: params[joint] = (sign, value (B,), pivot (B, 3)),
        tensors broadcast over the batch; joints missing from params stay at rest."""
        eye = torch.eye(4, dtype=self.dtype, device=self.device).expand(batch, 4, 4)
        motion = {self.obj.root.name: eye}
        for joint in self.obj.joints_from_root():
            parent = motion[joint.parent]
            if joint.name not in params:
                motion[joint.child] = parent
                continue
            sign, value, pivot = params[joint.name]
            motion[joint.child] = parent @ self._joint_motion(joint.name, sign, value, pivot, batch)
        return motion

    def _joint_motion(self, name, sign, value, pivot, batch) -> torch.Tensor:
        info = self.joints[name]
        axis = self._tensor(info.axis * sign)
        value = torch.as_tensor(value, dtype=self.dtype, device=self.device).reshape(-1)
        value = value.expand(batch) if value.numel() == 1 else value
        M = torch.eye(4, dtype=self.dtype, device=self.device).repeat(batch, 1, 1)
        if info.type in ROTATING:
            pivot = torch.as_tensor(pivot, dtype=self.dtype, device=self.device).reshape(-1, 3)
            K = skew(axis)
            R = (
                torch.eye(3, dtype=self.dtype, device=self.device)
                + torch.sin(value)[:, None, None] * K
                + (1.0 - torch.cos(value))[:, None, None] * (K @ K)
            )
            t = pivot - (R @ pivot.expand(batch, 3).unsqueeze(-1)).squeeze(-1)
            M = torch.cat([torch.cat([R, t.expand(batch, 3).unsqueeze(-1)], 2), M[:, 3:]], 1)
        elif info.type == "prismatic":
            t = axis * value[:, None]
            M = torch.cat([torch.cat([M[:, :3, :3], t.unsqueeze(-1)], 2), M[:, 3:]], 1)
        return M

    def posed(self, level: _Level, links, motion) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(B, V, 3) vertices and (F, 3) faces of `links` posed by `motion`."""
        vertices, faces, offset = [], [], 0
        for name in links:
            mesh = level.meshes.get(name)
            if mesh is None:
                continue
            T = motion[name]
            vertices.append(mesh.vertices @ T[:, :3, :3].transpose(1, 2) + T[:, None, :3, 3])
            faces.append(mesh.faces + offset)
            offset += len(mesh.vertices)
        if not vertices:
            return None
        batch = max(v.shape[0] for v in vertices)
        return torch.cat([v.expand(batch, -1, -1) for v in vertices], 1), torch.cat(faces)

    def soft(self, level, links, motion, sharpness, view=None) -> torch.Tensor | None:
        posed = self.posed(level, links, motion)
        if posed is None:
            return None
        settings = RasterSettings(level.camera.width, level.camera.height, sharpness=sharpness)
        view = level.world_to_cam if view is None else view
        return render_silhouettes(posed[0], posed[1], view, level.intrinsics, settings)

    def hard(self, level, links, motion) -> torch.Tensor:
        """(B, H, W) bool; batches of many hypotheses go through in chunks."""
        posed = self.posed(level, links, motion)
        camera = level.camera
        if posed is None:
            return torch.zeros(1, camera.height, camera.width, dtype=torch.bool, device=self.device)
        vertices, faces = posed
        chunk = max(1, _SCREEN_FACES // max(1, len(faces)))
        return torch.cat(
            [
                hard_silhouettes(
                    vertices[i : i + chunk],
                    faces,
                    level.world_to_cam,
                    level.intrinsics,
                    camera.width,
                    camera.height,
                )  # fmt: skip
                for i in range(0, vertices.shape[0], chunk)
            ]
        )


# ==============================================================================================
# Losses
# ==============================================================================================
def mask_loss(pred: torch.Tensor, target: torch.Tensor, opts: RefineOptions) -> torch.Tensor:
    """BCE + Dice + edge term + painting outside the target, between rendered silhouettes and a
    target mask: pred (..., H, W), target (H, W); one loss per leading index."""
    pred = pred.clamp(1e-6, 1.0 - 1e-6)
    target = target.expand_as(pred)
    bce = F.binary_cross_entropy(pred, target, reduction="none").mean(dim=(-2, -1))
    inter = (pred * target).sum(dim=(-2, -1))
    dice = 1.0 - (2.0 * inter + 1.0) / (pred.sum(dim=(-2, -1)) + target.sum(dim=(-2, -1)) + 1.0)
    edge = ((pred.diff(dim=-2) - target.diff(dim=-2)) ** 2).mean(dim=(-2, -1)) + (
        (pred.diff(dim=-1) - target.diff(dim=-1)) ** 2
    ).mean(dim=(-2, -1))
    outside = (pred * (1.0 - target)).sum(dim=(-2, -1)) / target.sum(dim=(-2, -1)).clamp_min(1.0)
    return (
        opts.bce_weight * bce
        + opts.dice_weight * dice
        + opts.edge_weight * edge
        + opts.outside_weight * 0.5 * outside
    )


def _union(static: torch.Tensor | None, part: torch.Tensor | None) -> torch.Tensor:
    if static is None:
        return part
    if part is None:
        return static
    return 1.0 - (1.0 - static) * (1.0 - part)


def _recall(pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Part masks show only the visible part: ask for coverage where the mask is."""
    return -(mask * torch.log(pred.clamp_min(1e-6))).sum(dim=(-2, -1)) / mask.sum().clamp_min(1.0)


def _screen_error(union: torch.Tensor, target: torch.Tensor, outside_weight: float) -> torch.Tensor:
    """Per hypothesis: missing pixels + (1 + outside_weight) x pixels painted outside."""
    painted = union.to(target.dtype)
    missing = ((1.0 - painted) * target).sum(dim=(-2, -1))
    outside = (painted * (1.0 - target)).sum(dim=(-2, -1))
    return missing + (1.0 + outside_weight) * outside


# ==============================================================================================
# The search
# ==============================================================================================
def _value_bounds(info: _JointInfo, size: float) -> tuple[float, float]:
    if info.type == "continuous":
        return (-math.pi, math.pi)
    if info.type == "revolute":
        return (0.0, math.pi)  # beyond pi a reversed axis would reach the true pose again
    return (0.0, 2.0 * size)


def _value_grid(problem: _Problem, info: _JointInfo) -> np.ndarray:
    n = max(2, problem.opts.screen_values)
    if info.type == "continuous":
        half = np.geomspace(0.1, 3.0, max(1, n // 2))
        grid = np.concatenate([-half[::-1], half])
    elif info.type == "revolute":
        grid = np.geomspace(0.12, 2.6, n)
    else:
        grid = problem.size * np.geomspace(0.01, 1.2, n + 4)
    given = problem.opts.initial_values.get(info.name)
    if given is not None and abs(float(given)) > 0:
        grid = np.append(grid, float(given) if info.type == "continuous" else abs(float(given)))
    return grid


def _pivot_candidates(problem: _Problem, info: _JointInfo) -> list[np.ndarray]:
    """The coarse pivot, then a grid over the moving part's box across the axis."""
    candidates = [info.pivot]
    if info.type not in ROTATING or not problem.opts.multi_start:
        return candidates
    points = [problem.merged[name][0] for name in info.subtree if name in problem.merged]
    if not points:
        return candidates
    points = np.concatenate(points)
    pu, pv = points @ info.u, points @ info.v
    along = info.pivot @ info.axis
    n = max(2, problem.opts.pivot_grid)
    for cu in np.linspace(pu.min(), pu.max(), n):
        for cv in np.linspace(pv.min(), pv.max(), n):
            candidate = along * info.axis + cu * info.u + cv * info.v
            if min(np.linalg.norm(candidate - c) for c in candidates) > 1e-3 * problem.size:
                candidates.append(candidate)
    return candidates


class _Search:
    def __init__(self, problem: _Problem, progress: ProgressCallback):
        self.problem, self.opts, self.progress = problem, problem.opts, progress
        self.clock = _Clock(problem.opts)
        self.records: list[StartRecord] = []
        self.history: list[float] = []
        self.estimates = {
            name: _Estimate(1, 0.0, info.pivot.copy()) for name, info in problem.joints.items()
        }
        self.searched: set[str] = set()
        s0, s1 = self.opts.sharpness
        self.levels = [
            (problem.screen, s0, self.opts.explore_iterations),
            (problem.fine, s1, self.opts.refine_iterations),
        ]

    # --- parameters of the current state ----------------------------------------------------
    def params(self, moved: bool, exclude: str | None = None) -> dict[str, tuple]:
        out = {}
        for name, est in self.estimates.items():
            if name == exclude:
                continue
            info = self.problem.joints[name]
            value = est.value if moved else info.observed * est.sign
            if moved and name not in self.searched:
                value = 0.0  # joints not searched yet stay closed
            out[name] = (est.sign, value, est.pivot)
        return out

    def _static(self, level, info, moved: bool, sharpness: float | None):
        """The image of everything the active joint does not move, others at their estimates."""
        motion = self.problem.motions(self.params(moved, exclude=info.name))
        links = [n for n in self.problem.merged if n not in set(info.subtree)]
        if sharpness is None:
            return self.problem.hard(level, links, motion)[0] if links else None
        with torch.no_grad():
            image = self.problem.soft(level, links, motion, sharpness) if links else None
        return None if image is None else image[0]

    # --- 1. screening -------------------------------------------------------------------------
    def _errors(self, info: _JointInfo, hyps, statics, level=None, prior: bool = True):
        """Screening error of each hypothesis (sign, value, pivot): hard silhouettes (at the
        screening resolution unless another level is given) against the moved mask, plus the
        photo's error when it shows this joint open; batched."""
        problem = self.problem
        level = problem.screen if level is None else level
        errors = np.zeros(len(hyps))
        if prior:
            errors += self._prior(info, [p for _, _, p in hyps], level)
        pivot = problem._tensor(np.stack([p for _, _, p in hyps]))
        if level.moved is not None:
            sign = problem._tensor([float(s) for s, _, _ in hyps])
            value = problem._tensor([q for _, q, _ in hyps])
            params = self.params(True, exclude=info.name)
            # The sign enters as the value's: a rotation by -q about a is one by q about -a.
            params[info.name] = (1, value * sign, pivot)
            union = problem.hard(level, info.subtree, problem.motions(params, len(hyps)))
            if statics[0] is not None:
                union = union | statics[0]
            errors += _screen_error(union, level.moved, self.opts.outside_weight).cpu().numpy()
        if self._photo_matters(info):
            params = self.params(False, exclude=info.name)
            params[info.name] = (1, info.observed, pivot)
            union = problem.hard(level, info.subtree, problem.motions(params, len(hyps)))
            if statics[1] is not None:
                union = union | statics[1]
            errors += _screen_error(union, level.rest, self.opts.outside_weight).cpu().numpy()
        return errors

    def _prior(self, info: _JointInfo, pivots, level) -> np.ndarray:
        """A weak prior towards the input's pivot line, in pixels: `coarse_pivot_reg` x the
        target's area x (distance / size)^2. It breaks the ties the silhouette leaves (two doors
        of a pair swapped, each hinged where the other's free edge is) in the discrete choices;
        the continuous refinements leave it out (along the viewing ray it would only pull)."""
        if info.type not in ROTATING or self.opts.coarse_pivot_reg <= 0:
            return np.zeros(len(pivots))
        target = level.moved if level.moved is not None else level.rest
        offset = np.stack(pivots) - info.pivot
        offset -= np.outer(offset @ info.axis, info.axis)
        scale = self.opts.coarse_pivot_reg * float(target.sum()) / self.problem.size**2
        return scale * (offset * offset).sum(1)

    def _photo_matters(self, info: _JointInfo) -> bool:
        return (
            self.problem.screen.rest is not None and info.observed != 0.0 and info.type in ROTATING
        )

    def screen(self, info: _JointInfo, current: _Estimate | None):
        """Every (sign, pivot) hypothesis with its best value and error after a grid over values
        and a local pattern search around the best ones; the closed error; the pivots (the
        coarse one, the box grid, then the current estimate's when given)."""
        problem, opts = self.problem, self.opts
        pivots = _pivot_candidates(problem, info)
        signs = [1, -1] if opts.multi_start and info.type != "continuous" else [1]
        if current is not None:
            pivots.append(current.pivot)
            if current.sign not in signs:
                signs.append(current.sign)
        fit_value = problem.screen.moved is not None
        if not fit_value:  # one pose cannot tell the sign: the coarse (or current) one stays
            signs = [1 if current is None else current.sign]
        values = _value_grid(problem, info) if fit_value else np.array([0.0])
        if current is not None and fit_value:
            values = np.append(values, current.value)
        statics = (
            self._static(problem.screen, info, True, None) if fit_value else None,
            self._static(problem.screen, info, False, None) if self._photo_matters(info) else None,
        )
        rotating = info.type in ROTATING
        keys = [(s, k) for s in signs for k in (range(len(pivots)) if rotating else [0])]
        if current is not None and not rotating:
            keys = [(s, 0) for s in signs]
        hyps = [(s, q, pivots[k]) for s, k in keys for q in values]
        hyps.append((1, 0.0, info.pivot))  # closed (for the moved mask; the coarse pivot)
        errors = self._errors(info, hyps, statics)
        closed = float(errors[-1])
        grid = errors[:-1].reshape(len(keys), len(values))
        best = {key: [float(grid[i].min()), float(values[grid[i].argmin()]), pivots[key[1]]]
                for i, key in enumerate(keys)}  # fmt: skip
        self._local_search(info, best, pivots, statics, values, fit_value)
        return best, closed, pivots

    def _local_search(self, info, best, pivots, statics, values, fit_value) -> None:
        """Pattern search around each sign's best few hypotheses: the pivot moved across the
        axis by a quarter of the grid's spacing, the value by half a grid step."""
        ranked = sorted(best, key=lambda key: best[key][0])
        chosen = []
        for sign in {key[0] for key in ranked}:
            chosen += [key for key in ranked if key[0] == sign][: self.opts.local_starts]
        ratio = (
            float(values[1] / values[0]) ** 0.5
            if fit_value and len(values) > 1 and values[0] > 0
            else 1.0
        )
        step = 0.25 * self.problem.size / max(1, self.opts.pivot_grid - 1)
        self._pattern(info, best, chosen, statics, step, ratio, 0.1, 4, None)

    def _pattern(self, info, best, keys, statics, step, ratio, shift, rounds, level) -> None:
        """Pattern search on hard silhouettes: for each key of `best` ({key: [error, value,
        pivot]}), the pivot moved +-step across the axis and the value scaled by ratio^+-1
        (shifted by +-shift for continuous joints), the best kept; steps halve every round."""
        problem = self.problem
        fit_value = problem.screen.moved is not None
        pivot_free = info.type in ROTATING and self.opts.multi_start
        low, high = _value_bounds(info, problem.size)
        # A pivot leaving where its search began costs, in pixels, pivot_reg x the target's
        # area x (distance / object size)^2: along the viewing ray the image barely tells.
        level_ = problem.screen if level is None else level
        target = level_.moved if level_.moved is not None else level_.rest
        cost = self.opts.pivot_reg * float(target.sum()) / problem.size**2
        anchors = {key: best[key][2].copy() for key in keys}
        for _ in range(rounds):
            hyps, owners = [], []
            for key in keys:
                _, value, pivot = best[key]
                moves = [np.zeros(3)]
                if pivot_free:
                    moves += [d * step * w for w in (info.u, info.v) for d in (-1.0, 1.0)]
                if not fit_value:
                    candidates = [value]
                elif info.type == "continuous":
                    candidates = [value - shift, value, value + shift]
                else:
                    candidates = [value / ratio, value, value * ratio] if ratio > 1.0 else [value]
                for m, move in enumerate(moves):
                    for q in candidates:
                        if m == 0 and q == value:
                            continue
                        hyps.append((key[0], float(np.clip(q, low, high)), pivot + move))
                        owners.append(key)
            if not hyps:
                break
            errors = self._errors(info, hyps, statics, level, prior=level is None)
            for (_, q, pivot), key, error in zip(hyps, owners, errors, strict=True):
                error = error + cost * float(((pivot - anchors[key]) ** 2).sum())
                if error < best[key][0]:
                    best[key] = [float(error), float(q), pivot]
            step *= 0.5
            shift *= 0.5
            ratio = ratio**0.5

    # --- 2. gradient refinement ----------------------------------------------------------------
    def refine(self, info: _JointInfo, starts: list[tuple[int, float, np.ndarray]], deadline):
        """Adam on (value, pivot across the axis) of the starts, batched, through the soft
        renderer at the screening resolution; then a pattern search on hard silhouettes at the
        working resolution from each sign's best. Returns every start's (sign, value, pivot,
        pixel error at the working resolution), the indices of the signs' leaders, and the
        error with the joint closed."""
        problem, opts = self.problem, self.opts
        fit_value = problem.screen.moved is not None
        sign = problem._tensor([float(s) for s, _, _ in starts])
        value = problem._tensor([q for _, q, _ in starts]).clone()
        anchor = problem._tensor(np.stack([p for _, _, p in starts]))
        uv = torch.zeros(len(starts), 2, dtype=problem.dtype, device=problem.device)
        basis = problem._tensor(np.stack([info.u, info.v]))
        low, high = _value_bounds(info, problem.size)
        pivot_free = info.type in ROTATING and opts.multi_start
        photo = self._photo_matters(info)

        def loss_of(level, sharpness, statics, value, anchor, uv, sign):
            pivot = anchor + uv @ basis
            total = torch.zeros(len(value), dtype=problem.dtype, device=problem.device)
            if fit_value:
                params = self.params(True, exclude=info.name)
                params[info.name] = (1, value * sign, pivot)
                motion = problem.motions(params, batch=len(value))
                part = problem.soft(level, info.subtree, motion, sharpness)
                total = total + mask_loss(_union(statics[0], part), level.moved, opts)
                total = total + self._part_terms(level, level.part_masks, info, motion, sharpness)
            if photo:
                params = self.params(False, exclude=info.name)
                params[info.name] = (1, info.observed, pivot)
                motion = problem.motions(params, batch=len(value))
                part = problem.soft(level, info.subtree, motion, sharpness)
                total = total + mask_loss(_union(statics[1], part), level.rest, opts)
                total = total + self._part_terms(
                    level, level.observed_part_masks, info, motion, sharpness
                )
            change = pivot - anchor
            return total + opts.pivot_reg * (change * change).sum(1) / problem.size**2

        def fit(level, sharpness, statics, active, iterations):
            v, a, w, s = value[active].clone(), anchor[active], uv[active].clone(), sign[active]
            groups = []
            if fit_value:
                lr = opts.lr_value if info.type in ROTATING else opts.lr_value * problem.size
                groups.append({"params": [v.requires_grad_(True)], "lr": lr})
            if pivot_free:
                lr = opts.lr_pivot * problem.size
                groups.append({"params": [w.requires_grad_(True)], "lr": lr})
            if groups and time.perf_counter() < deadline:
                bounds = (v, low, high) if fit_value else None
                closure = lambda: loss_of(level, sharpness, statics, v, a, w, s)  # noqa: E731
                self._adam(groups, closure, iterations, deadline, bounds)
            with torch.no_grad():
                value[active], uv[active] = v.detach(), w.detach()
                return loss_of(level, sharpness, statics, v, a, w, s).tolist()

        def statics_of(level, sharpness):
            return (
                self._static(level, info, True, sharpness) if fit_value else None,
                self._static(level, info, False, sharpness) if photo else None,
            )

        (level0, s0, n0), (level1, _, n1) = self.levels
        everyone = list(range(len(starts)))
        first = fit(level0, s0, statics_of(level0, s0), everyone, n0)
        pivots = (anchor + uv @ basis).cpu().double().numpy()
        leaders = {}  # each sign's best goes on
        for k in everyone:
            if starts[k][0] not in leaders or first[k] < first[leaders[starts[k][0]]]:
                leaders[starts[k][0]] = k
        # At the working resolution: hard silhouettes, the arbiter is the pixel error. Every
        # start is scored before and after its gradient steps (the soft first level can drift
        # where the image says little), and a pattern search goes on from each leader's better.
        statics = (
            self._static(level1, info, True, None) if fit_value else None,
            self._static(level1, info, False, None) if photo else None,
        )
        n = len(starts)
        hyps = [(starts[k][0], float(value[k]), pivots[k]) for k in everyone] + list(starts)
        errors = self._errors(info, hyps, statics, level1, prior=False)
        best = {}
        for k in everyone:
            pick = k if errors[k] <= errors[k + n] else k + n
            best[(starts[k][0], k)] = [float(errors[pick]), float(hyps[pick][1]), hyps[pick][2]]
        self._pattern(
            info,
            best,
            [(starts[k][0], k) for k in sorted(leaders.values())],
            statics,
            0.02 * problem.size,
            1.05,
            0.05,
            max(1, n1 // 8),
            level1,
        )
        refined = {key[1]: (key[0], best[key][1], best[key][2], best[key][0]) for key in best}
        closed = self._errors(info, [(1, 0.0, info.pivot)], statics, level1, prior=False)[0]
        # The prior enters the choice between starts at the pivot each began from.
        prior = self._prior(info, [p for _, _, p in starts], level1)
        refined = {k: (*r[:3], r[3] + float(prior[k])) for k, r in refined.items()}
        return refined, sorted(leaders.values()), float(closed)

    def _part_terms(self, level, masks, info, motion, sharpness) -> torch.Tensor | float:
        total = 0.0
        for link, mask in masks.items():
            if link in info.subtree:
                pred = self.problem.soft(level, self.problem.obj.subtree(link), motion, sharpness)
                if pred is not None:
                    total = total + self.opts.part_weight * _recall(pred, mask)
        return total

    def _adam(self, groups, closure, iterations, deadline, bounds) -> None:
        optimizer = Adam(groups)
        best, stale = math.inf, 0
        for step in range(max(0, iterations)):
            optimizer.zero_grad()
            loss = closure().sum()
            loss.backward()
            optimizer.step(1.0 - 0.9 * step / max(1, iterations))  # steps shrink to settle
            if bounds is not None:
                with torch.no_grad():
                    bounds[0].clamp_(bounds[1], bounds[2])
            value = float(loss.detach())
            self.history.append(value)
            if value < best * (1.0 - self.opts.min_improvement):
                best, stale = value, 0
            else:
                stale += 1
            if stale >= self.opts.patience or time.perf_counter() > deadline:
                break

    # --- one joint ----------------------------------------------------------------------------
    def search_joint(self, name: str, round_index: int) -> None:
        problem, opts = self.problem, self.opts
        info = problem.joints[name]
        current = self.estimates[name]
        if problem.screen.moved is None and not self._photo_matters(info):
            current.confidence = 0.0  # nothing in the targets depends on this joint
            self.searched.add(name)
            return
        later = round_index > 0
        best, closed, pivots = self.screen(info, current if later else None)
        last = len(pivots) - 1 if info.type in ROTATING else 0
        current_key = (current.sign, last) if later else None
        records = {}
        for key, (error, _, _) in best.items():
            index = -1 if key == current_key else key[1]
            records[key] = StartRecord(name, key[0], index, error)
            self.records.append(records[key])
        ranked = sorted(best, key=lambda key: best[key][0])
        must = current_key if later else (1, 0)
        evidence = (closed - best[ranked[0]][0]) / max(1e-6, opts.min_change * self._area())
        if later and best[ranked[0]][0] >= best[must][0] * 0.98:
            # Nothing screens better than the current estimate; with the other parts now in
            # place, what this one explains may have shrunk (it had taken their pixels).
            if evidence < opts.min_confidence:
                self._apply(info, min(current.confidence, max(0.0, evidence)))
            self.searched.add(name)
            return
        if evidence < opts.min_confidence:  # too little changes to decide anything
            if not later:
                current.coarse_value = best[(1, 0)][1]
            self._apply(info, max(0.0, evidence))
            return
        keys = ranked[: max(1, opts.keep_starts)]
        for sign in {key[0] for key in ranked}:  # each sign's best competes
            top = next(key for key in ranked if key[0] == sign)
            if top not in keys:
                keys.append(top)
        if must not in keys:
            keys.append(must)
        deadline = self.clock.joint_deadline(0.15 * self.clock.total)
        starts = [(key[0], best[key][1], best[key][2]) for key in keys]
        refined, leaders, closed_loss = self.refine(info, starts, deadline)
        for k, key in enumerate(keys):
            records[key].final_loss = refined[k][3]
        m = keys.index(must)
        winner = min(leaders, key=lambda k: refined[k][3])
        if refined[m][3] < refined[winner][3]:  # the input (or current estimate) is not beaten
            winner = m
        if not later:
            current.coarse_value = refined[keys.index((1, 0))][1]
        sign, value, pivot, loss = refined[winner]
        current.sign, current.value, current.pivot = sign, value, pivot
        others = [refined[k][3] for k in leaders if refined[k][0] != sign]
        if not others:  # one sign searched (continuous joints, or no multi-start)
            margin = 1.0
        else:  # the other sign's best must be sign_margin (relative) worse to be ruled out
            margin = (min(others) - loss) / max(1e-6, opts.sign_margin * loss)
        self._apply(info, float(np.clip(margin, 0.0, 1.0) * min(1.0, evidence)))

    def _area(self) -> float:
        target = self.problem.screen.moved
        return float((self.problem.screen.rest if target is None else target).sum())

    def _apply(self, info: _JointInfo, confidence: float) -> None:
        est = self.estimates[info.name]
        est.confidence = confidence
        if confidence < self.opts.min_confidence:  # undecided: keep the coarse sign and pivot
            est.sign, est.pivot, est.value = 1, info.pivot.copy(), est.coarse_value
        self.searched.add(info.name)

    # --- all joints ---------------------------------------------------------------------------
    def run(self) -> None:
        opts = self.opts
        order = self._order()
        for round_index in range(max(1, opts.rounds)):
            if round_index > 0 and self.clock.elapsed() > 0.85 * self.clock.total:
                break
            for k, name in enumerate(order):
                self.progress(
                    ProgressEvent("refine", k / (len(order) + 1), f"joint {name} ({round_index})")
                )
                self.search_joint(name, round_index)
            if len(order) < 2:
                break
        self.progress(ProgressEvent("refine", len(order) / (len(order) + 1), "polish"))
        self.polish()

    def _order(self) -> list[str]:
        """Joints by the pixels their part covers at rest, largest first."""
        problem = self.problem
        motion = problem.motions({})
        area = {}
        for name, info in problem.joints.items():
            area[name] = float(problem.hard(problem.screen, info.subtree, motion).sum())
        return sorted(problem.movable, key=lambda n: -area[n])

    # --- polish -------------------------------------------------------------------------------
    def polish(self) -> None:
        problem, opts = self.problem, self.opts
        level, sharpness = problem.fine, opts.sharpness[1]
        names = [n for n in problem.movable if n in self.searched]
        fit_value = level.moved is not None
        values = {n: problem._tensor(self.estimates[n].value).clone() for n in names}
        free = [
            n
            for n in names
            if problem.joints[n].type in ROTATING
            and opts.multi_start
            and self.estimates[n].confidence >= opts.min_confidence
            and (fit_value or problem.joints[n].observed != 0.0)
        ]
        uv = {n: torch.zeros(2, dtype=problem.dtype, device=problem.device) for n in free}
        camera = torch.zeros(6, dtype=problem.dtype, device=problem.device)
        anchors = {n: problem._tensor(self.estimates[n].pivot) for n in names}
        bases = {
            n: problem._tensor(np.stack([problem.joints[n].u, problem.joints[n].v])) for n in names
        }
        with_camera = opts.optimize_camera
        moving = [n for n in problem.merged if n in problem.moving]
        static_links = [n for n in problem.merged if n not in problem.moving]
        statics = {}
        if not with_camera:
            with torch.no_grad():
                motion = problem.motions({})
                for key in ("moved", "rest"):
                    image = (
                        problem.soft(level, static_links, motion, sharpness)
                        if static_links
                        else None
                    )
                    statics[key] = None if image is None else image[0]

        def pivots():
            return {n: anchors[n] + (uv[n] @ bases[n] if n in uv else 0.0) for n in names}

        def loss_of():
            view = level.world_to_cam
            if with_camera:
                correction = torch.eye(4, dtype=problem.dtype, device=problem.device)
                top = torch.cat([rotation_vector_matrix(camera[:3]), camera[3:, None]], dim=1)
                view = torch.cat([top, correction[3:]]) @ view
            links = problem.merged if with_camera else moving
            pivot = pivots()
            total = torch.zeros(1, dtype=problem.dtype, device=problem.device)
            if fit_value:
                params = {n: (self.estimates[n].sign, values[n], pivot[n]) for n in names}
                motion = problem.motions(params)
                pred = _union(
                    statics.get("moved"), problem.soft(level, links, motion, sharpness, view)
                )
                total = total + mask_loss(pred, level.moved, opts)
                for link, mask in level.part_masks.items():
                    part = problem.soft(level, problem.obj.subtree(link), motion, sharpness, view)
                    if part is not None:
                        total = total + opts.part_weight * _recall(part, mask)
            observed_open = any(problem.joints[n].observed != 0.0 for n in names)
            if level.rest is not None and (with_camera or observed_open or not fit_value):
                params = {n: (1, problem.joints[n].observed, pivot[n]) for n in names}
                motion = problem.motions(params)
                pred = _union(
                    statics.get("rest"), problem.soft(level, links, motion, sharpness, view)
                )
                total = total + mask_loss(pred, level.rest, opts)
                for link, mask in level.observed_part_masks.items():
                    part = problem.soft(level, problem.obj.subtree(link), motion, sharpness, view)
                    if part is not None:
                        total = total + opts.part_weight * _recall(part, mask)
            for n in uv:
                change = pivot[n] - anchors[n]
                total = total + opts.pivot_reg * (change * change).sum() / problem.size**2
            if with_camera:
                total = total + opts.camera_reg * (camera * camera).sum()
            return total

        with torch.no_grad():
            before = float(loss_of().sum())
        groups = []
        if fit_value:
            for n in names:
                lr = (
                    opts.lr_value
                    if problem.joints[n].type in ROTATING
                    else opts.lr_value * problem.size
                )
                groups.append({"params": [values[n].requires_grad_(True)], "lr": lr})
        for n in uv:
            groups.append(
                {"params": [uv[n].requires_grad_(True)], "lr": opts.lr_pivot * problem.size}
            )
        if with_camera:
            groups.append({"params": [camera.requires_grad_(True)], "lr": opts.lr_camera})
        deadline = self.clock.total_deadline()
        saved = {
            n: (values[n].detach().clone(), uv[n].detach().clone() if n in uv else None)
            for n in names
        }
        if groups and opts.polish_iterations > 0 and time.perf_counter() < deadline:
            optimizer = Adam(groups)
            best, stale = math.inf, 0
            for step in range(opts.polish_iterations):
                optimizer.zero_grad()
                loss = loss_of().sum()
                loss.backward()
                optimizer.step(1.0 - 0.9 * step / opts.polish_iterations)
                with torch.no_grad():
                    for n in names:
                        low, high = _value_bounds(problem.joints[n], problem.size)
                        values[n].clamp_(low, high)
                current = float(loss.detach())
                self.history.append(current)
                if current < best * (1.0 - opts.min_improvement):
                    best, stale = current, 0
                else:
                    stale += 1
                if stale >= opts.patience or time.perf_counter() > deadline:
                    break
        for tensor in [*values.values(), *uv.values(), camera]:
            tensor.requires_grad_(False)
        with torch.no_grad():
            after = float(loss_of().sum())
        if after > before:  # never worse than what the joint search found
            for n in names:
                values[n], old_uv = saved[n]
                if old_uv is not None:
                    uv[n] = old_uv
            camera.zero_()
            after = before
        pivot = pivots()
        for n in names:
            est = self.estimates[n]
            est.value = float(values[n])
            est.pivot = pivot[n].detach().cpu().double().numpy()
        self.camera = camera.detach()
        self.loss = after
        self.history.append(after)


# ==============================================================================================
# Entry point
# ==============================================================================================
def refine_joints(
    obj: ArticulatedObject,
    camera: Camera,
    targets: Targets,
    options: RefineOptions | None = None,
    progress: ProgressCallback = no_progress,
) -> RefineResult:
    """Refine the movable joints of `obj` so that its moved state matches `targets`."""
    opts = options or RefineOptions()
    started = time.perf_counter()
    problem = _Problem(obj, camera, targets, opts)
    search = _Search(problem, progress)
    search.clock.start = started
    search.run()
    progress(ProgressEvent("refine", 1.0, f"loss {search.loss:.4f}"))
    result = _result(problem, search)
    result.seconds = time.perf_counter() - started
    return result


def _result(problem: _Problem, search: _Search) -> RefineResult:
    obj, opts = problem.obj, problem.opts
    # World rest frames of every link: a movable joint's frame moves to its new pivot, a fixed
    # joint's child keeps its place on its (possibly moved) parent.
    frames = {obj.root.name: np.eye(4)}
    for joint in obj.joints_from_root():
        if joint.movable:
            frame = problem.rest_joint[joint.name].copy()
            frame[:3, 3] = search.estimates[joint.name].pivot
        else:
            frame = frames[joint.parent] @ joint.origin
        frames[joint.child] = frame
    refined = copy.deepcopy(obj)
    estimates = {}
    observed = {}
    for joint in refined.joints:
        joint.origin = invert(frames[joint.parent]) @ frames[joint.child]
        if not joint.movable:
            continue
        est = search.estimates[joint.name]
        sign = est.sign
        joint.axis = np.asarray(joint.axis, float) * sign
        decided = est.confidence >= opts.min_confidence and joint.name in search.searched
        if joint.type != "continuous" and decided and est.value > 0:
            if opts.moved_fraction:
                joint.upper = est.value / opts.moved_fraction
            else:
                joint.upper = max(joint.upper, est.value)
            joint.lower = min(joint.lower, 0.0)
        observed[joint.name] = problem.joints[joint.name].observed * sign
        frame = frames[joint.child]
        estimates[joint.name] = JointEstimate(
            joint.name,
            joint.type,
            frame[:3, 3].copy(),
            frame[:3, :3] @ joint.axis,
            est.value,
            joint.lower,
            joint.upper,
            sign < 0,
            float(est.confidence),
        )
    for link in refined.links:  # keep the rest pose: compensate the geometry of moved frames
        fix = invert(frames[link.name]) @ problem.rest_link[link.name]
        for element in [*link.visuals, *link.collisions]:
            element.origin = fix @ element.origin
        if link.inertial is not None:
            link.inertial.origin = fix @ link.inertial.origin
    view = problem.original_camera.world_to_cam
    if opts.optimize_camera:
        correction = np.eye(4)
        with torch.no_grad():
            rotation = rotation_vector_matrix(search.camera[:3].double()).cpu().numpy()
        correction[:3, :3], correction[:3, 3] = rotation, search.camera[3:].cpu().double().numpy()
        view = correction @ view
    camera = copy.deepcopy(problem.original_camera)  # the caller's resolution, refined pose
    camera.cam_to_world = invert(view)
    return RefineResult(
        refined,
        estimates,
        camera,
        float(search.loss),
        list(search.history),
        search.records,
        observed,
    )
