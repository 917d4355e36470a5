"""Primitives, slabs and carcasses, and the record every part builder leaves on its pieces.

``Piece`` is one watertight, (nearly) convex mesh of a part. Builders wrapped by ``recorded``
tag every piece they return with the ``PartCall`` that made it (builder name, ``Params``, the
vertices as built), so ``synth.Assembly`` can write each link's part program: which builders it
used, with which parameters, placed where. Recording never changes the geometry.
"""

from __future__ import annotations

import functools
import math
from dataclasses import astuple, dataclass, field, fields

import numpy as np
import trimesh


@dataclass
class Piece:
    """One watertight, (nearly) convex mesh of a part, with the role that picks its material."""

    mesh: trimesh.Trimesh
    name: str
    role: str = "body"  # body, front, handle, knob, button, glass, screen, metal, trim, accent
    call: PartCall | None = field(default=None, repr=False, compare=False)
    built: np.ndarray | None = field(default=None, repr=False, compare=False)  # vertices as built


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


@dataclass(frozen=True)
class PartCall:
    """One builder call: its name, its parameters, its own placement offset (the `center` or
    `at` argument) and, for a carcass, the grid of openings it was asked for."""

    builder: str
    params: Params
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    grid: tuple[tuple[float, ...], tuple[tuple[float, ...], ...]] | None = None


def recorded(builder: str):
    """Decorator: tag every piece a builder returns with its ``PartCall`` (geometry untouched)."""

    def wrap(function):
        @functools.wraps(function)
        def inner(p, *args, **kwargs):
            out = function(p, *args, **kwargs)
            pieces = out[0] if isinstance(out, tuple) else out
            offset = kwargs.get("center", kwargs.get("at"))
            if offset is None and args and builder in ("slab", "bar_handle"):
                offset = args[0]
            grid = None
            if builder == "carcass":
                columns = kwargs.get("column_widths", args[0] if args else (1.0,))
                rows = kwargs.get("rows_per_column", args[1] if len(args) > 1 else ((1.0,),))
                grid = (
                    tuple(float(v) for v in columns),
                    tuple(tuple(float(v) for v in r) for r in rows),
                )
            call = PartCall(
                builder,
                type(p).from_vector(p.vector()),
                tuple(float(v) for v in (offset if offset is not None else (0.0, 0.0, 0.0))),
                grid,
            )
            for piece in pieces:
                piece.call = call
                piece.built = np.array(piece.mesh.vertices, dtype=float, copy=True)
            return out

        return inner

    return wrap


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


@recorded("slab")
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


@recorded("carcass")
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
