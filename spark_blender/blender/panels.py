"""The SPARK tab of the 3D viewport's sidebar (N-panel): reconstruction, joints, import/export."""

from __future__ import annotations

from bpy.types import Panel

from spark_blender.blender import scene as blender_scene


class _SparkPanel(Panel):
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "SPARK"


class SPARK_PT_reconstruct(_SparkPanel):
    bl_idname = "SPARK_PT_reconstruct"
    bl_label = "Reconstruct"

    def draw(self, context):
        layout = self.layout
        props = context.scene.spark
        column = layout.column()
        column.enabled = not props.job_running
        column.prop(props, "image")
        column.prop(props, "moved_image")
        column.prop(props, "parser")
        column.prop(props, "height")
        if props.job_running:
            text = f"{props.job_stage} {props.job_fraction * 100:.0f}%"
            if hasattr(layout, "progress"):
                layout.progress(factor=props.job_fraction, type="BAR", text=text)
            else:
                layout.label(text=text)
            if props.job_message:
                layout.label(text=props.job_message)
            layout.operator("spark.cancel_reconstruct", icon="CANCEL")
        else:
            layout.operator("spark.reconstruct", icon="MOD_ARMATURE")
        if props.last_error:
            box = layout.box()
            box.alert = True
            for index, line in enumerate(_wrap(props.last_error, 48)):
                box.label(text=line, icon="ERROR" if index == 0 else "BLANK1")


class SPARK_PT_joints(_SparkPanel):
    bl_idname = "SPARK_PT_joints"
    bl_label = "Joints"

    def draw(self, context):
        from spark_blender.blender.ops import active_armature

        layout = self.layout
        armature = active_armature(context)
        if armature is None:
            layout.label(text="Select a SPARK object", icon="INFO")
            return
        layout.label(text=armature.spark.object_name or armature.name, icon="ARMATURE_DATA")
        bones = blender_scene.joint_bones(armature)
        if not bones:
            layout.label(text="No movable joints")
        for pose_bone in bones:
            joint = pose_bone.spark_joint
            row = layout.row(align=True)
            value = "distance" if joint.joint_type == "prismatic" else "angle"
            row.prop(joint, value, text=joint.label or joint.joint_name, slider=True)
        row = layout.row(align=True)
        row.operator("spark.rest_pose", icon="LOOP_BACK")
        row.operator("spark.move_to_limits", icon="FORWARD")
        row = layout.row(align=True)
        row.operator("spark.keyframe_joints", icon="KEY_HLT")
        row.operator("spark.preview_motion", icon="PLAY")


class SPARK_PT_joint_details(_SparkPanel):
    bl_idname = "SPARK_PT_joint_details"
    bl_label = "Active Joint"
    bl_parent_id = "SPARK_PT_joints"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context):
        pose_bone = context.active_pose_bone
        return pose_bone is not None and pose_bone.spark_joint.is_joint

    def draw(self, context):
        layout = self.layout
        pose_bone = context.active_pose_bone
        joint = pose_bone.spark_joint
        layout.prop(joint, "joint_name")
        layout.prop(joint, "joint_type")
        layout.prop(joint, "label")
        if joint.joint_type != "continuous":
            row = layout.row(align=True)
            row.prop(joint, "stored_lower")
            row.prop(joint, "stored_upper")
        layout.prop(joint, "effort")
        layout.prop(joint, "velocity")
        layout.prop(joint, "damping")
        layout.prop(joint, "friction")
        layout.operator("spark.set_pivot", icon="PIVOT_CURSOR").joint = pose_bone.name


class SPARK_PT_files(_SparkPanel):
    bl_idname = "SPARK_PT_files"
    bl_label = "URDF"

    def draw(self, context):
        row = self.layout.row(align=True)
        row.operator("spark.import_urdf", icon="IMPORT")
        row.operator("spark.export_urdf", icon="EXPORT")


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


CLASSES = (SPARK_PT_reconstruct, SPARK_PT_joints, SPARK_PT_joint_details, SPARK_PT_files)
