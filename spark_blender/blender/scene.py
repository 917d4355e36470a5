"""Model <-> Blender scene: the Blender layer's one entry point (``blender_scene.*``).

The work is split by concern: ``convert`` (matrices, rest matrices, bone frames, the camera),
``build`` (model -> scene), ``joints`` (joint values and limits on the pose bones) and ``read``
(scene -> model); this module gathers their public names.

``build_object`` turns an ArticulatedObject into one new collection holding:

- an armature object (the object's base frame) with one bone per movable joint: the bone's head
  is the joint's pivot and its Y axis the joint's axis, both at rest. A revolute or continuous
  joint is the bone's rotation about Y (LIMIT_ROTATION), a prismatic one its translation along Y
  (LIMIT_LOCATION); bones nest like the joints do;
- one empty per link, the link frame, parented to the bone of the nearest movable joint above
  the link (the base, and links fixed to it, to the armature);
- one mesh object per visual (and hidden ones per collision) parented to the same bone, with
  the link's name kept on it;
- the camera of ``camera.json``, when given (a ``core.camera.Camera``: lens, sensor and the
  principal point as Blender's shift_x / shift_y).

Joint type, limits, dynamics and labels live in property groups (``props.py``), so
``read_object`` can turn the scene back into an ArticulatedObject with nothing lost. Reading
uses rest matrices computed from bone rest poses, so the current pose never leaks into a URDF;
what the artist changed (a bone moved, a limit edited, a mesh added) does.

Poses: a link's world pose is ``D @ W0`` where ``W0`` is its rest pose and ``D`` the bone's
deformation ``pose_bone.matrix @ bone.matrix_local^-1``; with the bone's Y axis on the joint
axis through the pivot this equals ``core.kinematics.link_poses`` (the FK mirror, tested).
"""

from __future__ import annotations

from spark_blender.blender.build import BuiltObject, build_object, image_data, mesh_data
from spark_blender.blender.convert import (
    ROLE_ARMATURE,
    ROLE_CAMERA,
    ROLE_COLLISION,
    ROLE_LINK,
    ROLE_VISUAL,
    apply_camera,
    bone_parent_matrix,
    bone_sign,
    camera_of,
    frame_with_y,
    parent_to_bone,
    rest_matrix,
    rigid_part,
    to_blender,
    to_numpy,
)
from spark_blender.blender.joints import (
    apply_joint_type,
    apply_limits,
    configuration_of,
    far_limit,
    get_joint_value,
    joint_bones,
    joint_limits,
    keyframe_joints,
    keyframe_sweep,
    limit_constraint,
    set_configuration,
    set_joint_value,
)
from spark_blender.blender.read import (
    base_texture,
    camera_json,
    evaluated_trimesh,
    find_armature,
    image_pixels,
    material_of,
    read_object,
    spark_armatures,
)

__all__ = [
    "ROLE_ARMATURE",
    "ROLE_CAMERA",
    "ROLE_COLLISION",
    "ROLE_LINK",
    "ROLE_VISUAL",
    "BuiltObject",
    "apply_camera",
    "apply_joint_type",
    "apply_limits",
    "base_texture",
    "bone_parent_matrix",
    "bone_sign",
    "build_object",
    "camera_json",
    "camera_of",
    "configuration_of",
    "evaluated_trimesh",
    "far_limit",
    "find_armature",
    "frame_with_y",
    "get_joint_value",
    "image_data",
    "image_pixels",
    "joint_bones",
    "joint_limits",
    "keyframe_joints",
    "keyframe_sweep",
    "limit_constraint",
    "material_of",
    "mesh_data",
    "parent_to_bone",
    "read_object",
    "rest_matrix",
    "rigid_part",
    "set_configuration",
    "set_joint_value",
    "spark_armatures",
    "to_blender",
    "to_numpy",
]
