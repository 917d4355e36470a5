"""Operators: Reconstruct Articulated (modal, worker process), URDF import and export, and the
joint tools (rest pose, move to limits, preview motion, set pivot)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import bpy
import numpy as np
from bpy.props import BoolProperty, EnumProperty, StringProperty
from bpy.types import Operator
from bpy_extras.io_utils import ExportHelper, ImportHelper

from spark_blender.blender import scene as blender_scene
from spark_blender.blender.jobs import ReconstructionJob, reconstruct_request
from spark_blender.blender.worker import CANCELLED, FAILED, FINISHED, RUNNING
from spark_blender.errors import one_line


def active_armature(context: bpy.types.Context) -> bpy.types.Object | None:
    """The SPARK object the user is working on: the active object's, else the scene's only one."""
    armature = blender_scene.find_armature(context.active_object)
    if armature is not None:
        return armature
    armatures = blender_scene.spark_armatures(context.scene)
    return armatures[0] if len(armatures) == 1 else None


# --- reconstruction ---------------------------------------------------------------------------
class SPARK_OT_reconstruct(Operator):
    """Rebuild the photo as an articulated object, in a worker process (Esc cancels)"""

    bl_idname = "spark.reconstruct"
    bl_label = "Reconstruct Articulated"
    bl_options = {"REGISTER", "UNDO"}

    # The protocol carries any job; the default is the pipeline. `load_urdf` runs an existing
    # URDF folder through the same path (used by tests and scripts).
    job: StringProperty(default="reconstruct", options={"HIDDEN", "SKIP_SAVE"})
    urdf: StringProperty(default="", subtype="FILE_PATH", options={"HIDDEN", "SKIP_SAVE"})
    timeout: bpy.props.FloatProperty(default=3600.0, options={"HIDDEN", "SKIP_SAVE"})

    _job: ReconstructionJob | None = None
    _timer = None

    @classmethod
    def poll(cls, context):
        return context.scene is not None and not context.scene.spark.job_running

    def _make_job(self, context) -> ReconstructionJob | None:
        if self.job == "reconstruct":
            job, args = reconstruct_request(context)
            if not args["image"]:
                self.report({"ERROR"}, "Reconstruct Articulated: choose a photo first")
                return None
            if not Path(args["image"]).is_file():
                self.report(
                    {"ERROR"}, f"Reconstruct Articulated: photo '{args['image']}' not found"
                )
                return None
        else:
            job, args = self.job, {"urdf": bpy.path.abspath(self.urdf)}
        return ReconstructionJob(job, args, context)

    def execute(self, context):
        """Blocking run (scripts, tests): the same job, polled until it ends."""
        job = self._make_job(context)
        if job is None:
            return {"CANCELLED"}
        job.start(context)
        deadline = time.monotonic() + self.timeout
        while job.step(context) == RUNNING:
            if time.monotonic() > deadline:
                job.cancel(context)
                self.report({"ERROR"}, "Reconstruct Articulated: timed out")
                return {"CANCELLED"}
            time.sleep(0.05)
        return self._result(job)

    def invoke(self, context, event):
        job = self._make_job(context)
        if job is None:
            return {"CANCELLED"}
        self._job = job.start(context)
        self._timer = context.window_manager.event_timer_add(0.1, window=context.window)
        context.window_manager.modal_handler_add(self)
        self._status(context, "starting")
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self._job.cancel(context)
        elif event.type != "TIMER":
            return {"PASS_THROUGH"}
        else:
            self._job.step(context)
        if self._job.status == RUNNING:
            props = context.scene.spark
            self._status(context, f"{props.job_stage} {props.job_fraction * 100:.0f}%")
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        self._status(context, None)
        return self._result(self._job)

    def _result(self, job: ReconstructionJob):
        _redraw()
        if job.status == FINISHED and job.built is not None:
            self.report({"INFO"}, f"Reconstructed '{job.built.armature.name}'")
            return {"FINISHED"}
        if job.status == CANCELLED:
            self.report({"WARNING"}, "Reconstruct Articulated: cancelled")
        elif job.status == FAILED:
            self.report({"ERROR"}, f"Reconstruct Articulated: {job.error}")
        return {"CANCELLED"}

    @staticmethod
    def _status(context, text: str | None) -> None:
        workspace = getattr(context, "workspace", None)
        if workspace is not None:
            workspace.status_text_set(None if text is None else f"SPARK: {text} (Esc: cancel)")
        _redraw()


class SPARK_OT_cancel_reconstruct(Operator):
    """Stop the running reconstruction; nothing of it is kept"""

    bl_idname = "spark.cancel_reconstruct"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return context.scene.spark.job_running

    def execute(self, context):
        context.scene.spark.job_cancel = True
        return {"FINISHED"}


def _redraw() -> None:
    for window in getattr(bpy.context.window_manager, "windows", []):
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


# --- URDF import and export ------------------------------------------------------------------
class SPARK_OT_import_urdf(Operator, ImportHelper):
    """Import a URDF as parts driven by an armature whose bones are the joints"""

    bl_idname = "spark.import_urdf"
    bl_label = "Import URDF"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".urdf"
    filter_glob: StringProperty(default="*.urdf;*.xml", options={"HIDDEN"})
    collisions: BoolProperty(
        name="Collision meshes", default=True, description="Keep the collision meshes (hidden)"
    )
    textures: BoolProperty(
        name="Textures", default=True, description="Bring in texture images (packed in the file)"
    )

    def execute(self, context):
        from spark_blender.core.urdf import read_urdf

        path = Path(bpy.path.abspath(self.filepath))
        try:
            obj = read_urdf(path)
            camera_file = path.parent / "camera.json"
            camera = json.loads(camera_file.read_text()) if camera_file.is_file() else None
            built = blender_scene.build_object(
                obj,
                context,
                camera,
                source=str(path),
                with_collisions=self.collisions,
                with_textures=self.textures,
                name=path.stem,
            )
        except Exception as exc:  # one line naming the file and the problem
            self.report({"ERROR"}, f"Import URDF '{path.name}': {one_line(exc, with_type=True)}")
            return {"CANCELLED"}
        _select_only(context, built.armature)
        self.report({"INFO"}, f"Imported '{obj.name}': {len(obj.movable_joints)} movable joints")
        return {"FINISHED"}


class SPARK_OT_export_urdf(Operator, ExportHelper):
    """Export the active SPARK object as a URDF folder (NAME/NAME.urdf and NAME/meshes)"""

    bl_idname = "spark.export_urdf"
    bl_label = "Export URDF"

    filename_ext = ".urdf"
    filter_glob: StringProperty(default="*.urdf", options={"HIDDEN"})
    overwrite: BoolProperty(
        name="Replace folder", default=False, description="Replace an existing export folder"
    )
    collision: EnumProperty(
        name="Collision",
        items=[
            ("auto", "Keep or hull", "Keep a link's collision meshes, else convex hulls"),
            ("hull", "Convex hulls", "One convex hull per visual mesh"),
            ("keep", "Keep", "Only the collision meshes in the scene"),
        ],
        default="auto",
    )

    recompute_inertia: BoolProperty(
        name="Recompute inertia",
        default=False,
        description="Mass and inertia from the geometry as it is now (after mesh edits)",
    )

    @classmethod
    def poll(cls, context):
        return active_armature(context) is not None

    def execute(self, context):
        from spark_blender.core.urdf import WriteOptions, write_urdf

        armature = active_armature(context)
        path = Path(bpy.path.abspath(self.filepath))
        out_dir = path.with_suffix("")
        try:
            obj = blender_scene.read_object(armature, context.evaluated_depsgraph_get())
            obj.name = path.stem
            extra = {}
            camera = blender_scene.camera_json(armature, context.scene)
            if camera is not None:
                extra["camera.json"] = json.dumps(camera, indent=1).encode()
            options = WriteOptions(
                collision=self.collision,
                recompute_inertia=self.recompute_inertia,
                overwrite=self.overwrite,
                extra_files=extra,
            )
            written = write_urdf(obj, out_dir, options)
        except Exception as exc:
            self.report({"ERROR"}, f"Export URDF '{out_dir}': {one_line(exc, with_type=True)}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {written}")
        return {"FINISHED"}


def _select_only(context, ob) -> None:
    for other in context.view_layer.objects.selected:
        other.select_set(False)
    ob.select_set(True)
    context.view_layer.objects.active = ob


# --- joint tools ---------------------------------------------------------------------------------
class _ArmatureOperator(Operator):
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return active_armature(context) is not None


class SPARK_OT_rest_pose(_ArmatureOperator):
    """Put every joint at rest (0: closed)"""

    bl_idname = "spark.rest_pose"
    bl_label = "Rest Pose"

    def execute(self, context):
        armature = active_armature(context)
        for pose_bone in blender_scene.joint_bones(armature):
            blender_scene.set_joint_value(pose_bone, 0.0)
        return {"FINISHED"}


class SPARK_OT_move_to_limits(_ArmatureOperator):
    """Move every joint to its far limit (fully open)"""

    bl_idname = "spark.move_to_limits"
    bl_label = "Move All to Limit"

    def execute(self, context):
        armature = active_armature(context)
        for pose_bone in blender_scene.joint_bones(armature):
            blender_scene.set_joint_value(pose_bone, blender_scene.far_limit(pose_bone))
        return {"FINISHED"}


class SPARK_OT_preview_motion(_ArmatureOperator):
    """Keyframe a sweep of every joint, one after another, and set the frame range to it"""

    bl_idname = "spark.preview_motion"
    bl_label = "Preview Motion"

    frames_per_joint: bpy.props.IntProperty(name="Frames per joint", default=40, min=2)

    def execute(self, context):
        armature = active_armature(context)
        scene = context.scene
        end = blender_scene.keyframe_sweep(armature, scene.frame_start, self.frames_per_joint)
        scene.frame_end = max(end, scene.frame_start + 1)
        scene.frame_set(scene.frame_start)
        return {"FINISHED"}


class SPARK_OT_keyframe_joints(_ArmatureOperator):
    """Keyframe every joint's value at the current frame (the sliders are views of the bones'
    channels, which is what gets keyed)"""

    bl_idname = "spark.keyframe_joints"
    bl_label = "Keyframe Joints"

    def execute(self, context):
        keyed = blender_scene.keyframe_joints(active_armature(context), context.scene.frame_current)
        self.report({"INFO"}, f"Keyframed {keyed} joints at frame {context.scene.frame_current}")
        return {"FINISHED"}


class SPARK_OT_set_pivot(_ArmatureOperator):
    """Move a joint's pivot (its bone's head) to the 3D cursor; the parts stay where they are"""

    bl_idname = "spark.set_pivot"
    bl_label = "Set Pivot to Cursor"

    joint: StringProperty(name="Joint bone", default="")

    def execute(self, context):
        armature = active_armature(context)
        name = self.joint or (context.active_pose_bone.name if context.active_pose_bone else "")
        if name not in armature.pose.bones:
            self.report({"ERROR"}, f"Set Pivot: no joint bone '{name}'")
            return {"CANCELLED"}
        target = armature.matrix_world.inverted() @ context.scene.cursor.location
        move_pivot(context, armature, name, np.asarray(target, float))
        return {"FINISHED"}


def move_pivot(context, armature, bone_name: str, head: np.ndarray) -> None:
    """Move bone `bone_name` so its head is at `head` (armature frame), keeping its axis and
    every object hanging from it where it is at rest."""
    riders = [
        ob for ob in armature.children if ob.parent_type == "BONE" and ob.parent_bone == bone_name
    ]
    rest = {ob.name: blender_scene.rest_matrix(ob, armature) for ob in riders}
    view_layer = context.view_layer
    previous = view_layer.objects.active
    view_layer.objects.active = armature
    mode = armature.mode
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        bone = armature.data.edit_bones[bone_name]
        delta = head - np.asarray(bone.head, float)
        bone.head = tuple(np.asarray(bone.head, float) + delta)
        bone.tail = tuple(np.asarray(bone.tail, float) + delta)
    finally:
        bpy.ops.object.mode_set(mode="OBJECT" if mode == "EDIT" else mode)
        view_layer.objects.active = previous
    parent = blender_scene.bone_parent_matrix(armature.data.bones[bone_name])
    for ob in riders:
        inverse = blender_scene.to_numpy(ob.matrix_parent_inverse)
        ob.matrix_basis = blender_scene.to_blender(np.linalg.inv(parent @ inverse) @ rest[ob.name])


CLASSES = (
    SPARK_OT_reconstruct,
    SPARK_OT_cancel_reconstruct,
    SPARK_OT_import_urdf,
    SPARK_OT_export_urdf,
    SPARK_OT_rest_pose,
    SPARK_OT_move_to_limits,
    SPARK_OT_preview_motion,
    SPARK_OT_keyframe_joints,
    SPARK_OT_set_pivot,
)
