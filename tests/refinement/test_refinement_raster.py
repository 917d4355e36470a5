"""The soft silhouette renderer: gradients, culling, and agreement with Blender's own render."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from spark_blender.core.camera import Camera, CameraError
from spark_blender.core.kinematics import moved_configuration, posed_mesh
from spark_blender.refinement.raster import (
    Intrinsics,
    RasterSettings,
    hard_silhouette,
    render_silhouette,
    render_silhouette_dense,
)
from tests.conftest import SHARED_DATA
from tests.refinement.boxes import box_object, view_camera

DEV_CASES = ["Dishwasher_12553", "Refrigerator_11231", "Laptop_10280"]


def small_scene(dtype=torch.float64):
    """Two triangles (one seen edge-on-ish) in front of a 12x12 camera."""
    camera = Camera.look_at((0.3, -2.0, 0.6), (0.0, 0.0, 0.0), 12, 12, fov_deg=40)
    vertices = torch.tensor(
        [[-0.4, 0.0, -0.3], [0.35, 0.05, -0.25], [0.0, -0.1, 0.4], [0.1, 0.3, 0.1]], dtype=dtype
    )
    faces = torch.tensor([[0, 1, 2], [1, 3, 2]])
    return camera, vertices, faces


def tensors(mesh, camera, dtype=torch.float32):
    return (
        torch.as_tensor(np.asarray(mesh.vertices), dtype=dtype),
        torch.as_tensor(np.asarray(mesh.faces), dtype=torch.long),
        torch.as_tensor(camera.world_to_cam, dtype=dtype),
        Intrinsics.from_camera(camera),
    )


def test_gradients_agree_with_finite_differences():
    camera, vertices, faces = small_scene()
    settings = RasterSettings(12, 12, sharpness=1.5)
    intrinsics = Intrinsics.from_camera(camera)
    view = torch.tensor(camera.world_to_cam, dtype=torch.float64)

    # A few random projections of the image keep the analytic Jacobian small (one backward each).
    weights = torch.rand(144, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def image(vertices, view):
        return render_silhouette(vertices, faces, view, intrinsics, settings).reshape(-1) @ weights

    inputs = (vertices.clone().requires_grad_(True), view.clone().requires_grad_(True))
    assert torch.autograd.gradcheck(image, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_culling_matches_the_dense_renderer():
    obj = box_object("door_drawer", np.random.default_rng(3))
    mesh = posed_mesh(obj, moved_configuration(obj))
    camera = view_camera(obj, 20.0, 25.0, width=32)
    vertices, faces, view, intrinsics = tensors(mesh, camera)
    vertices.requires_grad_(True)
    settings = RasterSettings(32, 32, sharpness=2.0)
    culled = render_silhouette(vertices, faces, view, intrinsics, settings)
    dense = render_silhouette_dense(vertices, faces, view, intrinsics, settings)
    assert (culled - dense).abs().max() < 0.01  # eps per dropped pair
    (grad_culled,) = torch.autograd.grad(culled.sum(), vertices)
    (grad_dense,) = torch.autograd.grad(dense.sum(), vertices)
    assert torch.allclose(grad_culled, grad_dense, atol=0.02 * grad_dense.abs().max())


def test_high_sharpness_approaches_the_hard_mask():
    obj = box_object("lid", np.random.default_rng(4))
    mesh = posed_mesh(obj, moved_configuration(obj))
    camera = view_camera(obj, -25.0, 30.0, width=64)
    vertices, faces, view, intrinsics = tensors(mesh, camera)
    hard = hard_silhouette(vertices, faces, view, intrinsics, 64, 64)
    soft = render_silhouette(vertices, faces, view, intrinsics, RasterSettings(64, 64, 60.0))
    assert iou(soft.numpy() > 0.5, hard.numpy()) > 0.995
    assert hard.sum() > 200


def test_faces_behind_the_camera_are_dropped():
    camera, vertices, faces = small_scene(torch.float32)
    behind = vertices.clone()
    behind[:, 1] = -5.0  # the camera is at y = -2 looking towards +y
    view = torch.tensor(camera.world_to_cam, dtype=torch.float32)
    image = render_silhouette(
        behind, faces, view, Intrinsics.from_camera(camera), RasterSettings(12, 12)
    )
    assert float(image.max()) == 0.0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def blender_iou(tmp_path, vertices, faces, camera) -> float:
    bpy = pytest.importorskip("bpy", reason="the Blender comparison needs the bpy module")
    from tests.refinement.blender_views import workbench_silhouette

    blender = workbench_silhouette(bpy, vertices, faces, camera, tmp_path)
    v, f, view, intrinsics = tensors(type("M", (), {"vertices": vertices, "faces": faces}), camera)
    settings = RasterSettings(camera.width, camera.height, sharpness=50.0)
    ours = render_silhouette(v, f, view, intrinsics, settings).numpy() > 0.5
    assert blender.sum() > 100
    return iou(ours, blender)


def test_silhouette_matches_blender_workbench_on_a_synthetic_object(tmp_path):
    obj = box_object("double_door", np.random.default_rng(5))
    mesh = posed_mesh(obj, moved_configuration(obj))
    camera = view_camera(obj, 30.0, 25.0, width=160)
    camera.height = 128  # landscape: the sensor spans the width (AUTO fit)
    camera.shift_x, camera.shift_y = 0.04, -0.03  # Blender's shift moves the principal point
    assert blender_iou(tmp_path, mesh.vertices, mesh.faces, camera) >= 0.98


def test_silhouette_matches_blender_in_portrait(tmp_path):
    obj = box_object("drawers", np.random.default_rng(6))
    mesh = posed_mesh(obj, moved_configuration(obj))
    camera = view_camera(obj, -20.0, 20.0, width=96)
    camera.height = 144  # portrait: the sensor spans the height
    assert blender_iou(tmp_path, mesh.vertices, mesh.faces, camera) >= 0.98


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data/partnet_dev")
@pytest.mark.parametrize("case", DEV_CASES)
def test_silhouette_matches_blender_on_dev_meshes(tmp_path, case):
    folder = SHARED_DATA / case
    data = np.load(folder / "gt_moved.npz")
    camera = Camera.from_json(folder / "camera.json").scaled(256)
    assert blender_iou(tmp_path, data["vertices"], data["faces"], camera) >= 0.98


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data/partnet_dev")
def test_dev_camera_round_trips_through_json(tmp_path):
    source = json.loads((SHARED_DATA / DEV_CASES[0] / "camera.json").read_text())
    camera = Camera.from_dict(source)
    camera.to_json(tmp_path / "camera.json")
    again = Camera.from_json(tmp_path / "camera.json")
    for key in ("fx", "fy", "cx", "cy"):
        assert getattr(again, key) == pytest.approx(source[key])
    np.testing.assert_allclose(again.cam_to_world, source["cam_to_world"])
    assert again.fov_x_deg == pytest.approx(source["fov_deg"], abs=1e-6)


def test_camera_refuses_non_square_pixels():
    with pytest.raises(CameraError, match="fx"):
        Camera.from_intrinsics(64, 64, 100.0, 120.0, 32.0, 32.0, np.eye(4))
