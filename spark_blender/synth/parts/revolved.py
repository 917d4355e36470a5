"""Revolved and extruded bodies: lathe (vessels, bottles, caps) and rounded extrusions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh

from spark_blender.synth.parts.primitives import Params, Piece, recorded


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


@recorded("lathe")
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


@recorded("extrusion")
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
