"""Fixtures for the Blender layer: the real `bpy` module, SPARK registered once per session and a
fresh scene around every test (as MolecularNodes' tests do)."""

from __future__ import annotations

import pytest

try:
    import bpy
except ImportError:  # each test module skips itself (pytest.importorskip) without bpy
    bpy = None


@pytest.fixture(scope="session", autouse=True)
def registered():
    import spark_blender

    spark_blender.register()
    yield
    spark_blender.unregister()


@pytest.fixture(autouse=True)
def fresh_scene(registered):
    bpy.ops.wm.read_homefile(app_template="")
    yield
    bpy.ops.wm.read_homefile(app_template="")
