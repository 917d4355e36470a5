"""Household objects: Cart, Chair, FoldingChair, Clock, Dispenser, Display, Fan, Globe, Keyboard,
Lamp, Printer.

Every part is placed in world coordinates at rest and attached through ``_Chain``, which turns
them into the link frames (a link's frame is its joint's pivot, so chains of joints such as a
caster's swivel and wheel, a lamp's arms or a monitor's height, swivel and tilt compose). Chains
are laid out so each joint alone, the others at rest, sweeps its range without meeting anything:
caster wheels hang below the deck or leg they swivel under, lamp arms alternate between a pair of
outer bars and one middle bar so neighbours sit in different x slabs, monitor screens stand far
enough in front of the neck that a forward tilt clears it, a fan's yoke arms stand outside the
guard it tilts in.

Ranges: casters, wheels, clock hands, fan rotors, globe spheres and chair seats turn freely
(continuous); chair backs tilt ~0.2-0.4 rad, folding seats fold ~1.3-1.5 rad, pendulums swing
+-0.15-0.3 rad, pump heads press 8-18 mm, monitor tilts -0.1..0.35 rad and slide up 8-13 cm,
fan heads oscillate +-0.6-1.0 rad and tilt -0.2..0.4 rad, keys press 2-4 mm, lamp joints
+-0.3-0.5 rad, printer lids open ~1.1-1.5 rad.

Keyboards model keys as individual prismatic links but cap them: the keys of the two front rows
of the main block (the space-bar row and the row above it, 17-20 keys) move; every other key
(the rows behind, and on tenkeyless and full boards the function row, navigation cluster and
numpad) is a fixed cap on the case, visible but not moving. A board so carries at most 22
joints: the sim check's time grows with the joint count (about 0.5 s a joint; a 61-key board
took 30 s) and PyBullet reads at most 127.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from spark_blender.synth.appliances import add_button, add_knob
from spark_blender.synth.assembly import CLEARANCE, Assembly, Outer, fill_cell
from spark_blender.synth.materials import sample_palette
from spark_blender.synth.parts import (
    CarcassParams,
    LatheParams,
    LidParams,
    Piece,
    box_between,
    carcass,
    cylinder,
    lathe,
    lid,
    segment_cylinder,
)

CL = CLEARANCE


def _rot(angle: float, axis) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(angle, axis)


def _turned(mesh: trimesh.Trimesh, angle: float, axis, point=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    mesh.apply_transform(trimesh.transformations.rotation_matrix(angle, axis, point))
    return mesh


class _Chain:
    """Links placed in world coordinates at rest; each link's frame is its joint's pivot."""

    def __init__(self, asm: Assembly, base: list[Piece]):
        self.asm = asm
        self.at: dict[str, np.ndarray] = {"base": np.zeros(3)}
        asm.add_link("base", "base", base)

    def add(self, name, label, pieces, parent, type_, pivot, axis, limits=(0.0, 0.0), jlabel=None):
        pivot = np.asarray(pivot, float)
        for piece in pieces:
            piece.mesh.apply_translation(-pivot)
        self.asm.add_link(name, label, pieces)
        self.asm.add_joint(
            type_, parent, name, pivot - self.at[parent], axis, limits, jlabel or label
        )
        self.at[name] = pivot
        return name

    def extend(self, name, pieces):
        for piece in pieces:
            piece.mesh.apply_translation(-self.at[name])
        self.asm.extend(name, pieces)

    def button(self, parent, at, width, height, depth, round_=0.0, up=False):
        at = np.asarray(at, float) - self.at[parent]
        return add_button(self.asm, parent, at, width, height, depth, round_, up)

    def knob(self, parent, at, radius, height):
        return add_knob(self.asm, parent, np.asarray(at, float) - self.at[parent], radius, height)


def _u(rng, lo, hi) -> float:
    return float(rng.uniform(lo, hi))


def _ring(center, radius, wire, n, plane="xz", name="ring", role="metal", arc=(0.0, 2 * math.pi)):
    """A ring (or arc) of `n` straight convex segments of radius `wire` around `center`."""
    c = np.asarray(center, float)
    angles = np.linspace(arc[0], arc[1], n + 1)
    pieces = []
    for i in range(n):
        pts = []
        for a in angles[i : i + 2]:
            u, v = radius * math.cos(a), radius * math.sin(a)
            if plane == "xz":
                pts.append(c + (u, 0.0, v))
            elif plane == "xy":
                pts.append(c + (u, v, 0.0))
            else:  # yz
                pts.append(c + (0.0, u, v))
        pieces.append(Piece(segment_cylinder(pts[0], pts[1], wire, 8), f"{name}_{i}", role))
    return pieces


def _sleeve(cx, cy, z0, z1, inner, wall, name="sleeve", role="body") -> list[Piece]:
    """A square tube (four walls) around a vertical axis: a telescopic part slides inside."""
    a, t = inner, wall
    return [
        Piece(
            box_between((cx - a - t, cy - a - t, z0), (cx - a, cy + a + t, z1)), f"{name}_l", role
        ),
        Piece(
            box_between((cx + a, cy - a - t, z0), (cx + a + t, cy + a + t, z1)), f"{name}_r", role
        ),
        Piece(box_between((cx - a, cy - a - t, z0), (cx + a, cy - a, z1)), f"{name}_f", role),
        Piece(box_between((cx - a, cy + a, z0), (cx + a, cy + a + t, z1)), f"{name}_b", role),
    ]


# ============================================================================================
# Casters and wheels (Cart, Chair)
# ============================================================================================
def caster_height(radius: float) -> float:
    """Height of a caster from the floor to the underside it hangs from."""
    return 2 * radius + 2 * CL + max(0.008, 0.25 * radius)


def add_caster(chain: _Chain, parent: str, top, radius: float, width: float, k: int) -> str:
    """A swivel (continuous about Z) hanging `CL` under the point `top` and its wheel
    (continuous about X, the swivel's child) trailing behind the swivel axis."""
    x, y, z = np.asarray(top, float)
    hub_h = max(0.008, 0.25 * radius)
    hub_r = max(0.008, 0.3 * radius)
    z_hub = z - CL
    z_bot = z_hub - hub_h
    z_axle = z_bot - CL - radius
    trail = 0.55 * radius
    plate = 0.004
    px = width / 2 + CL + plate / 2
    swivel = [Piece(cylinder(hub_r, hub_h, "z", (x, y, z_hub - hub_h / 2), 16), "hub", "metal")]
    for s in (-1, 1):
        swivel.append(
            Piece(
                box_between(
                    (x + s * px - plate / 2, y - 0.3 * radius, z_axle - 0.25 * radius),
                    (x + s * px + plate / 2, y + trail + 0.25 * radius, z_bot),
                ),
                f"fork_{'lr'[s > 0]}",
                "metal",
            )
        )
    name = chain.add(
        f"caster_{k}", "caster", swivel, parent, "continuous", (x, y, z), (0, 0, 1), jlabel="caster"
    )
    wheel = [Piece(cylinder(radius, width, "x", (x, y + trail, z_axle), 20), f"wheel_{k}", "trim")]
    chain.add(f"wheel_{k}", "wheel", wheel, name, "continuous", (x, y + trail, z_axle), (1, 0, 0))
    return name


def add_wheel(chain: _Chain, parent: str, center, radius: float, width: float, k: int) -> str:
    """A wheel turning about X at `center`, with fork plates on the parent beside it."""
    x, y, z = np.asarray(center, float)
    wheel = [Piece(cylinder(radius, width, "x", (x, y, z), 24), f"wheel_{k}", "trim")]
    return chain.add(f"wheel_{k}", "wheel", wheel, parent, "continuous", (x, y, z), (1, 0, 0))


# ============================================================================================
# Cart
# ============================================================================================
def cart(seed: int, rng: np.random.Generator) -> Assembly:
    """Platform (utility) carts on four casters or two casters and two fixed wheels, with a
    fixed or folding push handle and sometimes a lower shelf; shopping carts with a basket whose
    back gate swings in (flap); hand trucks on two wheels, some with a folding grip."""
    style = rng.choice(["platform", "platform", "shopping", "hand_truck"])
    asm = Assembly(f"Cart_{seed}", "Cart", sample_palette(rng, ("metal", "plastic", "painted")))
    if style == "hand_truck":
        return _hand_truck(asm, rng)
    r = _u(rng, 0.035, 0.065)
    ww = _u(rng, 0.025, 0.04)
    z_under = caster_height(r)
    width = _u(rng, 0.45, 0.7)
    depth = _u(rng, 0.7, 1.05) if style == "platform" else _u(rng, 0.7, 0.9)
    deck_t = _u(rng, 0.025, 0.045)
    z_top = z_under + deck_t
    base = [
        Piece(box_between((-width / 2, -depth / 2, z_under), (width / 2, depth / 2, z_top)), "deck")
    ]
    parts: list = []
    fixed_rear = style == "platform" and rng.random() < 0.4
    inset = r * 1.6 + 0.02
    corners = [
        (sx * (width / 2 - inset), sy * (depth / 2 - inset)) for sy in (-1, 1) for sx in (-1, 1)
    ]
    handle_x = width / 2 - 0.03
    if style == "platform":
        shelf = rng.random() < 0.4
        post = 0.025
        if shelf:  # corner posts and an upper shelf
            h2 = _u(rng, 0.35, 0.5)
            for sx in (-1, 1):
                for sy in (-1, 1):
                    x, y = sx * (width / 2 - post / 2), sy * (depth / 2 - post / 2)
                    base.append(
                        Piece(
                            box_between(
                                (x - post / 2, y - post / 2, z_top),
                                (x + post / 2, y + post / 2, z_top + h2),
                            ),
                            "post",
                            "metal",
                        )
                    )
            base.append(
                Piece(
                    box_between(
                        (-width / 2, -depth / 2, z_top + h2),
                        (width / 2, depth / 2, z_top + h2 + deck_t),
                    ),
                    "shelf",
                )
            )
        fold = not shelf and rng.random() < 0.5
        handle_h = _u(rng, 0.75, 0.95)
        tube = _u(rng, 0.011, 0.016)
        y_h = depth / 2 - 0.03
        if fold:
            z_h = z_top + tube + CL + 0.004
            for sx in (-1, 1):  # hinge knuckles beside the uprights
                x0 = sx * (handle_x + tube + CL)
                base.append(
                    Piece(
                        box_between(
                            (min(x0, x0 + sx * 0.012), y_h - 0.015, z_top),
                            (max(x0, x0 + sx * 0.012), y_h + 0.015, z_h + tube),
                        ),
                        "knuckle",
                        "metal",
                    )
                )
            parts.append(("fold", y_h, z_h, handle_h, tube))
        else:
            z_h = z_top + (h2 + deck_t if shelf else 0.0)
            base += _push_handle(handle_x, y_h, z_h, z_top + handle_h, tube)
    else:  # shopping cart: a basket on posts above the chassis, a back gate and a handle
        t = 0.008
        z0 = z_top + _u(rng, 0.3, 0.45)
        bh = _u(rng, 0.3, 0.4)
        bw, bd = width, depth
        for sx in (-1, 1):
            for sy in (-1, 1):
                x, y = sx * (bw / 2 - 0.02), sy * (bd / 2 - 0.02)
                base.append(
                    Piece(
                        box_between((x - 0.01, y - 0.01, z_top), (x + 0.01, y + 0.01, z0)),
                        "post",
                        "metal",
                    )
                )
        base += [
            Piece(
                box_between((-bw / 2, -bd / 2, z0), (bw / 2, bd / 2, z0 + t)),
                "basket_floor",
                "metal",
            ),
            Piece(
                box_between((-bw / 2, -bd / 2, z0 + t), (bw / 2, -bd / 2 + t, z0 + bh)),
                "basket_front",
                "metal",
            ),
            Piece(
                box_between((-bw / 2, -bd / 2 + t, z0 + t), (-bw / 2 + t, bd / 2, z0 + bh)),
                "basket_left",
                "metal",
            ),
            Piece(
                box_between((bw / 2 - t, -bd / 2 + t, z0 + t), (bw / 2, bd / 2, z0 + bh)),
                "basket_right",
                "metal",
            ),
        ]
        y_handle = bd / 2 + _u(rng, 0.06, 0.1)
        for sx in (-1, 1):
            base.append(
                Piece(
                    box_between(
                        (sx * (bw / 2) - 0.01, bd / 2, z0 + bh - 0.06),
                        (sx * (bw / 2) + 0.01, y_handle, z0 + bh - 0.04),
                    ),
                    "handle_arm",
                    "metal",
                )
            )
        base.append(
            Piece(
                segment_cylinder(
                    (-bw / 2 - 0.01, y_handle + 0.012, z0 + bh - 0.05),
                    (bw / 2 + 0.01, y_handle + 0.012, z0 + bh - 0.05),
                    0.014,
                    12,
                ),
                "grip",
                "handle",
            )
        )
        parts.append(("gate", bw, bd, z0 + t, z0 + bh, t))
    chain = _Chain(asm, base)
    k = 0
    for i, (x, y) in enumerate(corners):
        if fixed_rear and y > 0:
            rf = z_under / 2 - CL / 2
            xw = x
            plate = 0.005
            for s in (-1, 1):
                px = xw + s * (ww / 2 + CL + plate / 2)
                chain.extend(
                    "base",
                    [
                        Piece(
                            box_between(
                                (px - plate / 2, y - 0.02, rf - 0.01),
                                (px + plate / 2, y + 0.02, z_under),
                            ),
                            "axle_bracket",
                            "metal",
                        )
                    ],
                )
            add_wheel(chain, "base", (xw, y, rf), rf, ww, 10 + i)
        else:
            add_caster(chain, "base", (x, y, z_under), r, ww, k)
            k += 1
    for part in parts:
        if part[0] == "fold":
            _, y_h, z_h, handle_h, tube = part
            pieces = _push_handle(handle_x, y_h, z_h, z_h + handle_h, tube)
            chain.add(
                "handle_0",
                "handle",
                pieces,
                "base",
                "revolute",
                (0, y_h, z_h),
                (1, 0, 0),
                (0.0, _u(rng, 1.1, 1.35)),
            )
        else:
            _, bw, bd, z_floor, z_rim, t = part
            gate = [
                Piece(
                    box_between(
                        (-bw / 2 + t + CL, bd / 2 - t, z_floor + CL),
                        (bw / 2 - t - CL, bd / 2, z_rim),
                    ),
                    "gate",
                    "metal",
                )
            ]
            chain.add(
                "flap_0",
                "flap",
                gate,
                "base",
                "revolute",
                (0, bd / 2, z_rim),
                (-1, 0, 0),
                (0.0, _u(rng, 1.1, 1.45)),
            )
    return asm


def _push_handle(x: float, y: float, z0: float, z1: float, tube: float) -> list[Piece]:
    """A cart push handle: two tube uprights at +-x from z0 to z1 and a thicker grip at z1."""
    pieces = [
        Piece(segment_cylinder((sx * x, y, z0), (sx * x, y, z1), tube, 12), "upright", "metal")
        for sx in (-1, 1)
    ]
    grip = segment_cylinder((-x - tube, y, z1), (x + tube, y, z1), tube * 1.2, 12)
    pieces.append(Piece(grip, "grip", "handle"))
    return pieces


def _hand_truck(asm: Assembly, rng: np.random.Generator) -> Assembly:
    width = _u(rng, 0.35, 0.5)
    height = _u(rng, 1.0, 1.3)
    r = _u(rng, 0.08, 0.13)
    ww = _u(rng, 0.04, 0.07)
    rail = 0.025
    nose = _u(rng, 0.18, 0.28)
    y_rail = 0.0
    x_rail = width / 2 - rail / 2
    fold = rng.random() < 0.5
    top = height - (0.25 if fold else 0.0)
    base = [
        Piece(
            box_between((-width / 2, -nose, 0.0), (width / 2, y_rail + rail / 2, 0.01)),
            "nose_plate",
            "metal",
        ),
    ]
    for sx in (-1, 1):
        x = sx * x_rail
        base.append(
            Piece(
                box_between(
                    (x - rail / 2, y_rail - rail / 2, 0.01), (x + rail / 2, y_rail + rail / 2, top)
                ),
                "rail",
                "metal",
            )
        )
    for zf in np.linspace(0.25, top - 0.1, 3):
        base.append(
            Piece(
                box_between(
                    (-x_rail, y_rail - 0.008, zf - 0.01), (x_rail, y_rail + 0.008, zf + 0.01)
                ),
                "crossbar",
                "metal",
            )
        )
    y_w = rail / 2 + r * 0.55
    x_w = width / 2 + CL + ww / 2 + 0.006
    # Axle stubs from the rails towards each wheel, stopping CL short of it.
    for sx in (-1, 1):
        base.append(
            Piece(
                segment_cylinder(
                    (sx * (x_rail - 0.005), y_w, r), (sx * (x_w - ww / 2 - CL), y_w, r), 0.008, 10
                ),
                "axle",
                "metal",
            )
        )
        base.append(
            Piece(
                box_between(
                    (sx * x_rail - rail / 2, y_rail, r - 0.012),
                    (sx * x_rail + rail / 2, y_w, r + 0.012),
                ),
                "axle_arm",
                "metal",
            )
        )
    if not fold:
        base.append(
            Piece(
                segment_cylinder((-x_rail, y_rail, top), (x_rail, y_rail, top), 0.016, 12),
                "grip",
                "handle",
            )
        )
    chain = _Chain(asm, base)
    for k, sx in enumerate((-1, 1)):
        add_wheel(chain, "base", (sx * x_w, y_w, r), r, ww, k)
    if fold:
        bar = 0.012
        xb = x_rail + rail / 2 + CL + bar / 2
        z_h = top - 0.05
        pieces = [
            Piece(
                box_between(
                    (sx * xb - bar / 2, -bar / 2, z_h - 0.04), (sx * xb + bar / 2, bar / 2, height)
                ),
                "grip_bar",
                "metal",
            )
            for sx in (-1, 1)
        ]
        pieces.append(
            Piece(
                segment_cylinder((-xb - bar / 2, 0, height), (xb + bar / 2, 0, height), 0.016, 12),
                "grip",
                "handle",
            )
        )
        chain.add(
            "handle_0",
            "handle",
            pieces,
            "base",
            "revolute",
            (0, y_rail, z_h),
            (-1, 0, 0),
            (0.0, _u(rng, 0.9, 1.3)),
        )
    return asm


# ============================================================================================
# Chair, FoldingChair
# ============================================================================================
def chair(seed: int, rng: np.random.Generator) -> Assembly:
    """An office chair: a five-leg star on casters (swivel and wheel), a gas column, a seat that
    swivels about Z, in some a seat-height lift (prismatic) and a back that tilts (revolute)."""
    asm = Assembly(f"Chair_{seed}", "Chair", sample_palette(rng, ("plastic", "metal", "painted")))
    r = _u(rng, 0.024, 0.032)
    ww = _u(rng, 0.018, 0.026)
    legs = int(rng.choice([5, 5, 4]))
    reach = _u(rng, 0.27, 0.34)
    leg_w, leg_h = _u(rng, 0.035, 0.05), _u(rng, 0.025, 0.04)
    z_leg = caster_height(r)
    hub_r = _u(rng, 0.04, 0.055)
    base = [
        Piece(
            cylinder(hub_r, leg_h + 0.01, "z", (0, 0, z_leg + (leg_h + 0.01) / 2), 24), "star_hub"
        )
    ]
    phase = math.pi / 2 if legs == 4 else -math.pi / 2
    tips = []
    for i in range(legs):
        a = phase + 2 * math.pi * i / legs + (math.pi / 4 if legs == 4 else 0.0)
        leg = box_between((hub_r * 0.5, -leg_w / 2, z_leg), (reach, leg_w / 2, z_leg + leg_h))
        base.append(Piece(_turned(leg, a, (0, 0, 1)), f"leg_{i}"))
        rc = reach - 0.02
        tips.append((rc * math.cos(a), rc * math.sin(a)))
    z_hub_top = z_leg + leg_h + 0.01
    lift = rng.random() < 0.5
    col_h = _u(rng, 0.2, 0.28)
    z_col = z_hub_top + col_h
    inner = 0.022
    if lift:
        base += _sleeve(0, 0, z_hub_top, z_col, inner + CL + 0.002, 0.006, "column", "metal")
    else:
        base.append(
            Piece(cylinder(0.025, col_h, "z", (0, 0, z_hub_top + col_h / 2), 20), "column", "metal")
        )
    chain = _Chain(asm, base)
    for k, (x, y) in enumerate(tips):
        add_caster(chain, "base", (x, y, z_leg), r, ww, k)
    parent, z_s = "base", z_col + CL
    if lift:
        travel = _u(rng, 0.06, 0.11)
        ext = 0.04
        tube = [
            Piece(
                cylinder(
                    inner,
                    col_h - 0.02 + ext,
                    "z",
                    (0, 0, z_col + ext - (col_h - 0.02 + ext) / 2),
                    20,
                ),
                "gas_tube",
                "metal",
            )
        ]
        chain.add(
            "lift_0",
            "slider",
            tube,
            "base",
            "prismatic",
            (0, 0, z_col + ext),
            (0, 0, 1),
            (0.0, travel),
        )
        parent, z_s = "lift_0", z_col + ext + CL
    sw, sd, st = _u(rng, 0.42, 0.52), _u(rng, 0.4, 0.5), _u(rng, 0.05, 0.08)
    mech = 0.03
    z_seat = z_s + mech
    seat = [
        Piece(box_between((-0.08, -0.08, z_s), (0.08, 0.08, z_seat)), "mechanism", "metal"),
        Piece(
            box_between((-sw / 2, -sd / 2, z_seat), (sw / 2, sd / 2, z_seat + st)),
            "cushion",
            "front",
        ),
    ]
    if rng.random() < 0.6:  # armrests
        for sx in (-1, 1):
            x = sx * (sw / 2 + 0.025)
            seat += [
                Piece(
                    box_between((x - 0.012, -0.03, z_seat), (x + 0.012, 0.03, z_seat + st + 0.18)),
                    "arm_post",
                    "metal",
                ),
                Piece(
                    box_between(
                        (x - 0.03, -sd * 0.35, z_seat + st + 0.18),
                        (x + 0.03, sd * 0.35, z_seat + st + 0.205),
                    ),
                    "arm_pad",
                    "trim",
                ),
                Piece(
                    box_between(
                        (min(x, sx * sw / 2), -0.03, z_seat),
                        (max(x, sx * sw / 2), 0.03, z_seat + 0.02),
                    ),
                    "arm_bracket",
                    "metal",
                ),
            ]
    chain.add("seat_0", "seat", seat, parent, "continuous", (0, 0, z_s), (0, 0, 1))
    # The back: a post rising behind the seat and a panel; all of it behind the hinge plane, so a
    # tilt back (about -X) turns it away from the seat.
    yh = sd / 2 + CL
    bw, bh, bt = sw * _u(rng, 0.8, 1.0), _u(rng, 0.35, 0.55), _u(rng, 0.04, 0.07)
    back = [
        Piece(
            box_between((-0.03, yh, z_seat), (0.03, yh + 0.025, z_seat + st + 0.08)),
            "back_post",
            "metal",
        ),
        Piece(
            box_between(
                (-bw / 2, yh, z_seat + st + 0.06), (bw / 2, yh + bt, z_seat + st + 0.06 + bh)
            ),
            "backrest",
            "front",
        ),
    ]
    if rng.random() < 0.5:
        chain.add(
            "back_0",
            "seat",
            back,
            "seat_0",
            "revolute",
            (0, yh, z_seat),
            (-1, 0, 0),
            (0.0, _u(rng, 0.2, 0.4)),
            "back",
        )
    else:
        chain.extend("seat_0", back)
    return asm


def folding_chair(seed: int, rng: np.random.Generator) -> Assembly:
    """A folding chair: the frame (front legs, back legs rising into back posts, crossbars, a
    back panel) is the base; the seat, hinged at its back edge, folds up (revolute about -X);
    in some the back panel reclines on its own hinge."""
    asm = Assembly(
        f"FoldingChair_{seed}", "FoldingChair", sample_palette(rng, ("metal", "wood", "plastic"))
    )
    w = _u(rng, 0.38, 0.46)
    sd = _u(rng, 0.34, 0.42)
    zs = _u(rng, 0.42, 0.47)
    height = _u(rng, 0.75, 0.88)
    tube = _u(rng, 0.01, 0.014)
    st = _u(rng, 0.012, 0.025)
    xl = w / 2 + CL + tube
    yh = sd / 2 - 0.02  # the seat's hinge line (its back edge)
    y_post = yh + CL + tube + 0.004
    y_front = -sd / 2 + 0.02
    base = []
    for sx in (-1, 1):
        x = sx * xl
        base += [
            Piece(
                segment_cylinder((x, y_front - 0.06, 0), (x, y_front, zs - st - 0.01), tube, 10),
                "front_leg",
                "metal",
            ),
            Piece(
                segment_cylinder((x, y_post + 0.08, 0), (x, y_post, zs), tube, 10),
                "back_leg",
                "metal",
            ),
            Piece(
                segment_cylinder((x, y_post, zs), (x, y_post + 0.03, height), tube, 10),
                "back_post",
                "metal",
            ),
            Piece(
                segment_cylinder(
                    (x, y_front, zs - st - 0.01), (x, y_post, zs - st - 0.01), tube * 0.8, 10
                ),
                "seat_rail",
                "metal",
            ),
        ]
    base.append(
        Piece(
            segment_cylinder(
                (-xl, y_front - 0.04, 0.12), (xl, y_front - 0.04, 0.12), tube * 0.8, 10
            ),
            "crossbar",
            "metal",
        )
    )
    base.append(
        Piece(
            segment_cylinder((-xl, y_post + 0.06, 0.1), (xl, y_post + 0.06, 0.1), tube * 0.8, 10),
            "crossbar",
            "metal",
        )
    )
    bh = _u(rng, 0.14, 0.22)
    z_b0 = height - 0.03 - bh
    yb = y_post + tube + CL + 0.02
    back = [
        Piece(
            box_between((-w / 2 + 0.01, yb, z_b0), (w / 2 - 0.01, yb + 0.015, z_b0 + bh)),
            "back_panel",
            "front",
        )
    ]
    recline = rng.random() < 0.4
    if not recline:
        for sx in (-1, 1):  # brackets from the posts to the panel
            x = sx * (w / 2 - 0.01)
            back.append(
                Piece(
                    box_between(
                        (min(x, sx * xl), y_post - 0.005, z_b0 + 0.02),
                        (max(x, sx * xl), yb + 0.015, z_b0 + 0.04),
                    ),
                    "back_bracket",
                    "metal",
                )
            )
        base += back
    chain = _Chain(asm, base)
    seat = [
        Piece(box_between((-w / 2, yh - sd, zs - st), (w / 2, yh, zs)), "seat_panel", "front"),
    ]
    chain.add(
        "seat_0",
        "seat",
        seat,
        "base",
        "revolute",
        (0, yh, zs),
        (-1, 0, 0),
        (0.0, _u(rng, 1.3, 1.5)),
    )
    if recline:
        # The panel hangs from its hinge (bottom edge) just in front of the posts; reclining
        # turns its top back between them.
        yb2 = y_post + 0.005
        panel = [
            Piece(
                box_between((-w / 2 + 0.02, yb2, z_b0), (w / 2 - 0.02, yb2 + 0.015, z_b0 + bh)),
                "back_panel",
                "front",
            )
        ]
        # Posts stand at |x| = xl, the panel ends inside them.
        chain.add(
            "back_0",
            "seat",
            panel,
            "base",
            "revolute",
            (0, yb2, z_b0),
            (-1, 0, 0),
            (0.0, _u(rng, 0.2, 0.35)),
            "back",
        )
    return asm


# ============================================================================================
# Clock
# ============================================================================================
def clock(seed: int, rng: np.random.Generator) -> Assembly:
    """Wall or desk clocks (round or square) with hour, minute and sometimes second hands turning
    about the dial axis (-Y); pendulum wall clocks with a swinging pendulum (revolute about Y)
    in a lower case that may have a door; some square clocks have a glass door over the face."""
    style = rng.choice(["round", "square", "desk", "pendulum"])
    asm = Assembly(
        f"Clock_{seed}", "Clock", sample_palette(rng, ("wood", "plastic", "metal", "painted"))
    )
    R = _u(rng, 0.1, 0.18) if style != "desk" else _u(rng, 0.05, 0.08)
    depth = _u(rng, 0.03, 0.06)
    hands = 3 if rng.random() < 0.5 else 2
    ht = 0.0015
    stack = hands * (ht + CL) + CL  # hands' depth in front of the dial
    rim_d = stack + 0.004
    base: list[Piece] = []
    z0 = 0.0
    cells = None
    if style == "pendulum":
        cw, ch = 2 * R + 0.04, _u(rng, 0.3, 0.5)
        cd = _u(rng, 0.09, 0.13)
        pieces, cells = carcass(CarcassParams(cw, cd, ch, 0.012, 0.006, 0.0), [1.0], [[1.0]])
        base += pieces
        z0 = ch
        body_d = cd
    else:
        body_d = depth
    yf = -body_d / 2  # the dial's plane
    if style == "desk":
        z0 = 0.03
        base.append(
            Piece(box_between((-R * 0.8, -body_d / 2, 0.0), (R * 0.8, body_d / 2, z0)), "foot")
        )
    zc = z0 + R + rim_d + 0.006
    if style in ("round", "desk"):
        base.append(Piece(cylinder(R + rim_d + 0.004, body_d, "y", (0, 0, zc), 40), "case"))
        base.append(Piece(cylinder(R, 0.001, "y", (0, yf - 0.0005, zc), 40), "dial", "trim"))
        base += _ring(
            (0, yf - rim_d / 2, zc), R + rim_d / 2 + 0.002, rim_d / 2, 24, "xz", "rim", "trim"
        )
    else:
        half = R + 0.015
        box_z0 = zc - half
        base.append(Piece(box_between((-half, yf, box_z0), (half, body_d / 2, zc + half)), "case"))
        base.append(Piece(box_between((-R, yf - 0.001, zc - R), (R, yf, zc + R)), "dial", "trim"))
        b = 0.012
        base += [
            Piece(
                box_between((-half, yf - rim_d, zc - half), (half, yf, zc - half + b)),
                "rim_b",
                "trim",
            ),
            Piece(
                box_between((-half, yf - rim_d, zc + half - b), (half, yf, zc + half)),
                "rim_t",
                "trim",
            ),
            Piece(
                box_between((-half, yf - rim_d, zc - half + b), (-half + b, yf, zc + half - b)),
                "rim_l",
                "trim",
            ),
            Piece(
                box_between((half - b, yf - rim_d, zc - half + b), (half, yf, zc + half - b)),
                "rim_r",
                "trim",
            ),
        ]
    yd = yf - 0.001  # front of the dial
    chain = _Chain(asm, base)
    lengths = [0.5 * R, 0.75 * R, 0.85 * R][:hands]
    widths = [0.008, 0.005, 0.0015][:hands]
    names = ["hour", "minute", "second"]
    y = yd - CL
    for k in range(hands):
        L, wdt = lengths[k], widths[k]
        pieces = [
            Piece(
                box_between((-wdt / 2, y - ht, zc - 0.18 * L), (wdt / 2, y, zc + L)),
                f"{names[k]}_hand",
                "accent" if k == 2 else "handle",
            ),
            Piece(
                cylinder(0.004 + 0.001 * (2 - k), ht, "y", (0, y - ht / 2, zc), 12),
                f"{names[k]}_hub",
                "metal",
            ),
        ]
        chain.add(f"hand_{k}", "hand", pieces, "base", "continuous", (0, y, zc), (0, -1, 0))
        y -= ht + CL
    if style == "pendulum":
        cell = cells[0][0]
        lp = cell.height * _u(rng, 0.55, 0.75)
        rb = min(_u(rng, 0.03, 0.05), cell.width * 0.2)
        swing = _u(rng, 0.15, 0.3)
        yp = (cell.y_front + cell.y_back) / 2
        zp = cell.z1 - 0.01
        # the bob must clear the side walls and the bottom through the swing
        lp = min(
            lp, (cell.width / 2 - CL - 0.005 - rb) / math.sin(swing) - 0.0, zp - cell.z0 - rb - 0.01
        )
        pend = [
            Piece(
                box_between((-0.003, yp - 0.002, zp - lp), (0.003, yp + 0.002, zp)), "rod", "metal"
            ),
            Piece(cylinder(rb, 0.006, "y", (0, yp, zp - lp), 24), "bob", "metal"),
        ]
        chain.add(
            "pendulum_0",
            "pendulum",
            pend,
            "base",
            "revolute",
            (0, yp, zp),
            (0, 1, 0),
            (-swing, swing),
        )
        if rng.random() < 0.5:
            outer = Outer(-cw / 2, cw / 2, 0.0, ch, 0.012)
            fill_cell(
                asm,
                "base",
                cell,
                outer,
                "door",
                rng,
                0.008,
                door_limit=_u(rng, 1.4, 1.8),
                handle=0.0,
                hinge_side=1.0,
                door_style=(0.012, 1.0),
            )
    elif style == "square" and rng.random() < 0.5:
        half = R + 0.015
        yh = yf - rim_d - CL
        door = [
            Piece(
                box_between((-half, yh - 0.004, zc - half), (half, yh, zc + half)), "glass", "glass"
            )
        ]
        chain.add(
            "door_0",
            "door",
            door,
            "base",
            "revolute",
            (-half, yh, zc - half),
            (0, 0, -1),
            (0.0, _u(rng, 1.4, 1.9)),
        )
    return asm


# ============================================================================================
# Dispenser
# ============================================================================================
def dispenser(seed: int, rng: np.random.Generator) -> Assembly:
    """Pump bottles (soap, lotion): the pump head presses down (prismatic -Z) and on some the
    nozzle cap twists about Z (revolute, the head's child); wall towel dispensers with a front
    cover hinged at its top edge and a push button; tissue boxes with a lid hinged at the back."""
    style = rng.choice(["pump", "pump", "wall", "tissue"])
    asm = Assembly(
        f"Dispenser_{seed}", "Dispenser", sample_palette(rng, ("plastic", "metal", "glass"))
    )
    if style == "pump":
        h = _u(rng, 0.12, 0.2)
        rb = _u(rng, 0.03, 0.045)
        neck_r = _u(rng, 0.012, 0.016)
        body = lathe(
            LatheParams(
                h, rb * _u(rng, 0.85, 1.0), rb, neck_r, _u(rng, 0.3, 0.6), 0.0, _u(rng, 0.15, 0.25)
            ),
            32,
            "bottle",
        )
        collar_h = 0.012
        base = body + [
            Piece(
                cylinder(neck_r + 0.004, collar_h, "z", (0, 0, h + collar_h / 2), 24),
                "collar",
                "trim",
            )
        ]
        chain = _Chain(asm, base)
        travel = _u(rng, 0.008, 0.018)
        stem_r = _u(rng, 0.004, 0.006)
        z_c = h + collar_h
        z_stem0 = z_c + travel + CL
        stem_h = _u(rng, 0.015, 0.03)
        head_r = _u(rng, 0.012, 0.018)
        head_h = _u(rng, 0.012, 0.018)
        z_head = z_stem0 + stem_h
        pump = [
            Piece(cylinder(stem_r, stem_h, "z", (0, 0, z_stem0 + stem_h / 2), 16), "stem", "trim"),
            Piece(
                cylinder(head_r, head_h, "z", (0, 0, z_head + head_h / 2), 24),
                "pump_head",
                "button",
            ),
        ]
        reach = _u(rng, 0.03, 0.05)
        nz = z_head + head_h * 0.6
        nozzle = [
            Piece(
                segment_cylinder((0, -head_r + 0.002, nz), (0, -head_r - reach, nz), 0.004, 12),
                "nozzle",
                "button",
            ),
        ]
        twist = rng.random() < 0.5
        if not twist:
            pump += nozzle
        name = chain.add(
            "pump_0",
            "lid",
            pump,
            "base",
            "prismatic",
            (0, 0, z_stem0),
            (0, 0, -1),
            (0.0, travel),
            "pump",
        )
        if twist:
            z_top = z_head + head_h + CL
            cap_h = 0.01
            cap = [
                Piece(
                    cylinder(head_r, cap_h, "z", (0, 0, z_top + cap_h / 2), 24),
                    "nozzle_cap",
                    "button",
                )
            ]
            nz = z_top + cap_h / 2
            cap.append(
                Piece(
                    segment_cylinder((0, -head_r + 0.002, nz), (0, -head_r - reach, nz), 0.004, 12),
                    "nozzle",
                    "button",
                )
            )
            chain.add(
                "nozzle_0",
                "spout",
                cap,
                name,
                "revolute",
                (0, 0, z_top),
                (0, 0, 1),
                (0.0, _u(rng, 1.2, math.pi / 2 + 0.3)),
            )
        return asm
    if style == "wall":
        w, d, h = _u(rng, 0.22, 0.32), _u(rng, 0.08, 0.12), _u(rng, 0.25, 0.38)
        t = _u(rng, 0.006, 0.01)
        base = [
            Piece(box_between((-w / 2, -d / 2, 0.0), (w / 2, d / 2, h)), "housing"),
            Piece(
                box_between((-w / 2 - 0.01, d / 2, -0.01), (w / 2 + 0.01, d / 2 + 0.008, h + 0.01)),
                "wall_plate",
                "trim",
            ),
        ]
        chain = _Chain(asm, base)
        yf = -d / 2
        cover_h = h * _u(rng, 0.8, 1.0)
        cover = [
            Piece(box_between((-w / 2, yf - t, h - cover_h), (w / 2, yf, h)), "cover", "front")
        ]
        name = chain.add(
            "lid_0",
            "lid",
            cover,
            "base",
            "revolute",
            (0, yf, h),
            (-1, 0, 0),
            (0.0, _u(rng, 1.0, 1.5)),
        )
        if rng.random() < 0.7:
            chain.button(
                name,
                (0, yf - t, h - cover_h * 0.7),
                _u(rng, 0.04, 0.08),
                _u(rng, 0.03, 0.05),
                0.008,
            )
        return asm
    # tissue box: an open box and a lid hinged on its top back edge, a slot in the lid
    w, d, h = _u(rng, 0.2, 0.27), _u(rng, 0.11, 0.14), _u(rng, 0.08, 0.13)
    t = 0.005
    base = [
        Piece(box_between((-w / 2, -d / 2, 0), (w / 2, d / 2, t)), "floor"),
        Piece(box_between((-w / 2, -d / 2, t), (w / 2, -d / 2 + t, h)), "front"),
        Piece(box_between((-w / 2, d / 2 - t, t), (w / 2, d / 2, h)), "back"),
        Piece(box_between((-w / 2, -d / 2 + t, t), (-w / 2 + t, d / 2 - t, h)), "left"),
        Piece(box_between((w / 2 - t, -d / 2 + t, t), (w / 2, d / 2 - t, h)), "right"),
    ]
    chain = _Chain(asm, base)
    lt = 0.006
    pieces = lid(LidParams(w, d, lt), "lid_0")
    for piece in pieces:
        piece.mesh.apply_translation((0, d / 2, h + lt))
    pieces.append(
        Piece(
            box_between((-w * 0.3, -d * 0.7, h + lt - 0.0005), (w * 0.3, -d * 0.3, h + lt + 0.001)),
            "slot",
            "trim",
        )
    )
    for piece in pieces[-1:]:
        piece.mesh.apply_translation((0, d / 2, 0))
    chain.add(
        "lid_0",
        "lid",
        pieces,
        "base",
        "revolute",
        (0, d / 2, h + lt),
        (-1, 0, 0),
        (0.0, _u(rng, 1.5, 2.2)),
    )
    return asm


# ============================================================================================
# Display
# ============================================================================================
def display(seed: int, rng: np.random.Generator) -> Assembly:
    """A monitor on a stand: the screen tilts about X (in all); the neck swivels about Z
    (revolute or continuous) and/or slides up (prismatic) in some; the order is foot -> swivel
    -> height -> screen, so each joint alone moves everything above it."""
    asm = Assembly(f"Display_{seed}", "Display", sample_palette(rng, ("plastic", "metal")))
    sw = _u(rng, 0.4, 0.72)
    sh = sw * _u(rng, 0.52, 0.62)
    st = _u(rng, 0.012, 0.03)
    swivel = rng.random() < 0.5
    height = rng.random() < 0.5
    fw, fd, ft = _u(rng, 0.18, 0.28), _u(rng, 0.15, 0.22), _u(rng, 0.012, 0.02)
    post_w, post_d = _u(rng, 0.04, 0.06), _u(rng, 0.02, 0.03)
    y_post = fd * 0.15
    tilt_lo, tilt_hi = -_u(rng, 0.05, 0.09), _u(rng, 0.2, 0.35)
    lift = _u(rng, 0.08, 0.13) if height else 0.0
    clear = _u(rng, 0.05, 0.1)  # screen bottom above the foot
    zb = sh * 0.5 + 0.02  # screen below the pivot
    z_p = ft + clear + zb + (0.01 if swivel else 0.0)
    g = zb * math.sin(-tilt_lo) + 0.012  # gap from the pivot plane to the screen's back
    base = [Piece(box_between((-fw / 2, -fd / 2, 0), (fw / 2, fd / 2, ft)), "foot")]
    chain = _Chain(asm, base)
    post_parent = "base"
    z_post0 = ft
    if swivel:
        disc = [
            Piece(
                cylinder(min(fw, fd) * 0.35, 0.008, "z", (0, y_post, ft + CL + 0.004), 32),
                "turntable",
                "trim",
            )
        ]
        if rng.random() < 0.5:  # free turntable, or one with end stops
            turn, limits = "continuous", (0.0, 0.0)
        else:
            lim = _u(rng, 0.5, 1.2)
            turn, limits = "revolute", (-lim, lim)
        pivot = (0, y_post, ft + CL)
        chain.add("stand_0", "stand", disc, "base", turn, pivot, (0, 0, 1), limits, "swivel")
        post_parent, z_post0 = "stand_0", ft + CL + 0.008
    pivot_y = y_post - post_d / 2 - CL
    if height:
        inner_w, wall = post_w / 2, 0.004
        sleeve_top = z_p - 0.05 - lift
        sleeve = _sleeve(0, y_post, z_post0, sleeve_top, inner_w, wall, "neck", "body")
        chain.extend(post_parent, sleeve)
        a = inner_w - CL
        bar = [
            Piece(
                box_between((-a, y_post - a, z_post0 + 0.02), (a, y_post + a, z_p - 0.01)),
                "neck_bar",
                "metal",
            )
        ]
        chain.add(
            "slider_0",
            "slider",
            bar,
            post_parent,
            "prismatic",
            (0, y_post, z_p - 0.01),
            (0, 0, 1),
            (0.0, lift),
            "height",
        )
        screen_parent = "slider_0"
        pivot_y = y_post - inner_w - CL
    else:
        chain.extend(
            post_parent,
            [
                Piece(
                    box_between(
                        (-post_w / 2, y_post - post_d / 2, z_post0),
                        (post_w / 2, y_post + post_d / 2, z_p - CL),
                    ),
                    "neck",
                )
            ],
        )
        screen_parent = post_parent
    y_back = pivot_y - g
    boss = 0.04
    screen = [
        Piece(
            box_between((-sw / 2, y_back - st, z_p - zb), (sw / 2, y_back, z_p - zb + sh)),
            "panel",
            "front",
        ),
        Piece(
            box_between(
                (-sw / 2 + 0.01, y_back - st - 0.001, z_p - zb + 0.015),
                (sw / 2 - 0.01, y_back - st + 0.0005, z_p - zb + sh - 0.01),
            ),
            "display",
            "screen",
        ),
        Piece(
            box_between((-boss, y_back, z_p - boss * 0.6), (boss, pivot_y - 0.006, z_p + boss)),
            "mount",
            "body",
        ),
    ]
    chain.add(
        "screen_0",
        "screen",
        screen,
        screen_parent,
        "revolute",
        (0, pivot_y, z_p),
        (-1, 0, 0),
        (tilt_lo, tilt_hi),
        "tilt",
    )
    if rng.random() < 0.6:
        for i in range(int(rng.integers(1, 4))):
            chain.button(
                "screen_0",
                (sw / 2 - 0.03 - 0.02 * i, y_back - st, z_p - zb + 0.004),
                0.01,
                0.006,
                0.004,
            )
    return asm


# ============================================================================================
# Fan
# ============================================================================================
def _blades(center, n, r0, r1, chord, pitch, axis: str, name="blade") -> list[Piece]:
    """`n` flat blades (pitched boxes) from radius r0 to r1 around `axis` ("y" or "z")."""
    pieces = []
    r1 = math.sqrt(max(r1**2 - (chord / 2) ** 2, (r0 + 0.01) ** 2))  # corners stay within r1
    for i in range(n):
        a = 2 * math.pi * i / n
        if axis == "y":
            blade = box_between((r0, -0.002, -chord / 2), (r1, 0.002, chord / 2))
            _turned(blade, pitch, (1, 0, 0))
            _turned(blade, a, (0, 1, 0))
        else:
            blade = box_between((r0, -chord / 2, -0.003), (r1, chord / 2, 0.003))
            _turned(blade, pitch, (1, 0, 0))
            _turned(blade, a, (0, 0, 1))
        blade.apply_translation(center)
        pieces.append(Piece(blade, f"{name}_{i}", "front"))
    return pieces


def fan(seed: int, rng: np.random.Generator) -> Assembly:
    """Desk and stand fans (rotor continuous about Y in a guard on a motor head; in some the
    head oscillates about Z and/or tilts about X in a yoke; buttons on the foot), box fans
    (rotor in a square frame, a speed knob) and ceiling fans (rotor continuous about Z)."""
    style = rng.choice(["desk", "desk", "stand", "box", "ceiling"])
    asm = Assembly(f"Fan_{seed}", "Fan", sample_palette(rng, ("plastic", "metal", "painted")))
    n = int(rng.integers(3, 6))
    if style == "ceiling":
        R = _u(rng, 0.45, 0.65)
        rod = _u(rng, 0.1, 0.35)
        mh, mr = _u(rng, 0.08, 0.12), _u(rng, 0.08, 0.11)
        z_m = 0.2  # motor bottom (the object is recentred later)
        base = [
            Piece(cylinder(mr, mh, "z", (0, 0, z_m + mh / 2), 32), "motor"),
            Piece(cylinder(0.012, rod, "z", (0, 0, z_m + mh + rod / 2), 12), "downrod", "metal"),
            Piece(cylinder(0.06, 0.05, "z", (0, 0, z_m + mh + rod + 0.025), 24), "canopy"),
        ]
        chain = _Chain(asm, base)
        chord, pitch = _u(rng, 0.1, 0.14), _u(rng, 0.1, 0.2)
        hub_h = 2 * (chord / 2 * math.sin(pitch) + 0.003) + 0.008
        zr = z_m - CL
        rotor = [
            Piece(cylinder(mr * 0.9, hub_h, "z", (0, 0, zr - hub_h / 2), 32), "rotor_hub", "metal")
        ]
        rotor += _blades((0, 0, zr - hub_h / 2), n, mr * 0.6, R, chord, pitch, "z")
        chain.add("rotor_0", "rotor", rotor, "base", "continuous", (0, 0, zr), (0, 0, 1))
        return asm
    if style == "box":
        W = _u(rng, 0.35, 0.5)
        D = _u(rng, 0.09, 0.13)
        b = _u(rng, 0.035, 0.05)
        zc = W / 2 + 0.03
        z0, z1 = zc - W / 2, zc + W / 2
        base = [
            Piece(box_between((-W / 2, -D / 2, z0), (W / 2, D / 2, z0 + b)), "frame_b"),
            Piece(box_between((-W / 2, -D / 2, z1 - b), (W / 2, D / 2, z1)), "frame_t"),
            Piece(box_between((-W / 2, -D / 2, z0 + b), (-W / 2 + b, D / 2, z1 - b)), "frame_l"),
            Piece(box_between((W / 2 - b, -D / 2, z0 + b), (W / 2, D / 2, z1 - b)), "frame_r"),
            Piece(
                box_between((-W / 2 + 0.03, -D / 2 + 0.01, 0.0), (-W / 2 + 0.07, D / 2 - 0.01, z0)),
                "foot_l",
            ),
            Piece(
                box_between((W / 2 - 0.07, -D / 2 + 0.01, 0.0), (W / 2 - 0.03, D / 2 - 0.01, z0)),
                "foot_r",
            ),
            Piece(
                box_between((-0.06, -0.012, z1), (0.06, 0.012, z1 + 0.03)), "carry_handle", "handle"
            ),
        ]
        inner = W / 2 - b
        yb = D / 2 - 0.012
        for k in range(3):  # back grille bars and the motor on them
            z = z0 + b + (k + 1) * (W - 2 * b) / 4
            base.append(
                Piece(
                    box_between((-inner, yb, z - 0.004), (inner, yb + 0.008, z + 0.004)),
                    "grille_back",
                    "trim",
                )
            )
        base.append(
            Piece(
                box_between((-0.004, yb, z0 + b), (0.004, yb + 0.008, z1 - b)),
                "grille_back_v",
                "trim",
            )
        )
        base.append(Piece(cylinder(0.05, 0.03, "y", (0, yb - 0.015, zc), 24), "motor", "metal"))
        yf = -D / 2 + 0.006
        for k in range(3):
            z = z0 + b + (k + 1) * (W - 2 * b) / 4
            base.append(
                Piece(
                    box_between((-inner, yf - 0.004, z - 0.003), (inner, yf + 0.004, z + 0.003)),
                    "grille_front",
                    "trim",
                )
            )
        chain = _Chain(asm, base)
        y_rotor = yb - 0.03 - CL  # the rotor's back plane, in front of the motor
        front_limit = yf + 0.004 + CL
        hub_d = min(0.03, y_rotor - front_limit - 0.002)
        rotor = [
            Piece(
                cylinder(0.035, hub_d, "y", (0, y_rotor - hub_d / 2, zc), 24), "rotor_hub", "metal"
            )
        ]
        chord = min(0.09, (hub_d - 0.006) / math.sin(0.35))
        rotor += _blades((0, y_rotor - hub_d / 2, zc), n, 0.03, inner - CL - 0.01, chord, 0.35, "y")
        chain.add("rotor_0", "rotor", rotor, "base", "continuous", (0, y_rotor, zc), (0, -1, 0))
        chain.knob("base", (W / 2 - b / 2, -D / 2, z1 - b / 2), min(0.014, b * 0.35), 0.012)
        return asm
    # desk / stand fan
    stand = style == "stand"
    Rb = _u(rng, 0.1, 0.17) if not stand else _u(rng, 0.15, 0.22)
    wire = 0.003
    Rg = Rb + CL + wire + 0.008
    rm = _u(rng, 0.045, 0.065)
    hl = _u(rng, 0.08, 0.12)  # motor length behind the pivot
    y_mf = -0.03  # motor front face
    rf = _u(rng, 0.1, 0.15) if not stand else _u(rng, 0.18, 0.25)
    fh = _u(rng, 0.025, 0.04)
    stem_r = _u(rng, 0.01, 0.016)
    z_o = fh + (_u(rng, 0.08, 0.16) if not stand else _u(rng, 0.7, 1.0))
    osc = rng.random() < 0.6
    tilt = rng.random() < 0.6
    # rotor: hub and pitched blades in front of the motor
    pitch = _u(rng, 0.25, 0.4)
    chord = _u(rng, 0.05, 0.09)
    half_y = chord / 2 * math.sin(pitch) + 0.004
    yb = y_mf - CL - half_y - 0.002  # blades' centre plane
    y_front = yb - half_y - CL - wire  # front guard plane
    y_back = y_mf + 0.005
    D = math.sqrt(
        max(abs(y_front) + wire, hl) ** 2 + (Rg + wire) ** 2
    )  # head's reach from the pivot
    z_p = z_o + 0.08 + D + CL
    base = [Piece(cylinder(rf, fh, "z", (0, 0, fh / 2), 40), "foot")]
    base.append(
        Piece(
            cylinder(stem_r * 1.3, z_o - fh, "z", (0, 0, fh + (z_o - fh) / 2), 20), "stem", "metal"
        )
    )
    chain = _Chain(asm, base)
    xa = Rg + wire + CL + 0.008
    yoke = [
        Piece(cylinder(stem_r * 1.3, 0.03, "z", (0, 0, z_o + CL + 0.015), 20), "collar", "metal"),
        Piece(
            cylinder(
                stem_r,
                z_p - D - CL - 0.012 - (z_o + CL + 0.03),
                "z",
                (0, 0, (z_o + CL + 0.03 + z_p - D - CL - 0.012) / 2),
                20,
            ),
            "upper_stem",
            "metal",
        ),
        Piece(
            box_between(
                (-xa - 0.008, -0.012, z_p - D - CL - 0.012), (xa + 0.008, 0.012, z_p - D - CL)
            ),
            "yoke_bar",
            "metal",
        ),
        Piece(
            box_between((-xa - 0.008, -0.012, z_p - D - CL - 0.012), (-xa, 0.012, z_p + 0.015)),
            "yoke_l",
            "metal",
        ),
        Piece(
            box_between((xa, -0.012, z_p - D - CL - 0.012), (xa + 0.008, 0.012, z_p + 0.015)),
            "yoke_r",
            "metal",
        ),
    ]
    holder = "base"
    if osc:
        lim = _u(rng, 0.6, 1.0)
        chain.add(
            "head_osc",
            "head",
            yoke,
            "base",
            "revolute",
            (0, 0, z_o + CL),
            (0, 0, 1),
            (-lim, lim),
            "oscillation",
        )
        holder = "head_osc"
    else:
        chain.extend("base", yoke)
    head = [
        Piece(cylinder(rm, hl - y_mf, "y", (0, (hl + y_mf) / 2, z_p), 24), "motor"),
        Piece(
            segment_cylinder((-xa + CL, 0, z_p), (xa - CL, 0, z_p), 0.006, 12), "pivot_pin", "metal"
        ),
    ]
    head += _ring((0, y_front, z_p), Rg, wire, 24, "xz", "guard_front", "trim")
    head += _ring((0, y_back, z_p), Rg, wire, 24, "xz", "guard_back", "trim")
    for i in range(8):
        a = 2 * math.pi * i / 8
        x, z = Rg * math.cos(a), z_p + Rg * math.sin(a)
        head.append(
            Piece(
                segment_cylinder((x, y_front, z), (x, y_back, z), wire, 8), f"guard_bar_{i}", "trim"
            )
        )
        head.append(
            Piece(
                segment_cylinder((0, y_front, z_p), (x, y_front, z), wire * 0.8, 8),
                f"guard_spoke_{i}",
                "trim",
            )
        )
        xr, zr = (rm + 0.002) * math.cos(a), z_p + (rm + 0.002) * math.sin(a)
        head.append(
            Piece(
                segment_cylinder((xr, y_back, zr), (x, y_back, z), wire * 0.8, 8),
                f"guard_rib_{i}",
                "trim",
            )
        )
    if tilt:
        chain.add(
            "head_0",
            "head",
            head,
            holder,
            "revolute",
            (0, 0, z_p),
            (-1, 0, 0),
            (-_u(rng, 0.1, 0.2), _u(rng, 0.25, 0.4)),
            "tilt",
        )
        holder = "head_0"
    else:
        chain.extend(holder, head)
    hub_y = y_mf - CL
    rotor = [
        Piece(
            cylinder(0.025, hub_y - (yb - half_y), "y", (0, (hub_y + yb - half_y) / 2, z_p), 20),
            "rotor_hub",
            "metal",
        )
    ]
    rotor += _blades((0, yb, z_p), n, 0.02, Rb, chord, pitch, "y")
    chain.add("rotor_0", "rotor", rotor, holder, "continuous", (0, yb, z_p), (0, -1, 0))
    for i in range(int(rng.integers(1, 4))):
        chain.button("base", ((i - 1) * 0.025, -rf * 0.6, fh), 0.016, 0.012, 0.008, up=True)
    return asm


# ============================================================================================
# Globe
# ============================================================================================
AXIAL_TILT = math.radians(23.44)


def globe(seed: int, rng: np.random.Generator) -> Assembly:
    """A sphere turning about its polar axis (continuous, tilted 23.4 deg from vertical towards
    +X) between the pins of a meridian ring (full or half) on a stand; in some the ring swivels
    about Z on the stand."""
    asm = Assembly(f"Globe_{seed}", "Globe", sample_palette(rng, ("wood", "metal", "plastic")))
    R = _u(rng, 0.1, 0.17)
    wire = _u(rng, 0.004, 0.007)
    n = 36
    Rr = (R + CL + wire + 0.002) / math.cos(math.pi / n)
    rf, fh = _u(rng, 0.08, 0.13), _u(rng, 0.015, 0.03)
    stem = _u(rng, 0.05, 0.2)
    zc = fh + stem + Rr + wire + CL + 0.01
    t = AXIAL_TILT
    axis = np.array([math.sin(t), 0.0, math.cos(t)])
    base = [
        Piece(cylinder(rf, fh, "z", (0, 0, fh / 2), 40), "foot"),
        Piece(cylinder(0.012, stem, "z", (0, 0, fh + stem / 2), 16), "stem", "metal"),
    ]
    full = rng.random() < 0.4
    arc = (0.0, 2 * math.pi) if full else (-math.pi / 2 - t, math.pi / 2 - t)
    c = np.array([0.0, 0.0, zc])
    ring = _ring(c, Rr, wire, n if full else n // 2, "xz", "meridian", "metal", arc)
    for s in (-1, 1):
        ring.append(
            Piece(
                segment_cylinder(c + s * axis * (Rr - wire), c + s * axis * (R + CL), 0.004, 10),
                "pin",
                "metal",
            )
        )
    z_ring_low = zc - Rr - wire
    ring.append(
        Piece(
            cylinder(
                0.014,
                z_ring_low + 0.004 - (fh + stem + CL),
                "z",
                (0, 0, (fh + stem + CL + z_ring_low + 0.004) / 2),
                16,
            ),
            "ring_foot",
            "metal",
        )
    )
    chain = _Chain(asm, base)
    holder = "base"
    if rng.random() < 0.4:
        chain.add(
            "ring_0",
            "ring",
            ring,
            "base",
            "continuous",
            (0, 0, fh + stem + CL),
            (0, 0, 1),
            jlabel="swivel",
        )
        holder = "ring_0"
    else:
        chain.extend("base", ring)
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=R)
    sphere.apply_translation(c)
    chain.add(
        "sphere_0", "sphere", [Piece(sphere, "sphere", "front")], holder, "continuous", c, axis
    )
    return asm


# ============================================================================================
# Keyboard
# ============================================================================================
# Main-block rows of a standard layout, key widths in units (19.05 mm pitch), front row last.
_MAIN_ROWS = (
    (1,) * 13 + (2,),
    (1.5,) + (1,) * 12 + (1.5,),
    (1.75,) + (1,) * 11 + (2.25,),
    (2.25,) + (1,) * 10 + (2.75,),
    (1.25,) * 3 + (6.25,) + (1.25,) * 4,
)
MOVING_KEY_ROWS = 2
_COMPACT_ROWS = (  # a 40-50% board: no number row
    (1.5,) + (1,) * 10 + (1.5,),
    (1.75,) + (1,) * 9 + (2.25,),
    (2.25,) + (1,) * 8 + (1.75,),
    (1.25,) * 3 + (5.25,) + (1.25,) * 3,
)


def _key_cap(x: float, y: float, w: float, d: float, z0: float, z1: float, name: str) -> Piece:
    """A key cap box w wide and d deep centred on (x, y), from z0 up to z1."""
    return Piece(
        box_between((x - w / 2, y - d / 2, z0), (x + w / 2, y + d / 2, z1)), name, "button"
    )


def keyboard(seed: int, rng: np.random.Generator) -> Assembly:
    """A computer keyboard: a case, keys pressing down (prismatic -Z, 2-4 mm), on some two tilt
    feet under the back edge that flip down (revolute about X). Layouts: compact (40-50%, four
    rows), 60% (five rows), tenkeyless (adds a function row and navigation cluster) and full
    (adds a numpad). The keys of the two front rows move; the others (the rows behind, function
    row, navigation cluster, numpad) are fixed caps on the case (see the module docstring)."""
    layout = rng.choice(["compact", "sixty", "tkl", "full"])
    asm = Assembly(f"Keyboard_{seed}", "Keyboard", sample_palette(rng, ("plastic", "metal")))
    u = _u(rng, 0.0185, 0.0195)
    gap = _u(rng, 0.0018, 0.003)
    kh = _u(rng, 0.005, 0.009)
    travel = _u(rng, 0.002, 0.004)
    rows = _COMPACT_ROWS if layout == "compact" else _MAIN_ROWS
    main_w = max(sum(r) for r in rows) * u
    extra_rows = 1 if layout in ("tkl", "full") else 0
    nav_w = 3.25 * u if layout in ("tkl", "full") else 0.0
    pad_w = 4.25 * u if layout == "full" else 0.0
    border = _u(rng, 0.008, 0.02)
    width = main_w + nav_w + pad_w + 2 * border
    depth = (len(rows) + extra_rows + (0.5 if extra_rows else 0.0)) * u + 2 * border
    case_h = _u(rng, 0.015, 0.025)
    feet = rng.random() < 0.6
    foot_t = 0.004
    z_case = foot_t + CL if feet else 0.0
    z_top = z_case + case_h
    base = [
        Piece(box_between((-width / 2, -depth / 2, z_case), (width / 2, depth / 2, z_top)), "case")
    ]
    x0 = -width / 2 + border
    y_front = -depth / 2 + border
    z_key = z_top + travel + 0.0005
    chain_keys = []
    fixed = []
    for r, row in enumerate(reversed(rows)):  # front row first
        y = y_front + (r + 0.5) * u
        x = x0
        for wu in row:
            # the two front rows (space bar row and the one above) move; the rows behind
            # are fixed caps, which keeps a board under 25 joints
            (chain_keys if r < MOVING_KEY_ROWS else fixed).append((x + wu * u / 2, y, wu * u - gap))
            x += wu * u
    y_top_row = y_front + (len(rows) + 0.5 + 0.5) * u
    if extra_rows:  # function row: Esc, then 3 groups of 4
        for k in range(13):
            xk = x0 + (k + 0.5 + (0.75 + 0.5 * ((k - 1) // 4) if k else 0.0)) * u
            if xk + u / 2 <= x0 + main_w + 1e-9:
                fixed.append((xk, y_top_row, u - gap))
        xn = x0 + main_w + 0.25 * u
        for rr in (0, 1, 3, 4):  # navigation cluster: 2 rows of 3 and the arrow keys
            for cc in range(3):
                if rr == 1 and cc != 1:
                    continue
                fixed.append((xn + (cc + 0.5) * u, y_front + (rr + 0.5) * u, u - gap))
        if layout == "full":
            xp = xn + 3.25 * u
            for rr in range(5):
                for cc in range(4):
                    fixed.append((xp + (cc + 0.5) * u, y_front + (rr + 0.5) * u, u - gap))
    for i, (x, y, w) in enumerate(fixed):
        base.append(_key_cap(x, y, w, u - gap, z_top, z_key + kh, f"cap_{i}"))
    if feet:  # front pads under the case
        for sx in (-1, 1):
            x = sx * (width / 2 - 0.03)
            base.append(
                Piece(
                    box_between(
                        (x - 0.01, -depth / 2 + 0.01, 0.0), (x + 0.01, -depth / 2 + 0.025, z_case)
                    ),
                    "pad",
                    "trim",
                )
            )
    chain = _Chain(asm, base)
    for i, (x, y, w) in enumerate(chain_keys):
        cap = [_key_cap(x, y, w, u - gap, z_key, z_key + kh, f"key_{i}")]
        chain.add(
            f"key_{i}", "key", cap, "base", "prismatic", (x, y, z_key), (0, 0, -1), (0.0, travel)
        )
    if feet:
        fl = _u(rng, 0.03, 0.045)
        for k, sx in enumerate((-1, 1)):
            x = sx * (width / 2 - 0.04)
            yh = depth / 2 - 0.01
            zh = z_case - CL
            plate = [
                Piece(
                    box_between((x - 0.015, yh - fl, zh - foot_t), (x + 0.015, yh, zh)),
                    f"foot_{k}",
                    "trim",
                )
            ]
            chain.add(
                f"foot_{k}",
                "leg",
                plate,
                "base",
                "revolute",
                (x, yh, zh),
                (1, 0, 0),
                (0.0, _u(rng, 1.2, 1.5)),
                "foot",
            )
    return asm


# ============================================================================================
# Lamp
# ============================================================================================
def lamp(seed: int, rng: np.random.Generator) -> Assembly:
    """Desk lamps: a foot with a push switch, a revolute chain about X of two arms and a spot head
    (three links), or a telescopic stem (prismatic) carrying one arm and the head; the head turns
    about its own centre in a fork at the end of the last arm.

    Neighbouring arms sit in different x slabs (a pair of outer bars, one middle bar), so an arm
    never passes through the one it hangs from. The rest pose is the balanced one of a real
    lamp (lower arm leaning back, upper arm raised forward, head pivoted at its centre of mass),
    so gravity's pull on each joint stays small beside the push it must yield to."""
    asm = Assembly(f"Lamp_{seed}", "Lamp", sample_palette(rng, ("metal", "plastic", "painted")))
    rf = _u(rng, 0.07, 0.1)
    fh = _u(rng, 0.02, 0.035)
    bar = _u(rng, 0.005, 0.007)  # bar radius
    s = 2 * bar + 0.008  # outer bars' x offset
    tele = rng.random() < 0.35
    if rng.random() < 0.6:
        base = [Piece(cylinder(rf, fh, "z", (0, 0, fh / 2), 40), "foot")]
    else:
        base = [Piece(box_between((-rf, -rf, 0), (rf, rf, fh)), "foot")]
    y0 = rf * 0.35
    chain = _Chain(asm, base)
    if tele:
        zs = fh + _u(rng, 0.12, 0.2)
        chain.extend(
            "base", _sleeve(0, y0, fh, zs, bar + CL + 0.002, 0.004, "stem_sleeve", "metal")
        )
        travel = _u(rng, 0.08, 0.15)
        top = zs + _u(rng, 0.11, 0.15)
        rod = [
            Piece(
                cylinder(bar, top - fh - 0.01, "z", (0, y0, (fh + 0.01 + top) / 2), 12),
                "stem_rod",
                "metal",
            ),
            Piece(
                box_between((-bar, y0 - 0.01, top), (bar, y0 + 0.01, top + 0.02)),
                "knuckle",
                "metal",
            ),
        ]
        parent = chain.add(
            "stem_0",
            "slider",
            rod,
            "base",
            "prismatic",
            (0, y0, top),
            (0, 0, 1),
            (0.0, travel),
            "telescope",
        )
        p = np.array([0.0, y0, top + 0.01])
        lengths = [_u(rng, 0.15, 0.25)]
        angles = [_u(rng, 0.8, 1.1)]  # above horizontal, forward
    else:
        zk = fh + 0.03
        chain.extend(
            "base",
            [
                Piece(
                    box_between((-bar, y0 - 0.012, fh), (bar, y0 + 0.012, zk + 0.01)),
                    "shoulder_block",
                    "metal",
                )
            ],
        )
        parent = "base"
        p = np.array([0.0, y0, zk])
        lean = _u(rng, 0.0, 0.3)  # the lower arm leans back
        lengths = [_u(rng, 0.22, 0.35), _u(rng, 0.2, 0.3)]
        angles = [math.pi / 2 + lean, _u(rng, 0.95, 1.25)]
    rc = _u(rng, 0.025, 0.04)  # the spot head: a can of radius rc
    hl = _u(rng, 0.07, 0.12)
    reach = math.hypot(rc, hl / 2)  # its sweep about the pivot
    xf = rc + CL + 0.004  # the fork's plates stand outside the can
    slab_outer = True
    cw = _u(rng, 0.04, 0.06) if tele else _u(rng, 0.07, 0.1)
    for k, (L, a) in enumerate(zip(lengths, angles, strict=True)):
        direction = np.array([0.0, -math.cos(a), math.sin(a)])
        end = p + L * direction
        last = k == len(lengths) - 1
        xs = (-s, s) if slab_outer else (0.0,)
        bar_end = end - direction * (reach + CL + 0.012) if last else end
        pieces = [
            Piece(
                segment_cylinder(p + (x, 0, 0), bar_end + (x, 0, 0), bar, 10),
                f"arm_bar_{j}",
                "metal",
            )
            for j, x in enumerate(xs)
        ]
        if slab_outer:  # pins joining the pair at both ends
            for q in (p, end) if not last else (p,):
                for x in (-s, s):
                    pieces.append(
                        Piece(cylinder(bar * 1.3, 0.004, "x", q + (x, 0, 0), 12), "pin", "metal")
                    )
        if last:  # the fork: a cross bar behind the head's sweep and two plates beside it
            cross = end - direction * (reach + CL + 0.006)
            pieces.append(
                Piece(
                    segment_cylinder(
                        cross + (-xf - 0.003, 0, 0), cross + (xf + 0.003, 0, 0), 0.006, 10
                    ),
                    "fork_cross",
                    "metal",
                )
            )
            for x in (-xf - 0.0015, xf + 0.0015):
                pieces.append(
                    Piece(
                        segment_cylinder(cross + (x, 0, 0), end + (x, 0, 0), 0.0015 + 0.003, 10),
                        "fork_plate",
                        "metal",
                    )
                )
        if k >= 1 or tele:  # a counterweight behind the joint balances the raised arm
            r_cw = bar + (0.003 if slab_outer else 0.004)
            for x in xs:
                pieces.append(
                    Piece(
                        segment_cylinder(
                            p - direction * 0.012 + (x, 0, 0),
                            p - direction * (0.012 + cw) + (x, 0, 0),
                            r_cw,
                            12,
                        ),
                        "counterweight",
                        "metal",
                    )
                )
        lim = _u(rng, 0.25, 0.4) if k == 0 else _u(rng, 0.3, 0.45)
        parent = chain.add(f"arm_{k}", "arm", pieces, parent, "revolute", p, (1, 0, 0), (-lim, lim))
        p = end
        slab_outer = not slab_outer
    # the head: a thin-walled can open at the front, pointing forward and down, turning about X
    # through its middle between the fork's plates
    down = _u(rng, 0.5, 1.0)
    can = lathe(LatheParams(hl, rc * 0.8, rc, rc, 0.5, 0.0015, 0.0), 24, "shade", "front")
    can[0].mesh.apply_translation((0, 0, -hl / 2))
    can[0].mesh.apply_transform(_rot(math.pi / 2 + down, (1, 0, 0)))
    can[0].mesh.apply_translation(p)
    head = can + [Piece(cylinder(0.005, 2 * xf - 2 * CL - 0.002, "x", p, 12), "head_pin", "metal")]
    chain.add(
        "head_0",
        "head",
        head,
        parent,
        "revolute",
        p,
        (1, 0, 0),
        (-_u(rng, 0.4, 0.6), _u(rng, 0.4, 0.6)),
    )
    chain.button("base", (0, -rf * 0.55, fh), 0.014, 0.014, 0.008, round_=1.0, up=True)
    return asm


# ============================================================================================
# Printer
# ============================================================================================
def printer(seed: int, rng: np.random.Generator) -> Assembly:
    """A printer: a scanner lid hinged at the back of the top (revolute about -X), a paper tray
    drawer (prismatic) or a fold-down output flap (revolute) in the lower front, buttons on a
    control strip in front of the lid."""
    asm = Assembly(f"Printer_{seed}", "Printer", sample_palette(rng, ("plastic",)))
    w, d = _u(rng, 0.36, 0.5), _u(rng, 0.3, 0.45)
    tray_h = _u(rng, 0.05, 0.08)
    h = tray_h + _u(rng, 0.1, 0.2)
    wall = 0.008
    kind = rng.choice(["drawer", "drawer", "flap_down", "both"])
    rows = [1.0] if kind != "both" else [1.0, 0.8]
    lower_h = tray_h * (1.8 if kind == "both" else 1.0)
    pieces, cells = carcass(CarcassParams(w, d, lower_h, wall, 0.006, 0.0), [1.0], [rows])
    pieces.append(Piece(box_between((-w / 2, -d / 2, lower_h), (w / 2, d / 2, h)), "body"))
    strip = _u(rng, 0.05, 0.08)
    pieces.append(
        Piece(
            box_between(
                (-w / 2 + 0.02, -d / 2 + strip + 0.01, h - 0.0005),
                (w / 2 - 0.02, d / 2 - 0.02, h + 0.0005),
            ),
            "glass",
            "glass",
        )
    )
    chain = _Chain(asm, pieces)
    outer = Outer(-w / 2, w / 2, 0.0, lower_h, wall)
    kinds = {"drawer": ["drawer"], "flap_down": ["flap_down"], "both": ["drawer", "flap_down"]}[
        kind
    ]
    for cell, k in zip(cells[0], kinds, strict=True):
        fill_cell(
            asm, "base", cell, outer, k, rng, wall - 0.001, door_limit=_u(rng, 1.2, 1.5), handle=0.0
        )
    lt = _u(rng, 0.015, 0.03)
    ld = d - strip
    lid_pieces = lid(LidParams(w, ld, lt), "lid_0")
    for piece in lid_pieces:
        piece.mesh.apply_translation((0, d / 2, h + CL + lt))
    chain.add(
        "lid_0",
        "lid",
        lid_pieces,
        "base",
        "revolute",
        (0, d / 2, h + CL + lt),
        (-1, 0, 0),
        (0.0, _u(rng, 1.1, 1.5)),
    )
    nb = int(rng.integers(1, 6))
    for i in range(nb):
        x = w / 2 - 0.04 - i * 0.03
        chain.button(
            "base",
            (x, -d / 2 + strip / 2, h),
            0.018,
            0.018 if rng.random() < 0.5 else 0.012,
            0.006,
            up=True,
        )
    return asm
