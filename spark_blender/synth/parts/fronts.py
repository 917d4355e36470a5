"""Fronts and handles: bar and arc handles, panel doors, drawers, lids."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh

from spark_blender.synth.parts.controls import KnobParams, knob_pieces
from spark_blender.synth.parts.primitives import (
    Params,
    Piece,
    box_between,
    recorded,
    segment_cylinder,
)


# ============================================================================================
# Handles
# ============================================================================================
@dataclass
class BarHandleParams(Params):
    """A straight bar on two posts; `vertical` 1 = bar along Z, 0 = along X."""

    length: float = 0.12
    radius: float = 0.006
    standoff: float = 0.03
    vertical: float = 0.0


@recorded("bar_handle")
def bar_handle(p: BarHandleParams, at=(0.0, 0.0, 0.0), name: str = "handle") -> list[Piece]:
    """Bar handle mounted on a surface facing -Y at point `at` (its centre)."""
    at = np.asarray(at, float)
    r, s, half = p.radius, p.standoff, p.length / 2.0
    along = np.array([0, 0, 1.0]) if p.vertical >= 0.5 else np.array([1.0, 0, 0])
    post_r = r * 0.8
    ends = [at + along * (half - 2 * r), at - along * (half - 2 * r)]
    pieces = [
        Piece(segment_cylinder(e, e + [0, -s + r, 0], post_r, 8), f"{name}_post{i}", "handle")
        for i, e in enumerate(ends)
    ]
    bar_centre = at + np.array([0, -s, 0])
    pieces.append(
        Piece(
            segment_cylinder(bar_centre - along * half, bar_centre + along * half, r, 10),
            f"{name}_bar",
            "handle",
        )
    )
    return pieces


@dataclass
class ArcHandleParams(Params):
    """A wire bent into a circular arc (bucket, kettle, suitcase): a chain of short cylinders."""

    radius: float = 0.15
    wire: float = 0.004
    span: float = math.pi  # arc angle
    segments: float = 10.0


@recorded("arc_handle")
def arc_handle(p: ArcHandleParams, name: str = "handle") -> list[Piece]:
    """Arc in the XZ plane centred on the origin, from angle (pi - span)/2 to (pi + span)/2."""
    n = max(int(round(p.segments)), 2)
    start = (math.pi - p.span) / 2.0
    angles = start + np.linspace(0.0, p.span, n + 1)
    pts = np.stack([p.radius * np.cos(angles), np.zeros_like(angles), p.radius * np.sin(angles)], 1)
    return [
        Piece(segment_cylinder(pts[i], pts[i + 1], p.wire, 8), f"{name}_{i}", "handle")
        for i in range(n)
    ]


# ============================================================================================
# Doors, drawers, lids
# ============================================================================================
@dataclass
class DoorParams(Params):
    """A panel door hinged on a vertical (or horizontal) edge, with an optional handle.

    `side` +1: hinge on the left, the door extends to +X; -1: to -X. `handle` 0 none, 1 bar,
    2 knob. `handle_u`/`handle_v` place the handle as fractions of width (from the hinge) and
    height. `frame` > 0 adds a raised rim of that width (a shaker panel look) as separate boxes.
    """

    width: float = 0.4
    height: float = 0.7
    thickness: float = 0.018
    side: float = 1.0
    handle: float = 1.0
    handle_u: float = 0.88
    handle_v: float = 0.5
    handle_length: float = 0.12
    frame: float = 0.0
    glass: float = 0.0


@recorded("panel_door")
def panel_door(p: DoorParams, name: str = "door") -> list[Piece]:
    sign = 1.0 if p.side >= 0 else -1.0
    x0, x1 = sorted((0.0, sign * p.width))
    t = p.thickness
    pieces = []
    frame = min(p.frame, 0.3 * p.width, 0.3 * p.height)
    if p.glass >= 0.5 and frame > 0.0:
        f = frame
        pieces += [
            Piece(box_between((x0, -t, 0), (x1, 0, f)), f"{name}_rail_bottom"),
            Piece(box_between((x0, -t, p.height - f), (x1, 0, p.height)), f"{name}_rail_top"),
            Piece(box_between((x0, -t, f), (x0 + f, 0, p.height - f)), f"{name}_stile_a"),
            Piece(box_between((x1 - f, -t, f), (x1, 0, p.height - f)), f"{name}_stile_b"),
            Piece(
                box_between((x0 + f, -0.6 * t, f), (x1 - f, -0.4 * t, p.height - f)),
                f"{name}_glass",
                "glass",
            ),
        ]
    else:
        pieces.append(Piece(box_between((x0, -t, 0), (x1, 0, p.height)), f"{name}_panel", "front"))
        if frame > 0.0:  # a raised moulding: four bars inset by `frame` from the edges
            f, r, b = frame, min(0.006, t * 0.4), 0.3 * frame
            h, y0, y1 = p.height, -t - r, -t
            bars = {
                "b": ((x0 + f, y0, f), (x1 - f, y1, f + b)),
                "t": ((x0 + f, y0, h - f - b), (x1 - f, y1, h - f)),
                "l": ((x0 + f, y0, f + b), (x0 + f + b, y1, h - f - b)),
                "r": ((x1 - f - b, y0, f + b), (x1 - f, y1, h - f - b)),
            }
            pieces += [
                Piece(box_between(lo, hi), f"{name}_trim_{k}", "trim")
                for k, (lo, hi) in bars.items()
            ]
    pieces += _front_handle(
        p.handle,
        x0 + (x1 - x0) * (p.handle_u if sign > 0 else 1 - p.handle_u),
        p.handle_v * p.height,
        -t,
        p.handle_length,
        vertical=True,
        name=f"{name}_handle",
    )
    return pieces


def _front_handle(
    kind: float, x: float, z: float, y_face: float, length: float, vertical: bool, name: str
) -> list[Piece]:
    if kind < 0.5:
        return []
    if kind < 1.5:
        bar = BarHandleParams(length=length, radius=0.006, standoff=0.028, vertical=float(vertical))
        return bar_handle(bar, (x, y_face, z), name)
    knob = KnobParams(radius=0.014, height=0.024, pointer=0.0)
    return [
        Piece(m.mesh.apply_translation((x, y_face, z)), f"{name}_{i}", "handle")
        for i, m in enumerate(knob_pieces(knob))
    ]


@dataclass
class DrawerParams(Params):
    """An open box behind a front panel, with a handle (`handle` 0 none, 1 bar, 2 knob)."""

    width: float = 0.5
    height: float = 0.18
    depth: float = 0.4
    wall: float = 0.012
    front_width: float = 0.52
    front_height: float = 0.2
    front_thickness: float = 0.018
    handle: float = 1.0
    handle_length: float = 0.14


@recorded("drawer")
def drawer(p: DrawerParams, name: str = "drawer") -> list[Piece]:
    """Five boxes (front, bottom, two sides, back) and a handle; the box fills y in [0, depth]."""
    w, h, d, t = p.width, p.height, p.depth, p.wall
    ft = p.front_thickness
    fz0 = (h - p.front_height) / 2.0  # the front may overlap the cell edges (overlay front)
    pieces = [
        Piece(
            box_between(
                (-p.front_width / 2, -ft, fz0), (p.front_width / 2, 0, fz0 + p.front_height)
            ),
            f"{name}_front",
            "front",
        ),
        Piece(box_between((-w / 2, 0, 0), (w / 2, d, t)), f"{name}_bottom"),
        Piece(box_between((-w / 2, 0, t), (-w / 2 + t, d, h)), f"{name}_side_left"),
        Piece(box_between((w / 2 - t, 0, t), (w / 2, d, h)), f"{name}_side_right"),
        Piece(box_between((-w / 2 + t, d - t, t), (w / 2 - t, d, h)), f"{name}_back"),
    ]
    pieces += _front_handle(
        p.handle,
        0.0,
        fz0 + p.front_height / 2.0,
        -ft,
        p.handle_length,
        vertical=False,
        name=f"{name}_handle",
    )
    return pieces


@dataclass
class LidParams(Params):
    """A flat lid extending along -Y from a hinge along its top back edge (the origin), so it
    turns away from anything behind it; the panel spans z in [-thickness, 0].

    `rim` > 0 hangs a skirt of that height below the front and side edges (boxes `skirt_wall`
    thick: the body it covers must be that much smaller); `handle` 1 adds a bar on top.
    """

    width: float = 0.3
    depth: float = 0.3
    thickness: float = 0.012
    rim: float = 0.0
    skirt_wall: float = 0.006
    handle: float = 0.0


@recorded("lid")
def lid(p: LidParams, name: str = "lid") -> list[Piece]:
    w, d, t, s = p.width, p.depth, p.thickness, p.skirt_wall
    pieces = [Piece(box_between((-w / 2, -d, -t), (w / 2, 0, 0)), f"{name}_panel", "front")]
    if p.rim > 0.0:
        z0, z1 = -t - p.rim, -t
        pieces += [
            Piece(box_between((-w / 2, -d, z0), (w / 2, -d + s, z1)), f"{name}_skirt_front"),
            Piece(box_between((-w / 2, -d + s, z0), (-w / 2 + s, -s, z1)), f"{name}_skirt_l"),
            Piece(box_between((w / 2 - s, -d + s, z0), (w / 2, -s, z1)), f"{name}_skirt_r"),
        ]
    if p.handle >= 0.5:
        bar = BarHandleParams(length=min(0.12, w * 0.4), radius=0.006, standoff=0.025)
        for piece in bar_handle(bar, (0, 0, 0), f"{name}_handle"):
            # Turn the -Y standoff of a front handle into +Z on top of the lid, near the front.
            m = piece.mesh
            m.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0]))
            m.apply_translation((0, -d + 0.06, 0))
            pieces.append(Piece(m, piece.name, "handle"))
    return pieces
