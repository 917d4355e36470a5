"""Workbench renders of a SPARK object as it is posed (documentation images, quick previews).

The render borrows the scene: it adds a temporary camera, renders with Workbench and puts the
camera, engine and render settings back as they were.

    python -m spark_blender.blender.preview --example -o docs/images/blender_cabinet.png
    python -m spark_blender.blender.preview --urdf some/object.urdf --open 0.75 -o preview.png
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

from spark_blender.blender import scene as blender_scene
from spark_blender.blender.convert import apply_camera
from spark_blender.core.camera import Camera


def visual_bounds(armature: bpy.types.Object) -> tuple[np.ndarray, np.ndarray]:
    """World bounding box of the object's visual meshes in their current pose."""
    bpy.context.view_layer.update()
    corners = [
        np.asarray(ob.matrix_world @ Vector(corner))
        for ob in armature.children_recursive
        if ob.type == "MESH" and ob.spark.role != blender_scene.ROLE_COLLISION
        for corner in ob.bound_box
    ]
    if not corners:
        origin = np.asarray(armature.matrix_world.translation)
        return origin - 0.5, origin + 0.5
    points = np.asarray(corners)
    return points.min(axis=0), points.max(axis=0)


def render_workbench(
    armature: bpy.types.Object,
    path: str | Path,
    resolution: tuple[int, int] = (1280, 960),
    azimuth_deg: float = -35.0,
    elevation_deg: float = 22.0,
    lens: float = 50.0,
) -> Path:
    """Render the object from the front-left-above (azimuth 0 looks at the front, -Y)."""
    scene = bpy.context.scene
    low, high = visual_bounds(armature)
    centre, radius = (low + high) / 2, float(np.linalg.norm(high - low)) / 2
    width, height = resolution
    fov_deg = math.degrees(2 * math.atan(36.0 / (2 * lens) * width / max(width, height)))
    half_fov = math.atan(36.0 / (2 * lens)) * min(resolution) / max(resolution)
    view = Camera.orbit(centre, 1.1 * radius / math.sin(half_fov), azimuth_deg, elevation_deg,
                        width, height, fov_deg)  # fmt: skip
    data = bpy.data.cameras.new("SPARK preview camera")
    apply_camera(data, view)
    camera = bpy.data.objects.new("SPARK preview camera", data)
    scene.collection.objects.link(camera)
    camera.matrix_world = blender_scene.to_blender(view.cam_to_world)
    saved = _save_settings(scene)
    try:
        scene.camera = camera
        render = scene.render
        render.engine = "BLENDER_WORKBENCH"
        render.resolution_x, render.resolution_y = resolution
        render.resolution_percentage = 100
        render.film_transparent = False
        render.filepath = str(Path(path).resolve())
        render.image_settings.file_format = "PNG"
        shading = scene.display.shading
        shading.light, shading.color_type = "STUDIO", "TEXTURE"  # material colour if untextured
        shading.show_cavity, shading.show_shadows = True, True
        shading.show_object_outline = True
        shading.show_specular_highlight = False
        if scene.world is not None:
            scene.world.color = (0.82, 0.84, 0.87)  # Workbench renders the world colour
        shading.background_type = "VIEWPORT"
        shading.background_color = (0.93, 0.93, 0.93)
        scene.display.render_aa = "8"
        bpy.ops.render.render(write_still=True)
    finally:
        _restore_settings(scene, saved)
        bpy.data.objects.remove(camera, do_unlink=True)
        bpy.data.cameras.remove(data)
    return Path(path)


_SETTINGS = (
    ("render", "engine"),
    ("render", "resolution_x"),
    ("render", "resolution_y"),
    ("render", "resolution_percentage"),
    ("render", "film_transparent"),
    ("render", "filepath"),
    ("display.shading", "light"),
    ("display.shading", "color_type"),
    ("display.shading", "show_cavity"),
    ("display.shading", "show_shadows"),
    ("display.shading", "show_object_outline"),
    ("display.shading", "show_specular_highlight"),
    ("world", "color"),
    ("display.shading", "background_type"),
    ("display.shading", "background_color"),
    ("display", "render_aa"),
)


def _owner(scene, path: str):
    owner = scene
    for part in path.split("."):
        owner = getattr(owner, part)
    return owner


def _save_settings(scene) -> dict:
    saved = {
        (path, name): tuple(value)
        if hasattr(value, "__len__") and not isinstance(value, str)
        else value
        for path, name in _SETTINGS
        if scene.world is not None or path != "world"
        for value in [getattr(_owner(scene, path), name)]
    }
    saved[("", "camera")] = scene.camera
    return saved


def _restore_settings(scene, saved: dict) -> None:
    for (path, name), value in saved.items():
        if path:
            value = tuple(value) if name in ("background_color", "color") else value
            setattr(_owner(scene, path), name, value)
    scene.camera = saved[("", "camera")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Workbench render of an articulated object")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--urdf", type=Path, help="URDF to import and render")
    source.add_argument("--example", action="store_true", help="the bundled example cabinet")
    parser.add_argument("-o", "--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--open", type=float, default=0.75, help="share of each far limit")
    parser.add_argument("--size", type=int, nargs=2, default=(1280, 960))
    args = parser.parse_args(argv)

    import spark_blender

    spark_blender.register()
    bpy.ops.wm.read_homefile(app_template="")
    for ob in list(bpy.context.scene.objects):  # the start-up cube, light and camera
        bpy.data.objects.remove(ob, do_unlink=True)
    if args.example:
        from spark_blender.examples import example_cabinet

        obj = example_cabinet()
    else:
        from spark_blender.core.urdf import read_urdf

        obj = read_urdf(args.urdf)
    armature = blender_scene.build_object(obj, bpy.context).armature
    for pose_bone in blender_scene.joint_bones(armature):
        blender_scene.set_joint_value(pose_bone, args.open * blender_scene.far_limit(pose_bone))
    path = render_workbench(armature, args.out, tuple(args.size))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
