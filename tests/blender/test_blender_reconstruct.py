"""Reconstruct Articulated end to end under the real bpy module: the bundled example photo goes
through the worker process (the embedded parser and the part DiT), and the result is built on
the armature posed as photographed, behind the estimated camera with the photo as background."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytest.importorskip("torch")

from spark_blender.blender import scene as blender_scene  # noqa: E402
from spark_blender.blender.jobs import ReconstructionJob, reconstruct_request  # noqa: E402
from spark_blender.blender.worker import FINISHED, RUNNING  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cabinet.png"
pytestmark = pytest.mark.skipif(
    not (REPO / "models" / "parser" / "config.json").is_file()
    or not (REPO / "models" / "dit" / "config.json").is_file(),
    reason="needs the shipped weights in models/",
)


def test_reconstruct_articulated_builds_the_photo_as_an_armature_behind_its_camera():
    props = bpy.context.scene.spark
    props.image = str(EXAMPLE)
    name, args = reconstruct_request(bpy.context)
    job = ReconstructionJob(name, args, bpy.context).start(bpy.context)
    stages = set()
    deadline = time.monotonic() + 300
    while job.step(bpy.context) == RUNNING:
        stages.add(props.job_stage)
        assert time.monotonic() < deadline, "the reconstruction did not finish"
        time.sleep(0.05)
    assert job.status == FINISHED, job.error
    assert {"parse", "generate"} & stages, stages  # progress reached the panel's properties
    built = job.built
    bones = blender_scene.joint_bones(built.armature)
    assert bones, "no movable part was built"
    # The armature stands as the photo showed the object.
    observed = dict(built.armature["spark_observed_configuration"])
    posed = blender_scene.configuration_of(built.armature)
    for joint, value in posed.items():
        assert value == pytest.approx(observed.get(joint, 0.0), abs=1e-6)
    # The estimated camera, with the photo behind it.
    camera = built.camera
    assert camera is not None and camera.type == "CAMERA"
    assert camera.data.lens > 0 and camera.parent == built.armature
    backgrounds = camera.data.background_images
    assert len(backgrounds) == 1 and Path(backgrounds[0].image.filepath).name == EXAMPLE.name
    # The joints scrub: moving one moves its part.
    bone = bones[0]
    before = [np.array(ob.matrix_world) for ob in built.visuals]
    _, upper = blender_scene.joint_limits(bone)
    blender_scene.set_joint_value(bone, upper)
    bpy.context.view_layer.update()
    assert blender_scene.get_joint_value(bone) == pytest.approx(upper)
    after = [np.array(ob.matrix_world) for ob in built.visuals]
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
