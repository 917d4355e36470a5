"""The search behind refine_joints: batched renders, Adam, confidence, the photo's pose, budgets."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from spark_blender.core.kinematics import joint_frames, moved_configuration, posed_mesh
from spark_blender.refinement import RefineOptions, Targets, refine_joints
from spark_blender.refinement.adam import Adam
from spark_blender.refinement.raster import (
    Intrinsics,
    RasterSettings,
    hard_silhouette,
    hard_silhouettes,
    render_silhouette,
    render_silhouettes,
)
from tests.refinement.boxes import (
    box_object,
    corrupt,
    displace_pivot,
    line_distance,
    object_size,
    view_camera,
)
from tests.refinement.test_refinement_optimize import mask_of


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_batched_renders_equal_one_pose_at_a_time():
    obj = box_object("door_drawer", np.random.default_rng(3))
    camera = view_camera(obj, 20.0, 25.0, width=64)
    poses = [{}, moved_configuration(obj), moved_configuration(obj, 0.3)]
    meshes = [posed_mesh(obj, pose) for pose in poses]
    vertices = torch.stack([torch.as_tensor(m.vertices, dtype=torch.float64) for m in meshes])
    faces = torch.as_tensor(meshes[0].faces, dtype=torch.long)
    view = torch.as_tensor(camera.world_to_cam, dtype=torch.float64)
    intrinsics = Intrinsics.from_camera(camera)
    settings = RasterSettings(64, 64, sharpness=3.0)
    soft = render_silhouettes(vertices, faces, view, intrinsics, settings)
    hard = hard_silhouettes(vertices, faces, view, intrinsics, 64, 64)
    for k in range(len(poses)):
        one = render_silhouette(vertices[k], faces, view, intrinsics, settings)
        torch.testing.assert_close(soft[k], one, atol=1e-9, rtol=0)
        assert torch.equal(hard[k], hard_silhouette(vertices[k], faces, view, intrinsics, 64, 64))
        # The scanline hard mask is the soft one's limit: pixel centres inside some face.
        sharp = render_silhouette(
            vertices[k], faces, view, intrinsics, RasterSettings(64, 64, sharpness=1e5)
        )
        assert int((hard[k] ^ (sharp > 0.5)).sum()) <= 2
    assert hard[1].sum() > hard[0].sum()  # the opened parts show


def test_adam_finds_the_minimum():
    x = torch.tensor([3.0, -2.0], requires_grad=True)
    optimizer = Adam([{"params": [x], "lr": 0.1}])
    for _ in range(300):
        optimizer.zero_grad()
        ((x - torch.tensor([1.0, 0.5])) ** 2).sum().backward()
        optimizer.step()
    torch.testing.assert_close(x.detach(), torch.tensor([1.0, 0.5]), atol=1e-2, rtol=0)


def test_a_part_that_barely_moves_is_undecided_and_keeps_the_coarse_joint():
    rng = np.random.default_rng(21)
    truth = box_object("door_left", rng)
    camera = view_camera(truth, 25.0, 25.0, width=96)
    target = mask_of(truth, {"door_hinge": 0.004}, camera)  # a hair open: nothing to see
    coarse, _ = corrupt(truth, rng)
    result = refine_joints(coarse, camera, Targets(target), RefineOptions(resolution=96))
    estimate = result.joints["door_hinge"]
    assert estimate.confidence < RefineOptions().min_confidence
    pivot, axis = joint_frames(coarse)["door_hinge"]
    assert line_distance(pivot, axis, estimate.pivot, estimate.axis) < 1e-6
    assert estimate.axis @ axis > 0.999 and not estimate.sign_flipped
    assert coarse.joint("door_hinge").upper == result.object.joint("door_hinge").upper


def test_a_photo_without_a_moved_image_refines_nothing_it_cannot_see():
    rng = np.random.default_rng(22)
    truth = box_object("door_drawer", rng)
    camera = view_camera(truth, 20.0, 25.0, width=64)
    coarse, _ = corrupt(truth, rng)
    targets = Targets(rest_mask=mask_of(truth, {}, camera))
    result = refine_joints(coarse, camera, targets, RefineOptions(resolution=64))
    for joint in coarse.movable_joints:
        assert result.joints[joint.name].confidence == 0.0
        np.testing.assert_allclose(result.object.joint(joint.name).origin, joint.origin, atol=1e-6)
        np.testing.assert_allclose(result.object.joint(joint.name).axis, joint.axis)


def test_a_joint_the_photo_shows_open_gets_its_pivot_from_the_photo():
    """A laptop-like case: no moved image, the photo shows the door open (observed)."""
    rng = np.random.default_rng(23)
    truth = box_object("door_right", rng)
    camera = view_camera(truth, -25.0, 25.0, width=96)
    observed = {"door_hinge": 1.1}
    frames = joint_frames(truth)
    axis = frames["door_hinge"][1]
    shift = np.cross(axis, [1.0, 0.0, 0.0])
    coarse = displace_pivot(truth, "door_hinge", 0.08 * object_size(truth) * shift)
    targets = Targets(rest_mask=mask_of(truth, observed, camera))
    options = RefineOptions(resolution=96, observed=observed)
    result = refine_joints(coarse, camera, targets, options)
    estimate = result.joints["door_hinge"]
    before = line_distance(*frames["door_hinge"], *joint_frames(coarse)["door_hinge"])
    after = line_distance(*frames["door_hinge"], estimate.pivot, estimate.axis)
    assert after < 0.5 * before
    assert result.observed == pytest.approx(observed)
    assert not estimate.sign_flipped  # one pose cannot tell the sign: the coarse one stays


def test_the_time_budget_bounds_the_work():
    rng = np.random.default_rng(24)
    truth = box_object("double_door", rng)
    camera = view_camera(truth, 10.0, 25.0, width=128)
    coarse, _ = corrupt(truth, rng)
    target = mask_of(truth, moved_configuration(truth), camera)
    options = RefineOptions(time_budget_s=0.5, joint_time_budget_s=0.2)
    result = refine_joints(copy.deepcopy(coarse), camera, Targets(target), options)
    # Screening always runs; gradient work stops at the budget.
    assert result.seconds < 5.0
    assert set(result.joints) == {"door_l_hinge", "door_r_hinge"}
