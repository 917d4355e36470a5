"""Evaluation cases built by the project's own code (no PartNet data): box cabinets and a
lidded box written in EVAL.md's case layout, and output folders that predict them well or badly.
Used by the evaluation tests and for the report screenshot in docs/evaluation.md.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np

from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import joint_frames, moved_configuration, posed_mesh
from spark_blender.core.model import ArticulatedObject, Joint, Link
from spark_blender.core.transforms import translation
from spark_blender.core.urdf import WriteOptions, write_urdf
from spark_blender.evaluation.cases import save_npz_mesh
from spark_blender.evaluation.report import render_meshes
from spark_blender.examples import FRONT, WOOD, box, example_cabinet


def look_at_camera(
    target, distance: float, azimuth_deg: float, elevation_deg: float, size: int = 512
) -> dict:
    """camera.json of EVAL.md: Blender convention, 40 degree horizontal field of view."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    target = np.asarray(target, float)
    position = target + distance * np.array(
        [math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)]
    )
    back = (position - target) / np.linalg.norm(position - target)  # camera +Z
    right = np.cross([0.0, 0.0, 1.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    cam_to_world = np.eye(4)
    cam_to_world[:3, 0], cam_to_world[:3, 1], cam_to_world[:3, 2] = right, up, back
    cam_to_world[:3, 3] = position
    focal = (size / 2) / math.tan(math.radians(20.0))
    return {
        "width": size,
        "height": size,
        "fx": focal,
        "fy": focal,
        "cx": size / 2,
        "cy": size / 2,
        "fov_deg": 40.0,
        "cam_to_world": cam_to_world.tolist(),
        "azimuth_deg": azimuth_deg,
        "elevation_deg": elevation_deg,
    }


def lidded_box(width=0.5, depth=0.35, height=0.3, board=0.015) -> ArticulatedObject:
    """An open box with a lid hinged along its back top edge (revolute about -X opens up)."""
    w, d, h, t = width / 2, depth / 2, height, board
    walls = [
        box("bottom", (-w, -d, 0), (w, d, t), WOOD),
        box("front", (-w, -d, t), (w, -d + t, h), WOOD),
        box("back", (-w, d - t, t), (w, d, h), WOOD),
        box("left", (-w, -d + t, t), (-w + t, d - t, h), WOOD),
        box("right", (w - t, -d + t, t), (w, d - t, h), WOOD),
    ]
    lid = Link("lid", visuals=[box("lid_panel", (-w, -2 * d, 0), (w, 0, t), FRONT)], label="lid")
    hinge = Joint(
        "lid_hinge",
        "revolute",
        "base",
        "lid",
        origin=translation((0.0, d, h)),
        axis=np.array([-1.0, 0.0, 0.0]),
        lower=0.0,
        upper=math.radians(100.0),
        label="rotation_lid",
    )
    return ArticulatedObject("lidded_box", [Link("base", visuals=walls), lid], [hinge], "Box")


def write_case(obj: ArticulatedObject, folder: Path, azimuth=30.0, elevation=25.0) -> Path:
    """Write `obj` (canonical frame) as an evaluation case folder; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rest = obj.rest_configuration()
    moved = moved_configuration(obj)
    frames = joint_frames(obj, rest)
    mesh = posed_mesh(obj, rest)
    joints = [
        {
            "name": j.name,
            "type": j.type,
            "parent": j.parent,
            "child": j.child,
            "label": j.label,
            "pivot": frames[j.name][0].tolist(),
            "axis": frames[j.name][1].tolist(),
            "lower": None if j.type == "continuous" else j.lower,
            "upper": None if j.type == "continuous" else j.upper,
            "moved_value": moved[j.name],
        }
        for j in obj.movable_joints
    ]
    extent = (mesh.bounds[1] - mesh.bounds[0]).tolist()
    gt = {"name": folder.name, "category": obj.category, "extent": extent, "joints": joints}
    (folder / "gt.json").write_text(json.dumps(gt, indent=1))
    target = (0.0, 0.0, extent[2] / 2)
    camera = look_at_camera(target, 3.0 * max(extent), azimuth, elevation)
    (folder / "camera.json").write_text(json.dumps(camera, indent=1))
    save_npz_mesh(folder / "gt_rest.npz", mesh)
    save_npz_mesh(folder / "gt_moved.npz", posed_mesh(obj, moved))
    for name, configuration in (("rest", rest), ("moved", moved)):
        photo(obj, configuration, Camera.from_dict(camera)).save(folder / f"{name}.png")
    return folder


def photo(obj: ArticulatedObject, configuration: dict, camera: Camera):
    """A 'photo' for the case: every link in its material's colour, transparent background."""
    meshes, colours = [], []
    for link in obj.links:
        if link.visuals:
            meshes.append(posed_mesh(obj, configuration, links=[link.name]))
            colours.append(tuple(link.visuals[0].material.rgba[:3]))
    return render_meshes(meshes, camera, size=camera.width, colours=colours)


def write_prediction(obj: ArticulatedObject, folder: Path) -> Path:
    return write_urdf(obj, folder, WriteOptions(overwrite=True))


def flawed_cabinet() -> ArticulatedObject:
    """The example cabinet with its door hinged on the wrong side and its drawer sliding
    sideways: the geometry at rest is unchanged, the joints are wrong."""
    obj = copy.deepcopy(example_cabinet())
    door = obj.joint("door_hinge")
    width = 0.6 - 2 * 0.003
    door.origin = door.origin @ translation((width, 0.0, 0.0))
    for visual in obj.link("door").visuals:
        visual.origin = translation((-width, 0.0, 0.0)) @ visual.origin
    door.axis = np.array([0.0, 0.0, 1.0])
    obj.joint("drawer_slide").axis = np.array([1.0, 0.0, 0.0])
    return obj


def misplaced_lid() -> ArticulatedObject:
    """The lidded box with its hinge on the front edge instead of the back."""
    obj = copy.deepcopy(lidded_box())
    hinge = obj.joint("lid_hinge")
    depth = 0.35
    hinge.origin = hinge.origin @ translation((0.0, -depth, 0.0))
    for visual in obj.link("lid").visuals:
        visual.origin = translation((0.0, depth, 0.0)) @ visual.origin
    hinge.axis = np.array([1.0, 0.0, 0.0])
    return obj


def write_demo_set(root: Path) -> tuple[Path, Path]:
    """Three cases and predictions of them: perfect, wrong joints, a misplaced lid hinge."""
    cases, predictions = root / "cases", root / "predictions"
    tall = example_cabinet(width=0.5, depth=0.5, height=1.2)
    write_case(example_cabinet(), cases / "cabinet_small", azimuth=30.0)
    write_case(tall, cases / "cabinet_tall", azimuth=-25.0)
    write_case(lidded_box(), cases / "lidded_box", azimuth=20.0, elevation=35.0)
    write_prediction(example_cabinet(), predictions / "cabinet_small")
    tall_flawed = flawed_cabinet_like(tall)
    write_prediction(tall_flawed, predictions / "cabinet_tall")
    write_prediction(misplaced_lid(), predictions / "lidded_box")
    return cases, predictions


def flawed_cabinet_like(obj: ArticulatedObject) -> ArticulatedObject:
    """Like `flawed_cabinet`, for any example_cabinet: drawer slides sideways, door hinge axis
    flipped (so it swings into the carcass)."""
    obj = copy.deepcopy(obj)
    obj.joint("door_hinge").axis = -obj.joint("door_hinge").axis
    obj.joint("drawer_slide").axis = np.array([1.0, 0.0, 0.0])
    return obj
