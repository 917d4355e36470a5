"""Joint values and limits on the armature: a movable joint is a pose bone whose Y rotation
(revolute, continuous) or Y translation (prismatic) is the joint value times ``sign``, limited by
one LIMIT_ROTATION or LIMIT_LOCATION constraint."""

from __future__ import annotations

import math

import bpy


def joint_bones(armature: bpy.types.Object) -> list[bpy.types.PoseBone]:
    return [pb for pb in armature.pose.bones if pb.spark_joint.is_joint]


def limit_constraint(pose_bone: bpy.types.PoseBone):
    for constraint in pose_bone.constraints:
        if constraint.type in ("LIMIT_ROTATION", "LIMIT_LOCATION"):
            return constraint
    return None


def joint_limits(pose_bone: bpy.types.PoseBone) -> tuple[float, float]:
    props = pose_bone.spark_joint
    if props.joint_type == "continuous":
        return (-math.pi, math.pi)
    return (props.stored_lower, props.stored_upper)


LIMIT_NAME = "SPARK joint limit"


def apply_joint_type(pose_bone: bpy.types.PoseBone) -> None:
    """Make the bone move the way its joint type says: the free channel (Y rotation for revolute
    and continuous, Y translation for prismatic, none for fixed), the one matching LIMIT_*
    constraint (a stale one of the other kind is removed) and its limits. The joint goes back to
    rest (0)."""
    props = pose_bone.spark_joint
    revolving = props.joint_type in ("revolute", "continuous")
    sliding = props.joint_type == "prismatic"
    pose_bone.rotation_mode = "XYZ"
    pose_bone.lock_scale = (True, True, True)
    pose_bone.lock_location = (True, not sliding, True)
    pose_bone.lock_rotation = (True, not revolving, True)
    pose_bone.lock_rotation_w = True
    wanted = "LIMIT_ROTATION" if revolving else "LIMIT_LOCATION" if sliding else None
    for constraint in list(pose_bone.constraints):
        if constraint.type in ("LIMIT_ROTATION", "LIMIT_LOCATION") and constraint.type != wanted:
            pose_bone.constraints.remove(constraint)
    if wanted is not None and limit_constraint(pose_bone) is None:
        limit = pose_bone.constraints.new(wanted)
        if revolving:
            limit.use_limit_x = limit.use_limit_z = True
        else:
            limit.use_min_x = limit.use_max_x = limit.use_min_z = limit.use_max_z = True
        limit.name = LIMIT_NAME
        limit.owner_space = "LOCAL"
    apply_limits(pose_bone)
    pose_bone.location = (0.0, 0.0, 0.0)
    pose_bone.rotation_euler = (0.0, 0.0, 0.0)


def apply_limits(pose_bone: bpy.types.PoseBone) -> None:
    """Copy the joint's limits onto its LIMIT_* constraint."""
    props, constraint = pose_bone.spark_joint, limit_constraint(pose_bone)
    if constraint is None:
        return
    lower, upper = sorted((props.sign * props.stored_lower, props.sign * props.stored_upper))
    if constraint.type == "LIMIT_ROTATION":
        # Euler decomposition inside the constraint is only faithful within one half-turn.
        bounded = props.joint_type == "revolute" and -math.pi <= lower and upper <= math.pi
        constraint.use_limit_y = bounded
        constraint.min_y, constraint.max_y = (lower, upper) if bounded else (-math.pi, math.pi)
    else:
        constraint.use_min_y = constraint.use_max_y = True
        constraint.min_y, constraint.max_y = lower, upper


def get_joint_value(pose_bone: bpy.types.PoseBone) -> float:
    sign = pose_bone.spark_joint.sign
    if pose_bone.spark_joint.joint_type == "prismatic":
        return sign * float(pose_bone.location[1])
    return sign * float(pose_bone.rotation_euler[1])


def set_joint_value(pose_bone: bpy.types.PoseBone, value: float) -> float:
    """Set a joint, clamped to its limits; returns the value set."""
    lower, upper = joint_limits(pose_bone)
    value = min(max(float(value), lower), upper)
    raw = pose_bone.spark_joint.sign * value
    if pose_bone.spark_joint.joint_type == "prismatic":
        pose_bone.location = (0.0, raw, 0.0)
    else:
        pose_bone.rotation_mode = "XYZ"
        pose_bone.rotation_euler = (0.0, raw, 0.0)
    return value


def set_configuration(armature: bpy.types.Object, configuration: dict[str, float]) -> None:
    """Set joints by joint name (others untouched)."""
    for pose_bone in joint_bones(armature):
        name = pose_bone.spark_joint.joint_name
        if name in configuration:
            set_joint_value(pose_bone, configuration[name])


def configuration_of(armature: bpy.types.Object) -> dict[str, float]:
    return {pb.spark_joint.joint_name: get_joint_value(pb) for pb in joint_bones(armature)}


def far_limit(pose_bone: bpy.types.PoseBone) -> float:
    """The limit farther from rest: where 'open' is."""
    lower, upper = joint_limits(pose_bone)
    return upper if abs(upper) >= abs(lower) else lower


def joint_channel(pose_bone: bpy.types.PoseBone) -> str:
    """The pose-bone property that holds the joint value (its index 1)."""
    return "location" if pose_bone.spark_joint.joint_type == "prismatic" else "rotation_euler"


def keyframe_joints(
    armature: bpy.types.Object, frame: int | None = None, group: str = "SPARK joints"
) -> int:
    """Keyframe every joint's value at `frame` (default: the current frame) on the bone channel
    that carries it: the joint sliders are views of these channels, so this is what animates
    them. Returns the number of joints keyed."""
    frame = bpy.context.scene.frame_current if frame is None else frame
    keyed = 0
    for pose_bone in joint_bones(armature):
        if pose_bone.spark_joint.joint_type == "fixed":
            continue
        pose_bone.keyframe_insert(joint_channel(pose_bone), index=1, frame=frame, group=group)
        keyed += 1
    return keyed


def keyframe_sweep(armature, frame_start: int = 1, frames_per_joint: int = 40) -> int:
    """Keyframe every joint from rest to its far limit and back, one joint after another."""
    frame = frame_start
    half = max(frames_per_joint // 2, 1)
    for pose_bone in joint_bones(armature):
        path = joint_channel(pose_bone)
        for offset, value in ((0, 0.0), (half, far_limit(pose_bone)), (2 * half, 0.0)):
            set_joint_value(pose_bone, value)
            pose_bone.keyframe_insert(path, index=1, frame=frame + offset, group="SPARK sweep")
        frame += 2 * half
    return frame
