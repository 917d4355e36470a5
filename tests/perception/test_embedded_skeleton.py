"""CoarsePart.observed in the schema and CoarseURDF.to_skeleton(): the hand-over to generation."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from spark_blender.core.kinematics import joint_frames
from spark_blender.perception.schema import coarse_urdf_json_schema, validate_coarse_urdf

LAPTOP = {
    "category": "Laptop",
    "size_m": [0.34, 0.24, 0.02],
    "camera": {"azimuth_deg": 20.0, "elevation_deg": 25.0, "fov_deg": 40.0},
    "parts": [
        {
            "name": "screen", "label": "screen", "parent": "base", "joint_type": "revolute",
            "axis": [-1.0, 0.0, 0.0], "pivot": [0.0, 0.5, 0.5], "limits": [0.0, 2.2],
            "box_2d": [0.2, 0.1, 0.8, 0.6], "mask": None, "observed": 1.9,
        },
        {
            "name": "key", "label": "button", "parent": "screen", "joint_type": "prismatic",
            "axis": [0.0, 0.0, -1.0], "pivot": [0.1, 0.0, 1.0], "limits": [0.0, 0.002],
            "box_2d": [0.4, 0.6, 0.5, 0.7], "mask": None, "observed": 0.0,
        },
    ],
}  # fmt: skip


def test_observed_is_in_the_strict_schema_and_validated():
    jsonschema = pytest.importorskip("jsonschema")
    schema = coarse_urdf_json_schema()
    assert "observed" in schema["properties"]["parts"]["items"]["required"]
    jsonschema.validate(LAPTOP, schema)
    coarse = validate_coarse_urdf(LAPTOP).coarse
    assert coarse.part("screen").observed == pytest.approx(1.9)
    old = copy.deepcopy(LAPTOP)  # saved before the field existed: closed
    del old["parts"][0]["observed"]
    assert validate_coarse_urdf(old).coarse.part("screen").observed == 0.0


def test_observed_follows_repairs_of_its_joint():
    data = copy.deepcopy(LAPTOP)
    data["parts"][0].update(limits=[-126.0, 0.0], observed=-109.0)  # degrees, opening negative
    validated = validate_coarse_urdf(data)
    screen = validated.coarse.part("screen")
    assert screen.axis == [1.0, 0.0, 0.0]
    assert screen.limits[1] == pytest.approx(math.radians(126))
    assert screen.observed == pytest.approx(math.radians(109))
    data["parts"][0].update(limits=[0.0, 2.2], observed=3.0)
    validated = validate_coarse_urdf(data)
    assert validated.coarse.part("screen").observed == pytest.approx(2.2)
    assert any("observed value" in r for r in validated.repairs)


def test_to_skeleton_gives_core_model_camera_and_observed_pose():
    coarse = validate_coarse_urdf(LAPTOP).coarse
    skeleton = coarse.to_skeleton(640, 480)
    model = skeleton.model
    assert [link.name for link in model.links] == ["base", "screen", "key"]
    assert [j.name for j in model.joints] == ["screen_joint", "key_joint"]
    assert model.validate() == [] or all("visual" in p or "inertial" in p or "mass" in p
                                         for p in model.validate())  # fmt: skip
    frames = joint_frames(model)
    pivot, axis = frames["screen_joint"]
    assert np.allclose(pivot, [0.0, 0.12, 0.01]) and np.allclose(axis, [-1, 0, 0])
    pivot, _ = frames["key_joint"]  # nested: its origin is relative to the screen's frame
    assert np.allclose(pivot, [0.034, 0.0, 0.02])
    assert skeleton.observed == {"screen_joint": pytest.approx(1.9), "key_joint": 0.0}
    camera = skeleton.camera
    assert (camera.width, camera.height) == (640, 480)
    assert camera.fov_x_deg == pytest.approx(40.0)
    pixels, depth = camera.project([[0.0, 0.0, 0.01]])
    u, v = pixels[0]
    assert depth[0] > 0 and u == pytest.approx(320, abs=1) and v == pytest.approx(240, abs=1)
    eye = camera.cam_to_world[:3, 3]
    assert math.degrees(math.atan2(eye[0], -eye[1])) == pytest.approx(20.0)
    assert eye[2] > 0.01  # looking down: elevation 25 deg
