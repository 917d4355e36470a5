"""Building fixtures: Door (leaf or pair in a frame), Window (sliding or casement), Toilet.

Door leaves sit inside the frame's opening and hinge at their front corner, so they swing out of
the frame without touching the jamb; dev doors turn about 1 rad, we allow up to ~1.6. Sliding
sashes run in two tracks at different depths and pass each other; casements open ~1.2-1.4 rad.
The toilet's lid is a child of the seat (lifting the seat lifts the lid, as on a real toilet).
"""

from __future__ import annotations

import math

import numpy as np

from spark_blender.synth.appliances import add_button
from spark_blender.synth.assembly import CLEARANCE, Assembly
from spark_blender.synth.materials import sample_palette
from spark_blender.synth.parts import (
    BarHandleParams,
    LeverParams,
    Piece,
    bar_handle,
    box_between,
    cylinder,
    lever,
)


def _frame(width, height, depth, jamb, y0=0.0, sill=True, name="frame") -> list[Piece]:
    """A rectangular frame around an opening `width` x `height` whose bottom is at z = 0 (or
    on a sill of `jamb` when `sill`), spanning y in [y0, y0 + depth]."""
    w = width / 2
    z0 = jamb if sill else 0.0
    pieces = [
        Piece(box_between((-w - jamb, y0, 0), (-w, y0 + depth, z0 + height + jamb)), f"{name}_l"),
        Piece(box_between((w, y0, 0), (w + jamb, y0 + depth, z0 + height + jamb)), f"{name}_r"),
        Piece(
            box_between((-w, y0, z0 + height), (w, y0 + depth, z0 + height + jamb)), f"{name}_head"
        ),
    ]
    if sill:
        pieces.append(Piece(box_between((-w, y0, 0), (w, y0 + depth, jamb)), f"{name}_sill"))
    return pieces


def door(seed: int, rng: np.random.Generator) -> Assembly:
    """A room door (one leaf), a pair of French doors (two leaves, often glazed), or a pair of
    low cabinet-like doors in a deep casing (a built-in cupboard, a hatch or a knee-wall door:
    wider than tall, the casing 15-50% as deep as tall, a sill under the leaves)."""
    style = rng.choice(["room", "room", "room", "french", "cabinet"], p=[0.2, 0.2, 0.2, 0.2, 0.2])
    if style == "cabinet":
        height = float(rng.uniform(0.45, 1.1))
        leaf_w = height * float(rng.uniform(0.4, 1.1))
        depth = height * float(rng.uniform(0.15, 0.5))
        jamb = float(rng.uniform(0.03, 0.05))
        t = float(rng.uniform(0.02, 0.03))
    else:
        double = style == "french"
        leaf_w = float(rng.uniform(0.7, 0.95)) * (float(rng.uniform(0.55, 0.8)) if double else 1.0)
        height = float(rng.uniform(1.95, 2.15))
        depth = float(rng.uniform(0.1, 0.16))
        jamb = float(rng.uniform(0.04, 0.07))
        t = float(rng.uniform(0.035, 0.045))
    leaves = 1 if style == "room" else 2
    sill = style == "cabinet"
    z0 = jamb if sill else 0.0
    opening = leaves * leaf_w + (leaves + 1) * CLEARANCE
    asm = Assembly(f"Door_{seed}", "Door", sample_palette(rng, ("wood", "painted")))
    frame = _frame(opening, height + 2 * CLEARANCE, depth, jamb, -depth / 2, sill=sill)
    asm.add_link("base", "base", frame)
    # Room doors hang mid-frame; cabinet-like leaves sit flush with the casing's front, so an
    # open leaf and its handle stay in front of the deep casing.
    y_front = -depth / 2 if style == "cabinet" else -t / 2
    limit = float(rng.uniform(1.2, 1.57))
    hinge_left = rng.random() < 0.5
    glazed = style == "french" and rng.random() < 0.7
    panelled = not glazed and rng.random() < 0.5
    inset = min(0.1, 0.18 * leaf_w)
    for i in range(leaves):
        side = (1.0 if hinge_left else -1.0) if leaves == 1 else (1.0 if i == 0 else -1.0)
        hinge_x = -opening / 2 + CLEARANCE if side > 0 else opening / 2 - CLEARANCE
        x0, x1 = sorted((0.0, side * leaf_w))
        if glazed:  # a stile-and-rail frame around a glass pane
            pieces = _sash(x0, x1, 0.0, height, 0.0, t, float(rng.uniform(0.08, 0.12)), f"leaf{i}")
            for piece in pieces:
                piece.role = "glass" if piece.role == "glass" else "front"
        else:
            pieces = [Piece(box_between((x0, 0, 0), (x1, t, height)), f"leaf{i}_panel", "front")]
        if panelled:  # raised panels on the face
            for k, (za, zb) in enumerate(((0.1, 0.45), (0.55, 0.9))):
                pieces.append(
                    Piece(
                        box_between(
                            (x0 + inset, -0.006, za * height), (x1 - inset, 0.0, zb * height)
                        ),
                        f"leaf{i}_panel{k}",
                        "trim",
                    )
                )
        grip = min(0.14, 0.3 * height)
        reach = min(0.07, 0.2 * leaf_w)
        handle = bar_handle(
            BarHandleParams(grip, 0.009 if style != "cabinet" else 0.006, 0.05, 0.0),
            (side * (leaf_w - reach) - side * grip / 2.8, 0.0, 0.48 * height),
            f"leaf{i}_handle",
        )
        pieces += handle
        name = asm.add_link(f"door_{i}", "door", pieces)
        # Hinge on the leaf's front corner: the leaf (behind the axis) swings out of the frame.
        asm.add_joint(
            "revolute",
            "base",
            name,
            (hinge_x, y_front, z0 + CLEARANCE),
            (0, 0, -1) if side > 0 else (0, 0, 1),
            (0.0, limit),
            "door",
        )
    return asm


def window(seed: int, rng: np.random.Generator) -> Assembly:
    width = float(rng.uniform(0.6, 1.4))
    height = float(rng.uniform(0.6, 1.4))
    depth = float(rng.uniform(0.08, 0.12))
    jamb = float(rng.uniform(0.04, 0.06))
    asm = Assembly(f"Window_{seed}", "Window", sample_palette(rng, ("painted", "wood", "metal")))
    asm.add_link("base", "base", _frame(width, height, depth, jamb, -depth / 2, sill=True))
    style = rng.choice(["slide_h", "slide_v", "casement"])
    st = 0.03  # sash thickness (y)
    bar = float(rng.uniform(0.035, 0.05))
    z0 = jamb
    if style == "casement":
        leaves = 1 if width < 0.9 else 2
        lw = (width - (leaves + 1) * CLEARANCE) / leaves
        for i in range(leaves):
            side = 1.0 if i == 0 else -1.0
            x0, x1 = sorted((0.0, side * lw))
            pieces = _sash(x0, x1, 0.0, height - 2 * CLEARANCE, 0.0, st, bar, f"sash{i}")
            name = asm.add_link(f"window_{i}", "window", pieces)
            hinge_x = -width / 2 + CLEARANCE if side > 0 else width / 2 - CLEARANCE
            asm.add_joint(
                "revolute",
                "base",
                name,
                (hinge_x, -st / 2, z0 + CLEARANCE),
                (0, 0, -1) if side > 0 else (0, 0, 1),
                (0.0, float(rng.uniform(1.1, 1.4))),
                "window",
            )
        return asm
    # Two sashes in two tracks (front and back), each a bit over half the opening.
    gap = 0.006
    y_tracks = (-st - gap / 2, gap / 2)
    if style == "slide_h":
        sw = width / 2 + bar / 2
        travel = width - sw - 2 * CLEARANCE
        for i, (xa, y) in enumerate(
            ((-width / 2 + CLEARANCE, y_tracks[0]), (width / 2 - CLEARANCE - sw, y_tracks[1]))
        ):
            pieces = _sash(0.0, sw, 0.0, height - 2 * CLEARANCE, 0.0, st, bar, f"sash{i}")
            name = asm.add_link(f"window_{i}", "window", pieces)
            axis = (1, 0, 0) if i == 0 else (-1, 0, 0)
            asm.add_joint(
                "prismatic",
                "base",
                name,
                (xa, y, z0 + CLEARANCE),
                axis,
                (0.0, travel * float(rng.uniform(0.7, 1.0))),
                "window",
            )
    else:
        sh = height / 2 + bar / 2
        travel = height - sh - 2 * CLEARANCE
        for i, (za, y) in enumerate(
            ((z0 + CLEARANCE, y_tracks[1]), (z0 + height - CLEARANCE - sh, y_tracks[0]))
        ):
            pieces = _sash(
                -width / 2 + CLEARANCE, width / 2 - CLEARANCE, 0.0, sh, 0.0, st, bar, f"sash{i}"
            )
            name = asm.add_link(f"window_{i}", "window", pieces)
            axis = (0, 0, 1) if i == 0 else (0, 0, -1)
            asm.add_joint(
                "prismatic",
                "base",
                name,
                (0.0, y, za),
                axis,
                (0.0, travel * float(rng.uniform(0.7, 1.0))),
                "window",
            )
    return asm


def _sash(x0, x1, z0, z1, y0, t, bar, name) -> list[Piece]:
    """Four frame bars and a glass pane between them."""
    return [
        Piece(box_between((x0, y0, z0), (x1, y0 + t, z0 + bar)), f"{name}_bottom", "trim"),
        Piece(box_between((x0, y0, z1 - bar), (x1, y0 + t, z1)), f"{name}_top", "trim"),
        Piece(box_between((x0, y0, z0 + bar), (x0 + bar, y0 + t, z1 - bar)), f"{name}_l", "trim"),
        Piece(box_between((x1 - bar, y0, z0 + bar), (x1, y0 + t, z1 - bar)), f"{name}_r", "trim"),
        Piece(
            box_between((x0 + bar, y0 + 0.4 * t, z0 + bar), (x1 - bar, y0 + 0.6 * t, z1 - bar)),
            f"{name}_glass",
            "glass",
        ),
    ]


def _ellipse_ring(rx, ry, width, z0, thickness, segments=16, name="ring") -> list[Piece]:
    """An elliptical ring (toilet seat) of short straight convex segments in the XY plane."""
    pieces = []
    angles = np.linspace(0, 2 * math.pi, segments + 1)
    for i in range(segments):
        a0, a1 = angles[i], angles[i + 1]
        outer = [(rx * math.cos(a), ry * math.sin(a)) for a in (a0, a1)]
        inner = [((rx - width) * math.cos(a), (ry - width) * math.sin(a)) for a in (a0, a1)]
        pts = np.array([[x, y, z] for x, y in outer + inner for z in (z0, z0 + thickness)])
        import trimesh

        pieces.append(Piece(trimesh.convex.convex_hull(pts), f"{name}_{i}", "front"))
    return pieces


def _elliptic_slab(rx, ry, z0, thickness, name) -> Piece:
    import trimesh

    mesh = cylinder(1.0, thickness, "z", (0, 0, 0), 32)
    mesh.apply_scale((rx, ry, 1.0))
    mesh.apply_translation((0, 0, z0 + thickness / 2))
    return Piece(trimesh.Trimesh(mesh.vertices, mesh.faces), name, "front")


def toilet(seed: int, rng: np.random.Generator) -> Assembly:
    """Bowl, tank, a seat hinged behind the bowl, the lid hinged on the seat, and a flush lever on
    the tank's side, a push button on the tank's top, or (older tanks refitted) both."""
    bowl_rx = float(rng.uniform(0.17, 0.2))
    bowl_ry = float(rng.uniform(0.22, 0.27))
    bowl_h = float(rng.uniform(0.36, 0.42))
    tank_w = 2 * bowl_rx + float(rng.uniform(0.04, 0.1))
    tank_d = float(rng.uniform(0.15, 0.2))
    tank_h = float(rng.uniform(0.3, 0.4))
    asm = Assembly(f"Toilet_{seed}", "Toilet", sample_palette(rng, ("painted",)))
    bowl_cy = 0.0
    bowl = cylinder(1.0, bowl_h, "z", (0, 0, bowl_h / 2), 32)
    bowl.apply_scale((bowl_rx * 0.8, bowl_ry * 0.8, 1.0))
    top = cylinder(1.0, 0.08, "z", (0, 0, bowl_h - 0.04), 32)
    top.apply_scale((bowl_rx, bowl_ry, 1.0))
    hinge_y = bowl_cy + bowl_ry + 0.02
    # The tank stands 7 cm behind the hinge line so the open lid and seat stand clear of it.
    tank_y0 = hinge_y + 0.07
    base = [
        Piece(bowl, "bowl_foot"),
        Piece(top, "bowl_rim"),
        Piece(
            box_between((-0.06, bowl_ry * 0.5, bowl_h - 0.04), (0.06, tank_y0 + 0.01, bowl_h)),
            "hinge_deck",
        ),
        Piece(
            box_between(
                (-tank_w / 2, tank_y0, bowl_h), (tank_w / 2, tank_y0 + tank_d, bowl_h + tank_h)
            ),
            "tank",
        ),
        Piece(box_between((-0.1, tank_y0, 0), (0.1, tank_y0 + tank_d * 0.6, bowl_h)), "tank_stand"),
    ]
    asm.add_link("base", "base", base)
    seat_t, lid_t = 0.02, 0.018
    # Seat frame: the hinge axis at the seat's top back edge; the ring lies in front of it.
    seat = _ellipse_ring(bowl_rx, bowl_ry, 0.06, -seat_t, seat_t, name="seat")
    for piece in seat:
        piece.mesh.apply_translation((0, -(hinge_y - bowl_cy), 0))
    asm.add_link("seat_0", "seat", seat)
    asm.add_joint(
        "revolute",
        "base",
        "seat_0",
        (0, hinge_y, bowl_h + CLEARANCE + seat_t),
        (-1, 0, 0),
        (0.0, float(rng.uniform(1.4, 1.6))),
        "seat",
    )
    lid = _elliptic_slab(bowl_rx, bowl_ry, 0.0, lid_t, "lid_panel")
    lid.mesh.apply_translation((0, -(hinge_y - bowl_cy), 0))
    # The lid hinges on the seat's hinge line, just above it: its thickness swings towards the
    # tank, which stands 7 cm back.
    asm.add_link("lid_0", "lid", [lid])
    asm.add_joint(
        "revolute",
        "seat_0",
        "lid_0",
        (0, 0, CLEARANCE),
        (-1, 0, 0),
        (0.0, float(rng.uniform(1.4, 1.6))),
        "lid",
    )
    flush = rng.choice(["lever", "button", "both"], p=[0.5, 0.35, 0.15])
    if flush in ("lever", "both"):
        p = LeverParams(
            length=0.05, width=0.014, thickness=0.008, hub_radius=0.01, hub_length=0.012
        )
        pieces = lever(p, "flush", hub_axis="x")
        asm.add_link("lever_0", "lever", pieces)
        asm.add_joint(
            "revolute",
            "base",
            "lever_0",
            (tank_w / 2 + 0.006 + CLEARANCE, tank_y0 + 0.04, bowl_h + tank_h * 0.7),
            (1, 0, 0),
            (0.0, 0.5),
            "lever",
        )
    if flush in ("button", "both"):
        # A round or a dual-flush (rectangular) push button on the middle of the tank's top.
        round_ = rng.random() < 0.6
        width = float(rng.uniform(0.035, 0.05)) if round_ else float(rng.uniform(0.05, 0.08))
        height = width if round_ else float(rng.uniform(0.025, 0.035))
        at = (0.0, tank_y0 + tank_d / 2, bowl_h + tank_h)
        add_button(asm, "base", at, width, height, 0.01, 1.0 if round_ else 0.0, up=True)
    return asm
