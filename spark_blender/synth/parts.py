"""Part mesh builders with fixed, documented parameter vectors.

The generation stage decodes predicted parameters into these builders, so each one takes a small
dataclass whose fields, in order, *are* its parameter vector (``Params.from_vector`` /
``Params.vector``; lengths in metres, angles in radians, flags as 0/1 floats). A builder returns
``Piece`` objects: watertight, individually convex (or nearly) meshes in the part's own frame.
Keeping pieces convex matters: simulators collide the convex hull of each visual, so a hollow
carcass is five panels, not one mesh whose hull would fill the cavity a drawer slides into.

Frames (all parts face -Y like the canonical object frame):
- door: origin on the hinge line, at the back face; it extends along +X (``side=+1``, hinge on
  the left) or -X, its front face at y = -thickness.
- lid: origin on the hinge line along its top back edge; it extends along -Y, its panel spans
  z in [-thickness, 0].
- drawer: origin at the back face of the drawer front, bottom centre; the box extends into +Y.
- knob, button, lever, bar handle: origin on the mounting surface, the part sticks out along -Y.
- lathe: origin on the axis at the bottom, axis +Z.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields

import numpy as np
import trimesh


@dataclass
class Piece:
    """One watertight, (nearly) convex mesh of a part, with the role that picks its material."""

    mesh: trimesh.Trimesh
    name: str
    role: str = "body"  # body, front, handle, knob, button, glass, screen, metal, trim, accent


class Params:
    """Base of the parameter dataclasses: the fields in order form the parameter vector."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_vector(cls, vector) -> Params:
        values = [float(v) for v in np.ravel(vector)]
        if len(values) != len(fields(cls)):
            raise ValueError(f"{cls.__name__} takes {len(fields(cls))} values, got {len(values)}")
        return cls(*values)

    def vector(self) -> np.ndarray:
        return np.array(astuple(self), dtype=float)


# ============================================================================================
# Primitives (each convex and watertight)
# ============================================================================================
def box(size, center=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    """Axis-aligned box of `size` (x, y, z) centred on `center`."""
    size = np.maximum(np.asarray(size, dtype=float), 1e-4)
    mesh = trimesh.creation.box(extents=size)
    mesh.apply_translation(center)
    return mesh


def box_between(lo, hi) -> trimesh.Trimesh:
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return box(hi - lo, (lo + hi) / 2.0)


def cylinder(
    radius: float, length: float, axis: str = "z", center=(0, 0, 0), sections: int = 20
) -> trimesh.Trimesh:
    """Cylinder along a coordinate axis, centred on `center`."""
    mesh = trimesh.creation.cylinder(radius=radius, height=length, sections=sections)
    if axis == "x":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, [0, 1, 0]))
    elif axis == "y":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, [1, 0, 0]))
    mesh.apply_translation(center)
    return mesh


def segment_cylinder(a, b, radius: float, sections: int = 10) -> trimesh.Trimesh:
    """Cylinder from point `a` to point `b` (convex)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return trimesh.creation.cylinder(radius=radius, segment=np.stack([a, b]), sections=sections)


# ============================================================================================
# Slabs, carcass
# ============================================================================================
@dataclass
class SlabParams(Params):
    """A rectangular slab (laptop screen/base, table top, toilet seat, base plate)."""

    width: float = 0.3
    depth: float = 0.2
    thickness: float = 0.01


def slab(p: SlabParams, center=(0.0, 0.0, 0.0), role: str = "body", name="slab") -> list[Piece]:
    return [Piece(box((p.width, p.depth, p.thickness), center), name, role)]


@dataclass
class CarcassParams(Params):
    """Hollow box open at the front: sides, top, bottom, back panel.

    Grid cells (openings where children sit) come from ``rows``/``cols`` and dividers of
    ``wall`` thickness; ``plinth`` lifts the bottom panel off the ground.
    """

    width: float = 0.8
    depth: float = 0.45
    height: float = 0.9
    wall: float = 0.018
    back: float = 0.008
    plinth: float = 0.0


@dataclass
class Cell:
    """An opening of a carcass, in the carcass frame (front plane y = -depth/2)."""

    x0: float
    x1: float
    z0: float
    z1: float
    y_front: float
    y_back: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.z1 - self.z0

    @property
    def depth(self) -> float:
        return self.y_back - self.y_front


def carcass(
    p: CarcassParams, column_widths: list[float], rows_per_column: list[list[float]]
) -> tuple[list[Piece], list[list[Cell]]]:
    """Panels of a hollow carcass (frame: bottom centre at the origin, front at y = -depth/2).

    `column_widths` are fractions of the inner width; `rows_per_column[c]` fractions of the inner
    height, bottom to top. Returns the panels and, per column, its cells bottom to top.
    """
    w, d, h, t, b = p.width, p.depth, p.height, p.wall, p.back
    yf, yb = -d / 2.0, d / 2.0
    pieces = [
        Piece(box_between((-w / 2, yf, 0), (-w / 2 + t, yb, h)), "side_left"),
        Piece(box_between((w / 2 - t, yf, 0), (w / 2, yb, h)), "side_right"),
        Piece(box_between((-w / 2 + t, yf, h - t), (w / 2 - t, yb, h)), "top"),
        Piece(box_between((-w / 2 + t, yf, p.plinth), (w / 2 - t, yb, p.plinth + t)), "bottom"),
        Piece(box_between((-w / 2 + t, yb - b, p.plinth + t), (w / 2 - t, yb, h - t)), "back"),
    ]
    if p.plinth > 0.0:
        pieces.append(
            Piece(
                box_between((-w / 2 + t, yf + 0.02, 0), (w / 2 - t, yf + 0.02 + t, p.plinth)),
                "plinth",
            )
        )
    inner_x0, inner_x1 = -w / 2 + t, w / 2 - t
    inner_z0, inner_z1 = p.plinth + t, h - t
    inner_w = inner_x1 - inner_x0 - t * (len(column_widths) - 1)
    fractions = np.asarray(column_widths, float) / np.sum(column_widths)
    cells: list[list[Cell]] = []
    x = inner_x0
    for c, frac in enumerate(fractions):
        x_next = x + frac * inner_w
        if c < len(fractions) - 1:
            pieces.append(
                Piece(
                    box_between((x_next, yf, inner_z0), (x_next + t, yb - b, inner_z1)),
                    f"divider_{c}",
                )
            )
        rows = np.asarray(rows_per_column[c], float)
        inner_h = inner_z1 - inner_z0 - t * (len(rows) - 1)
        column_cells, z = [], inner_z0
        for r, row_frac in enumerate(rows / rows.sum()):
            z_next = z + row_frac * inner_h
            column_cells.append(Cell(x, x_next, z, z_next, yf, yb - b))
            if r < len(rows) - 1:
                pieces.append(
                    Piece(
                        box_between((x, yf, z_next), (x_next, yb - b, z_next + t)), f"shelf_{c}_{r}"
                    )
                )
            z = z_next + t
        cells.append(column_cells)
        x = x_next + t
    return pieces, cells


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


# ============================================================================================
# Knobs, buttons, levers
# ============================================================================================
@dataclass
class KnobParams(Params):
    """A round knob (cylinder) sticking out along -Y, with an optional pointer ridge."""

    radius: float = 0.02
    height: float = 0.02
    pointer: float = 1.0


def knob_pieces(p: KnobParams, name: str = "knob") -> list[Piece]:
    pieces = [
        Piece(cylinder(p.radius, p.height, "y", (0, -p.height / 2, 0), 24), f"{name}_cap", "knob")
    ]
    if p.pointer >= 0.5:
        r = p.radius
        pieces.append(
            Piece(
                box_between(
                    (-0.12 * r, -p.height - 0.25 * r, 0.1 * r), (0.12 * r, -p.height, 0.9 * r)
                ),
                f"{name}_pointer",
                "accent",
            )
        )
    return pieces


@dataclass
class ButtonParams(Params):
    """A push button sticking `depth` out of a face along -Y; `round` 1 = cylinder."""

    width: float = 0.02
    height: float = 0.012
    depth: float = 0.008
    round: float = 0.0


def button(p: ButtonParams, name: str = "button") -> list[Piece]:
    if p.round >= 0.5:
        mesh = cylinder(p.width / 2, p.depth, "y", (0, -p.depth / 2, 0), 16)
    else:
        mesh = box((p.width, p.depth, p.height), (0, -p.depth / 2, 0))
    return [Piece(mesh, name, "button")]


@dataclass
class LeverParams(Params):
    """A hub on the mounting face and an arm; `angle` tilts the arm from +Z towards -Y."""

    length: float = 0.08
    width: float = 0.014
    thickness: float = 0.008
    hub_radius: float = 0.012
    hub_length: float = 0.012
    angle: float = 0.0


def lever(p: LeverParams, name: str = "lever", hub_axis: str = "y") -> list[Piece]:
    """Hub along `hub_axis` through the origin (x: the lever turns about X) and an arm along +Z."""
    if hub_axis == "x":
        hub = cylinder(p.hub_radius, p.hub_length, "x", (0, 0, 0), 16)
        arm_y = 0.0
    else:
        hub = cylinder(p.hub_radius, p.hub_length, "y", (0, -p.hub_length / 2, 0), 16)
        arm_y = -p.hub_length + p.thickness / 2
    arm = box((p.width, p.thickness, p.length), (0, arm_y, p.length / 2))
    if p.angle:
        arm.apply_transform(trimesh.transformations.rotation_matrix(p.angle, [1, 0, 0]))
    return [Piece(hub, f"{name}_hub", "metal"), Piece(arm, f"{name}_arm", "handle")]


# ============================================================================================
# Lathe and extrusion
# ============================================================================================
@dataclass
class LatheParams(Params):
    """A revolved body: radius at the bottom, belly (at `belly_at` of the height) and top.

    `wall` > 0 makes it an open vessel (bucket, pot) with that wall thickness; 0 a solid
    (bottle, cap, knob). `neck` > 0 narrows the top `neck` fraction to `top_radius` (bottles).
    """

    height: float = 0.3
    bottom_radius: float = 0.12
    belly_radius: float = 0.14
    top_radius: float = 0.15
    belly_at: float = 0.5
    wall: float = 0.0
    neck: float = 0.0


def lathe_profile(p: LatheParams) -> np.ndarray:
    """The (r, z) outline revolved by `lathe`, from the axis at the bottom to the axis."""
    h = p.height
    outer = [(p.bottom_radius, 0.0), (p.belly_radius, p.belly_at * h)]
    if p.neck > 0.0:
        shoulder = (1.0 - p.neck) * h
        outer += [(p.belly_radius, shoulder), (p.top_radius, shoulder + 0.3 * p.neck * h)]
    outer.append((p.top_radius, h))
    if p.wall <= 0.0:
        return np.array([(0.0, 0.0), *outer, (0.0, h)])
    wall = p.wall
    inner = [(max(r - wall, wall), z) for r, z in reversed(outer[1:])]
    inner.append((max(p.bottom_radius - wall, wall), wall))
    return np.array([(0.0, 0.0), *outer, *inner, (0.0, wall)])


def lathe(p: LatheParams, sections: int = 32, name: str = "body", role="body") -> list[Piece]:
    profile = lathe_profile(p)
    mesh = trimesh.creation.revolve(profile, sections=sections)
    if mesh.volume < 0:
        mesh.invert()
    return [Piece(mesh, name, role)]


@dataclass
class ExtrusionParams(Params):
    """A rounded-rectangle outline in XZ (`width` x `height`, corner `radius`) extruded along Y
    by `depth`, centred on the origin: toaster, coffee-machine and stapler bodies."""

    width: float = 0.3
    height: float = 0.2
    depth: float = 0.2
    radius: float = 0.03


def extrusion(p: ExtrusionParams, name: str = "body", role: str = "body") -> list[Piece]:
    from shapely.geometry import box as shapely_box

    r = min(p.radius, 0.45 * p.width, 0.45 * p.height)
    outline = shapely_box(-p.width / 2 + r, -p.height / 2 + r, p.width / 2 - r, p.height / 2 - r)
    outline = outline.buffer(r, quad_segs=4) if r > 0 else outline
    mesh = trimesh.creation.extrude_polygon(outline, p.depth)
    # extrude_polygon builds along +Z from the XY outline: turn it so the outline lies in XZ.
    mesh.apply_translation((0, 0, -p.depth / 2))
    mesh.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, [1, 0, 0]))
    return [Piece(mesh, name, role)]


BUILDERS: dict[str, type[Params]] = {
    "slab": SlabParams,
    "carcass": CarcassParams,
    "bar_handle": BarHandleParams,
    "arc_handle": ArcHandleParams,
    "panel_door": DoorParams,
    "drawer": DrawerParams,
    "lid": LidParams,
    "knob": KnobParams,
    "button": ButtonParams,
    "lever": LeverParams,
    "lathe": LatheParams,
    "extrusion": ExtrusionParams,
}


def _single_cell_carcass(p: CarcassParams) -> list[Piece]:
    return carcass(p, [1.0], [[1.0]])[0]


_FUNCTIONS = {
    "slab": slab,
    "carcass": _single_cell_carcass,
    "bar_handle": bar_handle,
    "arc_handle": arc_handle,
    "panel_door": panel_door,
    "drawer": drawer,
    "lid": lid,
    "knob": knob_pieces,
    "button": button,
    "lever": lever,
    "lathe": lathe,
    "extrusion": extrusion,
}


def build_part(name: str, vector) -> list[Piece]:
    """The pieces of builder `name` from its parameter vector (the decoder's entry point).

    A carcass built this way has one opening; grids go through ``carcass`` directly.
    """
    if name not in BUILDERS:
        raise ValueError(f"unknown part builder '{name}'; known: {', '.join(BUILDERS)}")
    return _FUNCTIONS[name](BUILDERS[name].from_vector(vector))
