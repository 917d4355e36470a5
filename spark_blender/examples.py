"""A small articulated object built by the project's own code: the bundled example for the demo
command, the README and tests. A bedside cabinet: a carcass of separate panels, a door on the
top opening (revolute, hinged on the left) and a drawer in the bottom opening (prismatic).

Canonical frame (ARCHITECTURE.md): +Z up, front faces -Y, origin at the bottom centre.
"""

from __future__ import annotations

import numpy as np
import trimesh

from spark_blender.core.model import ArticulatedObject, Joint, Link, Material, Visual
from spark_blender.core.transforms import translation

WOOD = Material("oak", (0.72, 0.55, 0.36, 1.0), density=700.0)
FRONT = Material("painted_front", (0.86, 0.86, 0.82, 1.0), density=700.0)
METAL = Material("brushed_steel", (0.6, 0.6, 0.62, 1.0), density=7800.0)


def box(name: str, lo, hi, material: Material) -> Visual:
    """An axis-aligned box visual spanning corner `lo` to corner `hi` (link frame)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    mesh = trimesh.creation.box(extents=hi - lo)
    return Visual(mesh=mesh, origin=translation((lo + hi) / 2), material=material, name=name)


def example_cabinet(
    width: float = 0.6, depth: float = 0.45, height: float = 0.8, board: float = 0.018
) -> ArticulatedObject:
    w, d, h, t = width / 2, depth / 2, height, board
    split = 0.35 * h  # the shelf between the drawer (below) and the door (above)
    gap = 0.003
    carcass = [
        box("side_left", (-w, -d, 0), (-w + t, d, h), WOOD),
        box("side_right", (w - t, -d, 0), (w, d, h), WOOD),
        box("top", (-w + t, -d, h - t), (w - t, d, h), WOOD),
        box("bottom", (-w + t, -d, 0), (w - t, d, t), WOOD),
        box("back", (-w + t, d - t, t), (w - t, d, h - t), WOOD),
        box("shelf", (-w + t, -d, split), (w - t, d - t, split + t), WOOD),
    ]
    base = Link("base", visuals=carcass, label="base")

    # Door: overlays the upper opening; its frame sits on the hinge line (left edge, front face).
    door_w, door_h = 2 * w - 2 * gap, h - split - 2 * gap
    door = Link(
        "door",
        label="door",
        visuals=[
            box("door_panel", (0, 0, 0), (door_w, t, door_h), FRONT),
            box(
                "door_handle",
                (door_w - 0.05, -0.03, door_h * 0.35),
                (door_w - 0.03, 0, door_h * 0.65),
                METAL,
            ),
        ],
    )
    door_joint = Joint(
        "door_hinge",
        "revolute",
        "base",
        "door",
        origin=translation((-w + gap, -d - t, split + gap)),
        axis=np.array([0.0, 0.0, -1.0]),  # positive opens: the free edge swings out toward -Y
        lower=0.0,
        upper=np.deg2rad(110.0),
        label="rotation_door",
    )

    # Drawer: an open box in the lower opening; its frame sits at the middle of the carcass's
    # front edge, just above the bottom board, so its local z starts at base z = t + gap.
    z0 = t + gap
    inner_w = w - t - gap  # the box clears the side boards by `gap`
    box_depth = 2 * d - 2 * t  # and stops short of the back board
    box_top = split - gap - z0 - t  # below the shelf
    front = (-t, split - gap - z0)  # the front covers the opening, stopping `gap` below the door
    drawer = Link(
        "drawer",
        label="drawer",
        visuals=[
            box("drawer_front", (-w + gap, -t, front[0]), (w - gap, 0, front[1]), FRONT),
            box("drawer_left", (-inner_w, 0, 0), (-inner_w + t, box_depth, box_top), WOOD),
            box("drawer_right", (inner_w - t, 0, 0), (inner_w, box_depth, box_top), WOOD),
            box(
                "drawer_back",
                (-inner_w + t, box_depth - t, 0),
                (inner_w - t, box_depth, box_top),
                WOOD,
            ),
            box("drawer_bottom", (-inner_w + t, 0, 0), (inner_w - t, box_depth - t, t), WOOD),
            box(
                "drawer_handle",
                (-0.06, -t - 0.03, 0.4 * front[1]),
                (0.06, -t, 0.55 * front[1]),
                METAL,
            ),
        ],
    )
    drawer_joint = Joint(
        "drawer_slide",
        "prismatic",
        "base",
        "drawer",
        origin=translation((0.0, -d, z0)),
        axis=np.array([0.0, -1.0, 0.0]),
        lower=0.0,
        upper=0.8 * box_depth,
        label="drawer",
    )
    return ArticulatedObject(
        "example_cabinet", [base, door, drawer], [door_joint, drawer_joint], "StorageFurniture"
    )
