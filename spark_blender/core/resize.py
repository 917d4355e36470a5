"""Resizing an articulated object: per-axis factors in the canonical frame, joints carried along.

`scaled(obj, factors)` returns a new object whose rest-pose geometry is the old one's scaled by
``diag(factors)`` about the canonical origin. Link frames keep their orientation and move with
the scale; meshes are re-expressed in them; a joint's pivot moves with the scale and its axis
follows the scaled direction (a hinge on a box edge stays on that edge); a prismatic joint's
travel scales with the length of its scaled axis. Inertials are recomputed from the geometry.
"""

from __future__ import annotations

import copy

import numpy as np
import trimesh

from spark_blender.core.kinematics import link_poses
from spark_blender.core.meshes import compute_inertial
from spark_blender.core.model import ArticulatedObject


def _moved_mesh(mesh: trimesh.Trimesh, to_new: np.ndarray) -> trimesh.Trimesh:
    vertices = np.asarray(mesh.vertices, float) @ to_new[:3, :3].T + to_new[:3, 3]
    return trimesh.Trimesh(vertices, np.asarray(mesh.faces), visual=mesh.visual.copy(),
                           process=False)  # fmt: skip


def scaled(obj: ArticulatedObject, factors) -> ArticulatedObject:
    """A copy of `obj` scaled by `factors` (3 positive numbers, or one) in the canonical frame."""
    s = np.broadcast_to(np.asarray(factors, float), (3,)).copy()
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"scale factors must be positive and finite, got {s.tolist()}")
    S = np.diag(s)
    old = link_poses(obj)
    new: dict[str, np.ndarray] = {}
    for name, pose in old.items():
        moved = pose.copy()
        moved[:3, 3] = S @ pose[:3, 3]
        new[name] = moved
    out = copy.deepcopy(obj)
    for link in out.links:
        # Old link-frame point -> world -> scaled world -> new link frame.
        to_new = np.linalg.inv(new[link.name])
        scale4 = np.eye(4)
        scale4[:3, :3] = S
        for item in (*link.visuals, *link.collisions):
            transform = to_new @ scale4 @ old[link.name] @ item.origin
            item.mesh = _moved_mesh(item.mesh, transform)
            item.origin = np.eye(4)
    for joint in out.joints:
        frame = old[joint.parent] @ joint.origin  # the joint frame at rest, world
        world_axis = frame[:3, :3] @ joint.axis
        stretched = S @ world_axis
        length = float(np.linalg.norm(stretched))
        new_frame = frame.copy()
        new_frame[:3, 3] = S @ frame[:3, 3]
        joint.origin = np.linalg.inv(new[joint.parent]) @ new_frame
        joint.axis = frame[:3, :3].T @ (stretched / length)
        if joint.type == "prismatic":
            joint.lower, joint.upper = joint.lower * length, joint.upper * length
    for link in out.links:
        if link.inertial is not None or link.visuals:
            link.inertial = compute_inertial(link) or link.inertial
    return out
