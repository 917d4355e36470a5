"""The fast renderer: masks, depth, camera convention (checked against a dev case), bytes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from PIL import Image

from spark_blender.core.camera import Camera, orbit_camera
from spark_blender.core.kinematics import moved_configuration, posed_mesh
from spark_blender.core.model import ArticulatedObject, Link, Material, Visual
from spark_blender.synth import generate
from spark_blender.synth.camera import Background, Lighting
from spark_blender.synth.render_fast import render
from tests.conftest import SHARED_DATA, needs_shared


@pytest.fixture(scope="module")
def cabinet():
    return generate("StorageFurniture", 2)


@pytest.fixture(scope="module")
def camera(cabinet):
    return orbit_camera(posed_mesh(cabinet).bounds, 30.0, 20.0, 45.0, 160, 120)


def test_mask_depth_and_alpha_agree(cabinet, camera):
    result = render(cabinet, camera, background=Background("transparent"))
    assert result.rgba.shape == (120, 160, 4) and result.mask.shape == (120, 160)
    covered = result.mask > 0
    assert 0.1 < covered.mean() < 0.9
    assert np.array_equal(result.rgba[..., 3] > 0, covered)
    assert np.all(result.depth[covered] > 0) and np.all(result.depth[~covered] == 0)
    # Depth lies between the nearest and farthest box corner from the camera.
    eye = camera.cam_to_world[:3, 3]
    corners = trimesh.bounds.corners(posed_mesh(cabinet).bounds)
    dist = np.linalg.norm(corners - eye, axis=1)
    assert result.depth[covered].min() > 0.5 * dist.min()
    assert result.depth[covered].max() < dist.max()


def test_instance_masks_name_the_links_and_follow_the_pose(cabinet, camera):
    rest = render(cabinet, camera)
    moved = render(cabinet, camera, moved_configuration(cabinet))
    ids = set(np.unique(rest.mask)) - {0}
    names = {rest.link_names[i - 1] for i in ids}
    assert "base" in names and len(names) >= 2
    moving = [j.child for j in cabinet.movable_joints]
    changed = [
        name for name in moving
        if (rest.mask == rest.link_names.index(name) + 1).sum()
        != (moved.mask == moved.link_names.index(name) + 1).sum()
    ]  # fmt: skip
    assert changed, "opening the parts changes what the masks show"


def test_rendering_is_byte_identical(cabinet, camera):
    light = Lighting(np.array([-0.3, 0.5, -0.8]), 0.7, 0.3)
    a = render(cabinet, camera, {}, light, Background("texture", (0.4, 0.5, 0.6), 3))
    b = render(cabinet, camera, {}, light, Background("texture", (0.4, 0.5, 0.6), 3))
    assert a.rgba.tobytes() == b.rgba.tobytes()
    assert a.mask.tobytes() == b.mask.tobytes() and a.depth.tobytes() == b.depth.tobytes()
    assert np.all(a.rgba[..., 3] == 255)  # opaque background


def test_a_point_projects_where_the_camera_model_says():
    """One small cube in front of a camera lands on the pixel of its projected centre."""
    cube = trimesh.creation.box(extents=(0.02, 0.02, 0.02))
    cube.apply_translation((0.3, 0.1, 0.5))
    obj = ArticulatedObject("c", [Link("base", [Visual(cube, material=Material())])])
    cam = orbit_camera(np.array([[-1, -1, 0], [1, 1, 1.0]]), 20.0, 30.0, 50.0, 200, 200)
    result = render(obj, cam)
    ys, xs = np.nonzero(result.mask)
    p = np.linalg.inv(cam.cam_to_world) @ np.array([0.3, 0.1, 0.5, 1.0])
    u = cam.fx * p[0] / -p[2] + cam.cx
    v = cam.cy - cam.fy * p[1] / -p[2]
    assert xs.mean() + 0.5 == pytest.approx(u, abs=1.0)
    assert ys.mean() + 0.5 == pytest.approx(v, abs=1.0)


@needs_shared
def test_camera_convention_matches_a_dev_case():
    """The dev case's own mesh, drawn with its camera.json, covers its rest.png silhouette."""
    case = SHARED_DATA / "Box_100189"
    data = np.load(case / "gt_rest.npz")
    mesh = trimesh.Trimesh(data["vertices"], data["faces"], process=False)
    camera = Camera.from_dict(json.loads((case / "camera.json").read_text()))
    # Dev meshes are not consistently wound: draw both sides.
    both = trimesh.Trimesh(
        np.vstack([mesh.vertices, mesh.vertices]),
        np.vstack([mesh.faces, mesh.faces[:, ::-1] + len(mesh.vertices)]),
        process=False,
    )
    obj = ArticulatedObject("dev", [Link("base", [Visual(both)])])
    ours = render(obj, camera).mask > 0
    theirs = np.asarray(Image.open(case / "rest.png"))[..., 3] > 127
    iou = (ours & theirs).sum() / (ours | theirs).sum()
    assert iou > 0.95, iou
