"""Fitting the observed configuration (the pose the photo shows) to the photo's silhouette.

The parser reads each part's opening from the image as a fraction of the limits it predicts;
when it misjudges the limits (a real laptop's screen read as a 40 degree hinge) or the fraction,
the object is written in a pose the photo does not show, and everything scored or textured in
that pose is off. The silhouette says a lot about the pose: an open laptop is tall, a closed one
a slab; an open door sticks out of the cabinet's outline.

`fit_observed` searches the movable joints one at a time (coordinate descent, the parts that
cover most of the image first) over a grid of values, re-placing the camera for each candidate
(`fit.place_camera`: the pose changes the projected box) and scoring it as verification does
(`fit.silhouette_score`: mask IoU plus the parser's part masks). A revolute joint may also go
past its predicted upper limit, up to `WIDEST_REVOLUTE`: the photo is evidence that the part
opens at least that far, so the limit is widened to the value found (a joint's opening end
is the limit further from 0). A value is kept only when
it beats the current pose by `MARGIN`, so a pose the silhouette cannot tell apart stays the
parser's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from spark_blender.core.kinematics import link_poses
from spark_blender.core.model import ArticulatedObject
from spark_blender.refinement.fit import (
    Silhouette,
    place_camera,
    posed_silhouette,
    silhouette_score,
)

WIDEST_REVOLUTE = math.radians(120.0)  # a hinge's search reaches this far past a short limit
GRID = 9  # values per joint and round (the second round searches around the best at 1/4 step)
MAX_JOINTS = 6  # joints searched, the largest parts first
MARGIN = 0.005  # score gain a new value needs over the current pose


@dataclass
class PoseFit:
    observed: dict[str, float]  # joint name -> value
    widened: dict[str, tuple[float, float]]  # joints whose limits grew to take their value
    score_before: float
    score_after: float


@dataclass
class _Posable:
    """The object's simplified surface at rest, with each vertex's link, for cheap re-posing."""

    rest: Silhouette
    owner: np.ndarray  # (V,) index into rest.link_names
    inverse_rest: list[np.ndarray]  # per link: world-from-link at rest, inverted

    @classmethod
    def of(cls, obj: ArticulatedObject) -> _Posable:
        rest = posed_silhouette(obj, {})
        owner = np.zeros(len(rest.vertices), np.int64)
        owner[rest.faces.reshape(-1)] = np.repeat(rest.link_of_face, 3)
        poses = link_poses(obj, {})
        inverse = [np.linalg.inv(poses[name]) for name in rest.link_names]
        return cls(rest, owner, inverse)

    def at(self, obj: ArticulatedObject, configuration: Mapping[str, float]) -> Silhouette:
        poses = link_poses(obj, configuration)
        homogeneous = np.c_[self.rest.vertices, np.ones(len(self.rest.vertices))]
        vertices = np.empty_like(self.rest.vertices)
        for index, name in enumerate(self.rest.link_names):
            rows = self.owner == index
            if rows.any():
                moved = poses[name] @ self.inverse_rest[index]
                vertices[rows] = (homogeneous[rows] @ moved.T)[:, :3]
        return replace(self.rest, vertices=vertices)


def search_range(joint) -> tuple[float, float]:
    """The values searched for a joint: its limits, a revolute's opening end (the larger one)
    stretched to `WIDEST_REVOLUTE` when short (short predicted limits are the parser's commonest
    pose error)."""
    lower, upper = float(joint.lower), float(joint.upper)
    if joint.type == "revolute":
        if upper >= -lower:
            upper = max(upper, WIDEST_REVOLUTE)
        else:
            lower = min(lower, -WIDEST_REVOLUTE)
    return lower, upper


def _searched_joints(obj: ArticulatedObject, posable: _Posable) -> list:
    """Non-continuous movable joints, the ones moving the most surface first."""
    area = np.zeros(len(posable.rest.link_names))
    triangles = posable.rest.vertices[posable.rest.faces]
    face_area = np.linalg.norm(
        np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1
    )
    np.add.at(area, posable.rest.link_of_face, face_area)
    names = posable.rest.link_names

    def moved_area(joint) -> float:  # a joint moves its child's whole subtree
        return float(sum(area[names.index(n)] for n in obj.subtree(joint.child) if n in names))

    joints = [j for j in obj.movable_joints if j.type in ("revolute", "prismatic")]
    joints = [j for j in joints if search_range(j)[1] - search_range(j)[0] > 1e-6]
    return sorted(joints, key=moved_area, reverse=True)[:MAX_JOINTS]


def fit_observed(
    obj: ArticulatedObject,
    observed: Mapping[str, float],
    mask: np.ndarray,
    view: tuple[float, float, float],
    part_masks: Mapping[str, np.ndarray] | None = None,
) -> PoseFit:
    """The observed configuration that best explains `mask` (see the module docstring).

    `view` is the parser's (azimuth, elevation, fov) in degrees; the camera is placed on it for
    every candidate pose. `obj` is left as it is; `widened` says which limits the caller should
    grow to take the values found."""
    posable = _Posable.of(obj)
    pose = {k: float(v) for k, v in observed.items()}
    masks = dict(part_masks or {})

    def score(configuration: Mapping[str, float], parts: Mapping[str, np.ndarray]) -> float:
        shape = posable.at(obj, configuration)
        camera = place_camera(shape.vertices, mask, *view)
        return silhouette_score(shape, camera, mask, parts)

    before = score(pose, masks)
    for joint in _searched_joints(obj, posable):
        # Only this joint's parts change with it: their masks (and the whole silhouette) are
        # what tells its values apart, at a fraction of the cost of all the parts' renders.
        moving = {n: m for n, m in masks.items() if n in obj.subtree(joint.child)}
        lower, upper = search_range(joint)
        step = (upper - lower) / (GRID - 1)
        centre = pose.get(joint.name, 0.0)
        best = score(pose, moving)
        coarse = np.linspace(lower, upper, GRID)
        for round_ in range(2):
            values = coarse if round_ == 0 else centre + step / 4 * np.arange(-2, 3)
            for value in np.clip(values, lower, upper):
                candidate = {**pose, joint.name: float(value)}
                s = score(candidate, moving)
                if s > best + MARGIN:
                    best, pose, centre = s, candidate, float(value)
    after = score(pose, masks) if pose != dict(observed) else before
    widened = {}
    for joint in obj.movable_joints:
        value = pose.get(joint.name)
        if value is not None and joint.type == "revolute":
            if value > joint.upper or value < joint.lower:
                widened[joint.name] = (min(joint.lower, value), max(joint.upper, value))
    return PoseFit(pose, widened, before, after)


def with_limits(
    obj: ArticulatedObject, limits: Mapping[str, tuple[float, float]]
) -> ArticulatedObject:
    """A copy of `obj` (links shared, joints copied: later stages shorten joints in place)
    whose joints named in `limits` take those limits."""
    joints = []
    for joint in obj.joints:
        lower, upper = limits.get(joint.name, (joint.lower, joint.upper))
        joints.append(replace(joint, lower=lower, upper=upper))
    return ArticulatedObject(obj.name, list(obj.links), joints, obj.category)
