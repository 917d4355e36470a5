"""The Cycles back end renders through the real bpy module (in a subprocess)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from spark_blender.core.camera import orbit_camera
from spark_blender.core.kinematics import moved_configuration, posed_mesh
from spark_blender.synth import generate
from spark_blender.synth.camera import Background, Lighting
from spark_blender.synth.render_cycles import View, render_cycles

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None, reason="needs the bpy module (pip install bpy)"
)


def test_cycles_silhouette_matches_the_rasteriser_and_is_reproducible():
    obj = generate("Laptop", 4)
    camera = orbit_camera(posed_mesh(obj, moved_configuration(obj)).bounds, 20, 25, 45, 64, 64)
    views = [
        View({}, camera, Lighting(), Background("transparent")),
        View(moved_configuration(obj), camera, Lighting(), Background("plain", (0.2, 0.3, 0.4))),
    ]
    first = render_cycles(obj, views, samples=4)
    again = render_cycles(obj, views[:1], samples=4)
    cycles_alpha = first[0].rgba[..., 3] > 127
    fast_alpha = first[0].mask > 0
    iou = (cycles_alpha & fast_alpha).sum() / (cycles_alpha | fast_alpha).sum()
    assert iou > 0.9, iou
    assert first[0].rgba.tobytes() == again[0].rgba.tobytes()
    assert np.all(first[1].rgba[..., 3] == 255)  # composited over the plain background
    assert first[0].rgba[cycles_alpha, :3].mean() > 5  # lit, not black
