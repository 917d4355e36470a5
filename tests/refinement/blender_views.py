"""Helper for the refinement tests that use the real `bpy` module: a Workbench silhouette render
of a triangle mesh through a `Camera`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from spark_blender.core.camera import Camera


def _empty_scene(bpy):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def workbench_silhouette(
    bpy, vertices: np.ndarray, faces: np.ndarray, camera: Camera, folder: Path
) -> np.ndarray:
    """Boolean (H, W) alpha mask of Blender's Workbench render (flat, no anti-aliasing)."""
    import mathutils

    scene = _empty_scene(bpy)
    mesh = bpy.data.meshes.new("object")
    mesh.from_pydata(np.asarray(vertices, float).tolist(), [], np.asarray(faces).tolist())
    mesh.update()
    scene.collection.objects.link(bpy.data.objects.new("object", mesh))
    data = bpy.data.cameras.new("camera")
    data.lens = camera.lens
    data.sensor_width = camera.sensor_width
    data.sensor_height = camera.sensor_height
    data.sensor_fit = camera.sensor_fit
    data.shift_x, data.shift_y = camera.shift_x, camera.shift_y
    data.clip_start, data.clip_end = camera.clip_start, camera.clip_end
    camera_object = bpy.data.objects.new("camera", data)
    camera_object.matrix_world = mathutils.Matrix(camera.cam_to_world.tolist())
    scene.collection.objects.link(camera_object)
    scene.camera = camera_object
    render = scene.render
    render.engine = "BLENDER_WORKBENCH"
    render.resolution_x, render.resolution_y = camera.width, camera.height
    render.resolution_percentage = 100
    render.pixel_aspect_x = render.pixel_aspect_y = 1.0
    render.film_transparent = True
    scene.display.render_aa = "OFF"
    scene.display.shading.light = "FLAT"
    scene.display.shading.color_type = "SINGLE"
    render.image_settings.file_format = "PNG"
    render.image_settings.color_mode = "RGBA"
    render.filepath = str(folder / "workbench.png")
    bpy.ops.render.render(write_still=True)
    with Image.open(folder / "workbench.png") as image:
        return np.asarray(image)[..., 3] > 127
