"""A worker job whose result becomes scene objects: progress into the scene's properties, the
build on the main thread, and nothing left behind when it is cancelled or fails.

``ReconstructionJob.step`` is what the modal operator's timer calls; tests call it directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import bpy

from spark_blender.blender import scene as blender_scene
from spark_blender.blender.prefs import settings
from spark_blender.blender.worker import CANCELLED, FAILED, FINISHED, RUNNING, WorkerClient


def reconstruct_request(context: bpy.types.Context) -> tuple[str, dict]:
    """The `reconstruct` job for the scene's photo and the preferences."""
    props = context.scene.spark
    prefs = settings(context)
    image = bpy.path.abspath(props.image) if props.image else ""
    options = {
        "parser": props.parser,
        "device": prefs.device,
        "vlm_model": prefs.vlm_model,
        "local_model": prefs.local_model,
    }
    if props.moved_image:
        options["moved_image"] = bpy.path.abspath(props.moved_image)
    if props.height > 0:
        options["height"] = props.height
    return "reconstruct", {"image": image, "options": options}


def show_as_photographed(built: blender_scene.BuiltObject, camera: dict, photo: str) -> None:
    """Pose the armature as the photo shows the object (camera.json's observed_configuration)
    and put the photo behind the estimated camera, so the result can be compared with it."""
    observed = camera.get("observed_configuration") or {}
    # Kept on the armature so the pose as photographed can be restored after scrubbing.
    built.armature["spark_observed_configuration"] = {k: float(v) for k, v in observed.items()}
    if observed:
        blender_scene.set_configuration(built.armature, observed)
    if built.camera is None or not photo or not Path(photo).is_file():
        return
    if Path(photo).suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif"):
        return  # a URDF folder brought in through the worker has no photo
    image = bpy.data.images.load(photo, check_existing=True)
    data = built.camera.data
    background = data.background_images.new()
    background.image = image
    data.show_background_images = True


class ReconstructionJob:
    """One worker job for one scene; `step()` advances it, `cancel()` ends it."""

    def __init__(self, job: str, args: dict, context: bpy.types.Context, source: str = ""):
        prefs = settings(context)
        self.scene_name = context.scene.name
        self.source = source or args.get("image") or args.get("urdf", "")
        self.client = WorkerClient(
            job, args, python=prefs.worker_python or None, env=prefs.worker_env()
        )
        self.built: blender_scene.BuiltObject | None = None
        self.error = ""

    @property
    def status(self) -> str:
        return self.client.state.status

    def start(self, context: bpy.types.Context) -> ReconstructionJob:
        props = context.scene.spark
        props.job_running, props.job_cancel, props.last_error = True, False, ""
        props.job_stage, props.job_fraction, props.job_message = "starting", 0.0, ""
        self.client.start()
        return self

    def step(self, context: bpy.types.Context) -> str:
        """Poll the worker, mirror its progress, and build the result when it arrives."""
        props = context.scene.spark
        if props.job_cancel and self.status == RUNNING:
            self.cancel(context)
            return CANCELLED
        state = self.client.poll()
        props.job_stage, props.job_fraction = state.stage, state.fraction
        props.job_message = state.message
        if state.status == FINISHED:
            self._build(context, state.result)
        elif state.status == FAILED:
            self._finish(context, error=state.error)
        return self.status

    def cancel(self, context: bpy.types.Context) -> None:
        self.client.cancel()
        self._finish(context, error="")
        context.scene.spark.job_stage = "cancelled"

    def _build(self, context, result: dict) -> None:
        from spark_blender.core.urdf import read_urdf

        try:
            folder = Path(result["folder"])
            obj = read_urdf(result["urdf"])
            camera_file = folder / "camera.json"
            camera = json.loads(camera_file.read_text()) if camera_file.is_file() else None
            self.built = blender_scene.build_object(obj, context, camera, source=self.source)
            if camera:
                show_as_photographed(self.built, camera, self.source)
        except Exception as exc:  # the scene stays as it was; the panel shows why
            self.client.state.status = FAILED
            self._finish(context, error=f"building the result failed: {type(exc).__name__}: {exc}")
            return
        self._finish(context, error="")

    def _finish(self, context, error: str) -> None:
        self.error = error
        props = context.scene.spark
        props.job_running, props.job_cancel = False, False
        props.last_error = error
        self.client.cleanup()
