"""The observed-pose search (`refinement.pose`) on procedural objects rendered at a known pose."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

from spark_blender.core.camera import Camera  # noqa: E402
from spark_blender.core.kinematics import posed_mesh  # noqa: E402
from spark_blender.refinement.fit import view_direction  # noqa: E402
from spark_blender.refinement.pose import fit_observed, search_range, with_limits  # noqa: E402
from spark_blender.synth import generate  # noqa: E402
from spark_blender.synth.render_fast import render  # noqa: E402

VIEW = (25.0, 20.0, 40.0)  # azimuth, elevation, fov (degrees)


def photo_mask(obj, configuration) -> np.ndarray:
    bounds = posed_mesh(obj, configuration).bounds
    centre = bounds.mean(axis=0)
    radius = np.linalg.norm(bounds[1] - bounds[0]) / 2
    eye = centre + 3.2 * radius * view_direction(VIEW[0], VIEW[1])
    camera = Camera.look_at(eye, centre, 192, 192, VIEW[2])
    return render(obj, camera, configuration).mask > 0


def test_a_laptop_read_as_nearly_closed_is_opened_past_its_short_limit():
    laptop = generate("Laptop", 7)
    hinge = laptop.movable_joints[0]
    mask = photo_mask(laptop, {hinge.name: math.radians(105)})
    # The parser's reading: a 35 degree hinge, opened 20 degrees.
    short = with_limits(laptop, {hinge.name: (0.0, math.radians(35))})
    found = fit_observed(short, {hinge.name: math.radians(20)}, mask, VIEW)
    assert found.score_after > found.score_before + 0.1
    assert abs(math.degrees(found.observed[hinge.name]) - 105) <= 12
    assert found.widened == {hinge.name: (0.0, found.observed[hinge.name])}
    widened = with_limits(short, found.widened)
    assert widened.joint(hinge.name).upper == pytest.approx(found.observed[hinge.name])
    assert short.joint(hinge.name).upper == pytest.approx(math.radians(35))  # left as it was


def test_a_door_read_as_open_is_closed_when_the_photo_shows_it_shut():
    cabinet = generate("StorageFurniture", 11)
    door = cabinet.movable_joints[0]
    mask = photo_mask(cabinet, {})
    found = fit_observed(cabinet, {door.name: 1.2}, mask, VIEW)
    assert found.score_after > found.score_before
    assert abs(found.observed[door.name]) <= 0.15
    assert found.widened == {}


def test_the_pose_the_photo_shows_is_kept():
    laptop = generate("Laptop", 7)
    hinge = laptop.movable_joints[0]
    pose = {hinge.name: math.radians(100)}
    found = fit_observed(laptop, pose, photo_mask(laptop, pose), VIEW)
    assert found.observed[hinge.name] == pytest.approx(pose[hinge.name], abs=math.radians(8))
    assert found.score_after >= found.score_before


def test_a_short_hinge_is_searched_further_on_its_opening_side_only():
    laptop = generate("Laptop", 7)
    hinge = laptop.movable_joints[0]
    short = with_limits(laptop, {hinge.name: (0.0, 0.5)}).joint(hinge.name)
    assert search_range(short) == (0.0, pytest.approx(math.radians(120)))
    closing = with_limits(laptop, {hinge.name: (-0.5, 0.0)}).joint(hinge.name)
    assert search_range(closing) == (pytest.approx(-math.radians(120)), 0.0)
    wide = with_limits(laptop, {hinge.name: (0.0, 2.5)}).joint(hinge.name)
    assert search_range(wide) == (0.0, 2.5)
