"""Box-built articulated objects with known joints, for recovery experiments and tests.

A solid carcass with doors (hinged left, right, or at the bottom like an oven), lids (hinged at
the back) and drawers (sliding out along -Y), in the canonical frame (Z up, front -Y, origin at
the bottom centre); every joint opens in its positive direction. ``corrupt`` makes the coarse
version the optimizer starts from: pivots displaced, an axis sign flipped, the rest pose kept.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import link_poses
from spark_blender.core.model import ArticulatedObject, Joint, Link, Material
from spark_blender.core.transforms import invert, translation
from spark_blender.evaluation.joints import line_distance as line_distance  # re-exported
from spark_blender.examples import box

PAINT = Material("paint", (0.8, 0.8, 0.8, 1.0))
LAYOUTS = ("door_left", "door_right", "double_door", "lid", "drawers", "door_drawer", "flap")


def _door(name, hinge_x, y, z0, width, height, thick, side, upper) -> tuple[Link, Joint]:
    """A door whose hinge is its vertical edge at x = hinge_x on the side `side` (-1 left)."""
    lo, hi = (
        ((0, 0, 0), (width, thick, height)) if side < 0 else ((-width, 0, 0), (0, thick, height))
    )
    link = Link(name, visuals=[box(f"{name}_panel", lo, hi, PAINT)], label="door")
    axis = np.array([0.0, 0.0, -1.0 if side < 0 else 1.0])  # the free edge swings out to -Y
    joint = Joint(
        f"{name}_hinge",
        "revolute",
        "base",
        name,
        origin=translation((hinge_x, y, z0)),
        axis=axis,
        lower=0.0,
        upper=upper,
        label="rotation_door",
    )
    return link, joint


def _drawer(name, w, d, z0, height, thick, upper) -> tuple[Link, Joint]:
    visuals = [
        box(f"{name}_front", (-w / 2, -thick, 0), (w / 2, 0, height), PAINT),
        box(f"{name}_body", (-0.45 * w, 0, 0.1 * height), (0.45 * w, 0.9 * d, 0.9 * height), PAINT),
    ]
    joint = Joint(
        f"{name}_slide",
        "prismatic",
        "base",
        name,
        origin=translation((0.0, -d / 2, z0)),
        axis=np.array([0.0, -1.0, 0.0]),
        lower=0.0,
        upper=upper,
        label="drawer",
    )
    return Link(name, visuals=visuals, label="drawer"), joint


def box_object(layout: str, rng: np.random.Generator, name: str = "boxes") -> ArticulatedObject:
    """A carcass with the parts of `layout` (one of LAYOUTS), dimensions drawn from `rng`."""
    w, d, h = rng.uniform(0.4, 1.2), rng.uniform(0.3, 0.8), rng.uniform(0.3, 1.2)
    t = 0.03 * max(w, d, h)
    gap = 0.004
    base = Link("base", visuals=[box("carcass", (-w / 2, -d / 2, 0), (w / 2, d / 2, h), PAINT)])
    parts: list[tuple[Link, Joint]] = []
    swing = float(rng.uniform(1.2, 1.9))
    front = -d / 2 - t
    if layout in ("door_left", "door_right"):
        side = -1 if layout == "door_left" else 1
        parts.append(_door("door", side * w / 2, front, gap, w - gap, h - 2 * gap, t, side, swing))
    elif layout == "double_door":
        half = w / 2 - gap
        parts.append(_door("door_l", -w / 2, front, gap, half, h - 2 * gap, t, -1, swing))
        parts.append(_door("door_r", w / 2, front, gap, half, h - 2 * gap, t, 1, swing))
    elif layout == "lid":
        lid = Link("lid", visuals=[box("lid_panel", (-w / 2, -d, 0), (w / 2, 0, t), PAINT)])
        joint = Joint(
            "lid_hinge", "revolute", "base", "lid", origin=translation((0.0, d / 2, h)),
            axis=np.array([-1.0, 0.0, 0.0]), lower=0.0, upper=swing, label="rotation_lid",
        )  # fmt: skip
        parts.append((lid, joint))
    elif layout == "flap":
        flap = Link("flap", visuals=[box("flap_panel", (-w / 2, 0, 0), (w / 2, t, h), PAINT)])
        joint = Joint(
            "flap_hinge", "revolute", "base", "flap", origin=translation((0.0, front, 0.0)),
            axis=np.array([1.0, 0.0, 0.0]), lower=0.0, upper=min(swing, 1.5), label="rotation_door",
        )  # fmt: skip
        parts.append((flap, joint))
    elif layout == "drawers":
        count = int(rng.integers(1, 4))
        step = h / count
        for k in range(count):
            parts.append(
                _drawer(f"drawer{k}", w - 2 * gap, d, k * step + gap, step - 2 * gap, t, 0.7 * d)
            )
    elif layout == "door_drawer":
        split = h * rng.uniform(0.3, 0.5)
        parts.append(_drawer("drawer", w - 2 * gap, d, gap, split - 2 * gap, t, 0.7 * d))
        side = int(rng.choice([-1, 1]))
        parts.append(
            _door(
                "door",
                side * w / 2,
                front,
                split + gap,
                w - gap,
                h - split - 2 * gap,
                t,
                side,
                swing,
            )
        )
    else:
        raise ValueError(f"unknown box layout '{layout}' (expected one of {', '.join(LAYOUTS)})")
    links = [base, *(link for link, _ in parts)]
    return ArticulatedObject(name, links, [joint for _, joint in parts], "StorageFurniture")


def object_size(obj: ArticulatedObject) -> float:
    """Longest side of the object's bounding box at rest."""
    from spark_blender.core.kinematics import posed_mesh

    return float(np.ptp(posed_mesh(obj).vertices, axis=0).max())


def view_camera(
    obj: ArticulatedObject,
    azimuth_deg: float,
    elevation_deg: float,
    width: int = 256,
    fov_deg: float = 40.0,
    fill: float = 0.75,
) -> Camera:
    """A camera looking at the object's centre from the front (azimuth 0 = along +Y), far enough
    that the object's bounding sphere fills `fill` of the view."""
    from spark_blender.core.kinematics import posed_mesh

    vertices = posed_mesh(obj).vertices
    centre = 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
    radius = 0.5 * float(np.linalg.norm(np.ptp(vertices, axis=0)))
    distance = radius / math.sin(math.radians(fov_deg) / 2) / fill
    return Camera.orbit(centre, distance, azimuth_deg, elevation_deg, width, width, fov_deg)


def displace_pivot(obj: ArticulatedObject, joint_name: str, offset) -> ArticulatedObject:
    """A copy whose joint pivot moved by `offset` (world, rest pose) with the rest pose kept:
    the child subtree's geometry is compensated so nothing moves at rest."""
    out = copy.deepcopy(obj)
    joint = out.joint(joint_name)
    rest_before = link_poses(out)
    parent_rotation = rest_before[joint.parent][:3, :3]
    joint.origin = joint.origin.copy()
    joint.origin[:3, 3] += parent_rotation.T @ np.asarray(offset, float)
    rest_after = link_poses(out)
    for link in out.links:
        fix = invert(rest_after[link.name]) @ rest_before[link.name]
        if np.allclose(fix, np.eye(4)):
            continue
        for element in [*link.visuals, *link.collisions]:
            element.origin = fix @ element.origin
        if link.inertial is not None:
            link.inertial.origin = fix @ link.inertial.origin
        for child in out.child_joints(link.name):
            child.origin = fix @ child.origin
    return out


def corrupt(
    obj: ArticulatedObject, rng: np.random.Generator, pivot_shift: float = 0.1, flip: int = 1
) -> tuple[ArticulatedObject, list[str]]:
    """The coarse version: every revolute pivot moved `pivot_shift` x the object size in a random
    direction across its axis, and `flip` random movable joints' axes reversed. Returns it and
    the names of the flipped joints."""
    size = object_size(obj)
    coarse = copy.deepcopy(obj)
    frames = _world_axes(obj)
    for joint in obj.movable_joints:
        if joint.type != "revolute":
            continue
        axis = frames[joint.name]
        direction = rng.normal(size=3)
        direction -= (direction @ axis) * axis
        direction /= np.linalg.norm(direction)
        coarse = displace_pivot(coarse, joint.name, pivot_shift * size * direction)
    names = [j.name for j in coarse.movable_joints]
    flipped = list(rng.choice(names, size=min(flip, len(names)), replace=False)) if names else []
    for name in flipped:
        coarse.joint(name).axis = -np.asarray(coarse.joint(name).axis, float)
    return coarse, [str(n) for n in flipped]


def _world_axes(obj: ArticulatedObject) -> dict[str, np.ndarray]:
    from spark_blender.core.kinematics import joint_frames

    return {name: axis for name, (_, axis) in joint_frames(obj).items()}
