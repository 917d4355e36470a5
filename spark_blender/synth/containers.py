"""Containers: Box, TrashCan, Suitcase, KitchenPot, Bucket, Bottle, Kettle.

Lids hinge at the back edge of the rim (opening lifts the front: axis -X) or lift straight up
(pot lids, prismatic +Z); bottle caps turn on the neck (continuous) or flip; bucket handles swing
about X through the ears. Dev ranges: box lids up to ~1.6-2.4 rad, trash-can lids up to pi,
suitcase lids ~1.6-2.4 and a telescopic handle, pot lids lift ~0.05 (normalised), bucket handles
about +-pi/2 to +-2.
"""

from __future__ import annotations

import math

import numpy as np

from spark_blender.synth.appliances import add_button
from spark_blender.synth.assembly import CLEARANCE, Assembly
from spark_blender.synth.materials import sample_palette
from spark_blender.synth.parts import (
    ArcHandleParams,
    LatheParams,
    LidParams,
    Piece,
    arc_handle,
    box_between,
    cylinder,
    lathe,
    lid,
    segment_cylinder,
)


def _open_box(width, depth, height, wall, z0=0.0, name="wall") -> list[Piece]:
    """Four walls and a floor: a box open at the top (separate convex panels)."""
    w, d, t = width / 2, depth / 2, wall
    return [
        Piece(box_between((-w, -d, z0), (w, d, z0 + t)), f"{name}_floor"),
        Piece(box_between((-w, -d, z0 + t), (w, -d + t, z0 + height)), f"{name}_front"),
        Piece(box_between((-w, d - t, z0 + t), (w, d, z0 + height)), f"{name}_back"),
        Piece(box_between((-w, -d + t, z0 + t), (-w + t, d - t, z0 + height)), f"{name}_left"),
        Piece(box_between((w - t, -d + t, z0 + t), (w, d - t, z0 + height)), f"{name}_right"),
    ]


def _hinged_lid(
    asm,
    width,
    depth,
    z_top,
    thickness,
    limit,
    name="lid_0",
    label="lid",
    parent="base",
    extra: list[Piece] | None = None,
):
    """A flat lid on top of an open box, hinged along its top back edge (so it turns away from
    anything behind it), opening about -X."""
    pieces = lid(LidParams(width, depth, thickness), name)
    asm.add_link(name, label, pieces + (extra or []))
    asm.add_joint(
        "revolute", parent, name, (0, depth / 2, z_top + thickness), (-1, 0, 0), (0.0, limit), label
    )
    return name


def box(seed: int, rng: np.random.Generator) -> Assembly:
    width = float(rng.uniform(0.2, 0.6))
    depth = width * float(rng.uniform(0.5, 0.9))
    height = width * float(rng.uniform(0.55, 0.95))
    wall = float(rng.uniform(0.006, 0.015))
    asm = Assembly(f"Box_{seed}", "Box", sample_palette(rng, ("wood", "plastic", "painted")))
    asm.add_link("base", "base", _open_box(width, depth, height, wall))
    lid_t = float(rng.uniform(0.008, 0.02))
    _hinged_lid(asm, width, depth, height, lid_t, float(rng.uniform(1.6, 2.4)))
    return asm


def trash_can(seed: int, rng: np.random.Generator) -> Assembly:
    """A bin with a hinged lid and, on pedal bins, a pedal at the front foot."""
    width = float(rng.uniform(0.22, 0.4))
    depth = width * float(rng.uniform(0.8, 1.0))
    height = width * float(rng.uniform(1.5, 2.0))
    wall = 0.006
    asm = Assembly(f"TrashCan_{seed}", "TrashCan", sample_palette(rng, ("metal", "plastic")))
    style = rng.choice(["pedal", "pedal", "wheelie", "plain"])
    pedal, wheelie = style == "pedal", style == "wheelie"
    lift = 0.03 if style != "plain" else 0.0
    pieces = _open_box(width, depth, height - lift, wall, z0=lift)
    # Feet under the corners (only the front ones on a wheelie bin: wheels carry the back).
    for sx in (-1, 1) if lift else ():
        for sy in (-1,) if wheelie else (-1, 1):
            x, y = sx * (width / 2 - 0.02), sy * (depth / 2 - 0.02)
            pieces.append(
                Piece(box_between((x - 0.015, y - 0.015, 0), (x + 0.015, y + 0.015, lift)), "foot")
            )
    asm.add_link("base", "base", pieces)
    limit = float(rng.uniform(1.6, 2.6)) if not pedal else float(rng.uniform(1.2, 1.6))
    _hinged_lid(asm, width, depth, height, 0.012, limit)
    if pedal:
        # Pedal: a plate in front of the foot, on a lever pivoting about X at the front wall.
        pw = width * 0.4
        pedal_pieces = [
            Piece(
                box_between((-pw / 2, -0.07, -0.006), (pw / 2, -0.01, 0.006)),
                "pedal_plate",
                "metal",
            ),
            Piece(
                box_between((-pw / 4, -0.01, -0.006), (pw / 4, -CLEARANCE, 0.006)),
                "pedal_arm",
                "metal",
            ),
        ]
        asm.add_link("pedal_0", "pedal", pedal_pieces)
        # Pressing turns the front down: about +X the -Y arm dips (rotation about +X sends -Y
        # towards -Z).
        asm.add_joint(
            "revolute",
            "base",
            "pedal_0",
            (0, -depth / 2, lift + 0.01),
            (1, 0, 0),
            (0.0, 0.25),
            "pedal",
        )
    if wheelie:
        # Two wheels beside the back corners, turning freely about X.
        r = float(rng.uniform(0.035, 0.05))
        for k, sx in enumerate((-1, 1)):
            # The wheel and a short axle reaching back to the bin's wall (0.5 mm off it).
            axle = CLEARANCE + 0.0015
            wheel = [
                Piece(cylinder(r, 0.02, "x", (0, 0, 0), 20), f"wheel_{k}", "trim"),
                Piece(
                    cylinder(0.006, axle, "x", (-sx * (0.01 + axle / 2), 0, 0), 12), "axle", "metal"
                ),
            ]
            name = asm.add_link(f"wheel_{k}", "wheel", wheel)
            asm.add_joint(
                "continuous", "base", name,
                (sx * (width / 2 + CLEARANCE + 0.012), depth / 2 - r, r), (1, 0, 0), label="wheel",
            )  # fmt: skip
    return asm


def suitcase(seed: int, rng: np.random.Generator) -> Assembly:
    """An upright case: the front shell is a lid hinged at a side edge, a telescopic handle
    slides up out of the top, and optionally two latch buttons; or a near-cubic hard-shell case
    (vanity, train or trunk case: ``_cubic_case``)."""
    if rng.random() < 0.35:
        return _cubic_case(seed, rng)
    width = float(rng.uniform(0.35, 0.5))
    depth = float(rng.uniform(0.2, 0.3))
    height = float(rng.uniform(0.5, 0.75))
    wall = 0.01
    shell = depth * float(rng.uniform(0.3, 0.45))
    asm = Assembly(f"Suitcase_{seed}", "Suitcase", sample_palette(rng, ("plastic", "metal")))
    body_d = depth - shell
    # Body: a tray open at the front (-Y), its back at +Y.
    w, yb, yf = width / 2, body_d / 2, -body_d / 2
    t = wall
    pieces = [
        Piece(box_between((-w, yb - t, 0), (w, yb, height)), "body_back"),
        Piece(box_between((-w, yf, 0), (w, yb - t, t)), "body_bottom"),
        Piece(box_between((-w, yf, height - t), (w, yb - t, height)), "body_top"),
        Piece(box_between((-w, yf, t), (-w + t, yb - t, height - t)), "body_left"),
        Piece(box_between((w - t, yf, t), (w, yb - t, height - t)), "body_right"),
    ]
    # Telescopic handle: two tubes running down the back, inside sleeves on the outside back.
    tube_x = width * 0.3
    sleeve_y = yb + 0.012
    for sx in (-1, 1):  # a square tube of four walls around each rod
        cx, lo, hi = sx * tube_x, 0.05, height - 0.005
        o, i = 0.012, 0.009
        pieces += [
            Piece(
                box_between((cx - o, sleeve_y - o, lo), (cx + o, sleeve_y - i, hi)),
                "sleeve",
                "trim",
            ),
            Piece(
                box_between((cx - o, sleeve_y + i, lo), (cx + o, sleeve_y + o, hi)),
                "sleeve",
                "trim",
            ),
            Piece(
                box_between((cx - o, sleeve_y - i, lo), (cx - i, sleeve_y + i, hi)),
                "sleeve",
                "trim",
            ),
            Piece(
                box_between((cx + i, sleeve_y - i, lo), (cx + o, sleeve_y + i, hi)),
                "sleeve",
                "trim",
            ),
        ]
    asm.add_link("base", "base", pieces)
    # Lid = front shell: a tray open towards +Y, hinged on the left edge, opening about -Z.
    lid = [
        Piece(box_between((0, -shell, 0), (width, -shell + t, height)), "lid_face", "front"),
        Piece(box_between((0, -shell + t, 0), (width, 0, t)), "lid_bottom", "front"),
        Piece(box_between((0, -shell + t, height - t), (width, 0, height)), "lid_top", "front"),
        Piece(box_between((0, -shell + t, t), (t, 0, height - t)), "lid_left", "front"),
        Piece(
            box_between((width - t, -shell + t, t), (width, 0, height - t)), "lid_right", "front"
        ),
    ]
    asm.add_link("lid_0", "lid", lid)
    asm.add_joint(
        "revolute",
        "base",
        "lid_0",
        (-w, yf - CLEARANCE, 0),
        (0, 0, -1),
        (0.0, float(rng.uniform(1.5, 2.2))),
        "lid",
    )
    # The handle: two rods hidden in the sleeves and a grip bar above the top.
    rod_len = height - 0.1
    grip_z = height + 0.03
    handle = [
        Piece(
            box_between(
                (sx * tube_x - 0.007, -0.007, grip_z - rod_len),
                (sx * tube_x + 0.007, 0.007, grip_z),
            ),
            f"rod_{sx}",
            "metal",
        )
        for sx in (-1, 1)
    ]
    handle.append(
        Piece(
            box_between((-tube_x - 0.012, -0.012, grip_z), (tube_x + 0.012, 0.012, grip_z + 0.025)),
            "grip",
            "handle",
        )
    )
    asm.add_link("handle_0", "handle", handle)
    asm.add_joint(
        "prismatic",
        "base",
        "handle_0",
        (0, sleeve_y, 0),
        (0, 0, 1),
        (0.0, float(rng.uniform(0.5, 0.9)) * rod_len * 0.9),
        "handle",
    )
    if rng.random() < 0.5:  # latch buttons on the top face
        for sx in (-1, 1):
            add_button(asm, "base", (sx * width * 0.15, 0.0, height), 0.02, 0.01, 0.006, up=True)
    return asm


def _cubic_case(seed: int, rng: np.random.Generator) -> Assembly:
    """A near-cubic hard-shell case: a deep top shell hinged on its top back edge, a carry
    handle folding up from the lid on two brackets, and often two latch buttons on the front."""
    width = float(rng.uniform(0.25, 0.5))
    height = width / float(rng.uniform(0.8, 1.2))
    depth = height * float(rng.uniform(0.6, 1.0))
    wall = 0.008
    shell = height * float(rng.uniform(0.2, 0.35))
    asm = Assembly(f"Suitcase_{seed}", "Suitcase", sample_palette(rng, ("plastic", "metal")))
    asm.add_link("base", "base", _open_box(width, depth, height - shell, wall, name="body"))
    # The lid: a tray open downwards, its rim 3 mm above the body's; frame on the hinge line.
    w, t, z0 = width / 2, wall, -shell + CLEARANCE
    lid_pieces = [
        Piece(box_between((-w, -depth, -t), (w, 0, 0)), "lid_top", "front"),
        Piece(box_between((-w, -depth, z0), (w, -depth + t, -t)), "lid_front", "front"),
        Piece(box_between((-w, -t, z0), (w, 0, -t)), "lid_back", "front"),
        Piece(box_between((-w, -depth + t, z0), (-w + t, -t, -t)), "lid_left", "front"),
        Piece(box_between((w - t, -depth + t, z0), (w, -t, -t)), "lid_right", "front"),
    ]
    # Carry handle: two arms and a grip lying flat on the lid, pivoting about X between two
    # brackets (2 mm beside the arms); it only rises, 2 mm above the lid at every angle.
    span = min(0.16, 0.5 * width)
    arm = float(rng.uniform(0.03, 0.05))
    grip_r, arm_r = 0.008, 0.005
    pivot_y, pivot_z = -depth / 2 + arm, grip_r + 0.002
    for sx in (-1, 1):
        xa = sx * (span / 2 + arm_r + 0.002)
        xb = xa + sx * 0.01
        lid_pieces.append(
            Piece(
                box_between(
                    (min(xa, xb), pivot_y - 0.009, 0), (max(xa, xb), pivot_y + 0.009, 0.02)
                ),
                f"bracket_{sx}",
                "trim",
            )
        )
    asm.add_link("lid_0", "lid", lid_pieces)
    asm.add_joint(
        "revolute",
        "base",
        "lid_0",
        (0, depth / 2, height),
        (-1, 0, 0),
        (0.0, float(rng.uniform(1.6, 2.2))),
        "lid",
    )
    handle = [
        Piece(segment_cylinder((-span / 2, -arm, 0), (span / 2, -arm, 0), grip_r, 12), "grip",
              "handle"),
        *(
            Piece(segment_cylinder((sx * span / 2, 0, 0), (sx * span / 2, -arm, 0), arm_r, 8),
                  f"arm_{sx}", "handle")
            for sx in (-1, 1)
        ),
    ]  # fmt: skip
    asm.add_link("handle_0", "handle", handle)
    # Folding up turns the grip from the front towards the back (about -X), up to lying flat
    # the other way.
    asm.add_joint(
        "revolute",
        "lid_0",
        "handle_0",
        (0, pivot_y, pivot_z),
        (-1, 0, 0),
        (0.0, float(rng.uniform(2.6, 3.0))),
        "handle",
    )
    if rng.random() < 0.7:  # latches on the body's front, just under the lid's rim
        z = height - shell - 0.02
        for sx in (-1, 1):
            add_button(asm, "base", (sx * width * 0.3, -depth / 2, z), 0.03, 0.015, 0.008)
    return asm


def kitchen_pot(seed: int, rng: np.random.Generator) -> Assembly:
    """A lathe pot with two side handles and a lid that lifts straight up."""
    radius = float(rng.uniform(0.09, 0.16))
    height = radius * float(rng.uniform(0.7, 1.2))
    wall = 0.004
    asm = Assembly(f"KitchenPot_{seed}", "KitchenPot", sample_palette(rng, ("metal",)))
    body = lathe(LatheParams(height, radius * 0.95, radius, radius, 0.3, wall, 0.0), name="pot")
    hz = height * 0.75
    for sx in (-1, 1):
        x0, x1 = sorted((sx * radius * 0.98, sx * (radius * 0.98 + 0.05)))
        body.append(
            Piece(
                box_between((x0, -0.015, hz - 0.01), (x1, 0.015, hz + 0.01)),
                f"side_handle_{sx}",
                "handle",
            )
        )
    asm.add_link("base", "base", body)
    lid_r = radius + 0.004
    lid = lathe(LatheParams(0.012, lid_r, lid_r * 0.9, lid_r * 0.6, 0.5, 0.0, 0.0), name="lid")
    lid.append(Piece(cylinder(0.015, 0.03, "z", (0, 0, 0.012 + 0.015), 16), "lid_knob", "knob"))
    asm.add_link("lid_0", "lid", lid)
    asm.add_joint(
        "prismatic",
        "base",
        "lid_0",
        (0, 0, height),
        (0, 0, 1),
        (0.0, float(rng.uniform(0.04, 0.12))),
        "lid",
    )
    return asm


def bucket(seed: int, rng: np.random.Generator) -> Assembly:
    """A tapered lathe bucket whose wire handle swings about X through two ears."""
    top_r = float(rng.uniform(0.1, 0.18))
    bottom_r = top_r * float(rng.uniform(0.7, 0.9))
    # Pails and mop buckets (height 1.6-2.6 top radii) and tall ones (florist, champagne or
    # ice buckets: up to 3.4).
    tall = rng.random() < 0.3
    height = top_r * float(rng.uniform(2.6, 3.4) if tall else rng.uniform(1.6, 2.6))
    asm = Assembly(f"Bucket_{seed}", "Bucket", sample_palette(rng, ("plastic", "metal")))
    body = lathe(
        LatheParams(height, bottom_r, (bottom_r + top_r) / 2, top_r, 0.5, 0.005, 0.0), name="pail"
    )
    ear_z = height - 0.03
    ear_x = top_r + 0.004
    for sx in (-1, 1):
        body.append(
            Piece(
                cylinder(0.012, 0.012, "x", (sx * (ear_x + 0.006), 0, ear_z), 12),
                f"ear_{sx}",
                "trim",
            )
        )
    asm.add_link("base", "base", body)
    # The handle arc: from one ear over the top to the other, pivoting at the ears. Ears stand
    # 12 mm off the rim, the wire is 4 mm, so the arc clears the pail at every angle.
    arc_r = ear_x + 0.018
    pieces = arc_handle(ArcHandleParams(arc_r, 0.004, math.pi, 12.0))
    for sx in (-1, 1):
        pieces.append(
            Piece(
                segment_cylinder((sx * arc_r, 0, 0), (sx * (ear_x + 0.012), 0, 0), 0.004, 8),
                f"pin_{sx}",
                "handle",
            )
        )
    asm.add_link("handle_0", "handle", pieces)
    # Swinging to either side: towards the front (about -X) is positive.
    down = float(rng.uniform(1.4, 1.57))
    asm.add_joint(
        "revolute", "base", "handle_0", (0, 0, ear_z), (-1, 0, 0), (-down, down), "handle"
    )
    return asm


def bottle(seed: int, rng: np.random.Generator) -> Assembly:
    """A lathe bottle with a neck and a screw cap turning on it (continuous), or a flip cap."""
    radius = float(rng.uniform(0.03, 0.05))
    height = radius * float(rng.uniform(6.0, 9.0))
    neck_r = radius * float(rng.uniform(0.35, 0.5))
    asm = Assembly(f"Bottle_{seed}", "Bottle", sample_palette(rng, ("glass", "plastic")))
    body_h = height * 0.88
    asm.add_link(
        "base",
        "base",
        lathe(LatheParams(body_h, radius * 0.95, radius, neck_r, 0.4, 0.0, 0.35), name="bottle"),
    )
    cap_h = height - body_h
    cap_r = neck_r + 0.003
    cap = [Piece(cylinder(cap_r, cap_h, "z", (0, 0, cap_h / 2), 20), "cap", "knob")]
    asm.add_link("cap_0", "lid", cap)
    if rng.random() < 0.6:
        asm.add_joint("continuous", "base", "cap_0", (0, 0, body_h + 0.001), (0, 0, 1), label="lid")
    else:
        # A flip cap hinged at the back of the neck (the cap rests on the neck top).
        for piece in cap:
            piece.mesh.apply_translation((0, -cap_r, 0))
        asm.add_joint(
            "revolute",
            "base",
            "cap_0",
            (0, cap_r, body_h + 0.001),
            (-1, 0, 0),
            (0.0, float(rng.uniform(1.8, 2.6))),
            "lid",
        )
    return asm


def kettle(seed: int, rng: np.random.Generator) -> Assembly:
    """A lathe kettle with a spout, a fixed arched handle and a hinged lid on the top opening."""
    radius = float(rng.uniform(0.08, 0.11))
    height = radius * float(rng.uniform(1.5, 2.0))
    asm = Assembly(f"Kettle_{seed}", "Kettle", sample_palette(rng, ("metal", "plastic")))
    top_r = radius * 0.6
    body = lathe(LatheParams(height, radius, radius * 1.02, top_r, 0.35, 0.004, 0.0), name="kettle")
    # Spout at the front, handle at the back (both fixed to the body).
    body.append(
        Piece(
            segment_cylinder(
                (0, -radius * 0.8, height * 0.3), (0, -radius * 1.5, height * 0.85), 0.012, 12
            ),
            "spout",
            "body",
        )
    )
    # A D-shaped grip behind: a half circle in the YZ plane bulging backwards (+Y).
    hr, cy, cz = height * 0.3, radius * 0.85, height * 0.5
    angles = np.linspace(-math.pi / 2, math.pi / 2, 9)
    points = np.stack([np.zeros(9), cy + hr * np.cos(angles), cz + hr * np.sin(angles)], 1)
    body += [
        Piece(segment_cylinder(points[i], points[i + 1], 0.01, 10), f"grip_{i}", "handle")
        for i in range(8)
    ]
    asm.add_link("base", "base", body)
    lid_r = top_r + 0.004
    lid = lathe(LatheParams(0.015, lid_r, lid_r, lid_r * 0.5, 0.5, 0.0, 0.0), name="lid")
    lid.append(Piece(cylinder(0.01, 0.02, "z", (0, 0, 0.025), 12), "lid_knob", "knob"))
    for piece in lid:
        piece.mesh.apply_translation((0, lid_r, 0))
    asm.add_link("lid_0", "lid", lid)
    # Hinged at the front edge of the opening, so the open lid stands clear of the grip behind;
    # opening about +X lifts the lid's back edge.
    asm.add_joint(
        "revolute",
        "base",
        "lid_0",
        (0, -lid_r, height + 0.001),
        (1, 0, 0),
        (0.0, float(rng.uniform(1.2, 1.6))),
        "lid",
    )
    return asm
