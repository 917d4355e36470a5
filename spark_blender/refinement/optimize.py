"""Joint refinement by silhouette matching (stage 4): pivots, moved-state values, limits, camera.

Given an articulated object with coarse joints, the camera and the object's mask in the moved
state (optionally its rest mask and per-part masks), Adam adjusts, through the soft renderer:
- each revolute joint's pivot (an offset in the world rest frame),
- each movable joint's value in the moved state (kept >= 0: opening is positive),
- optionally a small correction of the camera pose,
minimising BCE + Dice + an edge term between rendered and target masks, plus L2 regularisers on
every change. The rest pose never changes: geometry is held in world rest coordinates and a link
moves by pose(q) @ rest_frame^-1, so moving a pivot does not move the part at rest (its geometry
is compensated in the refined object that comes back).

The discrete choices the gradient cannot make are searched by multi-start: both signs of each
joint's axis, and pivots on the moving part's bounding-box edges parallel to the axis (and the
coarse pivot). Every start is explored for a few iterations, the best few are refined, the best
one wins; then all joints are polished together. Its loss history comes back with the result.
"""

from __future__ import annotations

import copy
import math
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
from spark_blender.refinement.kinematics import (
    ROTATING,
    KinematicTree,
    rigid_inverse,
    rotation_vector_matrix,
)
from spark_blender.refinement.masks import resize_mask
from spark_blender.refinement.raster import Intrinsics, RasterSettings, render_silhouette
from spark_blender.refinement.simplify import simplify_mesh


@dataclass
class Targets:
    """What the refined object must look like; masks are HxW arrays (bool or [0, 1]) of any
    size with the camera's aspect ratio."""

    moved_mask: np.ndarray
    rest_mask: np.ndarray | None = None
    part_masks: Mapping[str, np.ndarray] = field(default_factory=dict)  # link -> moved-state mask


@dataclass
class RefineOptions:
    resolution: int = 128  # working image size (long side)
    explore_iterations: int = 30  # per start
    refine_iterations: int = 80  # for the best `keep_starts` starts of each joint
    polish_iterations: int = 60  # all joints together at the end
    keep_starts: int = 2
    multi_start: bool = True
    optimize_camera: bool = False
    sharpness: tuple[float, float] = (1.0, 4.0)  # 1/pixel, annealed from first to second
    lr_pivot: float = 0.02  # fraction of the object size per step
    lr_value: float = 0.03  # radians per step (prismatic: fraction of the object size)
    lr_camera: float = 0.003
    bce_weight: float = 1.0
    dice_weight: float = 1.0
    edge_weight: float = 1.0
    part_weight: float = 0.5
    pivot_reg: float = 1.0  # on (pivot change from the start's / object size)^2
    value_reg: float = 1e-4
    camera_reg: float = 1.0
    moved_fraction: float | None = None  # the moved state's share of the upper limit, if known
    initial_values: Mapping[str, float] = field(default_factory=dict)
    max_faces_per_link: int = 3000
    device: str = "cpu"


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


@dataclass
class StartRecord:
    joint: str
    sign: int
    pivot_candidate: int  # 0 = the coarse pivot, 1.. = box edges
    explore_loss: float
    final_loss: float | None = None


@dataclass
class RefineResult:
    object: ArticulatedObject  # joints refined, rest pose unchanged
    joints: dict[str, JointEstimate]
    camera: Camera
    loss: float
    history: list[float]
    starts: list[StartRecord]


@dataclass
class _Part:
    link: str
    vertices: torch.Tensor  # (V, 3) world, rest pose
    faces: torch.Tensor  # (F, 3)


@dataclass
class _State:
    """One start: discrete choices (signs) and continuous parameters (tensors)."""

    signs: dict[str, int]
    offsets: dict[str, torch.Tensor]  # revolute joint -> (3,) pivot offset, world
    anchors: dict[str, torch.Tensor]  # the offsets a start began with (regularised towards)
    values: dict[str, torch.Tensor]  # movable joint -> () moved-state value
    camera: torch.Tensor  # (6,) rotation vector and translation, camera frame
    history: list[float] = field(default_factory=list)

    def clone(self) -> _State:
        return _State(
            dict(self.signs),
            {k: v.detach().clone() for k, v in self.offsets.items()},
            dict(self.anchors),
            {k: v.detach().clone() for k, v in self.values.items()},
            self.camera.detach().clone(),
            list(self.history),
        )


class _Problem:
    """The fixed data of one refinement: geometry, rest frames, camera and target masks."""

    def __init__(self, obj: ArticulatedObject, camera: Camera, targets: Targets, opts):
        self.obj, self.opts = obj, opts
        self.device = torch.device(opts.device)
        self.dtype = torch.float32
        self.original_camera = camera
        scale = opts.resolution / max(camera.width, camera.height)
        self.camera = camera.scaled(
            max(1, round(camera.width * scale)), max(1, round(camera.height * scale))
        )
        self.intrinsics = Intrinsics.from_camera(self.camera)
        self.world_to_cam = self._tensor(self.camera.world_to_cam)
        self.moved = self._mask(targets.moved_mask, "moved_mask")
        self.rest = (
            None if targets.rest_mask is None else self._mask(targets.rest_mask, "rest_mask")
        )
        unknown = set(targets.part_masks) - {link.name for link in obj.links}
        if unknown:
            raise ValueError(
                f"part_masks name links the object lacks: {', '.join(sorted(unknown))}"
            )
        self.part_masks = {
            name: self._mask(mask, f"part_masks['{name}']")
            for name, mask in targets.part_masks.items()
        }
        self.tree = KinematicTree.from_object(obj, dtype=self.dtype, device=self.device)
        rest = link_poses(obj)
        self.rest_link = dict(rest)
        self.rest_joint = {j.name: rest[j.parent] @ j.origin for j in obj.joints}
        self.parts = self._parts(rest)
        points = np.concatenate([p.vertices.cpu().numpy() for p in self.parts])
        self.size = float(np.ptp(points, axis=0).max()) or 1.0
        self.movable = [j.name for j in obj.joints_from_root() if j.movable]

    def _mask(self, mask, name: str) -> torch.Tensor:
        """A target mask at the working resolution; it must have the camera's aspect ratio."""
        array = np.asarray(mask, dtype=np.float32)
        if array.ndim != 2 or min(array.shape) == 0:
            raise ValueError(f"{name}: expected an HxW mask, got shape {array.shape}")
        camera = self.original_camera
        if abs(array.shape[1] / array.shape[0] - camera.width / camera.height) > 0.02:
            raise ValueError(
                f"{name}: {array.shape[1]}x{array.shape[0]} does not have the camera's aspect "
                f"ratio ({camera.width}x{camera.height})"
            )
        return resize_mask(array, self.camera.width, self.camera.height).to(self.device)

    def _tensor(self, array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=self.dtype, device=self.device)

    def _parts(self, rest) -> list[_Part]:
        parts = []
        for link in self.obj.links:
            meshes = []
            for visual in link.visuals:
                mesh = visual.mesh.copy()
                mesh.apply_transform(rest[link.name] @ visual.origin)
                meshes.append(mesh)
            if not meshes:
                continue
            merged = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
            merged = simplify_mesh(merged, self.opts.max_faces_per_link)
            parts.append(
                _Part(
                    link.name,
                    self._tensor(merged.vertices),
                    torch.as_tensor(np.asarray(merged.faces), dtype=torch.long, device=self.device),
                )
            )
        if not parts:
            raise ValueError(f"object '{self.obj.name}' has no visual geometry to render")
        return parts

    # --- the differentiable model ------------------------------------------------------------
    def rest_frames(self, state: _State) -> dict[str, torch.Tensor]:
        """World rest frame of every joint, pivots moved by the state's offsets."""
        frames = {}
        link_frame = {self.obj.root.name: torch.eye(4, dtype=self.dtype, device=self.device)}
        for joint in self.obj.joints_from_root():
            if joint.movable:
                frame = self._tensor(self.rest_joint[joint.name])
                if joint.name in state.offsets:
                    shift = torch.zeros(4, 4, dtype=self.dtype, device=self.device)
                    shift[:3, 3] = state.offsets[joint.name]
                    frame = frame + shift
            else:  # a fixed joint keeps its place on its (possibly moved) parent
                frame = link_frame[joint.parent] @ self._tensor(joint.origin)
            frames[joint.name] = frame
            link_frame[joint.child] = frame
        return link_frame

    def link_transforms(self, state: _State, moved: bool) -> dict[str, torch.Tensor]:
        """World rest geometry -> world posed geometry, per link."""
        frames = self.rest_frames(state)
        origins, axes = [], []
        for k, name in enumerate(self.tree.joint_names):
            parent, child = self.tree.parents[k], self.tree.children[k]
            origins.append(rigid_inverse(frames[parent]) @ frames[child])
            axes.append(self.tree.axes[k] * float(state.signs.get(name, 1)))
        values = (
            torch.stack(
                [
                    state.values[name]
                    if moved and name in state.values
                    else torch.zeros((), dtype=self.dtype, device=self.device)
                    for name in self.tree.joint_names
                ]
            )
            if self.tree.joint_names
            else None
        )
        poses = self.tree.link_poses(
            values,
            torch.stack(origins) if origins else None,
            torch.stack(axes) if axes else None,
        )
        return {name: poses[name] @ rigid_inverse(frames[name]) for name in poses}

    def view(self, state: _State) -> torch.Tensor:
        if not self.opts.optimize_camera:
            return self.world_to_cam
        correction = torch.eye(4, dtype=self.dtype, device=self.device)
        correction = torch.cat(
            [
                torch.cat(
                    [rotation_vector_matrix(state.camera[:3]), state.camera[3:, None]], dim=1
                ),
                correction[3:],
            ]
        )
        return correction @ self.world_to_cam

    def render(self, state: _State, moved: bool, sharpness: float, links=None) -> torch.Tensor:
        transforms = self.link_transforms(state, moved)
        vertices, faces, offset = [], [], 0
        for part in self.parts:
            if links is not None and part.link not in links:
                continue
            T = transforms[part.link]
            vertices.append(part.vertices @ T[:3, :3].transpose(0, 1) + T[:3, 3])
            faces.append(part.faces + offset)
            offset += len(part.vertices)
        settings = RasterSettings(self.camera.width, self.camera.height, sharpness=sharpness)
        return render_silhouette(
            torch.cat(vertices), torch.cat(faces), self.view(state), self.intrinsics, settings
        )

    def loss(self, state: _State, sharpness: float) -> torch.Tensor:
        opts = self.opts
        total = mask_loss(self.render(state, True, sharpness), self.moved, opts)
        if self.rest is not None and opts.optimize_camera:
            total = total + mask_loss(self.render(state, False, sharpness), self.rest, opts)
        for link, mask in self.part_masks.items():
            pred = self.render(state, True, sharpness, links=set(self.obj.subtree(link)))
            # Part masks show only the visible part; ask for coverage where the mask is (recall).
            recall = -(mask * torch.log(pred.clamp_min(1e-6))).sum() / mask.sum().clamp_min(1.0)
            total = total + opts.part_weight * recall
        for name, offset in state.offsets.items():
            change = offset - state.anchors[name]
            total = total + opts.pivot_reg * (change * change).sum() / self.size**2
        if opts.optimize_camera:
            total = total + opts.camera_reg * (state.camera * state.camera).sum()
        return total


def mask_loss(pred: torch.Tensor, target: torch.Tensor, opts: RefineOptions) -> torch.Tensor:
    """BCE + Dice + edge term between a rendered silhouette and a target mask (both HxW)."""
    pred = pred.clamp(1e-6, 1.0 - 1e-6)
    bce = F.binary_cross_entropy(pred, target)
    dice = 1.0 - (2.0 * (pred * target).sum() + 1.0) / (pred.sum() + target.sum() + 1.0)
    edge = ((pred.diff(dim=0) - target.diff(dim=0)) ** 2).mean() + (
        (pred.diff(dim=1) - target.diff(dim=1)) ** 2
    ).mean()
    return opts.bce_weight * bce + opts.dice_weight * dice + opts.edge_weight * edge


def _value_bounds(joint, size: float) -> tuple[float, float]:
    if joint.type == "continuous":
        return (-math.inf, math.inf)
    if joint.type == "revolute":
        return (0.0, 2.0 * math.pi)
    return (0.0, 2.0 * size)


def _initial_value(joint, size: float, given: Mapping[str, float]) -> float:
    if joint.name in given:
        return abs(float(given[joint.name]))
    if joint.upper > 0:
        return 0.5 * joint.upper
    return 0.8 if joint.type in ROTATING else 0.25 * size


def _pivot_candidates(problem: _Problem, joint) -> list[np.ndarray]:
    """The coarse pivot, then the 4 edges (parallel to the axis) of the moving part's box."""
    pivot = problem.rest_joint[joint.name][:3, 3]
    axis = problem.rest_joint[joint.name][:3, :3] @ np.asarray(joint.axis, float)
    axis = axis / np.linalg.norm(axis)
    moving = set(problem.obj.subtree(joint.child))
    points = np.concatenate(
        [p.vertices.cpu().numpy() for p in problem.parts if p.link in moving] or [pivot[None]]
    )
    # Box axes: the joint axis, and the world axis least aligned with it made orthogonal.
    helper = np.eye(3)[np.argmin(np.abs(axis))]
    u = helper - (helper @ axis) * axis
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    pu, pv = points @ u, points @ v
    along = pivot @ axis
    candidates = [pivot]
    for cu in (pu.min(), pu.max()):
        for cv in (pv.min(), pv.max()):
            candidates.append(along * axis + cu * u + cv * v)
    return candidates


def _run(
    problem: _Problem,
    state: _State,
    active: list[str],
    iterations: int,
    schedule,
    with_camera: bool = False,
) -> float:
    """Adam on the active joints' parameters (and the camera pose if asked); returns the loss."""
    opts = problem.opts
    groups, bounds = [], {}
    for name in active:
        joint = problem.obj.joint(name)
        value = state.values[name].requires_grad_(True)
        lr = opts.lr_value if joint.type in ROTATING else opts.lr_value * problem.size
        groups.append({"params": [value], "lr": lr})
        bounds[name] = _value_bounds(joint, problem.size)
        if name in state.offsets:
            groups.append(
                {
                    "params": [state.offsets[name].requires_grad_(True)],
                    "lr": opts.lr_pivot * problem.size,
                }
            )
    if with_camera and opts.optimize_camera:
        groups.append({"params": [state.camera.requires_grad_(True)], "lr": opts.lr_camera})
    optimizer = torch.optim.Adam(groups)
    loss_value = math.inf
    for step in range(max(iterations, 1)):
        sharpness = schedule(step / max(iterations - 1, 1))
        optimizer.zero_grad()
        loss = problem.loss(state, sharpness)
        if iterations > 0:
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            for name, (low, high) in bounds.items():
                state.values[name].clamp_(low, high)
        loss_value = loss.item()
        state.history.append(loss_value)
    for tensor in [*state.values.values(), *state.offsets.values(), state.camera]:
        tensor.requires_grad_(False)
        tensor.grad = None
    return loss_value


def _schedule(start: float, end: float):
    return lambda t: start * (end / start) ** t


def refine_joints(
    obj: ArticulatedObject,
    camera: Camera,
    targets: Targets,
    options: RefineOptions | None = None,
    progress: ProgressCallback = no_progress,
) -> RefineResult:
    """Refine the movable joints of `obj` so that its moved state matches `targets`."""
    opts = options or RefineOptions()
    problem = _Problem(obj, camera, targets, opts)
    s0, s1 = opts.sharpness
    soft, anneal = _schedule(s0, s0), _schedule(s0, s1)
    state = _State(
        signs={name: 1 for name in problem.movable},
        offsets={
            j.name: torch.zeros(3, dtype=problem.dtype, device=problem.device)
            for j in obj.movable_joints
            if j.type in ROTATING
        },
        anchors={
            j.name: torch.zeros(3, dtype=problem.dtype, device=problem.device)
            for j in obj.movable_joints
            if j.type in ROTATING
        },
        values={
            j.name: torch.tensor(
                _initial_value(j, problem.size, opts.initial_values),
                dtype=problem.dtype,
                device=problem.device,
            )
            for j in obj.movable_joints
        },
        camera=torch.zeros(6, dtype=problem.dtype, device=problem.device),
    )
    records: list[StartRecord] = []
    # Joints not searched yet stay closed: a closed part leaves its target pixels unexplained,
    # while a half-open part with a wrong sign or pivot would paint pixels that mislead the rest.
    initial = {name: value.clone() for name, value in state.values.items()}
    for value in state.values.values():
        value.zero_()
    for index, name in enumerate(problem.movable):
        progress(ProgressEvent("refine", index / (len(problem.movable) + 1), f"joint {name}"))
        state.values[name] = initial[name].clone()
        state = _best_start(problem, state, name, soft, anneal, records)
    progress(ProgressEvent("refine", len(problem.movable) / (len(problem.movable) + 1), "polish"))
    if problem.movable and opts.polish_iterations > 0:
        polish = _schedule(s1, s1)
        _run(problem, state, problem.movable, opts.polish_iterations, polish, with_camera=True)
    with torch.no_grad():
        final = float(problem.loss(state, s1))
    progress(ProgressEvent("refine", 1.0, f"loss {final:.4f}"))
    return _result(problem, state, final, records)


def _best_start(problem: _Problem, state: _State, name: str, soft, anneal, records) -> _State:
    """Explore every start of joint `name` (others held), refine the best few, keep the best."""
    opts = problem.opts
    joint = problem.obj.joint(name)
    signs = (1, -1) if opts.multi_start and joint.type != "continuous" else (1,)
    candidates = _pivot_candidates(problem, joint) if name in state.offsets else [None]
    if not opts.multi_start:
        candidates = candidates[:1]
    coarse_pivot = problem.rest_joint[name][:3, 3]
    explored = []
    for sign in signs:
        for index, candidate in enumerate(candidates):
            start = state.clone()
            start.history = []
            start.signs[name] = sign
            if candidate is not None:
                start.offsets[name] = problem._tensor(candidate - coarse_pivot)
                start.anchors[name] = start.offsets[name].clone()
            loss = _run(problem, start, [name], opts.explore_iterations, soft)
            record = StartRecord(name, sign, index, loss)
            records.append(record)
            explored.append((loss, record, start))
    explored.sort(key=lambda item: item[0])
    best, best_loss = None, math.inf
    for _, record, start in explored[: max(1, opts.keep_starts)]:
        loss = _run(problem, start, [name], opts.refine_iterations, anneal)
        record.final_loss = loss
        if loss < best_loss:
            best, best_loss = start, loss
    best.history = state.history + best.history
    return best


def _result(problem: _Problem, state: _State, loss: float, records) -> RefineResult:
    obj, opts = problem.obj, problem.opts
    with torch.no_grad():
        frames = {k: v.cpu().double().numpy() for k, v in problem.rest_frames(state).items()}
        view = problem.view(state).cpu().double().numpy()
    refined = copy.deepcopy(obj)
    estimates = {}
    for joint in refined.joints:
        joint.origin = invert(frames[joint.parent]) @ frames[joint.child]
        if not joint.movable:
            continue
        sign = state.signs.get(joint.name, 1)
        joint.axis = np.asarray(joint.axis, float) * sign
        value = float(state.values[joint.name])
        if joint.type != "continuous":
            if opts.moved_fraction:
                joint.upper = value / opts.moved_fraction
            else:
                joint.upper = max(joint.upper, value)
            joint.lower = min(joint.lower, 0.0)
        frame = frames[joint.child]
        estimates[joint.name] = JointEstimate(
            joint.name,
            joint.type,
            frame[:3, 3].copy(),
            frame[:3, :3] @ joint.axis,
            value,
            joint.lower,
            joint.upper,
            sign < 0,
        )
    for link in refined.links:  # keep the rest pose: compensate the geometry of moved frames
        fix = invert(frames[link.name]) @ problem.rest_link[link.name]
        for element in [*link.visuals, *link.collisions]:
            element.origin = fix @ element.origin
        if link.inertial is not None:
            link.inertial.origin = fix @ link.inertial.origin
    camera = copy.deepcopy(problem.original_camera)  # the caller's resolution, refined pose
    camera.cam_to_world = invert(view)
    return RefineResult(refined, estimates, camera, loss, list(state.history), records)
