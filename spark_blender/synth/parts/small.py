"""Parts of small hand-held objects: tubes (caps, lens rings), rings (handle loops, lens rims)
and flat blades (knives, scissors).

Every piece is convex and watertight, so hollow shapes are several pieces: a tube is a ring of
convex sectors, a loop a chain of flat bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh

from spark_blender.synth.parts.primitives import Params, Piece, recorded


def _hull(points) -> trimesh.Trimesh:
    mesh = trimesh.convex.convex_hull(np.asarray(points, float))
    if mesh.volume < 0:
        mesh.invert()
    return mesh


@dataclass
class TubeParams(Params):
    """A hollow tube along +Z (origin on the axis at its bottom) cut into `segments` convex
    sectors. `inner_radius` is the apothem of the inner polygon: a cylinder of that radius fits
    inside every sector's flat inner face; `outer_radius` is the outer polygon's corner radius.
    `closed` 1 adds an end disc at the top (a pen cap, a lens cap)."""

    outer_radius: float = 0.006
    inner_radius: float = 0.005
    length: float = 0.03
    segments: float = 10.0
    closed: float = 0.0


@recorded("tube")
def tube(p: TubeParams, name: str = "tube", role: str = "body") -> list[Piece]:
    n = max(int(round(p.segments)), 6)
    r_in = p.inner_radius / math.cos(math.pi / n)  # corner radius of the inner polygon
    r_out = max(p.outer_radius, r_in + 1e-4)
    pieces = []
    z1 = p.length - (min(0.3 * p.length, 0.001) if p.closed >= 0.5 else 0.0)
    for i in range(n):
        a0, a1 = 2 * math.pi * i / n, 2 * math.pi * (i + 1) / n
        ring = [(r * math.cos(a), r * math.sin(a)) for r in (r_in, r_out) for a in (a0, a1)]
        points = [(x, y, z) for x, y in ring for z in (0.0, z1)]
        pieces.append(Piece(_hull(points), f"{name}_{i}", role))
    if p.closed >= 0.5:
        disc = trimesh.creation.cylinder(radius=r_out, height=p.length - z1, sections=2 * n)
        disc.apply_translation((0, 0, (z1 + p.length) / 2))
        pieces.append(Piece(disc, f"{name}_end", role))
    return pieces


@dataclass
class RingParams(Params):
    """A closed elliptical loop in the XZ plane (facing -Y like mounted parts), centred on the
    origin: `segments` flat bars `wire` wide in the plane and `thickness` along Y. `radius_x`
    and `radius_z` are the centre line's half axes (scissor and pliers rings, lens rims)."""

    radius_x: float = 0.012
    radius_z: float = 0.009
    wire: float = 0.003
    thickness: float = 0.004
    segments: float = 12.0


@recorded("ring")
def ring(p: RingParams, name: str = "ring", role: str = "handle") -> list[Piece]:
    n = max(int(round(p.segments)), 6)
    pieces = []
    half_w, half_t = p.wire / 2, p.thickness / 2
    for i in range(n):
        a0, a1 = 2 * math.pi * i / n, 2 * math.pi * (i + 1) / n
        points = []
        for a in (a0, a1):
            c, s = math.cos(a), math.sin(a)
            # The outward normal of the ellipse at this angle (so the bar keeps its width).
            normal = np.array([c / p.radius_x, s / p.radius_z])
            normal /= np.linalg.norm(normal)
            centre = np.array([p.radius_x * c, p.radius_z * s])
            for side in (-half_w, half_w):
                x, z = centre + side * normal
                points += [(x, -half_t, z), (x, half_t, z)]
        pieces.append(Piece(_hull(points), f"{name}_{i}", role))
    return pieces


@dataclass
class BladeParams(Params):
    """A flat blade in the XY plane, `thickness` along Z centred on z = 0: the root at x = 0
    (the pivot end), the tip at x = `length`; the spine along y = +width/2, the edge along
    y = -width/2, rising to the spine over the last `tip` fraction of the length (0: square
    end, a screwdriver or a saw; 1: a spike)."""

    length: float = 0.07
    width: float = 0.015
    thickness: float = 0.002
    tip: float = 0.35


@recorded("blade")
def blade(p: BladeParams, name: str = "blade", role: str = "metal") -> list[Piece]:
    length, half = p.length, p.width / 2
    tip = min(max(p.tip, 0.0), 1.0)
    start = length * (1.0 - tip)
    outline = [(0.0, -half), (0.0, half), (length, half)]
    if tip <= 1e-6:
        outline.append((length, -half))
    else:
        # A convex curve from the straight edge up to the point at the spine.
        for t in np.linspace(0.0, 1.0, 5)[:-1]:
            outline.append(
                (start + (length - start) * math.sin(t * math.pi / 2), -half + 2 * half * t**2)
            )
        outline.append((length, half - min(0.2 * half, 0.0005)))
    points = [(x, y, z) for x, y in outline for z in (-p.thickness / 2, p.thickness / 2)]
    return [Piece(_hull(points), name, role)]
