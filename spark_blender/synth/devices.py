"""Small devices: Laptop, Toaster, CoffeeMachine, Stapler, Switch, Faucet.

Ranges follow the dev cases: laptop screens open ~1.7-2.1 rad from closed, toaster sliders travel
most of the slot, coffee-machine levers and lids turn a fraction of a radian, stapler arms up to
~1.3 rad, rocker switches +-0.07-0.15 rad, faucet levers +-1-1.5 rad.
"""

from __future__ import annotations

import numpy as np

from spark_blender.synth.appliances import add_button, add_knob
from spark_blender.synth.assembly import CLEARANCE, Assembly, Outer, fill_cell
from spark_blender.synth.materials import sample_palette
from spark_blender.synth.parts import (
    CarcassParams,
    ExtrusionParams,
    LeverParams,
    Piece,
    box_between,
    carcass,
    cylinder,
    extrusion,
    lever,
    segment_cylinder,
)


def laptop(seed: int, rng: np.random.Generator) -> Assembly:
    """Base with a keyboard, a screen lid hinged at the back edge, closed at rest."""
    width = float(rng.uniform(0.28, 0.4))
    # 16:9 ultrabooks (depth 0.62-0.68 of the width) to 16:10 and older 4:3 machines (0.82).
    depth = width * float(rng.uniform(0.62, 0.82))
    tb = float(rng.uniform(0.012, 0.02))
    ts = float(rng.uniform(0.006, 0.01))
    asm = Assembly(f"Laptop_{seed}", "Laptop", sample_palette(rng, ("metal", "plastic")))
    keyboard = Piece(
        box_between(
            (-width / 2 + 0.03, -depth / 2 + 0.08, tb - 0.0005),
            (width / 2 - 0.03, depth / 2 - 0.02, tb + 0.0002),
        ),
        "keyboard",
        "screen",
    )
    asm.add_link(
        "base",
        "base",
        [
            Piece(box_between((-width / 2, -depth / 2, 0), (width / 2, depth / 2, tb)), "deck"),
            keyboard,
        ],
    )
    gap = 0.001
    screen = [
        Piece(box_between((-width / 2, -depth, -ts), (width / 2, 0, 0)), "lid_shell", "front"),
        Piece(
            box_between(
                (-width / 2 + 0.012, -depth + 0.012, -ts - 0.0005),
                (width / 2 - 0.012, -0.02, -ts + 0.001),
            ),
            "display",
            "screen",
        ),
    ]
    asm.add_link("screen_0", "screen", screen)
    asm.add_joint(
        "revolute",
        "base",
        "screen_0",
        (0, depth / 2, tb + ts + gap),
        (-1, 0, 0),
        (0.0, float(rng.uniform(1.7, 2.1))),
        "screen",
    )
    return asm


def toaster(seed: int, rng: np.random.Generator) -> Assembly:
    """A rounded body with slots on top, a slider lever pushed down along the front, knobs."""
    # The long side runs front to back: the lever and knobs sit on the short front face.
    width = float(rng.uniform(0.15, 0.22))
    depth = float(rng.uniform(0.25, 0.38))
    height = float(rng.uniform(0.17, 0.22))
    asm = Assembly(f"Toaster_{seed}", "Toaster", sample_palette(rng, ("metal", "plastic")))
    body = extrusion(ExtrusionParams(width, height, depth, float(rng.uniform(0.01, 0.04))))
    body[0].mesh.apply_translation((0, 0, height / 2))
    slots = int(rng.integers(1, 3))
    for i in range(slots):
        x = (i - (slots - 1) / 2) * width * 0.4
        body.append(
            Piece(
                box_between(
                    (x - width * 0.1, -depth * 0.35, height - 0.0005),
                    (x + width * 0.1, depth * 0.35, height + 0.001),
                ),
                f"slot_{i}",
                "screen",
            )
        )
    lever_x = width * 0.25
    yf = -depth / 2
    top, bottom = height * 0.8, height * 0.25
    body.append(
        Piece(
            box_between(
                (lever_x - 0.005, yf - 0.002, bottom - 0.01),
                (lever_x + 0.005, yf + 0.001, top + 0.01),
            ),
            "lever_slot",
            "screen",
        )
    )
    asm.add_link("base", "base", body)
    handle = [
        Piece(box_between((-0.018, -0.022, -0.006), (0.018, -0.004, 0.006)), "slider", "handle")
    ]
    asm.add_link("slider_0", "slider", handle)
    asm.add_joint(
        "prismatic",
        "base",
        "slider_0",
        (lever_x, yf, top),
        (0, 0, -1),
        (0.0, top - bottom),
        "slider",
    )
    if rng.random() < 0.7:
        add_knob(asm, "base", (-width * 0.3, yf, height * 0.35), 0.016, 0.015)
    if rng.random() < 0.5:
        add_button(asm, "base", (-width * 0.3, yf, height * 0.7), 0.02, 0.01, 0.006)
    return asm


def coffee_machine(seed: int, rng: np.random.Generator) -> Assembly:
    """Drip-tray drawer in a hollow foot, a back tower with a head, a hinged tank lid on top,
    buttons or a knob on the head, and sometimes a side lever."""
    width = float(rng.uniform(0.2, 0.32))
    # Drip machines stand taller than deep; pod and espresso machines are deeper than tall.
    depth = float(rng.uniform(0.28, 0.42))
    height = float(rng.uniform(0.27, 0.42))
    foot_h = float(rng.uniform(0.05, 0.07))
    wall = 0.008
    asm = Assembly(
        f"CoffeeMachine_{seed}", "CoffeeMachine", sample_palette(rng, ("plastic", "metal"))
    )
    foot, cells = carcass(CarcassParams(width, depth, foot_h, wall, 0.004, 0.0), [1.0], [[1.0]])
    tower_d = depth * float(rng.uniform(0.35, 0.5))
    head_h = height * float(rng.uniform(0.25, 0.35))
    yb = depth / 2
    pieces = foot + [
        Piece(
            box_between((-width / 2, yb - tower_d, foot_h), (width / 2, yb, height - 0.02)), "tower"
        ),
        Piece(
            box_between(
                (-width / 2, -depth / 2 + 0.02, height - head_h),
                (width / 2, yb - tower_d, height - 0.02),
            ),
            "head",
        ),
    ]
    asm.add_link("base", "base", pieces)
    outer = Outer(-width / 2, width / 2, 0.0, foot_h, wall)
    fill_cell(asm, "base", cells[0][0], outer, "drawer", rng, wall - 0.001, handle=0.0)
    # Tank lid over the tower's top, hinged on its back edge.
    lid_d = depth - 0.02 - CLEARANCE
    lid = [Piece(box_between((-width / 2, -lid_d, -0.02), (width / 2, 0, 0)), "lid_panel", "front")]
    asm.add_link("lid_0", "lid", lid)
    asm.add_joint(
        "revolute",
        "base",
        "lid_0",
        (0, yb, height),
        (-1, 0, 0),
        (0.0, float(rng.uniform(0.8, 1.5))),
        "lid",
    )
    yf_head = -depth / 2 + 0.02
    z_head = height - head_h / 2 - 0.01
    if rng.random() < 0.5:
        add_knob(asm, "base", (width * 0.25, yf_head, z_head), min(0.02, head_h * 0.3), 0.015)
    for i in range(int(rng.integers(1, 4))):
        add_button(asm, "base", (-width * 0.3 + i * 0.03, yf_head, z_head), 0.02, 0.012, 0.006)
    if rng.random() < 0.5:
        p = LeverParams(
            length=height * 0.25, width=0.015, thickness=0.01, hub_radius=0.012, hub_length=0.012
        )
        asm.add_link("lever_0", "lever", lever(p, "lever", hub_axis="x"))
        asm.add_joint(
            "revolute",
            "base",
            "lever_0",
            (width / 2 + 0.006 + CLEARANCE, yb - tower_d / 2, height * 0.45),
            (1, 0, 0),
            (0.0, float(rng.uniform(0.3, 0.7))),
            "lever",
        )
    return asm


def stapler(seed: int, rng: np.random.Generator) -> Assembly:
    """A base plate, an arm (magazine) hinged at the back, and a top cover hinged on the arm."""
    length = float(rng.uniform(0.12, 0.2))
    width = float(rng.uniform(0.028, 0.05))
    tb = float(rng.uniform(0.008, 0.014))
    # Mini and desktop staplers (magazine 25-40 mm) to tall long-reach / heavy-duty ones (60 mm).
    arm_h = float(rng.uniform(0.025, 0.04) if rng.random() < 0.7 else rng.uniform(0.04, 0.06))
    asm = Assembly(f"Stapler_{seed}", "Stapler", sample_palette(rng, ("plastic", "metal")))
    block = 0.02
    yb = length / 2
    z_hinge = tb + 0.002 + arm_h
    y_hinge = yb - block - CLEARANCE
    asm.add_link(
        "base",
        "base",
        [
            Piece(box_between((-width / 2, -yb, 0), (width / 2, yb, tb)), "plate", "metal"),
            Piece(
                box_between((-width / 2, yb - block, tb), (width / 2, yb, z_hinge)), "pivot_block"
            ),
        ],
    )
    arm_len = length - block - 0.01
    asm.add_link(
        "arm_0",
        "arm",
        [
            Piece(
                box_between((-width * 0.4, -arm_len, -arm_h), (width * 0.4, 0, 0)),
                "magazine",
                "metal",
            ),
        ],
    )
    asm.add_joint(
        "revolute",
        "base",
        "arm_0",
        (0, y_hinge, z_hinge),
        (-1, 0, 0),
        (0.0, float(rng.uniform(0.9, 1.4))),
        "arm",
    )
    cover_t = 0.008
    asm.add_link(
        "cover_0",
        "lid",
        [
            Piece(
                box_between((-width / 2, -arm_len - 0.005, 0.001), (width / 2, 0, 0.001 + cover_t)),
                "cover",
                "front",
            ),
        ],
    )
    asm.add_joint(
        "revolute",
        "arm_0",
        "cover_0",
        (0, 0, 0),
        (-1, 0, 0),
        (0.0, float(rng.uniform(0.4, 0.8))),
        "lid",
    )
    return asm


def switch(seed: int, rng: np.random.Generator) -> Assembly:
    """A wall plate with 1-3 rocker switches, each in its own bezel, rocking about X."""
    n = int(rng.integers(1, 4))
    rocker_w, rocker_h = float(rng.uniform(0.018, 0.028)), float(rng.uniform(0.03, 0.045))
    pitch = rocker_w + 0.02
    width = max(0.08, n * pitch + 0.03)
    height = float(rng.uniform(0.08, 0.12))
    plate_t = 0.006
    asm = Assembly(f"Switch_{seed}", "Switch", sample_palette(rng, ("plastic", "painted")))
    plate = [Piece(box_between((-width / 2, 0, 0), (width / 2, plate_t, height)), "plate")]
    yf = 0.0
    zc = height / 2
    bezel_d, b = 0.008, 0.004
    gap = 0.002
    for i in range(n):
        x = (i - (n - 1) / 2) * pitch
        x0, x1 = x - rocker_w / 2 - gap, x + rocker_w / 2 + gap
        z0, z1 = zc - rocker_h / 2 - gap, zc + rocker_h / 2 + gap
        plate += [
            Piece(
                box_between((x0 - b, yf - bezel_d, z0 - b), (x1 + b, yf, z0)), f"bezel{i}_b", "trim"
            ),
            Piece(
                box_between((x0 - b, yf - bezel_d, z1), (x1 + b, yf, z1 + b)), f"bezel{i}_t", "trim"
            ),
            Piece(box_between((x0 - b, yf - bezel_d, z0), (x0, yf, z1)), f"bezel{i}_l", "trim"),
            Piece(box_between((x1, yf - bezel_d, z0), (x1 + b, yf, z1)), f"bezel{i}_r", "trim"),
        ]
    asm.add_link("base", "base", plate)
    tilt = float(rng.uniform(0.07, 0.15))
    for i in range(n):
        x = (i - (n - 1) / 2) * pitch
        # The rocker floats 4 mm in front of the plate, pivoting about X through its centre, so
        # its corners stay clear of the plate and the bezel through the whole tilt.
        rocker = [
            Piece(
                box_between(
                    (-rocker_w / 2, -0.004, -rocker_h / 2), (rocker_w / 2, 0.004, rocker_h / 2)
                ),
                f"rocker_{i}",
                "button",
            )
        ]
        name = asm.add_link(f"toggle_{i}", "switch", rocker)
        asm.add_joint(
            "revolute", "base", name, (x, yf - 0.008, zc), (1, 0, 0), (-tilt, tilt), "switch"
        )
    return asm


def faucet(seed: int, rng: np.random.Generator) -> Assembly:
    """A deck plate and column with a spout; a lever on top swings about Z (or lifts about X);
    some spouts swivel about the column; some basin taps have a pop-up drain's pull stem behind
    the column (a small rod lifting along Z)."""
    col_r = float(rng.uniform(0.018, 0.028))
    col_h = float(rng.uniform(0.12, 0.25))
    reach = float(rng.uniform(0.1, 0.2))
    asm = Assembly(f"Faucet_{seed}", "Faucet", sample_palette(rng, ("metal",)))
    base = [
        Piece(cylinder(col_r * 1.8, 0.01, "z", (0, 0, 0.005), 24), "deck"),
        Piece(cylinder(col_r, col_h, "z", (0, 0, 0.01 + col_h / 2), 24), "column"),
    ]
    spout_z = 0.01 + col_h * 0.7
    spout_r = col_r * 0.45
    spout = [
        # The arm starts 1 mm off the column, so it swivels around it without cutting into it.
        Piece(
            segment_cylinder((0, -col_r - 0.001, 0), (0, -reach, 0), spout_r, 16),
            "spout_arm",
            "metal",
        ),
        Piece(
            segment_cylinder((0, -reach, 0), (0, -reach, -0.04), spout_r, 16), "spout_tip", "metal"
        ),
    ]
    swivel = rng.random() < 0.4
    if swivel:
        asm.add_link("base", "base", base)
        asm.add_link("spout_0", "spout", spout)
        asm.add_joint(
            "revolute", "base", "spout_0", (0, 0, spout_z), (0, 0, 1), (-1.0, 1.0), "spout"
        )
    else:
        for piece in spout:
            piece.mesh.apply_translation((0, 0, spout_z))
        asm.add_link("base", "base", base + spout)
    top = 0.01 + col_h
    p = LeverParams(
        length=float(rng.uniform(0.06, 0.1)),
        width=0.012,
        thickness=0.008,
        hub_radius=col_r * 0.8,
        hub_length=0.02,
    )
    pieces = [
        Piece(
            cylinder(p.hub_radius, p.hub_length, "z", (0, 0, 0.002 + p.hub_length / 2), 20),
            "lever_hub",
            "metal",
        ),
        Piece(
            box_between(
                (-p.width / 2, 0, 0.002 + p.hub_length - p.thickness),
                (p.width / 2, p.length, 0.002 + p.hub_length),
            ),
            "lever_arm",
            "handle",
        ),
    ]
    # The arm points backwards (+Y) so it never meets the spout in front.
    asm.add_link("lever_0", "lever", pieces)
    if rng.random() < 0.6:
        asm.add_joint("revolute", "base", "lever_0", (0, 0, top), (0, 0, 1), (-1.2, 1.2), "switch")
    else:
        # Lifting: the arm lies along +Y; turning about +X through the hub's front bottom edge
        # raises its free end and keeps the whole lever above the column's top.
        for piece in pieces:
            piece.mesh.apply_translation((0, p.hub_radius, 0))
        asm.add_joint(
            "revolute", "base", "lever_0", (0, -p.hub_radius, top), (1, 0, 0), (0.0, 0.6), "switch"
        )
    if rng.random() < 0.35:
        # Pull stem: a rod with a knob on top standing on the deck behind the column, 3 mm off
        # it and 0.5 mm above the deck; pulling it lifts the drain plug.
        r = float(rng.uniform(0.0035, 0.005))
        length = float(rng.uniform(0.035, min(0.07, col_h * 0.45)))
        y = col_r + CLEARANCE + 1.4 * r
        stem = [
            Piece(cylinder(r, length, "z", (0, 0, length / 2), 12), "stem_rod", "metal"),
            Piece(cylinder(1.4 * r, 0.008, "z", (0, 0, length + 0.004), 16), "stem_knob", "knob"),
        ]
        asm.add_link("stem_0", "button", stem)
        asm.add_joint(
            "prismatic",
            "base",
            "stem_0",
            (0, y, 0.0105),
            (0, 0, 1),
            (0.0, float(rng.uniform(0.015, 0.03))),
            "button",
        )
    return asm
