"""Appliances: Refrigerator, Microwave, Oven, Dishwasher, WashingMachine, Safe.

Each is a hollow carcass with side- or bottom-hinged doors, drawers, and controls (knobs on
continuous joints, push buttons on short prismatic joints) on a control strip that no door sweeps.
Ranges follow the dev cases: fridge doors up to pi-ish (we keep <= 2.0 rad so a door stays clear
of the wall it would meet), microwave/oven/dishwasher doors [0, pi/2], washing-machine porthole
doors ~[0, 1.6], safe doors up to ~1.9.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from spark_blender.synth.assembly import CLEARANCE, Assembly, Outer, fill_cell
from spark_blender.synth.materials import sample_palette
from spark_blender.synth.parts import (
    ButtonParams,
    CarcassParams,
    KnobParams,
    Piece,
    box_between,
    button,
    carcass,
    cylinder,
    knob_pieces,
    segment_cylinder,
)


def add_knob(asm: Assembly, parent: str, at, radius: float, height: float, axis=(0, -1, 0)):
    """A knob on a surface facing -Y at point `at`, turning continuously about -Y."""
    n = asm.count("knob")
    name = asm.add_link(
        f"knob_{n}", "knob", knob_pieces(KnobParams(radius, height, 1.0), f"knob_{n}")
    )
    asm.add_joint("continuous", parent, name, at, axis, label="knob")
    return name


def add_button(
    asm: Assembly,
    parent: str,
    at,
    width: float,
    height: float,
    depth: float,
    round_: float = 0.0,
    up: bool = False,
):
    """A push button on a surface facing -Y (or +Z when `up`) at point `at`.

    Like a membrane key, it stands off the surface by its travel (40% of its depth) plus 0.5 mm
    and presses in by that travel, so it never sinks into the surface it sits on.
    """
    n = asm.count("button")
    pieces = button(ButtonParams(width, height, depth, round_), f"button_{n}")
    travel = 0.4 * depth
    outward = np.array([0.0, -1.0, 0.0])
    if up:  # a quarter turn about X sends the -Y standoff to +Z
        rot = trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0])
        for piece in pieces:
            piece.mesh.apply_transform(rot)
        outward = np.array([0.0, 0.0, 1.0])
    name = asm.add_link(f"button_{n}", "button", pieces)
    origin = np.asarray(at, float) + outward * (travel + 0.0005)
    asm.add_joint("prismatic", parent, name, origin, -outward, (0.0, travel), "button")
    return name


def _cabinet(asm, rng, width, depth, height, wall, columns, rows, plinth=0.0):
    p = CarcassParams(width, depth, height, wall, 0.008, plinth)
    pieces, cells = carcass(p, columns, rows)
    asm.add_link("base", "base", pieces)
    return cells, Outer(-width / 2, width / 2, plinth, height, wall)


def refrigerator(seed: int, rng: np.random.Generator) -> Assembly:
    width = float(rng.uniform(0.6, 0.95))
    depth = float(rng.uniform(0.6, 0.75))
    height = float(rng.uniform(1.2, 1.85))
    wall = 0.04
    asm = Assembly(
        f"Refrigerator_{seed}", "Refrigerator", sample_palette(rng, ("painted", "metal"))
    )
    style = rng.choice(
        ["top_freezer", "bottom_drawer", "side_by_side", "single", "french", "compact"]
    )
    limit = float(rng.uniform(1.6, 2.0))
    t = 0.035
    if style == "compact":
        # Under-counter and mini fridges (office, hotel, bar): 0.5-0.9 m tall, one door.
        height = float(rng.uniform(0.5, 0.9))
        width = float(rng.uniform(0.45, 0.6))
        depth = float(rng.uniform(0.45, 0.62))
        cells, outer = _cabinet(asm, rng, width, depth, height, 0.03, [1.0], [[1.0]])
        fill_cell(asm, "base", cells[0][0], outer, "door", rng, 0.03, limit)
    elif style == "side_by_side":
        width = float(rng.uniform(0.8, 0.95))
        cells, outer = _cabinet(asm, rng, width, depth, height, wall, [0.45, 0.55], [[1.0], [1.0]])
        fill_cell(asm, "base", cells[0][0], outer, "door", rng, t, limit, hinge_side=1.0)
        fill_cell(asm, "base", cells[1][0], outer, "door", rng, t, limit, hinge_side=-1.0)
    elif style == "single":
        cells, outer = _cabinet(asm, rng, width, depth, height, wall, [1.0], [[1.0]])
        fill_cell(asm, "base", cells[0][0], outer, "door", rng, t, limit)
    else:
        freezer = float(rng.uniform(0.25, 0.4))
        bottom = style in ("bottom_drawer", "french")
        rows = [freezer, 1.0 - freezer] if bottom else [1 - freezer, freezer]
        cells, outer = _cabinet(asm, rng, width, depth, height, wall, [1.0], [rows])
        side = 1.0 if rng.random() < 0.5 else -1.0
        if style in ("bottom_drawer", "french"):
            # French doors: a pair over the freezer drawer (three moving parts).
            kind = "door_pair" if style == "french" else "door"
            fill_cell(asm, "base", cells[0][0], outer, "drawer", rng, t)
            fill_cell(asm, "base", cells[0][1], outer, kind, rng, t, limit, hinge_side=side)
        else:
            for cell in cells[0]:
                fill_cell(asm, "base", cell, outer, "door", rng, t, limit, hinge_side=side)
    return asm


def microwave(seed: int, rng: np.random.Generator) -> Assembly:
    """A box with a left-hinged door and a control strip on the right (knobs or buttons)."""
    width = float(rng.uniform(0.45, 0.6))
    height = float(rng.uniform(0.27, 0.36))
    depth = float(rng.uniform(0.32, 0.45))
    wall = 0.02
    strip = float(rng.uniform(0.1, 0.14))
    asm = Assembly(f"Microwave_{seed}", "Microwave", sample_palette(rng, ("painted", "metal")))
    inner = width - 2 * wall
    cells, outer = _cabinet(
        asm, rng, width, depth, height, wall, [inner - strip - wall, strip], [[1.0], [1.0]]
    )
    # The control column is closed: a panel across its front, controls on it.
    panel = cells[1][0]
    yf = panel.y_front
    asm.extend(
        "base",
        [
            Piece(
                box_between((panel.x0, yf, panel.z0), (panel.x1, yf + 0.01, panel.z1)),
                "control_panel",
            )
        ],
    )
    fill_cell(
        asm,
        "base",
        cells[0][0],
        outer,
        "door",
        rng,
        0.018,
        math.pi / 2,
        handle=float(rng.choice([0.0, 1.0])),
        hinge_side=1.0,
        door_style=(float(rng.uniform(0.04, 0.06)), 1.0),
    )
    cx = (panel.x0 + panel.x1) / 2
    if rng.random() < 0.3:
        _touch_panel(asm, cx, yf, panel.z0, panel.z1, panel.width)  # the door is all that moves
    else:
        _controls(asm, rng, cx, yf, panel.z0, panel.z1, panel.width)
    return asm


def _touch_panel(asm, cx, yf, z0, z1, width):
    """A fixed touch panel (display over a membrane pad) on a control strip facing -Y at `yf`:
    controls that do not move, as on many microwaves and built-in ovens."""
    w, h = 0.7 * width, z1 - z0
    x0, x1 = cx - w / 2, cx + w / 2
    asm.extend(
        "base",
        [
            Piece(
                box_between((x0, yf - 0.002, z1 - 0.3 * h), (x1, yf, z1 - 0.12 * h)),
                "display",
                "screen",
            ),
            Piece(
                box_between((x0, yf - 0.001, z0 + 0.15 * h), (x1, yf, z1 - 0.4 * h)),
                "touch_pad",
                "trim",
            ),
        ],
    )


def _controls(asm, rng, cx, yf, z0, z1, width, knobs=None):
    """1-2 knobs and/or a few buttons stacked in a column centred on `cx`, facing -Y at `yf`."""
    n_knobs = int(rng.integers(0, 3)) if knobs is None else knobs
    n_buttons = int(rng.integers(0 if n_knobs else 1, 4))
    slots = n_knobs + n_buttons
    pitch = (z1 - z0) / (slots + 1)
    r = min(0.025, 0.3 * width, 0.38 * pitch)
    z = z1 - pitch
    for _ in range(n_knobs):
        add_knob(asm, "base", (cx, yf, z), r, float(rng.uniform(0.015, 0.025)))
        z -= pitch
    for _ in range(n_buttons):
        add_button(asm, "base", (cx, yf, z), min(0.5 * width, 0.05), min(0.6 * pitch, 0.02), 0.008)
        z -= pitch


def oven(seed: int, rng: np.random.Generator) -> Assembly:
    """A box with a bottom-hinged door, a knob strip above it and optionally a tray drawer."""
    width = float(rng.uniform(0.6, 0.9))
    height = float(rng.uniform(0.45, 0.75))
    depth = float(rng.uniform(0.5, 0.65))
    wall = 0.025
    strip = float(rng.uniform(0.08, 0.12))
    tray = rng.random() < 0.4
    rows = ([0.2] if tray else []) + [1.0, strip / height * 1.6]
    asm = Assembly(f"Oven_{seed}", "Oven", sample_palette(rng, ("metal", "painted")))
    cells, outer = _cabinet(asm, rng, width, depth, height, wall, [1.0], [rows])
    column = cells[0]
    if tray:
        fill_cell(asm, "base", column[0], outer, "drawer", rng, 0.02)
    fill_cell(asm, "base", column[-2], outer, "flap_down", rng, 0.022, math.pi / 2)
    top = column[-1]
    asm.extend(
        "base",
        [
            Piece(
                box_between((top.x0, top.y_front, top.z0), (top.x1, top.y_front + 0.01, top.z1)),
                "control_panel",
            )
        ],
    )
    if rng.random() < 0.3:
        # Built-in ovens run by a touch strip (or by the hob's knobs): only the door moves.
        strip_pieces = [
            Piece(
                box_between(
                    (-0.15 * top.width, top.y_front - 0.002, top.z0 + 0.25 * top.height),
                    (0.15 * top.width, top.y_front, top.z1 - 0.25 * top.height),
                ),
                "display",
                "screen",
            )
        ]
        asm.extend("base", strip_pieces)
        return asm
    n = int(rng.integers(2, 6))
    r = min(0.022, 0.35 * top.height)
    for i in range(n):
        x = top.x0 + (i + 1) * top.width / (n + 1)
        add_knob(asm, "base", (x, top.y_front, (top.z0 + top.z1) / 2), r, 0.02)
    return asm


def dishwasher(seed: int, rng: np.random.Generator) -> Assembly:
    """A bottom-hinged door over a tub with dish racks, buttons on a strip above the door."""
    # Full-size (60 cm) and slimline (45 cm) machines, standard to tall (XXL) tubs, and compact
    # countertop machines (about 0.55 x 0.5 x 0.45 m, on short feet).
    kind = rng.choice(["full", "slim", "countertop"], p=[0.6, 0.25, 0.15])
    width = float(rng.uniform(0.44, 0.46)) if kind == "slim" else float(rng.uniform(0.55, 0.65))
    height = float(rng.uniform(0.78, 0.9))
    depth = float(rng.uniform(0.54, 0.62))
    plinth = float(rng.uniform(0.06, 0.1))
    if kind == "countertop":
        width, height = float(rng.uniform(0.42, 0.56)), float(rng.uniform(0.44, 0.6))
        depth, plinth = float(rng.uniform(0.45, 0.52)), float(rng.uniform(0.02, 0.04))
    wall = 0.022
    strip = float(rng.uniform(0.07, 0.1))
    asm = Assembly(f"Dishwasher_{seed}", "Dishwasher", sample_palette(rng, ("metal", "painted")))
    cells, outer = _cabinet(
        asm,
        rng,
        width,
        depth,
        height,
        wall,
        [1.0],
        [[1.0, strip / height * 1.2]],
        plinth=plinth,
    )
    cell, top = cells[0]
    # Racks: open wire-tray stand-ins in the tub. On 40% of machines they slide out (a lower
    # and an upper basket on rails), which only works once the door is open: each sliding rack
    # is coupled to the door (`Assembly.couple`), as the check finds by itself.
    rw, rd, s = cell.width - 0.02, cell.depth - 0.06, 0.008
    y0 = cell.y_front + 0.04
    sliding = rng.random() < 0.4
    racks = []
    for level, frac in enumerate((0.15, 0.55)):
        z = cell.z0 + frac * cell.height
        pieces = [
            Piece(box_between((-rw / 2, 0, 0), (rw / 2, rd, s)), f"rack{level}_floor", "metal"),
            Piece(box_between((-rw / 2, 0, s), (rw / 2, s, 0.07)), f"rack{level}_front", "metal"),
        ]
        if not sliding:
            for piece in pieces:
                piece.mesh.apply_translation((0, y0, z))
            asm.extend("base", pieces)
            continue
        name = asm.add_link(f"rack_{level}", "drawer", pieces)
        travel = rd * float(rng.uniform(0.55, 0.8))
        asm.add_joint("prismatic", "base", name, (0, y0, z), (0, -1, 0), (0.0, travel), "drawer")
        racks.append(name)
    # A bar handle, or a handleless front (a grip recess under the control strip).
    handle = 1.0 if rng.random() < 0.6 else 0.0
    (door,) = fill_cell(asm, "base", cell, outer, "flap_down", rng, 0.02, math.pi / 2, handle)
    for rack in racks:
        asm.couple(rack, door, math.pi / 2)
    asm.extend(
        "base",
        [
            Piece(
                box_between((top.x0, top.y_front, top.z0), (top.x1, top.y_front + 0.01, top.z1)),
                "control_panel",
            )
        ],
    )
    n = int(rng.integers(1, 5))
    for i in range(n):
        x = top.x0 + top.width * (0.55 + 0.4 * i / max(n, 1))
        add_button(
            asm,
            "base",
            (x, top.y_front, (top.z0 + top.z1) / 2),
            0.025,
            min(0.015, 0.5 * top.height),
            0.006,
        )
    return asm


def washing_machine(seed: int, rng: np.random.Generator) -> Assembly:
    """Front loader (round porthole door, knobs on a top strip) or top loader (lid, knobs)."""
    width = float(rng.uniform(0.55, 0.65))
    height = float(rng.uniform(0.8, 0.95))
    depth = float(rng.uniform(0.5, 0.65)) if rng.random() < 0.7 else float(rng.uniform(0.4, 0.5))
    wall = 0.02
    asm = Assembly(
        f"WashingMachine_{seed}", "WashingMachine", sample_palette(rng, ("painted", "plastic"))
    )
    front_loader = rng.random() < 0.7
    if not front_loader:
        # Top loaders: wide American machines, or narrow European ones (40-46 cm wide, 60 deep).
        if rng.random() < 0.5:
            width, depth = float(rng.uniform(0.4, 0.46)), float(rng.uniform(0.58, 0.62))
            height = float(rng.uniform(0.8, 0.9))
        else:
            width, depth = float(rng.uniform(0.6, 0.7)), float(rng.uniform(0.6, 0.7))
    strip = float(rng.uniform(0.1, 0.14))
    if front_loader:
        p = CarcassParams(width, depth, height, wall, 0.008, 0.0)
        pieces, _ = carcass(p, [1.0], [[1.0]])
        yf = -depth / 2
        # Front panel with a square hole around the porthole: four boxes.
        r = float(rng.uniform(0.17, 0.22))
        cz = (height - strip) / 2 + 0.02
        hole = r + 0.01
        x0, x1 = -width / 2 + wall, width / 2 - wall
        pieces += [
            Piece(box_between((x0, yf, wall), (x1, yf + 0.01, cz - hole)), "front_low"),
            Piece(box_between((x0, yf, cz + hole), (x1, yf + 0.01, height - wall)), "front_high"),
            Piece(box_between((x0, yf, cz - hole), (-hole, yf + 0.01, cz + hole)), "front_left"),
            Piece(box_between((hole, yf, cz - hole), (x1, yf + 0.01, cz + hole)), "front_right"),
        ]
        asm.add_link("base", "base", pieces)
        t = 0.05
        door = [
            Piece(cylinder(r, t * 0.6, "y", (r, -t * 0.3, 0), 28), "door_ring", "trim"),
            Piece(cylinder(r * 0.7, t, "y", (r, -t / 2, 0), 28), "door_glass", "glass"),
        ]
        asm.add_link("door_0", "door", door)
        asm.add_joint(
            "revolute",
            "base",
            "door_0",
            (-r, yf, cz),
            (0, 0, -1),
            (0.0, float(rng.uniform(1.2, 1.55))),
            "door",
        )
        z_strip = height - strip / 2
        n = int(rng.integers(1, 4))
        for i in range(n):
            x = -width / 2 + (i + 1) * width / (n + 1)
            add_knob(asm, "base", (x, yf, z_strip), 0.025, 0.02)
    else:
        back = float(rng.uniform(0.1, 0.14))
        p = CarcassParams(width, depth, height, wall, 0.008, 0.0)
        pieces, _ = carcass(p, [1.0], [[1.0]])
        pieces = [pc for pc in pieces if pc.name != "top"]
        # Closed front, a console at the back of the top, a lid over the rest.
        yf = -depth / 2
        pieces.append(
            Piece(
                box_between((-width / 2 + wall, yf, wall), (width / 2 - wall, yf + 0.01, height)),
                "front",
            )
        )
        y_console = depth / 2 - back
        pieces.append(
            Piece(
                box_between((-width / 2, y_console, height), (width / 2, depth / 2, height + 0.1)),
                "console",
            )
        )
        # The hinge runs along the lid's top back edge, 35 mm in front of the console, so the lid
        # turns away from the console and its knobs; a fixed strip covers the gap.
        y_hinge = y_console - 0.035
        lid_d = y_hinge + depth / 2
        pieces.append(
            Piece(
                box_between(
                    (-width / 2, y_hinge + CLEARANCE, height), (width / 2, y_console, height + 0.02)
                ),
                "hinge_strip",
            )
        )
        lid_pieces = [
            Piece(box_between((-width / 2, -lid_d, -0.02), (width / 2, 0, 0)), "lid_panel", "front")
        ]
        asm.add_link("base", "base", pieces)
        asm.add_link("lid_0", "lid", lid_pieces)
        asm.add_joint(
            "revolute",
            "base",
            "lid_0",
            (0, y_hinge, height + 0.02),
            (-1, 0, 0),
            (0.0, float(rng.uniform(1.3, 1.55))),
            "lid",
        )
        # Knobs on the console's front face; the open lid leans back at most ~90 degrees, so it
        # never reaches them (the lid hinge is in front of the console).
        n = int(rng.integers(1, 3))
        for i in range(n):
            x = -width / 2 + (i + 1) * width / (n + 1)
            add_knob(
                asm, "base", (x + 0.12 * (i - (n - 1) / 2), y_console, height + 0.05), 0.022, 0.015
            )
    return asm


def safe(seed: int, rng: np.random.Generator) -> Assembly:
    """A thick-walled box (or a tall cabinet safe) with a heavy door locked by a dial, a 3x4
    keypad or both, opened with a fixed bar handle or a turning spoke handle."""
    if rng.random() < 0.65:
        width = float(rng.uniform(0.35, 0.6))
        height = float(rng.uniform(0.35, 0.9))
        depth = float(rng.uniform(0.35, 0.5))
    else:  # gun and document cabinets: tall, narrow, shallow
        width = float(rng.uniform(0.45, 0.75))
        height = float(rng.uniform(1.0, 1.5))
        depth = float(rng.uniform(0.35, 0.55))
    wall = 0.05
    asm = Assembly(f"Safe_{seed}", "Safe", sample_palette(rng, ("metal", "painted")))
    cells, outer = _cabinet(asm, rng, width, depth, height, wall, [1.0], [[1.0]])
    t = 0.045
    side = 1.0 if rng.random() < 0.7 else -1.0
    spoke = rng.random() < 0.4
    (door,) = fill_cell(
        asm,
        "base",
        cells[0][0],
        outer,
        "door",
        rng,
        t,
        float(rng.uniform(1.5, 1.9)),
        handle=0.0 if spoke else 1.0,
        hinge_side=side,
    )
    # Lock and handle sit on the door, in the door's frame (hinge at origin, door along side*X).
    lock = rng.choice(["dial", "keypad", "both"], p=[0.4, 0.4, 0.2])
    lock_x = side * width * 0.4
    z_lock = min(height * float(rng.uniform(0.55, 0.7)), 0.9)
    if lock in ("dial", "both"):
        add_knob(asm, door, (lock_x, -t, z_lock), min(0.04, width * 0.09), 0.02)
        z_keys = z_lock - 0.07
    else:
        z_keys = z_lock + 0.04
    if lock in ("keypad", "both"):
        key = float(rng.uniform(0.015, 0.019))
        pitch = key + float(rng.uniform(0.006, 0.009))
        for i in range(12):  # 1-9, then *, 0, #
            col, row = i % 3, i // 3
            at = (lock_x + (col - 1) * pitch, -t, z_keys - pitch * row)
            add_button(asm, door, at, key, key, 0.006)
    if spoke:
        _spoke_handle(asm, door, (side * width * 0.74, -t, height * 0.45), min(0.08, 0.2 * width))
    return asm


def _spoke_handle(asm: Assembly, parent: str, at, reach: float) -> str:
    """A three-spoke turning handle (a hub and three bars with grips) on a face facing -Y at
    `at`, turning continuously about -Y; the spokes turn 20-30 mm in front of the face."""
    pieces = [Piece(cylinder(0.02, 0.03, "y", (0, -0.015, 0), 20), "spoke_hub", "metal")]
    for k in range(3):
        a = math.pi / 2 + k * 2 * math.pi / 3
        tip = np.array([reach * math.cos(a), -0.025, reach * math.sin(a)])
        pieces.append(
            Piece(segment_cylinder((0, -0.025, 0), tip, 0.006, 10), f"spoke_{k}", "handle")
        )
        pieces.append(Piece(cylinder(0.011, 0.014, "y", tip, 14), f"spoke_{k}_grip", "handle"))
    n = asm.count("knob")
    name = asm.add_link(f"knob_{n}", "knob", pieces)
    asm.add_joint("continuous", parent, name, at, (0, -1, 0), label="knob")
    return name
