"""The joint optimizer recovers displaced pivots and flipped axes from a moved-state mask, keeps
the rest pose, and reads masks from RGBA alpha or a plain background."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from spark_blender.core.kinematics import joint_frames, link_poses, moved_configuration, posed_mesh
from spark_blender.core.transforms import make_transform
from spark_blender.refinement.masks import MaskError, mask_from_image
from spark_blender.refinement.optimize import RefineOptions, Targets, refine_joints
from spark_blender.refinement.raster import Intrinsics, hard_silhouette
from tests.refinement.boxes import (
    box_object,
    corrupt,
    line_distance,
    object_size,
    view_camera,
)

# The defaults, which benchmarks/bench_refine_recovery.py measures over 100+ joints.
OPTIONS = RefineOptions()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine it is faster than two fighting for cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def mask_of(obj, configuration, camera) -> np.ndarray:
    mesh = posed_mesh(obj, configuration)
    return hard_silhouette(
        torch.as_tensor(mesh.vertices, dtype=torch.float32),
        torch.as_tensor(mesh.faces, dtype=torch.long),
        torch.as_tensor(camera.world_to_cam, dtype=torch.float32),
        Intrinsics.from_camera(camera),
        camera.width,
        camera.height,
    ).numpy()


@pytest.fixture(scope="module")
def door_case():
    """A left-hinged door: pivot displaced by 10% of the size and its axis flipped."""
    rng = np.random.default_rng(11)
    truth = box_object("door_left", rng)
    camera = view_camera(truth, 25.0, 25.0, width=192)
    moved = moved_configuration(truth)
    coarse, flipped = corrupt(truth, rng)
    result = refine_joints(coarse, camera, Targets(mask_of(truth, moved, camera)), OPTIONS)
    return truth, coarse, flipped, moved, result


def test_displaced_pivot_and_flipped_axis_are_recovered(door_case):
    truth, coarse, flipped, moved, result = door_case
    assert flipped == ["door_hinge"]
    pivot, axis = joint_frames(truth)["door_hinge"]
    coarse_pivot, coarse_axis = joint_frames(coarse)["door_hinge"]
    estimate = result.joints["door_hinge"]
    half = 0.5 * object_size(truth)
    assert line_distance(pivot, axis, coarse_pivot, coarse_axis) / half == pytest.approx(0.2)
    assert line_distance(pivot, axis, estimate.pivot, estimate.axis) / half < 0.035
    assert estimate.sign_flipped and estimate.axis @ axis > 0.999
    assert estimate.value == pytest.approx(moved["door_hinge"], abs=0.05)
    assert estimate.upper >= estimate.value  # the observed value lies inside the limits


def test_refinement_keeps_the_rest_pose_and_returns_the_best_start(door_case):
    truth, _, _, moved, result = door_case
    rest_truth, rest_refined = link_poses(truth), link_poses(result.object)
    for link in truth.links:
        for mine, theirs in zip(result.object.link(link.name).visuals, link.visuals, strict=True):
            np.testing.assert_allclose(
                rest_refined[link.name] @ mine.origin,
                rest_truth[link.name] @ theirs.origin,
                atol=1e-5,
            )
    refined_pose = posed_mesh(result.object, {"door_hinge": result.joints["door_hinge"].value})
    assert np.abs(refined_pose.vertices - posed_mesh(truth, moved).vertices).max() < 0.05
    # Screened: 2 signs x (the coarse pivot + a 3x3 grid over the door's box across the axis).
    assert len(result.starts) == 20 and {s.sign for s in result.starts} == {1, -1}
    refined = [s for s in result.starts if s.final_loss is not None]
    assert any(s.pivot_candidate == 0 and s.sign == 1 for s in refined)  # the input competes
    winner = min(refined, key=lambda s: s.final_loss)
    assert winner.sign == -1 and winner.final_loss <= winner.explore_loss * 4.5  # 2x resolution
    assert result.history[-1] < result.history[0]
    assert result.joints["door_hinge"].confidence > 0.9
    assert 0 < result.seconds < 60


def test_a_flipped_drawer_is_pulled_out_not_pushed_in():
    rng = np.random.default_rng(2)
    truth = box_object("drawers", rng)  # two stacked drawers
    camera = view_camera(truth, -20.0, 30.0, width=128)
    moved = moved_configuration(truth)
    coarse, flipped = corrupt(truth, rng)
    assert len(flipped) == 1
    fast = RefineOptions(resolution=96, refine_iterations=40, polish_iterations=30)
    result = refine_joints(coarse, camera, Targets(mask_of(truth, moved, camera)), fast)
    frames = joint_frames(truth)
    for name, estimate in result.joints.items():
        assert estimate.sign_flipped == (name in flipped)
        assert estimate.axis @ frames[name][1] > 0.999
        assert estimate.value == pytest.approx(moved[name], abs=0.03 * object_size(truth))


def test_masks_come_from_alpha_or_a_plain_background(tmp_path):
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[10:30, 5:20] = (200, 30, 30, 255)
    Image.fromarray(rgba).save(tmp_path / "object.png")
    mask = mask_from_image(tmp_path / "object.png")
    assert mask.shape == (40, 50) and mask.sum() == 20 * 15
    plain = np.full((40, 50, 3), 245, np.uint8)
    plain[5:12, 30:45] = (90, 90, 250)
    assert mask_from_image(plain).sum() == 7 * 15
    with pytest.raises(MaskError, match="no object"):
        mask_from_image(np.full((8, 8, 3), 10, np.uint8))
    with pytest.raises(MaskError, match="object.txt"):
        (tmp_path / "object.txt").write_text("not an image")
        mask_from_image(tmp_path / "object.txt")


def test_camera_pose_is_corrected_from_the_rest_mask():
    rng = np.random.default_rng(13)
    truth = box_object("lid", rng)
    camera = view_camera(truth, 15.0, 25.0, width=128)
    targets = Targets(
        mask_of(truth, moved_configuration(truth), camera), rest_mask=mask_of(truth, {}, camera)
    )
    nudged = view_camera(truth, 15.0, 25.0, width=128)
    nudged.cam_to_world = nudged.cam_to_world @ make_transform((0.03, -0.02, 0.0), (0.0, 0.02, 0.0))
    options = RefineOptions(
        resolution=96, multi_start=False, optimize_camera=True, polish_iterations=120
    )
    result = refine_joints(truth, nudged, targets, options)

    def rest_iou(cam) -> float:
        ours, want = mask_of(truth, {}, cam), targets.rest_mask
        return (ours & want).sum() / (ours | want).sum()

    assert rest_iou(result.camera) > rest_iou(nudged) + 0.02
    assert result.camera.width == 128  # the caller's resolution comes back


def test_masks_of_the_wrong_shape_are_refused():
    truth = box_object("lid", np.random.default_rng(14))
    camera = view_camera(truth, 0.0, 20.0, width=64)
    with pytest.raises(ValueError, match="aspect ratio"):
        refine_joints(truth, camera, Targets(np.ones((64, 80), bool)))
    with pytest.raises(ValueError, match="nope"):
        refine_joints(
            truth, camera, Targets(np.ones((64, 64)), part_masks={"nope": np.ones((8, 8))})
        )
