"""Forward kinematics in numpy: *the* definition of joint semantics for the whole project.

A joint's origin places the joint frame in the parent link's frame; the child link's frame is the
joint frame moved by the joint value: rotated about the unit axis (revolute, continuous) or
translated along it (prismatic). The torch version (refinement) and the Blender armature must
agree with this module to 1e-6.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import trimesh

from spark_blender.core.model import ArticulatedObject, Joint
from spark_blender.core.transforms import axis_angle_matrix


def joint_motion(joint: Joint, value: float) -> np.ndarray:
    """4x4 motion of the child relative to the joint frame at joint value `value`."""
    motion = np.eye(4)
    if joint.type in ("revolute", "continuous"):
        motion[:3, :3] = axis_angle_matrix(joint.axis, value)
    elif joint.type == "prismatic":
        motion[:3, 3] = np.asarray(joint.axis, dtype=float) * value
    return motion


def link_poses(
    obj: ArticulatedObject,
    configuration: Mapping[str, float] | None = None,
    base_pose: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """World pose (4x4) of every link; joints missing from `configuration` are at rest (0)."""
    configuration = configuration or {}
    unknown = set(configuration) - {j.name for j in obj.joints}
    if unknown:
        raise KeyError(f"configuration names unknown joints: {', '.join(sorted(unknown))}")
    poses = {obj.root.name: np.eye(4) if base_pose is None else np.asarray(base_pose, float)}
    for joint in obj.joints_from_root():
        value = float(configuration.get(joint.name, 0.0))
        poses[joint.child] = poses[joint.parent] @ joint.origin @ joint_motion(joint, value)
    return poses


def joint_frames(
    obj: ArticulatedObject, configuration: Mapping[str, float] | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """World pivot point and unit axis direction of every joint at `configuration`."""
    poses = link_poses(obj, configuration)
    frames = {}
    for joint in obj.joints:
        frame = poses[joint.parent] @ joint.origin
        frames[joint.name] = (frame[:3, 3].copy(), frame[:3, :3] @ np.asarray(joint.axis, float))
    return frames


def posed_mesh(
    obj: ArticulatedObject,
    configuration: Mapping[str, float] | None = None,
    kind: str = "visual",
    links: list[str] | None = None,
) -> trimesh.Trimesh:
    """All visual (or collision) meshes of `links` (default: all), posed and merged."""
    poses = link_poses(obj, configuration)
    parts = []
    for link in obj.links:
        if links is not None and link.name not in links:
            continue
        elements = link.visuals if kind == "visual" else link.collisions
        for element in elements:
            transform = poses[link.name] @ element.origin
            parts.append(
                trimesh.Trimesh(
                    vertices=trimesh.transform_points(element.mesh.vertices, transform),
                    faces=element.mesh.faces,
                    process=False,
                )
            )
    if not parts:
        return trimesh.Trimesh(vertices=np.zeros((0, 3)), faces=np.zeros((0, 3), dtype=int))
    return trimesh.util.concatenate(parts)


def random_configuration(obj: ArticulatedObject, rng: np.random.Generator) -> dict[str, float]:
    """A uniformly random value inside every movable joint's limits."""
    return {j.name: float(rng.uniform(*j.limits)) for j in obj.movable_joints}


MOVED_FRACTION = 0.75  # EVAL.md: the moved state is 75% of the way to each joint's far limit


def moved_value(
    joint_type: str, lower: float, upper: float, fraction: float = MOVED_FRACTION
) -> float:
    """One joint's moved value: `fraction` of the way from 0 to its far limit (the limit farther
    from 0; the upper one on a tie); a continuous joint stays at 0, as the evaluation cases are
    rendered."""
    if joint_type == "continuous":
        return 0.0
    far = upper if abs(upper) >= abs(lower) else lower
    return float(fraction * far)


def moved_configuration(
    obj: ArticulatedObject, fraction: float = MOVED_FRACTION
) -> dict[str, float]:
    """*The* moved state of the project (data engine, benchmark, refinement): every movable
    joint at its ``moved_value``."""
    return {j.name: moved_value(j.type, *j.limits, fraction) for j in obj.movable_joints}
