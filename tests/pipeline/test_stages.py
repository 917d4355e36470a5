"""The pipeline's geometric stages on procedural objects with a known camera: resizing, camera
placement, the silhouette fit, texture projection and the observed configuration."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from spark_blender.core.camera import Camera  # noqa: E402
from spark_blender.core.kinematics import joint_frames, link_poses, posed_mesh  # noqa: E402
from spark_blender.core.resize import scaled  # noqa: E402
from spark_blender.synth import generate  # noqa: E402
from spark_blender.synth.camera import Lighting  # noqa: E402
from spark_blender.synth.render_fast import render  # noqa: E402


def photo_camera(obj, azimuth=20.0, elevation=15.0, size=192) -> Camera:
    from spark_blender.refinement.fit import view_direction

    bounds = posed_mesh(obj, {}).bounds
    centre = bounds.mean(axis=0)
    radius = np.linalg.norm(bounds[1] - bounds[0]) / 2
    eye = centre + 3.2 * radius * view_direction(azimuth, elevation)
    return Camera.look_at(eye, centre, size, size, 40.0)


@pytest.fixture(scope="module")
def cabinet():
    return generate("StorageFurniture", 11)


def test_scaling_moves_geometry_pivots_and_travel_with_the_factors(cabinet):
    factors = np.array([1.5, 0.8, 1.2])
    big = scaled(cabinet, factors)
    before, after = posed_mesh(cabinet, {}).bounds, posed_mesh(big, {}).bounds
    assert np.allclose(after, before * factors, atol=1e-9)
    old, new = joint_frames(cabinet, {}), joint_frames(big, {})
    for joint in cabinet.movable_joints:
        assert np.allclose(new[joint.name][0], factors * old[joint.name][0], atol=1e-9)
        if joint.type == "prismatic":
            stretch = np.linalg.norm(factors * old[joint.name][1])
            assert big.joint(joint.name).upper == pytest.approx(joint.upper * stretch)
    assert not big.validate()
    # The rest pose's link frames keep their orientation.
    for name, pose in link_poses(big, {}).items():
        assert np.allclose(pose[:3, :3], link_poses(cabinet, {})[name][:3, :3])


def test_scaling_refuses_bad_factors(cabinet):
    with pytest.raises(ValueError, match="positive"):
        scaled(cabinet, [1.0, 0.0, 1.0])


def test_the_camera_is_placed_to_frame_the_mask(cabinet):
    from spark_blender.refinement.fit import mask_box, place_camera, posed_silhouette

    truth = photo_camera(cabinet)
    mask = render(cabinet, truth, {}).mask > 0
    shape = posed_silhouette(cabinet, {})
    # The parser's view is off by a few degrees; the box still has to line up.
    camera = place_camera(shape.vertices, mask, 26.0, 10.0, 40.0)
    drawn = render(cabinet, camera, {}).mask > 0
    got, want = np.asarray(mask_box(drawn)), np.asarray(mask_box(mask))
    assert np.abs(got - want).max() <= 0.06 * mask.shape[0]


def test_the_fit_recovers_proportions_and_improves_the_overlap(cabinet):
    from spark_blender.refinement.fit import (
        fit_view_and_proportions,
        place_camera,
        posed_silhouette,
    )

    truth = photo_camera(cabinet)
    mask = render(cabinet, truth, {}).mask > 0
    wrong = scaled(cabinet, [1.35, 1.0, 1.0])  # the parser misjudged the width
    shape = posed_silhouette(wrong, {})
    start = place_camera(shape.vertices, mask, 20.0, 15.0, 40.0)
    result = fit_view_and_proportions(shape, start, mask)
    assert result.iou_after > result.iou_before + 0.03
    assert result.iou_after > 0.9
    assert result.scale[0] == pytest.approx(1 / 1.35, rel=0.12)


def test_the_silhouette_score_prefers_the_right_shape(cabinet):
    from spark_blender.refinement.fit import place_camera, posed_silhouette, silhouette_score

    truth = photo_camera(cabinet)
    mask = render(cabinet, truth, {}).mask > 0
    scores = []
    for candidate in (cabinet, scaled(cabinet, [1.6, 1.0, 0.7])):
        shape = posed_silhouette(candidate, {})
        camera = place_camera(shape.vertices, mask, 20.0, 15.0, 40.0)
        scores.append(silhouette_score(shape, camera, mask))
    assert scores[0] > scores[1] + 0.05


def test_projected_texture_reproduces_the_photo_where_the_camera_saw_it(tmp_path, cabinet):
    from PIL import Image

    from spark_blender.core.urdf import read_urdf, write_urdf
    from spark_blender.generation.texture import project_texture

    camera = photo_camera(cabinet)
    photo = render(cabinet, camera, {})
    mask = photo.mask > 0
    textured = project_texture(generate("StorageFurniture", 11), Image.fromarray(photo.rgba),
                               camera, {}, mask)  # fmt: skip
    path = write_urdf(textured, tmp_path / "t")
    again = read_urdf(path)
    flat = Lighting(np.array([0.0, 0.0, -1.0]), 0.0, 1.0)  # texels only, no shading
    redrawn = render(again, camera, {}, lighting=flat)
    inside = mask & (redrawn.mask > 0)
    error = np.abs(redrawn.rgba[..., :3].astype(int) - photo.rgba[..., :3].astype(int))
    assert inside.mean() > 0.95 * mask.mean()
    assert np.median(error[inside]) < 12
    # Faces the camera never saw (the back) carry one flat colour per link, not photo pixels.
    centre = posed_mesh(cabinet, {}).bounds.mean(axis=0)
    eye = camera.cam_to_world[:3, 3] * np.array([-1.0, -1.0, 0.0]) + centre * [0, 0, 1]
    back = Camera.look_at(eye, centre, 96, 96)  # level, from behind: the back panel only
    behind = render(again, back, {}, lighting=flat)
    colours = behind.rgba[..., :3][behind.mask == 1]
    assert len(colours) and np.ptp(colours, axis=0).max() <= 2


def test_observed_values_land_on_the_joints_of_the_parts_clipped_to_limits(cabinet):
    from spark_blender.perception.schema import CameraEstimate, CoarsePart, CoarseURDF
    from spark_blender.pipeline import observed_configuration

    joint = cabinet.movable_joints[0]
    part = CoarsePart(joint.child, "drawer", "base", joint.type, [0, -1, 0], [0, -0.5, 0.5],
                      [0, 1], [0, 0, 1, 1])  # fmt: skip
    part.observed = 99.0  # far past the joint's upper limit
    coarse = CoarseURDF("StorageFurniture", [1, 1, 1], CameraEstimate(), [part])
    assert observed_configuration(cabinet, coarse) == {joint.name: joint.upper}


def test_the_observed_pose_follows_a_resize_and_stays_inside_the_new_limits():
    """Scaling the object scales a slider's travel: its observed value scales with it (it used
    to be written unscaled, past the joint's new limit, and Blender posed it clamped)."""
    from spark_blender.pipeline import carried_observed

    # the first cabinet seed with both a drawer and a door
    cabinet = next(
        obj
        for obj in (generate("StorageFurniture", seed) for seed in range(11, 60))
        if {j.type for j in obj.movable_joints} >= {"prismatic", "revolute"}
    )
    sliders = [j for j in cabinet.movable_joints if j.type == "prismatic"]
    hinges = [j for j in cabinet.movable_joints if j.type == "revolute"]
    observed = {j.name: j.upper for j in cabinet.movable_joints}
    small = scaled(cabinet, 0.5)
    carried = carried_observed(observed, cabinet, small)
    for joint in small.movable_joints:
        assert joint.lower - 1e-12 <= carried[joint.name] <= joint.upper + 1e-12
    for joint in sliders:
        assert carried[joint.name] == pytest.approx(observed[joint.name] * 0.5)
    for joint in hinges:  # an angle does not scale
        assert carried[joint.name] == pytest.approx(observed[joint.name])


def test_cut_back_shortens_a_colliding_joint_until_the_check_passes(tmp_path):
    # A post where the example door swings: the check's penetration, then cut_back, then a
    # check that passes; the shortened range is a share of the written copy's range.
    from spark_blender.core.model import Joint, Link
    from spark_blender.core.simcheck import check_urdf
    from spark_blender.core.urdf import write_urdf
    from spark_blender.examples import METAL, box, example_cabinet
    from spark_blender.pipeline import cut_back

    cabinet = example_cabinet()
    post = box("post", (0.03, -0.55, 0.4), (0.07, -0.51, 0.7), METAL)
    cabinet.links.append(Link("post", visuals=[post], label="post"))
    cabinet.joints.append(Joint("post_fixed", "fixed", "base", "post"))
    upper = cabinet.joint("door_hinge").upper
    for attempt in range(4):
        report = check_urdf(write_urdf(cabinet, tmp_path / f"try{attempt}"))
        if report.passed:
            break
        assert {f.check for f in report.findings if f.severity == "error"} == {"penetration"}
        assert cut_back(cabinet, cabinet, report.penetrations)
    assert report.passed, report.to_text()
    assert 0.5**4 * upper <= cabinet.joint("door_hinge").upper < upper


def test_the_pose_stage_opens_a_laptop_the_parser_read_nearly_shut_and_widens_its_limit():
    import math

    from spark_blender.perception.schema import CameraEstimate, CoarseURDF
    from spark_blender.pipeline import _pose
    from spark_blender.refinement.fit import place_camera, posed_silhouette
    from spark_blender.refinement.pose import with_limits

    laptop = generate("Laptop", 7)
    hinge = laptop.movable_joints[0]
    shown = {hinge.name: math.radians(100)}
    mask = render(laptop, photo_camera(laptop, 20.0, 15.0), shown).mask > 0
    short = with_limits(laptop, {hinge.name: (0.0, math.radians(40))})
    coarse = CoarseURDF("Laptop", [0.3, 0.25, 0.25], CameraEstimate(20.0, 15.0, 40.0), [])
    read = {hinge.name: math.radians(25)}
    camera = place_camera(posed_silhouette(short, read).vertices, mask, 20.0, 15.0, 40.0)
    warnings: list[str] = []
    obj, placed, pose = _pose(short, camera, coarse, read, mask, {}, warnings)
    assert abs(math.degrees(pose[hinge.name]) - 100) <= 12
    assert obj.joint(hinge.name).upper == pytest.approx(pose[hinge.name])  # the URDF can take it
    assert short.joint(hinge.name).upper == pytest.approx(math.radians(40))
    assert len(warnings) == 1 and "widened" in warnings[0]
    drawn = render(obj, placed, pose).mask > 0
    assert (drawn & mask).sum() / (drawn | mask).sum() > 0.8
