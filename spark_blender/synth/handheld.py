"""Small hand-held objects: Eyeglasses, Knife, Lighter, Pen, Pliers, Scissors, USB, Remote,
Mouse, Phone, Camera.

Real sizes (a pen 13-15 cm, a USB stick 3-5 cm, glasses 12-14 cm wide) and the joints of the
real objects: temples fold inwards about Z; pocket-knife blades turn out of the handle about Z
(up to ~pi), utility-knife blades slide; lighter lids flip about the side hinge, spark wheels
turn (continuous); pen caps pull off and click buttons press (prismatic); pliers and scissors
halves turn about the pivot (a fraction of a radian); USB caps pull off or swivel covers turn
by pi; push buttons press by 40% of their height; mouse buttons tip down a few hundredths of a
radian about their back edge; flip phones and flip screens open by up to ~3 rad.

Clearances are 0.5-1.5 mm here (the parts are small, like the stapler's and the buttons' in the
other modules). Parts that turn past each other sit in separate layers (scissor blades, pliers
halves, pocket-knife tools between liners), hinges sit on a body's outer corner line so the
turning part stays in the quadrant beside and above it, and hollow parts (caps, lens rings,
handle loops) are rings of convex pieces.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from spark_blender.synth.assembly import Assembly
from spark_blender.synth.materials import sample_palette
from spark_blender.synth.parts import (
    BladeParams,
    ButtonParams,
    ExtrusionParams,
    LatheParams,
    Piece,
    RingParams,
    TubeParams,
    blade,
    box_between,
    button,
    cylinder,
    extrusion,
    lathe,
    ring,
    tube,
)

GAP = 0.001  # clearance between small moving parts (m)
PRESS_GAP = 0.0005  # how far a push button stands off its face beyond its travel

_ROTATIONS = {  # turns a part built facing -Y to face each direction
    "-y": np.eye(4),
    "+y": trimesh.transformations.rotation_matrix(math.pi, [0, 0, 1]),
    "+x": trimesh.transformations.rotation_matrix(math.pi / 2, [0, 0, 1]),
    "-x": trimesh.transformations.rotation_matrix(-math.pi / 2, [0, 0, 1]),
    "+z": trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0]),
    "-z": trimesh.transformations.rotation_matrix(math.pi / 2, [1, 0, 0]),
}
_OUTWARD = {
    "-y": (0, -1, 0),
    "+y": (0, 1, 0),
    "+x": (1, 0, 0),
    "-x": (-1, 0, 0),
    "+z": (0, 0, 1),
    "-z": (0, 0, -1),
}


def _box(lo, hi, name: str, role: str = "body") -> Piece:
    return Piece(box_between(lo, hi), name, role)


def _hull(points, name: str, role: str = "body") -> Piece:
    mesh = trimesh.convex.convex_hull(np.asarray(points, float))
    if mesh.volume < 0:
        mesh.invert()
    return Piece(mesh, name, role)


def _move(pieces: list[Piece], transform=None, shift=(0.0, 0.0, 0.0)) -> list[Piece]:
    for piece in pieces:
        if transform is not None:
            piece.mesh.apply_transform(transform)
        piece.mesh.apply_translation(shift)
    return pieces


def _rot(angle: float, axis) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(angle, axis)


def _bar(p0, p1, width: float, z0: float, z1: float, name: str, role: str = "body") -> Piece:
    """A flat bar from p0 to p1 in the XY plane, `width` across, spanning z in [z0, z1]."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = (p1 - p0) / np.linalg.norm(p1 - p0)
    n = np.array([-d[1], d[0]]) * width / 2
    corners = [p0 + n, p0 - n, p1 + n, p1 - n]
    return _hull([(x, y, z) for x, y in corners for z in (z0, z1)], name, role)


def _flat_body(width, depth, thickness, radius, z0=0.0, name="body", role="body") -> list[Piece]:
    """A rounded rectangle `width` x `depth` in XY, `thickness` along Z from z0 (an extrusion
    turned to lie flat)."""
    pieces = extrusion(ExtrusionParams(width, depth, thickness, radius), name, role)
    return _move(pieces, _rot(math.pi / 2, [1, 0, 0]), (0, 0, z0 + thickness / 2))


def _push(
    asm: Assembly,
    parent: str,
    at,
    face: str,
    width: float,
    height: float,
    depth: float,
    round_: float = 0.0,
    travel: float | None = None,
    role: str = "button",
) -> str:
    """A push button on a face (`face`: its outward direction, '+z', '-x', ...) at point `at`.

    Like a membrane key it stands off the face by its travel plus PRESS_GAP and presses in by
    the travel (40% of its depth unless given), so it never sinks into the face. Width runs
    along X (along Y on an X face), height along Z (along Y on a Z face)."""
    n = asm.count("button")
    pieces = button(ButtonParams(width, height, depth, round_), f"button_{n}")
    for piece in pieces:
        piece.role = role
    _move(pieces, _ROTATIONS[face])
    travel = 0.4 * depth if travel is None else travel
    outward = np.asarray(_OUTWARD[face], float)
    name = asm.add_link(f"button_{n}", "button", pieces)
    origin = np.asarray(at, float) + outward * (travel + PRESS_GAP)
    asm.add_joint("prismatic", parent, name, origin, -outward, (0.0, travel), "button")
    return name


def _keypad(asm, parent, x0, x1, y0, y1, z, rows, cols, depth, round_=0.0) -> None:
    """A grid of up-facing keys filling the rectangle [x0, x1] x [y0, y1] on a face at height z
    (rows run along -Y from y1)."""
    pitch_x, pitch_y = (x1 - x0) / cols, (y1 - y0) / rows
    kw, kh = 0.8 * pitch_x, 0.75 * pitch_y
    for r in range(rows):
        for c in range(cols):
            at = (x0 + (c + 0.5) * pitch_x, y1 - (r + 0.5) * pitch_y, z)
            _push(asm, parent, at, "+z", kw, kh, depth, round_)


# ============================================================================================
# Eyeglasses
# ============================================================================================
def eyeglasses(seed: int, rng: np.random.Generator) -> Assembly:
    """A front frame (two rims with lenses, a bridge, end pieces) and two temples hinged behind
    the end pieces. Rest: temples unfolded (as worn); positive folds each temple inwards about
    Z (right temple about +Z, left about -Z), as far as the other temple allows."""
    style = ("round", "oval", "rect")[int(rng.integers(3))]
    lens_w = float(rng.uniform(0.044, 0.058))
    aspect = {"round": (0.85, 1.0), "oval": (0.6, 0.75), "rect": (0.55, 0.75)}[style]
    lens_h = lens_w * float(rng.uniform(*aspect))
    bridge = float(rng.uniform(0.014, 0.022))
    wire = float(rng.uniform(0.0018, 0.0045))
    rim_t = float(rng.uniform(0.002, 0.004))  # along Y
    asm = Assembly(f"Eyeglasses_{seed}", "Eyeglasses", sample_palette(rng, ("plastic", "metal")))
    zc = lens_h / 2 + wire
    pieces: list[Piece] = []
    for side in (-1.0, 1.0):
        xc = side * (bridge / 2 + lens_w / 2)
        tag = "left" if side < 0 else "right"
        if style == "rect":
            hw, hh, w = lens_w / 2, lens_h / 2, wire
            y0, y1 = -rim_t / 2, rim_t / 2
            pieces += [
                _box(
                    (xc - hw - w / 2, y0, zc + hh - w / 2),
                    (xc + hw + w / 2, y1, zc + hh + w / 2),
                    f"rim_{tag}_top",
                    "front",
                ),
                _box(
                    (xc - hw - w / 2, y0, zc - hh - w / 2),
                    (xc + hw + w / 2, y1, zc - hh + w / 2),
                    f"rim_{tag}_bottom",
                    "front",
                ),
                _box(
                    (xc - hw - w / 2, y0, zc - hh),
                    (xc - hw + w / 2, y1, zc + hh),
                    f"rim_{tag}_inner",
                    "front",
                ),
                _box(
                    (xc + hw - w / 2, y0, zc - hh),
                    (xc + hw + w / 2, y1, zc + hh),
                    f"rim_{tag}_outer",
                    "front",
                ),
                _box(
                    (xc - hw, -0.0006, zc - hh), (xc + hw, 0.0006, zc + hh), f"lens_{tag}", "glass"
                ),
            ]
        else:
            segments = 16 if style == "round" else 14
            rim = ring(RingParams(lens_w / 2, lens_h / 2, wire, rim_t, segments), f"rim_{tag}")
            for piece in rim:
                piece.role = "front"
            lens = Piece(cylinder(1.0, 0.0012, "y", (0, 0, 0), 24), f"lens_{tag}", "glass")
            lens.mesh.apply_scale((lens_w / 2, 1.0, lens_h / 2))
            pieces += _move(rim + [lens], shift=(xc, 0, zc))
    # Bridge: a short arch over the nose between the inner rims.
    inner = bridge / 2 + 0.3 * wire
    zb = zc + lens_h * float(rng.uniform(0.1, 0.3))
    arch = float(rng.uniform(0.002, 0.006))
    pts = [(-inner, zb), (-inner / 2, zb + arch), (inner / 2, zb + arch), (inner, zb)]
    for i in range(3):
        (xa, za), (xb, zb_) = pts[i], pts[i + 1]
        pieces.append(
            Piece(
                trimesh.creation.cylinder(
                    radius=wire * 0.55, segment=[(xa, 0, za), (xb, 0, zb_)], sections=10
                ),
                f"bridge_{i}",
                "front",
            )
        )
    # End pieces: from the outer rims backwards to the hinges, outboard of the temples.
    x_rim = bridge / 2 + lens_w + wire / 2  # outer edge of the rims
    end_w = float(rng.uniform(0.003, 0.005))
    temple_t = float(rng.uniform(0.0015, 0.003))  # across (X)
    temple_h = float(rng.uniform(0.003, 0.008))  # height (Z)
    z_hinge = zc + lens_h * float(rng.uniform(0.15, 0.3))
    y_pivot = rim_t / 2 + temple_t + GAP  # the folded temples lie between rims and pivots
    x_pivot = x_rim - 0.0005  # the temples' outer faces (pivot lines)
    for side in (-1.0, 1.0):
        tag = "left" if side < 0 else "right"
        xo0, xo1 = sorted((side * (x_pivot + GAP), side * (x_pivot + GAP + end_w)))
        pieces.append(
            _box(
                (xo0, -rim_t / 2, z_hinge - temple_h / 2 - 0.0005),
                (xo1, y_pivot + 0.004, z_hinge + temple_h / 2 + 0.0005),
                f"end_{tag}",
                "front",
            )
        )
        # The end piece joins the rim: a short block from the rim to the end piece.
        xa0, xa1 = sorted((side * (x_rim - wire), side * (x_pivot + GAP + end_w)))
        pieces.append(
            _box(
                (xa0, -rim_t / 2, z_hinge - temple_h / 2),
                (xa1, rim_t / 2, z_hinge + temple_h / 2),
                f"joint_{tag}",
                "front",
            )
        )
    asm.add_link("base", "base", pieces)
    # Temples about as long as the frame is wide (the longer ones cannot fold quite flat).
    length = min(0.15, 2 * x_pivot * float(rng.uniform(0.85, 1.08)))
    bend = float(rng.uniform(0.025, 0.04))
    drop = float(rng.uniform(0.3, 0.6))  # angle of the ear bend below horizontal
    straight = length - bend * math.cos(drop)
    # The folded temple's tip must stop short of the other (open) temple.
    room = 2 * x_pivot - 2 * temple_t - 0.003
    limit = 1.55 if length <= room else min(1.55, math.asin(room / length))
    for side in (-1.0, 1.0):
        tag = "left" if side < 0 else "right"
        x0, x1 = sorted((0.0, -side * temple_t))  # inboard of the pivot
        temple = [
            _box((x0, 0.0, -temple_h / 2), (x1, straight, temple_h / 2), f"temple_{tag}", "front"),
            _hull(
                [
                    (x, straight + dy, z + dz)
                    for x in (x0, x1)
                    for dy, dz in ((0.0, 0.0), (bend * math.cos(drop), -bend * math.sin(drop)))
                    for z in (-temple_h * 0.4, temple_h * 0.4)
                ],
                f"earpiece_{tag}",
                "front",
            ),
        ]
        name = asm.add_link(f"leg_{0 if side < 0 else 1}", "leg", temple)
        asm.add_joint(
            "revolute",
            "base",
            name,
            (side * x_pivot, y_pivot, z_hinge),
            (0, 0, side),
            (0.0, limit * float(rng.uniform(0.85, 1.0))),
            "leg",
        )
    return asm


# ============================================================================================
# Knife
# ============================================================================================
def knife(seed: int, rng: np.random.Generator) -> Assembly:
    """A folding pocket knife (1-3 blades and tools between liners, each turning out of the
    handle about Z by up to ~pi) or a utility knife whose blade slides out of the front
    (prismatic +X, pushed by a thumb slider in a slot on top)."""
    if rng.random() < 0.7:
        return _pocket_knife(seed, rng)
    return _utility_knife(seed, rng)


def _pocket_knife(seed: int, rng: np.random.Generator) -> Assembly:
    asm = Assembly(f"Knife_{seed}", "Knife", sample_palette(rng, ("wood", "plastic", "metal")))
    length = float(rng.uniform(0.075, 0.11))
    width = float(rng.uniform(0.017, 0.026))
    scale_t = float(rng.uniform(0.002, 0.0035))
    tools = int(rng.choice([1, 1, 2, 3]))
    layer_t = float(rng.uniform(0.0015, 0.0025))
    liner = 0.0006
    gap = 0.0006
    pivot_in = width * 0.5  # pivot distance from the handle's end
    end = 0.004  # spacer at the far end of a layer
    radius = 0.0015 + width / 2
    pieces = _flat_body(length, width, scale_t, radius, 0.0, "scale_bottom")
    z = scale_t
    layers = []
    for k in range(tools):
        z += gap
        layers.append(z)
        z += layer_t + gap
        if k < tools - 1:
            pieces += _flat_body(length, width, liner, radius, z, f"liner_{k}", "metal")
            z += liner
    pieces += _flat_body(length, width, scale_t, radius, z, "scale_top")
    top = z + scale_t
    for k, z0 in enumerate(layers):
        front = k % 2 == 0  # main blade at the front end, tools alternate ends
        px = length / 2 - pivot_in if front else -length / 2 + pivot_in
        reach = length - pivot_in - end - 0.0015  # room from the pivot to the far spacer
        kind = "blade" if k == 0 else ("blade", "tool")[int(rng.integers(2))]
        bw = width * float(rng.uniform(0.6, 0.8)) if kind == "blade" else width * 0.4
        tip = float(rng.uniform(0.25, 0.5)) if kind == "blade" else float(rng.uniform(0.0, 0.1))
        # The blade's far corner stays inside `reach` of the pivot whatever its angle.
        blade_len = math.sqrt(max(reach**2 - (bw / 2) ** 2, 0.0)) * float(rng.uniform(0.85, 1.0))
        root = min(pivot_in * 0.8, bw / 2)
        p = BladeParams(blade_len + root, bw, layer_t, tip)
        parts = blade(p, f"blade_{k}")
        # Built along +X from its root; the pivot sits `root` into it. Closed it points into
        # the handle (away from its end), the spine towards -Y (the open side).
        turn = _rot(math.pi, [0, 0, 1]) if front else _rot(math.pi, [1, 0, 0])
        _move(parts, transform=None, shift=(-root, 0, 0))
        _move(parts, turn, (0, 0, layer_t / 2))
        name = asm.add_link(f"blade_{k}", "blade", parts)
        asm.add_joint(
            "revolute",
            "base",
            name,
            (px, 0.0, z0),
            (0, 0, 1) if front else (0, 0, -1),
            (0.0, float(rng.uniform(2.9, math.pi)) if kind == "blade" else 3.0),
            "blade",
        )
        sx = -length / 2 if front else length / 2 - end
        pieces.append(
            _box(
                (sx, -width / 2 + 0.002, z0 - gap),
                (sx + end, width / 2 - 0.002, z0 + layer_t + gap),
                f"spacer_{k}",
                "metal",
            )
        )
        pieces.append(
            Piece(cylinder(0.002, 0.0006, "z", (px, 0, top + 0.0003), 12), f"rivet_{k}", "metal")
        )
    asm.add_link("base", "base", pieces)
    return asm


def _utility_knife(seed: int, rng: np.random.Generator) -> Assembly:
    asm = Assembly(f"Knife_{seed}", "Knife", sample_palette(rng, ("plastic", "metal")))
    length = float(rng.uniform(0.13, 0.17))
    width = float(rng.uniform(0.018, 0.026))
    height = float(rng.uniform(0.012, 0.018))
    wall = 0.0015
    slot = float(rng.uniform(0.004, 0.006))
    hx, hy = length / 2, width / 2
    c = GAP
    carrier_len = float(rng.uniform(0.018, 0.026))
    blade_len = float(rng.uniform(0.045, 0.06))
    blade_t = 0.0006
    travel = blade_len * float(rng.uniform(0.5, 0.85))
    # Rest: the carrier at the back of the channel, the blade tip inside the front end.
    x_tip = hx - c
    x_carrier = x_tip - blade_len - carrier_len + 0.004
    post_len = 0.006
    x_post = x_carrier + carrier_len / 2 - post_len / 2
    slot0, slot1 = x_post - c, x_post + post_len + travel + c
    pieces = [
        _box((-hx, -hy, 0), (hx, hy, wall), "floor"),
        _box((-hx, -hy, wall), (hx, -hy + wall, height - wall), "side_0"),
        _box((-hx, hy - wall, wall), (hx, hy, height - wall), "side_1"),
        _box((-hx, -hy, height - wall), (hx, -slot / 2, height), "top_0"),
        _box((-hx, slot / 2, height - wall), (hx, hy, height), "top_1"),
        _box((-hx, -slot / 2, height - wall), (slot0, slot / 2, height), "top_back"),
        _box((slot1, -slot / 2, height - wall), (hx, slot / 2, height), "top_front"),
        _box((-hx, -hy + wall, wall), (-hx + wall, hy - wall, height - wall), "back"),
    ]
    if x_carrier < -hx + wall + c:
        raise AssertionError("utility knife carrier does not fit")  # never with these ranges
    asm.add_link("base", "base", pieces)
    zin0, zin1 = wall + c, height - wall - c
    yin = hy - wall - c
    zm = (zin0 + zin1) / 2
    parts = [
        _box((x_carrier, -yin, zin0), (x_carrier + carrier_len, yin, zin1), "carrier"),
        _box(
            (x_post, -slot / 2 + c, zin1 - 0.001),
            (x_post + post_len, slot / 2 - c, height + c),
            "post",
        ),
        _box(
            (x_post - 0.004, -hy * 0.7, height + c),
            (x_post + post_len + 0.004, hy * 0.7, height + c + 0.003),
            "thumb",
            "handle",
        ),
    ]
    bw = min(2 * yin - 0.002, float(rng.uniform(0.012, 0.019)))
    edge = blade(BladeParams(blade_len, bw, blade_t, float(rng.uniform(0.3, 0.6))), "blade")
    _move(edge, shift=(x_tip - blade_len, 0, zm))
    name = asm.add_link("blade_0", "blade", parts + edge)
    asm.add_joint("prismatic", "base", name, (0, 0, 0), (1, 0, 0), (0.0, travel), "blade")
    return asm


# ============================================================================================
# Lighter
# ============================================================================================
def lighter(seed: int, rng: np.random.Generator) -> Assembly:
    """A flip-top lighter (case with a lid hinged on its side edge, a chimney and a spark wheel
    or an electric button inside), a disposable one (spark wheel between guard plates and a
    fork button on top) or a push-button torch lighter."""
    kind = ("flip", "disposable", "button")[int(rng.choice(3, p=[0.45, 0.35, 0.2]))]
    asm = Assembly(f"Lighter_{seed}", "Lighter", sample_palette(rng, ("metal", "plastic")))
    if kind == "flip":
        return _flip_lighter(asm, rng)
    width = float(rng.uniform(0.022, 0.028))
    depth = float(rng.uniform(0.011, 0.015))
    height = float(rng.uniform(0.055, 0.075))
    body = _flat_body(width, depth, height, depth * 0.45, 0.0, "body")
    if kind == "button":
        cap_h = float(rng.uniform(0.006, 0.012))
        body.append(
            _box(
                (-width / 2, -depth / 2, height),
                (width / 2, depth / 2, height + cap_h),
                "head",
                "metal",
            )
        )
        body.append(
            Piece(
                cylinder(depth * 0.3, 0.004, "z", (-width * 0.25, 0, height + cap_h + 0.002), 12),
                "nozzle",
                "metal",
            )
        )
        asm.add_link("base", "base", body)
        bh = float(rng.uniform(0.008, 0.014))
        _push(
            asm,
            "base",
            (0, -depth / 2, height * 0.6),
            "-y",
            width * 0.5,
            bh,
            0.004,
            0.0,
            travel=0.0015,
        )
        return asm
    hood_h = float(rng.uniform(0.009, 0.013))
    plate = 0.0006
    r_wheel = float(rng.uniform(0.0035, 0.0045))
    w_wheel = min(depth - 2 * plate - 2 * GAP - 0.001, float(rng.uniform(0.005, 0.007)))
    x_wheel = -width / 2 + r_wheel + 0.0015
    for side in (-1.0, 1.0):
        y0 = side * (w_wheel / 2 + GAP)
        body.append(
            _box(
                (-width / 2 + 0.0005, min(y0, y0 + side * plate), height),
                (-width / 2 + 2 * r_wheel + 0.003, max(y0, y0 + side * plate), height + hood_h),
                f"guard_{int(side > 0)}",
                "metal",
            )
        )
    asm.add_link("base", "base", body)
    wheel = [Piece(cylinder(r_wheel, w_wheel, "y", (0, 0, 0), 16), "wheel", "metal")]
    asm.add_link("wheel_0", "wheel", wheel)
    z_wheel = height + hood_h - r_wheel * 0.6
    asm.add_joint("continuous", "base", "wheel_0", (x_wheel, 0, z_wheel), (0, 1, 0), label="wheel")
    bw = width / 2 - 0.002 - GAP
    _push(
        asm, "base", (width / 4 + 0.001, 0, height), "+z", bw, depth * 0.8, 0.006, 0.0, travel=0.002
    )
    return asm


def _flip_lighter(asm: Assembly, rng: np.random.Generator) -> Assembly:
    width = float(rng.uniform(0.034, 0.04))
    depth = float(rng.uniform(0.011, 0.014))
    case_h = float(rng.uniform(0.033, 0.04))
    lid_h = float(rng.uniform(0.016, 0.022))
    wall = 0.0008
    g = 0.0012
    hx, hy = width / 2, depth / 2
    xh, zh = hx + g, case_h + g  # hinge line: outside the case's top edge
    body = _flat_body(width, depth, case_h, 0.002, 0.0, "case")
    reach = (xh - (-hx + wall)) - GAP  # nothing inside may be farther from the hinge
    chimney_h = lid_h - wall - 2 * GAP - g
    electric = rng.random() < 0.3
    r_wheel = float(rng.uniform(0.0032, 0.004))
    w_wheel = float(rng.uniform(0.004, 0.005))
    x_wheel = hx - wall - GAP - r_wheel - 0.0005
    # Chimney: from beside the wheel towards the far side, as far as the lid allows.
    dz = case_h + chimney_h - zh
    x_far = xh - math.sqrt(max(reach**2 - dz**2, 0.0)) + 0.0005
    x_far = max(x_far, -hx + wall + GAP)
    x_near = (x_wheel - r_wheel - GAP) if not electric else hx - wall - GAP
    body.append(
        _box(
            (x_far, -hy + 0.0015, case_h),
            (x_near, hy - 0.0015, case_h + chimney_h),
            "chimney",
            "metal",
        )
    )
    if not electric:
        for side in (-1.0, 1.0):
            y0 = side * (w_wheel / 2 + 0.0006)
            body.append(
                _box(
                    (x_wheel - r_wheel, min(y0, y0 + side * 0.0006), case_h),
                    (x_wheel + r_wheel * 0.5, max(y0, y0 + side * 0.0006), case_h + r_wheel),
                    f"wheel_bracket_{int(side > 0)}",
                    "metal",
                )
            )
    asm.add_link("base", "base", body)
    # The lid: a five-sided shell in the hinge frame, extending -X from the hinge, up from it.
    lx0, lx1 = -hx - xh, hx - xh
    lz1 = lid_h
    shell = [
        _box((lx0, -hy, lz1 - wall), (lx1, hy, lz1), "lid_top", "front"),
        _box((lx0, -hy, 0), (lx0 + wall, hy, lz1 - wall), "lid_far", "front"),
        _box((lx1 - wall, -hy, 0), (lx1, hy, lz1 - wall), "lid_near", "front"),
        _box((lx0 + wall, -hy, 0), (lx1 - wall, -hy + wall, lz1 - wall), "lid_front", "front"),
        _box((lx0 + wall, hy - wall, 0), (lx1 - wall, hy, lz1 - wall), "lid_back", "front"),
        Piece(cylinder(g * 1.2, depth * 0.5, "y", (0, 0, 0), 12), "lid_knuckle", "metal"),
    ]
    asm.add_link("lid_0", "lid", shell)
    asm.add_joint(
        "revolute",
        "base",
        "lid_0",
        (xh, 0, zh),
        (0, 1, 0),
        (0.0, float(rng.uniform(2.4, 3.05))),
        "lid",
    )
    if electric:
        _push(asm, "base", (0, -hy, case_h * 0.55), "-y", width * 0.35, case_h * 0.25, 0.0025)
    else:
        wheel = [Piece(cylinder(r_wheel, w_wheel, "y", (0, 0, 0), 16), "wheel", "metal")]
        asm.add_link("wheel_0", "wheel", wheel)
        asm.add_joint(
            "continuous",
            "base",
            "wheel_0",
            (x_wheel, 0, case_h + r_wheel + GAP),
            (0, 1, 0),
            label="wheel",
        )
    return asm


# ============================================================================================
# Pen
# ============================================================================================
def pen(seed: int, rng: np.random.Generator) -> Assembly:
    """A pen lying along X: a barrel and a conical nose; a cap with a clip pulled off the nose
    along +X (prismatic), or a click button pressed into the back end (prismatic +X) with the
    clip on the barrel."""
    radius = float(rng.uniform(0.004, 0.0065))
    length = float(rng.uniform(0.12, 0.15))
    asm = Assembly(f"Pen_{seed}", "Pen", sample_palette(rng, ("plastic", "metal")))
    capped = rng.random() < 0.5
    nose_r = radius * float(rng.uniform(0.6, 0.75))
    nose_len = float(rng.uniform(0.02, 0.03))
    x0 = -length / 2
    x_nose = length / 2 - nose_len
    zc = radius
    barrel = Piece(cylinder(radius, x_nose - x0, "x", ((x0 + x_nose) / 2, 0, zc), 20), "barrel")
    nose = lathe(LatheParams(nose_len, nose_r, nose_r, 0.0006, 0.55, 0.0, 0.0), 24, "nose", "trim")
    _move(nose, _rot(math.pi / 2, [0, 1, 0]), (x_nose, 0, zc))
    clip_t = 0.0012
    pieces = [barrel, *nose]
    if capped:
        cap_len = nose_len + 2 * GAP + 0.001
        cap = tube(TubeParams(radius, nose_r + GAP, cap_len, 12.0, 1.0), "cap", "front")
        _move(cap, _rot(math.pi / 2, [0, 1, 0]))
        clip_len = cap_len * float(rng.uniform(0.6, 0.85))
        cap += [
            _box(
                (cap_len - 0.005, -0.0012, radius - 0.0003),
                (cap_len - 0.001, 0.0012, radius + 0.0006 + clip_t),
                "clip_root",
                "metal",
            ),
            _box(
                (cap_len - clip_len, -0.0015, radius + 0.0006),
                (cap_len - 0.001, 0.0015, radius + 0.0006 + clip_t),
                "clip",
                "metal",
            ),
        ]
        asm.add_link("base", "base", pieces)
        asm.add_link("cap_0", "cap", cap)
        asm.add_joint(
            "prismatic",
            "base",
            "cap_0",
            (x_nose + GAP, 0, zc),
            (1, 0, 0),
            (0.0, cap_len + 0.004),
            "cap",
        )
        return asm
    clip_len = float(rng.uniform(0.035, 0.05))
    pieces += [
        _box(
            (x0 + 0.002, -0.0012, 2 * radius - 0.0005),
            (x0 + 0.007, 0.0012, 2 * radius + 0.0006 + clip_t),
            "clip_root",
            "metal",
        ),
        _box(
            (x0 + 0.002, -0.0016, 2 * radius + 0.0006),
            (x0 + clip_len, 0.0016, 2 * radius + 0.0006 + clip_t),
            "clip",
            "metal",
        ),
    ]
    asm.add_link("base", "base", pieces)
    plunger_r = radius * float(rng.uniform(0.45, 0.7))
    plunger_len = float(rng.uniform(0.006, 0.012))
    _push(asm, "base", (x0, 0, zc), "-x", 2 * plunger_r, 2 * plunger_r, plunger_len, 1.0)
    return asm


# ============================================================================================
# Pliers and scissors: two halves in separate layers about a pivot pin (Z)
# ============================================================================================
def pliers(seed: int, rng: np.random.Generator) -> Assembly:
    """Two halves crossing at a pivot pin, each a jaw on one side and a handle (with a grip
    sleeve) on the other, in two layers. Either one half is the base and the other turns about
    the pin (opening spreads the handles and the jaws), or the pin is the base and both halves
    turn, opposite ways."""
    asm = Assembly(f"Pliers_{seed}", "Pliers", sample_palette(rng, ("metal",)))
    jaw_len = float(rng.uniform(0.03, 0.06))
    jaw_w = float(rng.uniform(0.006, 0.009))
    tip_w = jaw_w * float(rng.uniform(0.3, 0.7))
    handle_len = float(rng.uniform(0.09, 0.14))
    spread = float(rng.uniform(0.12, 0.22))  # half angle between the handles, closed
    layer = float(rng.uniform(0.004, 0.006))
    gap = 0.0008
    boss = float(rng.uniform(0.008, 0.011))
    hw = float(rng.uniform(0.007, 0.01))
    both = rng.random() < 0.35
    z_a = 0.0015 if both else 0.0
    z_b = z_a + layer + gap

    def half(side: float, z0: float, tag: str) -> list[Piece]:
        """Jaw towards +X on the `side` of the centre line, handle towards -X on the other."""
        z1 = z0 + layer
        jaw = _hull(
            [
                (x, y, z)
                for x, y in (
                    (-boss * 0.5, 0),
                    (-boss * 0.5, side * jaw_w),
                    (jaw_len, 0),
                    (jaw_len, side * tip_w),
                )
                for z in (z0, z1)
            ],
            f"jaw_{tag}",
            "metal",
        )
        hub = Piece(cylinder(boss, layer, "z", (0, 0, (z0 + z1) / 2), 20), f"hub_{tag}", "metal")
        angle = math.pi + side * spread  # the handle leaves towards -X on the other side
        d = np.array([math.cos(angle), math.sin(angle)])
        p1 = d * handle_len * 0.35
        p2 = d * handle_len + np.array([0, -side * 0.004])
        pieces = [jaw, hub, _bar((0, 0), p1, hw, z0, z1, f"shank_{tag}", "metal")]
        pieces.append(_bar(p1 - d * 0.002, p2, hw * 1.3, z0, z1, f"grip_{tag}", "handle"))
        return pieces

    a = half(1.0, z_a, "a")  # jaw on +Y, handle on -Y
    b = half(-1.0, z_b, "b")  # jaw on -Y, handle on +Y
    b.append(
        Piece(cylinder(boss * 0.45, 0.001, "z", (0, 0, z_b + layer + 0.0005), 16), "rivet", "metal")
    )
    limit = float(rng.uniform(0.3, 0.55))
    if both:
        pin = [
            Piece(cylinder(boss * 0.45, z_a, "z", (0, 0, z_a / 2), 16), "pin_head", "metal"),
        ]
        asm.add_link("base", "base", pin)
        asm.add_link("leg_0", "leg", a)
        asm.add_link("leg_1", "leg", b)
        asm.add_joint("revolute", "base", "leg_0", (0, 0, 0), (0, 0, 1), (0.0, limit / 2), "leg")
        asm.add_joint("revolute", "base", "leg_1", (0, 0, 0), (0, 0, -1), (0.0, limit / 2), "leg")
    else:
        asm.add_link("base", "base", a)
        asm.add_link("leg_0", "leg", b)
        asm.add_joint("revolute", "base", "leg_0", (0, 0, 0), (0, 0, -1), (0.0, limit), "leg")
    return asm


def scissors(seed: int, rng: np.random.Generator) -> Assembly:
    """Two blades crossing at the pivot screw, in two layers; each a flat blade towards +X and
    a shank to a handle ring (convex segments) towards -X on the other side. One half is the
    base, the other opens about the screw (Z) by a fraction of a radian."""
    asm = Assembly(f"Scissors_{seed}", "Scissors", sample_palette(rng, ("metal", "plastic")))
    blade_len = float(rng.uniform(0.045, 0.12))
    blade_w = blade_len * float(rng.uniform(0.12, 0.2))
    blade_t = float(rng.uniform(0.0012, 0.002))
    handle_t = float(rng.uniform(0.004, 0.007))
    tip = float(rng.uniform(0.15, 0.5))
    gap = 0.0005
    ring_rx = float(rng.uniform(0.011, 0.02))
    ring_ry = ring_rx * float(rng.uniform(0.55, 0.85))
    wire = float(rng.uniform(0.003, 0.005))
    uneven = rng.random() < 0.5  # a long finger ring and a round thumb ring
    shank = float(rng.uniform(0.015, 0.03))
    offset = ring_ry + wire * 0.5
    z_a0, z_a1 = 0.0, handle_t
    z_b0, z_b1 = handle_t + gap, 2 * handle_t + gap

    def half(side: float, z0: float, z1: float, blade_z: float, tag: str, rx, ry) -> list[Piece]:
        parts = blade(BladeParams(blade_len + 0.006, blade_w, blade_t, tip), f"blade_{tag}")
        if side < 0:
            _move(parts, _rot(math.pi, [1, 0, 0]))
        _move(parts, shift=(-0.006, 0, blade_z))
        centre = np.array([-shank - rx, -side * offset])
        loop = ring(RingParams(rx, ry, wire, z1 - z0, 14.0), f"ring_{tag}")
        _move(loop, _rot(math.pi / 2, [1, 0, 0]), (centre[0], centre[1], (z0 + z1) / 2))
        tail = centre + np.array([rx * 0.7, side * ry * 0.7])
        parts += loop
        parts.append(_bar((0.004, 0), tail, blade_w * 0.55, z0, z1, f"shank_{tag}", "handle"))
        return parts

    a = half(1.0, z_a0, z_a1, z_a1 - blade_t / 2, "a", ring_rx, ring_ry)
    rb = ring_rx * (0.75 if uneven else 1.0)
    b = half(-1.0, z_b0, z_b1, z_b0 + blade_t / 2, "b", rb, ring_ry * (1.0 if not uneven else 0.95))
    b.append(Piece(cylinder(0.0035, 0.001, "z", (0, 0, z_b1 + 0.0005), 16), "screw", "metal"))
    asm.add_link("base", "base", a)
    asm.add_link("blade_0", "blade", b)
    # Opening spreads the rings: the +Y ring (of the upper half) turns about -Z.
    asm.add_joint(
        "revolute",
        "base",
        "blade_0",
        (0, 0, 0),
        (0, 0, -1),
        (0.0, float(rng.uniform(0.5, 1.0))),
        "blade",
    )
    return asm


# ============================================================================================
# USB stick
# ============================================================================================
def usb(seed: int, rng: np.random.Generator) -> Assembly:
    """A USB stick lying along X: a body and a metal connector at +X, with a pull-off cap
    (prismatic +X) or a U-shaped swivel cover turning about the pivot near the back (Z, pi)."""
    asm = Assembly(f"USB_{seed}", "USB", sample_palette(rng, ("plastic", "metal")))
    length = float(rng.uniform(0.03, 0.05))
    width = float(rng.uniform(0.015, 0.021))
    type_c = rng.random() < 0.3
    cw, ch, cl = (0.0084, 0.0026, 0.0065) if type_c else (0.012, 0.0045, 0.012)
    height = float(rng.uniform(max(ch + 0.003, 0.006), 0.01))
    c = 0.0005
    zc = height / 2
    hx = length / 2
    pieces = [
        *_flat_body(length, width, height, min(0.003, width * 0.2), 0.0, "body"),
        _box(
            (hx - 0.001, -cw / 2, zc - ch / 2), (hx + cl, cw / 2, zc + ch / 2), "connector", "metal"
        ),
        _box(
            (hx + 0.001, -cw / 2 + 0.0008, zc - 0.0006),
            (hx + cl - 0.0005, cw / 2 - 0.0008, zc + 0.0006),
            "tongue",
            "trim",
        ),
    ]
    swivel = rng.random() < 0.45
    x_end = hx + cl
    if swivel:
        px = -hx + width * 0.35
        corners = [(hx, width / 2), (x_end, cw / 2), (-hx, width / 2)]
        reach = max(math.hypot(x - px, y) for x, y in corners) + c + 0.0005
        t = 0.0006
        pieces += [
            Piece(cylinder(0.0018, c, "z", (px, 0, height + c / 2), 12), "stud_top", "metal"),
            Piece(cylinder(0.0018, c, "z", (px, 0, -c / 2), 12), "stud_bottom", "metal"),
        ]
        asm.add_link("base", "base", pieces)
        wc = width / 2
        cover = [
            _box((-wc, -wc, height + c), (reach, wc, height + c + t), "cover_top", "metal"),
            _box((-wc, -wc, -c - t), (reach, wc, -c), "cover_bottom", "metal"),
            _box((reach, -wc, -c - t), (reach + t, wc, height + c + t), "cover_bend", "metal"),
        ]
        _move(cover, shift=(0, 0, 0))
        asm.add_link("lid_0", "lid", cover)
        asm.add_joint("revolute", "base", "lid_0", (px, 0, 0), (0, 0, 1), (0.0, math.pi), "lid")
        return asm
    if rng.random() < 0.5:  # a lanyard loop at the back
        loop = ring(RingParams(0.004, 0.003, 0.0015, height * 0.6, 10.0), "loop")
        _move(loop, _rot(math.pi / 2, [1, 0, 0]), (-hx - 0.0025, 0, zc))
        pieces += loop
    asm.add_link("base", "base", pieces)
    wall = 0.0006
    x0, x1 = hx + c, x_end + c
    iy, iz0, iz1 = cw / 2 + c, zc - ch / 2 - c, zc + ch / 2 + c
    hy = width / 2
    cap = [
        _box((0, -hy, iz1), (x1 - x0 + wall, hy, height), "cap_top", "front"),
        _box((0, -hy, 0), (x1 - x0 + wall, hy, iz0), "cap_bottom", "front"),
        _box((0, -hy, iz0), (x1 - x0 + wall, -iy, iz1), "cap_side_0", "front"),
        _box((0, iy, iz0), (x1 - x0 + wall, hy, iz1), "cap_side_1", "front"),
        _box((x1 - x0, -iy, iz0), (x1 - x0 + wall, iy, iz1), "cap_end", "front"),
    ]
    asm.add_link("cap_0", "cap", cap)
    asm.add_joint("prismatic", "base", "cap_0", (x0, 0, 0), (1, 0, 0), (0.0, cl + 0.004), "cap")
    return asm


# ============================================================================================
# Remote
# ============================================================================================
def remote(seed: int, rng: np.random.Generator) -> Assembly:
    """A remote control lying face up, its IR end towards -Y: push buttons (prismatic -Z, 40%
    of their height) in blocks: power, a D-pad with OK, volume/channel pairs, a number pad,
    a colour row; which blocks, in what order and how big varies."""
    length = float(rng.uniform(0.14, 0.22))
    width = float(rng.uniform(0.04, 0.056))
    thick = float(rng.uniform(0.014, 0.024))
    asm = Assembly(f"Remote_{seed}", "Remote", sample_palette(rng, ("plastic",)))
    body = _flat_body(width, length, thick, width * float(rng.uniform(0.1, 0.4)), 0.0, "body")
    body.append(
        _box(
            (-width * 0.2, -length / 2 - 0.0005, thick * 0.4),
            (width * 0.2, -length / 2 + 0.002, thick * 0.75),
            "ir_window",
            "screen",
        )
    )
    asm.add_link("base", "base", body)
    depth = float(rng.uniform(0.002, 0.0035))
    margin = width * 0.12
    x0, x1 = -width / 2 + margin, width / 2 - margin
    y = -length / 2 + float(rng.uniform(0.012, 0.02))  # from the front end backwards
    y_end = length / 2 - 0.01
    key = min(0.011, (x1 - x0) / 3 * 0.8)
    blocks = ["power"]
    rest = ["dpad", "numbers", "volume", "colours"]
    rng.shuffle(rest)
    blocks += [b for b in rest if rng.random() < 0.75]
    rows = int(rng.integers(3, 5))
    needs = {"power": 0.014, "dpad": 3 * key + 0.006, "numbers": rows * key * 1.05,
             "volume": 2 * key * 1.3, "colours": key * 0.9}  # fmt: skip
    fitted, used = [], 0.0
    for block in blocks:  # the blocks that fit, in order
        if y + used + needs[block] <= y_end:
            fitted.append(block)
            used += needs[block] + 0.004
    # Spread what length is left between the blocks (up to 1.5 cm between two).
    spacing = 0.004 + min(0.015, max(0.0, y_end - y - used) / max(len(fitted), 1))
    count = 0
    for block in fitted:
        need = needs[block]
        if block == "power":
            _push(
                asm,
                "base",
                (x1 - key / 2, y + 0.006, thick),
                "+z",
                key * 0.8,
                key * 0.8,
                depth,
                1.0,
                role="accent",
            )
            count += 1
        elif block == "dpad":
            cy = y + need / 2
            s = key * 1.05
            _push(asm, "base", (0, cy, thick), "+z", key * 0.85, key * 0.85, depth, 1.0)
            for dx, dy in ((0, -s), (0, s), (-s, 0), (s, 0)):
                _push(asm, "base", (dx, cy + dy, thick), "+z", key * 0.8, key * 0.7, depth)
            count += 5
        elif block == "numbers":
            _keypad(
                asm, "base", x0, x1, y, y + need, thick, rows, 3, depth, float(rng.random() < 0.4)
            )
            count += rows * 3
        elif block == "volume":
            for cx in (x0 + key * 0.6, x1 - key * 0.6):
                for dy in (0.27, 0.73):
                    _push(
                        asm, "base", (cx, y + dy * need, thick), "+z", key * 0.9, need * 0.4, depth
                    )
            count += 4
        else:
            _keypad(asm, "base", x0, x1, y, y + need, thick, 1, 4, depth * 0.8)
            count += 4
        y += need + spacing
    return asm


# ============================================================================================
# Mouse
# ============================================================================================
def mouse(seed: int, rng: np.random.Generator) -> Assembly:
    """A computer mouse: a low shell, a palm hump behind, left and right buttons hinged at
    their back edge (revolute about +X: pressing tips the front down a few hundredths of a
    radian) over wedges that leave room for the press, a scroll wheel between them
    (continuous about X) and sometimes side buttons."""
    length = float(rng.uniform(0.095, 0.125))
    width = float(rng.uniform(0.055, 0.068))
    height = float(rng.uniform(0.032, 0.042))
    asm = Assembly(f"Mouse_{seed}", "Mouse", sample_palette(rng, ("plastic",)))
    shell_h = float(rng.uniform(0.012, 0.016))
    btn_len = length * float(rng.uniform(0.38, 0.45))
    btn_t = float(rng.uniform(0.002, 0.003))
    tilt = float(rng.uniform(0.12, 0.25))  # the buttons rise towards the back
    press = float(rng.uniform(0.03, 0.06))
    r_wheel = float(rng.uniform(0.008, 0.011))
    w_wheel = float(rng.uniform(0.006, 0.008))
    c = GAP
    y_front = -length / 2 + 0.004
    y_hinge = y_front + btn_len
    # The plates' bottoms pass through the hinge; the wedges stay under the fully pressed plates.
    z_hinge = shell_h + c + btn_len * math.tan(tilt + press) + 0.0005
    pieces = _flat_body(width, length, shell_h, width * 0.42, 0.0, "shell")
    bw = width * 0.46
    slot = w_wheel / 2 + c
    slope = math.tan(tilt + press)
    for side in (-1.0, 1.0):
        xa, xb = sorted((side * slot, side * bw))
        top_h, top_f = z_hinge - c, z_hinge - c - btn_len * slope
        pieces.append(
            _hull(
                [
                    (x, y, z)
                    for x in (xa, xb)
                    for y, z in (
                        (y_front, shell_h - 0.001),
                        (y_hinge, shell_h - 0.001),
                        (y_hinge, top_h),
                        (y_front, top_f),
                    )
                ],
                f"wedge_{int(side > 0)}",
            )
        )
    # Palm hump: an ellipsoid reaching the back end, cut at the hinge line where its height
    # meets the buttons' back edge, and at the shell's top.
    a_z = height - shell_h
    frac = min(max((z_hinge + btn_t - shell_h) / a_z, 0.05), 0.95)
    k = math.sqrt(1 - frac**2)
    room = length / 2 - y_hinge - c
    s = room * k / (1 + k)  # the cut's distance in front of the ellipsoid's centre
    b_y = room - s
    pts = trimesh.creation.icosphere(3).vertices * np.array([width * 0.47, b_y, a_z])
    pts = pts[(pts[:, 1] >= -s) & (pts[:, 2] >= 0)]
    t = np.linspace(0, math.pi, 13)
    for y_cut in (-s,):  # the cut face's outline (an ellipse's upper half)
        r = math.sqrt(max(1 - (y_cut / b_y) ** 2, 0.0))
        pts = np.vstack(
            [
                pts,
                np.stack(
                    [width * 0.47 * r * np.cos(t), np.full(13, y_cut), a_z * r * np.sin(t)], 1
                ),
            ]
        )
    pts = pts + np.array([0, y_hinge + c + s, shell_h - 0.001])
    pieces.append(_hull(pts, "hump"))
    asm.add_link("base", "base", pieces)
    for i, side in enumerate((-1.0, 1.0)):
        xa, xb = sorted((side * (slot + c), side * bw))
        plate = [_box((xa, -btn_len, 0), (xb, 0, btn_t), f"button_{i}_plate", "front")]
        _move(plate, _rot(tilt, [1, 0, 0]))
        name = asm.add_link(f"button_{i}", "button", plate)
        asm.add_joint(
            "revolute", "base", name, (0, y_hinge, z_hinge), (1, 0, 0), (0.0, press), "button"
        )
    y_wheel = y_hinge - btn_len * float(rng.uniform(0.35, 0.55))
    top_at = z_hinge - (y_hinge - y_wheel) * math.tan(tilt) + btn_t
    z_wheel = max(shell_h + c + r_wheel, top_at + float(rng.uniform(0.002, 0.004)) - r_wheel)
    wheel = [Piece(cylinder(r_wheel, w_wheel, "x", (0, 0, 0), 20), "wheel", "knob")]
    asm.add_link("wheel_0", "wheel", wheel)
    asm.add_joint("continuous", "base", "wheel_0", (0, y_wheel, z_wheel), (1, 0, 0), label="wheel")
    for k in range(int(rng.integers(0, 3))):
        y_side = -0.002 + k * 0.016
        _push(asm, "base", (-width / 2, y_side, shell_h * 0.55), "-x", 0.013, shell_h * 0.4, 0.002)
    return asm


# ============================================================================================
# Phone
# ============================================================================================
def phone(seed: int, rng: np.random.Generator) -> Assembly:
    """A phone lying face up, its top end towards +Y: a touch-screen slab with side buttons
    (prismatic, pressed into the sides), a candybar with a keypad, a flip phone (the upper
    half hinged at the top end, opening up to ~3 rad about -X) or a slider (the upper half
    sliding +Y off a keypad)."""
    kind = ("slab", "candybar", "flip", "slider")[int(rng.choice(4, p=[0.4, 0.2, 0.2, 0.2]))]
    asm = Assembly(f"Phone_{seed}", "Phone", sample_palette(rng, ("plastic", "metal")))
    depth = float(rng.uniform(0.0012, 0.002))  # key height
    if kind == "slab":
        length = float(rng.uniform(0.13, 0.165))
        width = length * float(rng.uniform(0.45, 0.5))
        thick = float(rng.uniform(0.007, 0.0095))
        radius = float(rng.uniform(0.004, 0.011))
        body = _flat_body(width, length, thick, radius, 0.0, "body")
        bezel = float(rng.uniform(0.002, 0.005))
        body.append(
            _box(
                (-width / 2 + bezel, -length / 2 + bezel * 2, thick - 0.0002),
                (width / 2 - bezel, length / 2 - bezel * 2, thick + 0.0003),
                "screen",
                "screen",
            )
        )
        asm.add_link("base", "base", body)
        bh = min(0.0025, thick * 0.35)
        bd = float(rng.uniform(0.0007, 0.001))
        y_power = length * float(rng.uniform(0.1, 0.25))
        _push(
            asm,
            "base",
            (width / 2, y_power, thick / 2),
            "+x",
            float(rng.uniform(0.01, 0.016)),
            bh,
            bd,
        )
        n_volume = int(rng.integers(1, 3))
        vl = 0.011 if n_volume == 2 else 0.022
        for i in range(n_volume):
            y_v = y_power - 0.004 - vl / 2 - i * (vl + 0.003)
            _push(asm, "base", (-width / 2, y_v, thick / 2), "-x", vl, bh, bd)
        return asm
    if kind == "candybar":
        length = float(rng.uniform(0.1, 0.125))
        width = float(rng.uniform(0.044, 0.052))
        thick = float(rng.uniform(0.012, 0.018))
        body = _flat_body(width, length, thick, width * 0.2, 0.0, "body")
        body.append(
            _box(
                (-width * 0.38, length * 0.02, thick - 0.0002),
                (width * 0.38, length * 0.4, thick + 0.0003),
                "screen",
                "screen",
            )
        )
        asm.add_link("base", "base", body)
        _phone_keys(asm, "base", width, -length / 2 + 0.006, -length * 0.02, thick, depth, rng)
        return asm
    length = float(rng.uniform(0.085, 0.105))
    width = float(rng.uniform(0.044, 0.052))
    t_low = float(rng.uniform(0.008, 0.012))
    t_up = float(rng.uniform(0.006, 0.01))
    radius = width * 0.15
    key_top = t_low + depth * 1.4 + PRESS_GAP  # keys stand off by travel + gap
    asm.add_link("base", "base", _flat_body(width, length, t_low, radius, 0.0, "lower"))
    z_up = key_top + GAP
    if kind == "slider":
        _phone_keys(asm, "base", width, -length / 2 + 0.005, length * 0.05, t_low, depth, rng)
        upper = _flat_body(width, length, t_up, radius, 0.0, "upper", "front")
        upper.append(
            _box(
                (-width * 0.4, -length * 0.4, t_up - 0.0002),
                (width * 0.4, length * 0.4, t_up + 0.0003),
                "screen",
                "screen",
            )
        )
        asm.add_link("slider_0", "slider", upper)
        asm.add_joint(
            "prismatic",
            "base",
            "slider_0",
            (0, 0, z_up),
            (0, 1, 0),
            (0.0, length * float(rng.uniform(0.4, 0.5))),
            "slider",
        )
        return asm
    _phone_keys(asm, "base", width, -length / 2 + 0.005, length * 0.3, t_low, depth, rng)
    g = 0.0012
    yh, zh = length / 2 + g, z_up
    upper = _flat_body(width, length, t_up, radius, 0.0, "upper", "front")
    _move(upper, shift=(0, -length / 2 - g, 0))
    upper.append(
        _box(
            (-width * 0.4, -length + 0.006, -0.0003),
            (width * 0.4, -0.012, 0.0002),
            "screen",
            "screen",
        )
    )
    upper.append(
        _box(
            (-width * 0.2, -length * 0.45, t_up - 0.0002),
            (width * 0.2, -length * 0.2, t_up + 0.0003),
            "outer_screen",
            "screen",
        )
    )
    knuckle_r = min(math.hypot(g, zh - t_low) - 0.0005, t_up * 0.5)
    upper.append(Piece(cylinder(knuckle_r, width * 0.5, "x", (0, 0, 0), 16), "knuckle", "trim"))
    asm.add_link("lid_0", "lid", upper)
    asm.add_joint(
        "revolute",
        "base",
        "lid_0",
        (0, yh, zh),
        (-1, 0, 0),
        (0.0, float(rng.uniform(2.6, 3.0))),
        "lid",
    )
    return asm


def _phone_keys(asm, parent, width, y0, y1, z, depth, rng) -> None:
    """A 3 x 4 keypad with a row of call, end and navigation keys above it."""
    x0, x1 = -width * 0.38, width * 0.38
    split = y0 + (y1 - y0) * 0.75
    _keypad(asm, parent, x0, x1, y0, split, z, 4, 3, depth, float(rng.random() < 0.3))
    _keypad(asm, parent, x0, x1, split + 0.002, y1, z, 1, 3, depth)


# ============================================================================================
# Camera
# ============================================================================================
def camera(seed: int, rng: np.random.Generator) -> Assembly:
    """A compact camera (a two-stage lens extending along -Y, prismatic) or a bridge / system
    camera (a fixed barrel with zoom and focus rings, continuous, a grip, a mode dial), both
    with a shutter button (prismatic -Z); some with a flip screen hinged at the top of the back
    (about +X) or a card door on the side (about +Z)."""
    compact = rng.random() < 0.5
    asm = Assembly(f"Camera_{seed}", "Camera", sample_palette(rng, ("plastic", "metal")))
    c = GAP
    if compact:
        width = float(rng.uniform(0.09, 0.115))
        height = float(rng.uniform(0.054, 0.066))
        depth = float(rng.uniform(0.02, 0.03))
    else:
        width = float(rng.uniform(0.115, 0.145))
        height = float(rng.uniform(0.075, 0.1))
        depth = float(rng.uniform(0.04, 0.065))
    body = extrusion(ExtrusionParams(width, height, depth, float(rng.uniform(0.004, 0.012))))
    _move(body, shift=(0, 0, height / 2))
    yf, yb = -depth / 2, depth / 2
    lens_x = -width * 0.12 if not compact else float(rng.uniform(-0.1, 0.05)) * width
    lens_z = height * 0.5
    back = rng.random()
    extra = "screen" if back < 0.35 else ("door" if back < 0.6 else "none")
    if extra != "screen":
        body.append(
            _box(
                (-width * 0.4, yb - 0.0002, height * 0.15),
                (width * 0.2, yb + 0.0005, height * 0.85),
                "display",
                "screen",
            )
        )
    if compact:
        body.append(
            _box(
                (width * 0.2, yf - 0.0008, height * 0.7),
                (width * 0.38, yf + 0.001, height * 0.85),
                "flash",
                "glass",
            )
        )
        r1 = min(height * 0.36, float(rng.uniform(0.016, 0.024)))
        ring_len = float(rng.uniform(0.008, 0.014))
        r_out = r1 + float(rng.uniform(0.002, 0.004))
        housing = tube(TubeParams(r_out, r1 + c, ring_len, 16.0, 0.0), "lens_ring", "trim")
        _move(housing, _rot(math.pi / 2, [1, 0, 0]), (lens_x, yf + 0.0005, lens_z))
        body += housing
        asm.add_link("base", "base", body)
        stage_len = ring_len - c + 0.0005
        r2 = r1 - 0.0015 - c
        stage1 = tube(TubeParams(r1, r2 + c, stage_len, 16.0, 0.0), "stage1", "metal")
        _move(stage1, _rot(math.pi / 2, [1, 0, 0]))
        asm.add_link("lens_0", "lens", stage1)
        asm.add_joint(
            "prismatic",
            "base",
            "lens_0",
            (lens_x, yf - c, lens_z),
            (0, -1, 0),
            (0.0, stage_len * float(rng.uniform(0.6, 0.8))),
            "lens",
        )
        stage2 = [
            Piece(cylinder(r2, stage_len, "y", (0, -stage_len / 2, 0), 24), "stage2", "metal"),
            Piece(
                cylinder(r2 * 0.7, 0.0008, "y", (0, -stage_len - 0.0002, 0), 24), "glass", "glass"
            ),
        ]
        asm.add_link("lens_1", "lens", stage2)
        asm.add_joint(
            "prismatic",
            "lens_0",
            "lens_1",
            (0, 0, 0),
            (0, -1, 0),
            (0.0, stage_len * float(rng.uniform(0.6, 0.8))),
            "lens",
        )
        shutter_x = width * 0.32
    else:
        grip_w = width * float(rng.uniform(0.18, 0.25))
        grip_d = float(rng.uniform(0.012, 0.022))
        body.append(
            _box(
                (width / 2 - grip_w, yf - grip_d, height * 0.08),
                (width / 2 - 0.002, yf + 0.001, height * 0.92),
                "grip",
                "trim",
            )
        )
        hump_w = width * 0.22
        body.append(
            _hull(
                [
                    (x, y, z)
                    for x in (lens_x - hump_w / 2, lens_x + hump_w / 2)
                    for y, z in (
                        (yf + 0.004, height - 0.001),
                        (yb - 0.01, height - 0.001),
                        (yf + 0.012, height + 0.014),
                        (yb - 0.014, height + 0.014),
                    )
                ],
                "viewfinder",
            )
        )
        rb = min(height * 0.34, float(rng.uniform(0.024, 0.034)))
        barrel_len = float(rng.uniform(0.04, 0.09))
        body += [
            Piece(
                cylinder(rb, barrel_len, "y", (lens_x, yf - barrel_len / 2 + 0.001, lens_z), 24),
                "barrel",
                "trim",
            ),
            Piece(
                cylinder(rb * 0.75, 0.001, "y", (lens_x, yf - barrel_len - 0.0003, lens_z), 24),
                "front_glass",
                "glass",
            ),
        ]
        asm.add_link("base", "base", body)
        n_rings = int(rng.integers(1, 3))
        ring_len = (barrel_len - 0.012) / n_rings - 2 * c
        ring_len *= float(rng.uniform(0.55, 0.9))
        thick = float(rng.uniform(0.002, 0.004))
        for i in range(n_rings):
            start = yf - 0.006 - i * (barrel_len - 0.012) / n_rings
            parts = tube(
                TubeParams(rb + c + thick, rb + c, ring_len, 18.0, 0.0), f"ring_{i}", "knob"
            )
            _move(parts, _rot(math.pi / 2, [1, 0, 0]))
            name = asm.add_link(f"knob_{i}", "knob", parts)
            asm.add_joint(
                "continuous", "base", name, (lens_x, start, lens_z), (0, -1, 0), label="knob"
            )
        dial_r = float(rng.uniform(0.008, 0.012))
        dial = [Piece(cylinder(dial_r, 0.006, "z", (0, 0, 0.003), 20), "dial", "knob")]
        dial_x = max(lens_x - hump_w / 2 - dial_r - 0.008, -width / 2 + dial_r + 0.004)
        name = asm.add_link(f"knob_{n_rings}", "knob", dial)
        asm.add_joint("continuous", "base", name, (dial_x, 0, height + c), (0, 0, 1), label="knob")
        shutter_x = width / 2 - grip_w / 2
    _push(
        asm, "base", (shutter_x, yf + 0.008, height), "+z", 0.009, 0.009, 0.003, 1.0, role="accent"
    )
    if extra == "screen":
        sw, sh, st = width * 0.6, height * 0.7, float(rng.uniform(0.004, 0.007))
        scr = [
            _box((-sw / 2, 0, -sh), (sw / 2, st, 0), "screen_frame", "front"),
            _box(
                (-sw / 2 + 0.003, st - 0.0002, -sh + 0.003),
                (sw / 2 - 0.003, st + 0.0004, -0.003),
                "screen_glass",
                "screen",
            ),
        ]
        name = asm.add_link("screen_0", "screen", scr)
        asm.add_joint(
            "revolute",
            "base",
            name,
            (-width * 0.1, yb + c, height + c),
            (1, 0, 0),
            (0.0, float(rng.uniform(1.8, 2.8))),
            "screen",
        )
    elif extra == "door":
        dw, dh, dt = min(depth * 0.7, 0.03), height * 0.5, 0.0015
        door = [_box((0, -dw, 0), (dt, 0, dh), "card_door", "front")]
        name = asm.add_link("door_0", "lid", door)
        asm.add_joint(
            "revolute",
            "base",
            name,
            (width / 2 + c, dw / 2, height * 0.25),
            (0, 0, 1),
            (0.0, float(rng.uniform(1.0, 1.5))),
            "lid",
        )
    return asm
