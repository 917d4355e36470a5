"""Mesh services: inertia from geometry, collision hulls, convex decomposition, import boundary."""

import subprocess
import sys

import numpy as np
import pytest
import trimesh

from spark_blender.core.meshes import compute_inertial, convex_decomposition, convex_hull
from spark_blender.core.model import Link, Material, Visual
from spark_blender.core.transforms import translation


def test_solid_box_inertia_matches_the_formula():
    a, b, c, density = 0.4, 0.2, 0.1, 500.0
    link = Link(
        "box",
        [
            Visual(
                trimesh.creation.box((a, b, c)), translation((1, 2, 3)), Material(density=density)
            )
        ],
    )
    inertial = compute_inertial(link)
    mass = density * a * b * c
    assert inertial.mass == pytest.approx(mass)
    np.testing.assert_allclose(inertial.origin[:3, 3], [1, 2, 3], atol=1e-12)
    world = inertial.origin[:3, :3] @ inertial.inertia @ inertial.origin[:3, :3].T
    expected = mass / 12 * np.diag([b * b + c * c, a * a + c * c, a * a + b * b])
    np.testing.assert_allclose(world, expected, rtol=1e-5, atol=1e-9)


def test_open_surfaces_get_a_thin_shell_mass():
    quad = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    inertial = compute_inertial(Link("sheet", [Visual(quad)]))
    assert inertial.mass == pytest.approx(600.0 * 0.005 * 1.0)
    assert inertial.problems("sheet") == []


def test_flat_parts_get_a_hull_with_volume():
    quad = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    hull = convex_hull(quad)
    assert hull.is_watertight and hull.volume > 0
    assert hull.extents[2] == pytest.approx(0.001)


def test_convex_decomposition_keeps_a_cavity_open():
    pytest.importorskip("coacd", reason="coacd is an optional dependency")
    outer = trimesh.creation.box((0.4, 0.4, 0.3))
    inner = trimesh.creation.box((0.34, 0.34, 0.3))
    inner.apply_translation((0, 0, 0.03))
    tray = outer.difference(inner)  # an open box: its hull would fill the cavity
    parts = convex_decomposition(tray)
    assert len(parts) > 1
    assert sum(p.volume for p in parts) < 0.6 * convex_hull(tray).volume


def test_core_and_cli_import_neither_bpy_nor_torch():
    code = (
        "import sys, spark_blender, spark_blender.cli, spark_blender.core.urdf, "
        "spark_blender.core.simcheck, spark_blender.core.mjcf, spark_blender.examples; "
        "print(sorted({'bpy', 'torch'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
