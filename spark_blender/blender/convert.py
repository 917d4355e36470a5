"""Matrices and conversions between the core model and Blender: numpy <-> mathutils, rest
matrices of objects hanging from bones, bone frames, and the core camera <-> a Blender camera.

The roles (``Object.spark.role``) that mark what a scene object is to SPARK live here too.
"""

from __future__ import annotations

import bpy
import numpy as np
from mathutils import Matrix

from spark_blender.core.camera import Camera
from spark_blender.core.model import Joint

ROLE_ARMATURE, ROLE_LINK, ROLE_VISUAL, ROLE_COLLISION, ROLE_CAMERA = (
    "ARMATURE",
    "LINK",
    "VISUAL",
    "COLLISION",
    "CAMERA",
)

_INERTIA_INDEX = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))  # Object.spark.inertia order


def to_blender(T: np.ndarray) -> Matrix:
    return Matrix([list(map(float, row)) for row in np.asarray(T, dtype=float)])


def to_numpy(M: Matrix) -> np.ndarray:
    return np.array([list(row) for row in M], dtype=float)


def rigid_part(T: np.ndarray) -> np.ndarray:
    """The nearest proper rigid transform (drops scale and float32 drift)."""
    u, _, vt = np.linalg.svd(T[:3, :3])
    R = u @ vt
    if np.linalg.det(R) < 0:
        u[:, -1] *= -1
        R = u @ vt
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = R, T[:3, 3]
    return out


def frame_with_y(origin: np.ndarray, y_axis: np.ndarray) -> np.ndarray:
    """A right-handed frame at `origin` whose Y axis is `y_axis` (its roll picked from world Z)."""
    y = np.asarray(y_axis, float) / np.linalg.norm(y_axis)
    reference = np.array([0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(y, reference)
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    frame = np.eye(4)
    frame[:3, 0], frame[:3, 1], frame[:3, 2], frame[:3, 3] = x, y, z, origin
    return frame


def bone_sign(direction_in_parent: np.ndarray) -> float:
    """+1, or -1 to point a bone against its joint axis (the value then changes sign).

    Blender builds a bone's rest matrix from its direction in the parent bone's frame in single
    precision, and loses about 1e-5 when that direction is near (not at) the parent's -Y; a
    flipped bone keeps the FK mirror at 1e-7.
    """
    x, y, z = direction_in_parent
    return -1.0 if y < -0.5 and x * x + z * z > 1e-10 else 1.0


def bone_parent_matrix(bone: bpy.types.Bone) -> np.ndarray:
    """Armature-space rest matrix an object parented to `bone` hangs from (Blender: the tail)."""
    M = to_numpy(bone.matrix_local)
    tail = np.eye(4)
    tail[1, 3] = bone.length
    return M @ tail


def rest_matrix(obj: bpy.types.Object, armature: bpy.types.Object) -> np.ndarray:
    """Pose of `obj` in `armature`'s frame with every bone at rest (object constraints ignored)."""
    local = to_numpy(obj.matrix_parent_inverse) @ to_numpy(obj.matrix_basis)
    parent = obj.parent
    if parent is None:
        return to_numpy(armature.matrix_world.inverted()) @ local
    if parent == armature:
        above = np.eye(4)
    else:
        above = rest_matrix(parent, armature)
    if obj.parent_type == "BONE" and obj.parent_bone and parent.type == "ARMATURE":
        bone = parent.data.bones.get(obj.parent_bone)
        if bone is not None:
            above = above @ bone_parent_matrix(bone)
    return above @ local


def parent_to_bone(obj, armature, bone_name: str | None, rest_pose: np.ndarray) -> None:
    """Parent `obj` to a bone (or the armature) so that it sits at `rest_pose` when at rest."""
    obj.parent = armature
    if bone_name:
        obj.parent_type = "BONE"
        obj.parent_bone = bone_name
        parent = bone_parent_matrix(armature.data.bones[bone_name])
    else:
        obj.parent_type = "OBJECT"
        parent = np.eye(4)
    obj.matrix_parent_inverse = Matrix.Identity(4)
    obj.matrix_basis = to_blender(np.linalg.inv(parent) @ rest_pose)


# --- what the file said: untouched values are written back bit-exactly -------------------------
SOURCE_KEY = "spark_source"  # ID property (doubles) on a joint's pose bone or link empty
SOURCE_TOLERANCE = 1e-5  # m / unit-vector components: closer than this to the file = untouched


def joint_source(joint: Joint) -> dict:
    """A joint's values as read from the file, in double precision (Blender keeps its own in
    single precision: 1.5707963267948966 would come back as 1.5707963705062866)."""
    return {
        "origin": [float(v) for v in np.asarray(joint.origin, float).ravel()],
        "axis": [float(v) for v in np.asarray(joint.axis, float)],
        "lower": float(joint.lower),
        "upper": float(joint.upper),
        "effort": float(joint.effort),
        "velocity": float(joint.velocity),
        "damping": float(joint.damping),
        "friction": float(joint.friction),
    }


def source_of(owner) -> dict | None:
    """The values `owner` (a pose bone or an empty) was built from, if it was."""
    stored = owner.get(SOURCE_KEY) if owner is not None else None
    return None if stored is None else stored.to_dict()


def kept_matrix(scene_value: np.ndarray, source, shape) -> np.ndarray:
    """The file's value where the scene's is the same but for single-precision noise."""
    if source is None:
        return scene_value
    original = np.asarray(list(source), dtype=float).reshape(shape)
    same = np.allclose(scene_value, original, rtol=0, atol=SOURCE_TOLERANCE)
    return original if same else scene_value


def kept_float(scene_value: float, source) -> float:
    """The file's value where a single-precision property holds it unchanged."""
    if source is None:
        return float(scene_value)
    return float(source) if np.float32(source) == np.float32(scene_value) else float(scene_value)


# --- the camera ---------------------------------------------------------------------------------
CAMERA_KEY = "spark_camera"  # ID property on the camera object: what camera.json said


def apply_camera(data: bpy.types.Camera, camera: Camera) -> None:
    """Set a Blender camera's lens, sensor, shift (the principal point) and clipping."""
    fields = camera.blender_fields()
    data.sensor_fit = fields["sensor_fit"]
    data.sensor_width = fields["sensor_width"]
    data.sensor_height = fields["sensor_height"]
    data.lens = fields["lens"]
    data.shift_x, data.shift_y = fields["shift_x"], fields["shift_y"]
    data.clip_start, data.clip_end = camera.clip_start, camera.clip_end


def camera_of(data: bpy.types.Camera, width: int, height: int, cam_to_world) -> Camera:
    """The core camera of a Blender camera rendering `width` x `height` pixels from
    `cam_to_world`."""
    return Camera.from_blender(
        width,
        height,
        lens=data.lens,
        sensor_width=data.sensor_width,
        sensor_height=data.sensor_height,
        sensor_fit=data.sensor_fit,
        shift_x=data.shift_x,
        shift_y=data.shift_y,
        cam_to_world=cam_to_world,
        clip_start=data.clip_start,
        clip_end=data.clip_end,
    )
