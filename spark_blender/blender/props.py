"""Property groups: what SPARK keeps on scenes, objects and pose bones.

- ``Scene.spark``: the reconstruction inputs and the running job's progress (shown in the panel).
- ``Object.spark``: an object's role in a SPARK object (armature, link frame, visual, collision,
  camera), its link, and what a link carries that Blender has no slot for (label, inertial,
  the fixed joint above it).
- ``PoseBone.spark_joint``: a movable joint: name, type, limits, dynamics, label, and its value
  as a slider that reads and writes the bone (clamped to the limits).
"""

from __future__ import annotations

import math

import bpy
from bpy.props import (
    BoolProperty,
    EnumProperty,
    FloatProperty,
    FloatVectorProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)
from bpy.types import PropertyGroup

JOINT_TYPE_ITEMS = [
    ("revolute", "Revolute", "Rotates about the axis between two limits"),
    ("continuous", "Continuous", "Rotates about the axis without limits"),
    ("prismatic", "Prismatic", "Slides along the axis between two limits"),
    ("fixed", "Fixed", "Does not move"),
]
ROLE_ITEMS = [
    ("NONE", "None", "Not part of a SPARK object"),
    ("ARMATURE", "Armature", "The object's base frame; its bones are the movable joints"),
    ("LINK", "Link", "A link frame"),
    ("VISUAL", "Visual", "A visual mesh of a link"),
    ("COLLISION", "Collision", "A collision mesh of a link"),
    ("CAMERA", "Camera", "The camera the reconstruction estimated"),
]
PARSER_ITEMS = [
    ("embedded", "Embedded", "The bundled parser: no network, no key"),
    ("openai", "OpenAI", "GPT-4o or any OpenAI-compatible server (preferences)"),
    ("local", "Local VLM", "A local vision-language model through transformers"),
]


def _pose_bone(props) -> bpy.types.PoseBone:
    # Blender cannot build an RNA path to a pose bone's group; find its owner by pointer.
    pointer = props.as_pointer()
    for pose_bone in props.id_data.pose.bones:
        if pose_bone.spark_joint.as_pointer() == pointer:
            return pose_bone
    raise LookupError("joint properties outside any pose bone")


def _get_value(self) -> float:
    from spark_blender.blender.scene import get_joint_value

    return get_joint_value(_pose_bone(self))


def _set_value(self, value: float) -> None:
    from spark_blender.blender.scene import set_joint_value

    set_joint_value(_pose_bone(self), value)


def _limits_changed(self, context) -> None:
    from spark_blender.blender.scene import apply_limits, get_joint_value, set_joint_value

    pose_bone = _pose_bone(self)
    apply_limits(pose_bone)
    set_joint_value(pose_bone, get_joint_value(pose_bone))  # re-clamp the current value


def _type_changed(self, context) -> None:
    from spark_blender.blender.joints import apply_joint_type

    if self.is_joint:
        apply_joint_type(_pose_bone(self))


class SPARK_PG_joint(PropertyGroup):
    is_joint: BoolProperty(default=False, options={"HIDDEN"})
    joint_name: StringProperty(name="Joint", description="The joint's name in the URDF")
    joint_type: EnumProperty(
        name="Type", items=JOINT_TYPE_ITEMS, default="revolute", update=_type_changed
    )
    label: StringProperty(name="Label", description="Semantic part name: door, drawer, lid, ...")
    parent_link: StringProperty(name="Parent link")
    child_link: StringProperty(name="Child link")
    sign: FloatProperty(
        default=1.0, options={"HIDDEN"}, description="-1 where the bone points against the axis"
    )
    stored_lower: FloatProperty(
        name="Lower", description="Lower limit (rad or m)", update=_limits_changed, precision=4
    )
    stored_upper: FloatProperty(
        name="Upper", description="Upper limit (rad or m)", update=_limits_changed, precision=4
    )
    effort: FloatProperty(name="Effort", default=100.0, min=0.0)
    velocity: FloatProperty(name="Velocity", default=1.0, min=0.0)
    damping: FloatProperty(name="Damping", default=0.0, min=0.0)
    friction: FloatProperty(name="Friction", default=0.0, min=0.0)
    angle: FloatProperty(
        name="Angle",
        description="Joint value, clamped to the limits",
        subtype="ANGLE",
        get=_get_value,
        set=_set_value,
        soft_min=-math.pi,
        soft_max=math.pi,
        options=set(),
    )
    distance: FloatProperty(
        name="Distance",
        description="Joint value, clamped to the limits",
        subtype="DISTANCE",
        unit="LENGTH",
        get=_get_value,
        set=_set_value,
        soft_min=-1.0,
        soft_max=1.0,
        options=set(),
    )


class SPARK_PG_object(PropertyGroup):
    role: EnumProperty(name="Role", items=ROLE_ITEMS, default="NONE")
    order: IntProperty(default=0, options={"HIDDEN"})
    # armature
    object_name: StringProperty(name="Object name", description="The URDF robot name")
    category: StringProperty(name="Category")
    source: StringProperty(name="Source", subtype="FILE_PATH")
    # link (frame empties) and the link a mesh belongs to
    link_name: StringProperty(name="Link")
    element_name: StringProperty(
        name="URDF name", description="The visual's or collision's name in the URDF"
    )
    label: StringProperty(name="Label")
    joint_name: StringProperty(name="Joint above", description="Name of the joint above a link")
    joint_type: EnumProperty(name="Joint type", items=JOINT_TYPE_ITEMS, default="fixed")
    joint_label: StringProperty(name="Joint label")
    parent_link: StringProperty(name="Parent link")
    has_inertial: BoolProperty(name="Has inertial", default=False)
    mass: FloatProperty(name="Mass", min=0.0, unit="MASS")
    inertia: FloatVectorProperty(
        name="Inertia", size=6, description="ixx ixy ixz iyy iyz izz", precision=6
    )
    inertial_origin: FloatVectorProperty(
        name="Inertial frame",
        size=(4, 4),
        subtype="MATRIX",
        default=((1.0, 0, 0, 0), (0, 1.0, 0, 0), (0, 0, 1.0, 0), (0, 0, 0, 1.0)),
    )


class SPARK_PG_scene(PropertyGroup):
    image: StringProperty(name="Photo", subtype="FILE_PATH", description="The photo to rebuild")
    moved_image: StringProperty(
        name="Moved photo",
        subtype="FILE_PATH",
        description="Optional: the same view with the parts opened",
    )
    parser: EnumProperty(name="Parser", items=PARSER_ITEMS, default="embedded")
    height: FloatProperty(
        name="Height", description="Real height in metres (0: estimate)", min=0.0, unit="LENGTH"
    )
    job_running: BoolProperty(default=False, options={"SKIP_SAVE"})
    job_cancel: BoolProperty(default=False, options={"SKIP_SAVE"})
    job_stage: StringProperty(default="", options={"SKIP_SAVE"})
    job_message: StringProperty(default="", options={"SKIP_SAVE"})
    job_fraction: FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    last_error: StringProperty(default="")


CLASSES = (SPARK_PG_joint, SPARK_PG_object, SPARK_PG_scene)


def attach() -> None:
    bpy.types.Scene.spark = PointerProperty(type=SPARK_PG_scene)
    bpy.types.Object.spark = PointerProperty(type=SPARK_PG_object)
    bpy.types.PoseBone.spark_joint = PointerProperty(type=SPARK_PG_joint)
    bpy.types.Material.spark_density = FloatProperty(
        name="Density", description="kg/m^3 for the inertia (0: default)", min=0.0
    )


def detach() -> None:
    for owner, name in (
        (bpy.types.Scene, "spark"),
        (bpy.types.Object, "spark"),
        (bpy.types.PoseBone, "spark_joint"),
        (bpy.types.Material, "spark_density"),
    ):
        if hasattr(owner, name):
            delattr(owner, name)
