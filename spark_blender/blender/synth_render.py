"""Cycles renders for the data engine (bpy only): `python -m spark_blender.blender.synth_render
JOB.json`.

The job (written by ``spark_blender.synth.render_cycles``) names the visual OBJ files of a URDF
written by the core, and per view: each visual's world matrix, the camera (Blender convention),
the key light and ambient level, and the PNG to write. Every view renders RGBA over a transparent
film; the caller composites backgrounds and takes masks and depth from the rasteriser, which uses
the very same camera and geometry.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy
from mathutils import Matrix, Vector

from spark_blender.blender.convert import apply_camera
from spark_blender.core.camera import Camera


def _reset_scene() -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _import_visuals(visuals: list[dict]) -> list:
    objects = []
    for visual in visuals:
        before = set(bpy.data.objects)
        bpy.ops.wm.obj_import(filepath=visual["file"], forward_axis="Y", up_axis="Z")
        new = [o for o in bpy.data.objects if o not in before]
        if not new:
            raise RuntimeError(f"importing '{visual['file']}' gave no object")
        objects.append(new[0])
    return objects


def _setup_render(width: int, height: int, samples: int, seed: int) -> None:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.seed = seed
    scene.cycles.use_denoising = False
    scene.cycles.max_bounces = 4
    scene.render.resolution_x = width
    scene.render.resolution_y = height
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    scene.render.image_settings.color_depth = "8"
    scene.view_settings.view_transform = "Standard"
    scene.render.threads_mode = "FIXED"
    scene.render.threads = 2


def _camera(data: dict):
    camera = Camera.from_dict(data)
    cam_data = bpy.data.cameras.new("synth_camera")
    apply_camera(cam_data, camera)
    cam = bpy.data.objects.new("synth_camera", cam_data)
    bpy.context.scene.collection.objects.link(cam)
    cam.matrix_world = Matrix(camera.cam_to_world.tolist())
    bpy.context.scene.camera = cam
    return cam


def _lights(lighting: dict) -> None:
    sun_data = bpy.data.lights.new("synth_key", type="SUN")
    sun_data.energy = 3.0 * lighting["intensity"]
    sun_data.color = lighting["colour"]
    sun = bpy.data.objects.new("synth_key", sun_data)
    bpy.context.scene.collection.objects.link(sun)
    # A sun shines along its local -Z.
    sun.rotation_mode = "QUATERNION"
    sun.rotation_quaternion = Vector(lighting["direction"]).to_track_quat("-Z", "Y")
    world = bpy.data.worlds.new("synth_world")
    world.use_nodes = True
    background = world.node_tree.nodes.get("Background")
    if background is not None:
        background.inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
        background.inputs["Strength"].default_value = 1.2 * lighting["ambient"]
    bpy.context.scene.world = world


def render_job(job: dict) -> None:
    _reset_scene()
    objects = _import_visuals(job["visuals"])
    for view in job["views"]:
        for obj in list(bpy.data.objects):
            if obj.name.startswith("synth_"):
                bpy.data.objects.remove(obj, do_unlink=True)
        _setup_render(view["camera"]["width"], view["camera"]["height"], job["samples"],
                      job["seed"])  # fmt: skip
        for obj, matrix in zip(objects, view["matrices"], strict=True):
            obj.matrix_world = Matrix(matrix)
        _camera(view["camera"])
        _lights(view["lighting"])
        bpy.context.scene.render.filepath = view["out"]
        bpy.ops.render.render(write_still=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m spark_blender.blender.synth_render JOB.json", file=sys.stderr)
        return 2
    render_job(json.loads(Path(argv[0]).read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
