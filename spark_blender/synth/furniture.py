"""Furniture: StorageFurniture (grids of drawers and doors, 1-4 columns) and Table (desks with
drawers, and nightstand-like cabinet tables).

Proportions follow PartNet-Mobility's dev cases: cabinets about as wide as tall (aspect
1.2:0.75:1 w:d:h), door limits [0, pi/2], drawer travel 60-85% of the drawer's depth; desks
wide and shallow with one or two drawers under the top, or a pedestal of drawers and doors.
"""

from __future__ import annotations

import math

import numpy as np

from spark_blender.synth.assembly import CLEARANCE, Assembly, Outer, fill_cell
from spark_blender.synth.materials import sample_palette
from spark_blender.synth.parts import CarcassParams, Cell, Piece, box_between, carcass

FRONT_KINDS = ("door", "drawer", "open")


def _translate(pieces: list[Piece], cells: list[list[Cell]], offset) -> None:
    dx, dy, dz = offset
    for piece in pieces:
        piece.mesh.apply_translation(offset)
    for column in cells:
        for c in column:
            c.x0, c.x1, c.z0, c.z1 = c.x0 + dx, c.x1 + dx, c.z0 + dz, c.z1 + dz
            c.y_front, c.y_back = c.y_front + dy, c.y_back + dy


def _layout(rng: np.random.Generator, columns: int, height: float) -> list[list[str]]:
    """Per column, bottom to top, the kind of front in each cell."""
    style = rng.choice(["drawers", "doors", "mixed", "mixed"])
    layout = []
    for _ in range(columns):
        if style == "drawers":
            rows = int(rng.integers(2, 5 if height > 0.5 else 3))
            layout.append(["drawer"] * rows)
        elif style == "doors":
            rows = 1 if height < 1.2 or rng.random() < 0.6 else 2
            layout.append(["door"] * rows)
        else:
            top = int(rng.integers(1, 3)) if height > 0.6 else 1
            bottom = rng.choice(["door", "door", "open", "drawer"])
            layout.append([str(bottom)] + ["drawer"] * top)
    return layout


def _row_fractions(kinds: list[str], rng) -> list[float]:
    """Drawers are short, doors tall."""
    return [
        float(rng.uniform(0.7, 1.0)) if k == "drawer" else float(rng.uniform(1.6, 2.6))
        for k in kinds
    ]


def _door_style(rng: np.random.Generator) -> tuple[float, float]:
    """(frame, glass) of a cabinet's doors: plain, a raised moulding, or glazed."""
    kind = rng.choice(["plain", "plain", "moulding", "glass"])
    if kind == "plain":
        return (0.0, 0.0)
    return (float(rng.uniform(0.04, 0.07)), 1.0 if kind == "glass" else 0.0)


def storage_furniture(seed: int, rng: np.random.Generator) -> Assembly:
    width = float(rng.uniform(0.45, 1.6))
    height = float(rng.uniform(0.45, 1.8))
    depth = float(rng.uniform(0.4, 0.65))
    columns = int(np.clip(round(width / rng.uniform(0.35, 0.6)), 1, 4))
    wall = float(rng.uniform(0.016, 0.022))
    plinth = float(rng.choice([0.0, rng.uniform(0.04, 0.1)]))
    p = CarcassParams(width, depth, height, wall, 0.006, plinth)
    layout = _layout(rng, columns, height)
    pieces, cells = carcass(
        p,
        [float(rng.uniform(0.8, 1.2)) for _ in range(columns)],
        [_row_fractions(kinds, rng) for kinds in layout],
    )
    asm = Assembly(
        f"StorageFurniture_{seed}",
        "StorageFurniture",
        sample_palette(rng, ("wood", "painted", "wood")),
    )
    asm.add_link("base", "base", pieces)
    outer = Outer(-width / 2, width / 2, plinth, height, wall)
    thickness = wall - 0.001
    style = _door_style(rng)
    for kinds, column in zip(layout, cells, strict=True):
        for kind, cell in zip(kinds, column, strict=True):
            if kind == "door" and cell.width > 0.55:
                kind = "door_pair"
            fill_cell(
                asm,
                "base",
                cell,
                outer,
                kind,
                rng,
                thickness,
                math.pi / 2,
                handle=float(rng.choice([1.0, 2.0])),
                door_style=style,
            )
    if not asm.joints:  # every cell open: give the object at least one moving part
        fill_cell(asm, "base", cells[0][0], outer, "drawer", rng, thickness)
    return asm


def table(seed: int, rng: np.random.Generator) -> Assembly:
    """A desk: top, four legs, an apron box with 1-3 drawers; or a pedestal with drawers; or a
    cabinet table (nightstand, bedside or side table: ``_cabinet_table``)."""
    if rng.random() < 0.25:
        return _cabinet_table(seed, rng)
    width = float(rng.uniform(0.8, 1.8))
    depth = float(rng.uniform(0.45, 0.8))  # writing desks from 45 cm deep
    height = float(rng.uniform(0.7, 0.78))
    top_t = float(rng.uniform(0.02, 0.04))
    leg = float(rng.uniform(0.04, 0.06))
    wall = 0.018
    asm = Assembly(f"Table_{seed}", "Table", sample_palette(rng, ("wood", "painted")))
    top_z = height - top_t
    base = [
        Piece(box_between((-width / 2, -depth / 2, top_z), (width / 2, depth / 2, height)), "top")
    ]
    pedestal = rng.random() < 0.4
    if pedestal:
        ped_w = float(rng.uniform(0.35, 0.5))
        side = 1.0 if rng.random() < 0.5 else -1.0
        p = CarcassParams(ped_w, depth - 0.02, top_z, wall, 0.006, 0.0)
        kinds = ["drawer"] * int(rng.integers(2, 5)) if rng.random() < 0.6 else ["door", "drawer"]
        pieces, cells = carcass(p, [1.0], [_row_fractions(kinds, rng)])
        _translate(pieces, cells, (side * (width / 2 - ped_w / 2), 0.0, 0.0))
        base += pieces
        lx = -side * (width / 2 - leg / 2)
        for y in (-depth / 2 + leg / 2, depth / 2 - leg / 2):
            base.append(
                Piece(
                    box_between((lx - leg / 2, y - leg / 2, 0), (lx + leg / 2, y + leg / 2, top_z)),
                    "leg",
                )
            )
        x_lo = side * (width / 2 - ped_w / 2) - ped_w / 2
        outer = Outer(x_lo, x_lo + ped_w, 0.0, top_z, wall)
        layout = [(kinds, cells[0])]
    else:
        apron = float(rng.uniform(0.12, 0.2))
        columns = int(rng.integers(1, 4)) if width > 1.1 else 1
        inner_w = width - 2 * leg - 0.01
        p = CarcassParams(inner_w, depth - 2 * leg, apron, wall, 0.006, 0.0)
        kinds_per_col = [["drawer"] for _ in range(columns)]
        pieces, cells = carcass(p, [1.0] * columns, [[1.0]] * columns)
        _translate(pieces, cells, (0.0, 0.0, top_z - apron))
        base += pieces
        for x in (-width / 2 + leg / 2, width / 2 - leg / 2):
            for y in (-depth / 2 + leg / 2, depth / 2 - leg / 2):
                base.append(
                    Piece(
                        box_between(
                            (x - leg / 2, y - leg / 2, 0), (x + leg / 2, y + leg / 2, top_z)
                        ),
                        "leg",
                    )
                )
        outer = Outer(-inner_w / 2, inner_w / 2, top_z - apron, top_z, wall)
        layout = list(zip(kinds_per_col, cells, strict=True))
    asm.add_link("base", "base", base)
    for kinds, column in layout:
        for kind, cell in zip(kinds, column, strict=True):
            fill_cell(
                asm,
                "base",
                cell,
                outer,
                kind,
                rng,
                wall - 0.001,
                math.pi / 2,
                handle=float(rng.choice([1.0, 2.0])),
            )
    return asm


def _cabinet_table(seed: int, rng: np.random.Generator) -> Assembly:
    """A small table on a carcass (nightstand, bedside or side table, a narrow desk cabinet):
    an overhanging top over a drawer or two and a door, a pair of doors, an open shelf or more
    drawers; 0.5-0.9 m tall, often taller than wide."""
    width = float(rng.uniform(0.4, 0.8))
    depth = float(rng.uniform(0.35, 0.6))
    height = float(rng.uniform(0.5, 0.9))
    top_t = float(rng.uniform(0.02, 0.035))
    overhang = float(rng.uniform(0.0, 0.03))
    wall = float(rng.uniform(0.016, 0.02))
    plinth = float(rng.choice([0.0, rng.uniform(0.04, 0.1)]))
    body_h = height - top_t
    drawers = int(rng.integers(1, 3)) if body_h > 0.45 else 1
    below = str(rng.choice(["door", "door", "open", "drawer"]))
    kinds = [below] + ["drawer"] * drawers
    p = CarcassParams(width, depth, body_h, wall, 0.006, plinth)
    pieces, cells = carcass(p, [1.0], [_row_fractions(kinds, rng)])
    asm = Assembly(f"Table_{seed}", "Table", sample_palette(rng, ("wood", "painted", "wood")))
    top = box_between(
        (-width / 2 - overhang, -depth / 2 - overhang, body_h),
        (width / 2 + overhang, depth / 2, height),
    )
    asm.add_link("base", "base", [*pieces, Piece(top, "top")])
    # The fronts stop 3 mm under the top, so a drawer slides out beneath the overhang.
    outer = Outer(-width / 2, width / 2, plinth, body_h - CLEARANCE, wall)
    handle = float(rng.choice([1.0, 2.0]))
    style = _door_style(rng)
    for kind, cell in zip(kinds, cells[0], strict=True):
        if kind == "door" and cell.width > 0.55:
            kind = "door_pair"
        fill_cell(
            asm, "base", cell, outer, kind, rng, wall - 0.001, math.pi / 2, handle, door_style=style
        )
    return asm
