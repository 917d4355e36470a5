"""Part builders: watertight convex pieces, fixed parameter vectors, real cavities."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from spark_blender.synth import parts
from spark_blender.synth.parts import BUILDERS, CarcassParams, Params


def _pieces(name: str, params: Params) -> list[parts.Piece]:
    if name == "carcass":
        return parts.carcass(params, [1.0, 1.0], [[1.0, 1.0], [1.0]])[0]
    return parts.build_part(name, params.vector())


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_makes_watertight_pieces_with_volume(name):
    pieces = _pieces(name, BUILDERS[name]())
    assert pieces
    for piece in pieces:
        assert piece.mesh.is_watertight, f"{name}: {piece.name} is not watertight"
        assert piece.mesh.volume > 0, f"{name}: {piece.name} is inside out"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_parameter_vectors_round_trip_and_reject_wrong_lengths(name):
    cls = BUILDERS[name]
    params = cls()
    vector = params.vector()
    assert len(vector) == len(cls.names())
    assert cls.from_vector(vector) == params
    with pytest.raises(ValueError, match="takes"):
        cls.from_vector(np.append(vector, 1.0))
    with pytest.raises(ValueError, match="takes"):
        parts.build_part(name, vector[:-1])


def test_unknown_builder_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown part builder 'wheelbarrow'"):
        parts.build_part("wheelbarrow", [1.0])


def test_pieces_that_should_be_convex_are_their_own_hull():
    """Collision hulls are taken per visual piece, so boxes, handles and knobs must be convex."""
    door = parts.panel_door(parts.DoorParams(handle=1.0))
    drawer = parts.drawer(parts.DrawerParams())
    knob = parts.knob_pieces(parts.KnobParams())
    for piece in door + drawer + knob:
        hull = piece.mesh.convex_hull
        assert hull.volume == pytest.approx(piece.mesh.volume, rel=1e-3), piece.name


def test_carcass_cells_are_empty_cavities_a_drawer_fits_into():
    p = CarcassParams(width=0.8, depth=0.45, height=0.9, wall=0.018)
    pieces, cells = parts.carcass(p, [1.0, 1.0], [[1.0, 1.0], [1.0]])
    assert [len(c) for c in cells] == [2, 1]
    panels = trimesh.util.concatenate([pc.mesh for pc in pieces])
    for column in cells:
        for cell in column:
            # Points filling the cell (shrunk by 1 mm) are inside no panel.
            grid = np.stack(np.meshgrid(
                np.linspace(cell.x0 + 1e-3, cell.x1 - 1e-3, 6),
                np.linspace(cell.y_front + 1e-3, cell.y_back - 1e-3, 6),
                np.linspace(cell.z0 + 1e-3, cell.z1 - 1e-3, 6),
            ), -1).reshape(-1, 3)  # fmt: skip
            inside = np.zeros(len(grid), bool)
            for pc in pieces:
                inside |= pc.mesh.contains(grid)
            assert not inside.any()
            assert cell.depth > 0.4 and cell.width > 0.3
    assert panels.bounds[1][2] == pytest.approx(0.9)


def test_hollow_lathe_is_an_open_vessel_with_a_cavity():
    vessel = parts.lathe(parts.LatheParams(height=0.3, wall=0.005))[0].mesh
    solid = parts.lathe(parts.LatheParams(height=0.3, wall=0.0))[0].mesh
    assert vessel.is_watertight and solid.is_watertight
    assert vessel.volume < 0.25 * solid.volume
    assert not vessel.contains([[0.0, 0.0, 0.15]])[0]  # the inside is empty
    assert solid.contains([[0.0, 0.0, 0.15]])[0]
