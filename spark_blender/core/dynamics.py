"""Joint damping and friction sized from the part they move, so parts hold still and still move.

A real laptop lid, door or drawer stays where it is left and moves under a light push. Every
writer (URDF and MJCF, so `convert`, `synth`, the Blender export and `reconstruct`) gives each
movable joint a Coulomb friction and a viscous damping from the part it moves (the child link
and everything below it, the other joints at rest, the object upright with gravity along -Z):

- ``load``: gravity's torque about the joint axis (revolute, continuous) or force along it
  (prismatic) with the joint at mid-range (`hold_value`);
- ``push``: the push the part must yield to, `PUSH_FRACTION` (10%) of the part's weight applied
  at its far edge (`reach`, the farthest point of its geometry from the axis): a torque of
  0.1 m g R, or a force of 0.1 m g for a slider;
- friction = |load| + `HOLD_MARGIN` x push: gravity at mid-range is held with a margin of
  0.6 push, and a push in either direction on top of gravity's pull still overcomes it;
- damping = push x `TRAVEL_SECONDS` / travel: the push would carry the part across its whole
  range in about 2 s, so motion settles instead of ringing; at most `MAX_DAMPING_RATE` x the
  part's inertia about the joint (its mass for a slider), because PyBullet applies damping
  explicitly and a larger ratio diverges at its 240 Hz step (a 5 mm slider would get 800 N s/m).

MuJoCo gets ``<option noslip_iterations="5"/>`` with the files (its joint friction creeps
otherwise); PyBullet applies joint friction as a zero-velocity motor limited to that force.

Joints that already carry damping or friction keep them (``mode="auto"``); ``"size"``
recomputes all; ``"keep"`` writes what the model holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spark_blender.core.kinematics import joint_motion, link_poses
from spark_blender.core.model import ArticulatedObject, Joint

GRAVITY = 9.81  # m/s^2, along -Z
PUSH_FRACTION = 0.1  # the push is this fraction of the part's weight, at its far edge
HOLD_MARGIN = 0.6  # friction beyond gravity's mid-range load, as a fraction of the push
TRAVEL_SECONDS = 2.0  # seconds the push alone would take to cross the joint's range
MAX_DAMPING_RATE = 60.0  # 1/s: damping / inertia, so damping x (1/240 s) / inertia <= 0.25
DYNAMICS_MODES = ("auto", "size", "keep")
# MuJoCo's joint friction is a soft constraint that lets a loaded joint creep (about 0.05 rad/s
# for a laptop lid); its no-slip pass removes the creep. Both writers ask for it.
MUJOCO_NOSLIP_ITERATIONS = 5
# The no-slip pass builds a dense matrix over the constraints; objects whose parts rest in
# contact (hundreds of contacts) outgrow MuJoCo's default arena, so the files ask for more.
MUJOCO_MEMORY = "64M"


@dataclass
class JointLoad:
    """What a movable joint carries, at its hold value (mid-range), in SI units."""

    joint: str
    mass: float  # kg, the part and everything below it
    lever: float  # m, centre of mass from the axis
    reach: float  # m, farthest geometry from the axis (revolute); the push's lever
    travel: float  # rad or m, upper - lower (one turn for continuous joints)
    load: float  # N m or N, gravity along the joint at the hold value (signed)
    push: float  # N m or N, PUSH_FRACTION of the weight at the far edge
    inertia: float = 0.0  # kg m^2 about the axis, or kg for a slider

    @property
    def friction(self) -> float:
        return abs(self.load) + HOLD_MARGIN * self.push

    @property
    def damping(self) -> float:
        return min(self.push * TRAVEL_SECONDS / self.travel, MAX_DAMPING_RATE * self.inertia)


def rest_value(joint: Joint) -> float:
    """Where a joint rests when nothing sets it: 0, or the nearest limit when 0 is outside."""
    low, high = joint.limits
    return float(min(max(0.0, low), high))


def hold_value(joint: Joint) -> float:
    """Mid-range: where the hold-still test leaves a joint (continuous joints: 0)."""
    if joint.type == "continuous":
        return 0.0
    return 0.5 * (joint.lower + joint.upper)


def joint_loads(obj: ArticulatedObject) -> dict[str, JointLoad]:
    """The load of every movable joint, each alone at its hold value, the others at rest."""
    rest = {j.name: rest_value(j) for j in obj.movable_joints}
    poses = link_poses(obj, rest)
    points = {link.name: _link_points(link, poses[link.name]) for link in obj.links}
    masses, tensors = {}, {}
    for link in obj.links:
        if link.inertial is not None and link.inertial.mass > 0.0:
            frame = poses[link.name] @ link.inertial.origin
            masses[link.name] = (float(link.inertial.mass), frame[:3, 3])
            tensors[link.name] = frame[:3, :3] @ link.inertial.inertia @ frame[:3, :3].T
    loads = {}
    for joint in obj.movable_joints:
        frame = poses[joint.parent] @ joint.origin @ joint_motion(joint, rest[joint.name])
        pivot, axis = frame[:3, 3], frame[:3, :3] @ np.asarray(joint.axis, dtype=float)
        subtree = obj.subtree(joint.child)
        parts = [masses[n] for n in subtree if n in masses]
        mass = sum(m for m, _ in parts)
        if mass <= 0.0:
            continue
        centre = sum(m * c for m, c in parts) / mass
        # Move the centre of mass from rest to the hold value about the joint.
        delta = (
            frame @ joint_motion(joint, hold_value(joint) - rest[joint.name]) @ np.linalg.inv(frame)
        )
        centre = delta[:3, :3] @ centre + delta[:3, 3]
        offset = centre - pivot
        lever = float(np.linalg.norm(offset - (offset @ axis) * axis))
        weight = np.array([0.0, 0.0, -mass * GRAVITY])
        cloud = [points[n] for n in subtree if len(points[n])]
        reach = lever
        if cloud:
            rel = np.concatenate(cloud) - pivot
            radial = rel - np.outer(rel @ axis, axis)
            reach = max(reach, float(np.sqrt((radial**2).sum(axis=1)).max()))
        reach = max(reach, 1e-3)
        if joint.type == "prismatic":
            load = float(weight @ axis)
            push = PUSH_FRACTION * mass * GRAVITY
            inertia = mass
        else:
            inertia = 0.0
            for name in subtree:
                if name in masses:
                    m, c = masses[name]
                    r = c - pivot
                    inertia += m * float(r @ r - (r @ axis) ** 2) + float(
                        axis @ tensors[name] @ axis
                    )
            load = float(np.cross(offset, weight) @ axis)
            push = PUSH_FRACTION * mass * GRAVITY * reach
        low, high = joint.limits
        travel = max(high - low, 1e-3) if joint.type != "continuous" else 2.0 * math.pi
        loads[joint.name] = JointLoad(
            joint.name, mass, lever, reach, travel, load, push, max(inertia, 1e-12)
        )
    return loads


def _link_points(link, pose: np.ndarray) -> np.ndarray:
    """The link's collision (else visual) vertices in world coordinates."""
    elements = link.collisions or link.visuals
    arrays = []
    for element in elements:
        vertices = np.asarray(element.mesh.vertices, dtype=float)
        if len(vertices) > 2000:  # the hull holds the farthest points
            try:
                vertices = np.asarray(element.mesh.convex_hull.vertices, dtype=float)
            except Exception:  # degenerate (flat) meshes: keep every vertex
                pass
        T = pose @ element.origin
        arrays.append(vertices @ T[:3, :3].T + T[:3, 3])
    return np.concatenate(arrays) if arrays else np.zeros((0, 3))


def with_joint_dynamics(obj: ArticulatedObject, mode: str = "auto") -> ArticulatedObject:
    """`obj` with sized damping and friction on its movable joints (joints edited in place:
    pass a copy). ``auto`` sizes joints that have neither, ``size`` all, ``keep`` none."""
    if mode not in DYNAMICS_MODES:
        raise ValueError(f"dynamics mode '{mode}' is not one of {DYNAMICS_MODES}")
    if mode == "keep":
        return obj
    wanted = [j for j in obj.movable_joints if mode == "size" or not (j.damping or j.friction)]
    if not wanted:
        return obj
    loads = joint_loads(obj)
    for joint in wanted:
        load = loads.get(joint.name)
        if load is not None:
            joint.damping = _round(load.damping)
            joint.friction = _round(load.friction)
    return obj


def _round(value: float) -> float:
    """Four significant digits: the file stays readable and the value is what was meant."""
    return float(f"{value:.4g}")
