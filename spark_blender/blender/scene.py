"""Model <-> Blender scene.

``build_object`` turns an ArticulatedObject into one new collection holding:

- an armature object (the object's base frame) with one bone per movable joint: the bone's head
  is the joint's pivot and its Y axis the joint's axis, both at rest. A revolute or continuous
  joint is the bone's rotation about Y (LIMIT_ROTATION), a prismatic one its translation along Y
  (LIMIT_LOCATION); bones nest like the joints do;
- one empty per link, the link frame, parented to the bone of the nearest movable joint above
  the link (the base, and links fixed to it, to the armature);
- one mesh object per visual (and hidden ones per collision) parented to the same bone, with
  the link's name kept on it;
- the camera of ``camera.json``, when given.

Joint type, limits, dynamics and labels live in property groups (``props.py``), so
``read_object`` can turn the scene back into an ArticulatedObject with nothing lost. Reading
uses rest matrices computed from bone rest poses, so the current pose never leaks into a URDF;
what the artist changed (a bone moved, a limit edited, a mesh added) does.

Poses: a link's world pose is ``D @ W0`` where ``W0`` is its rest pose and ``D`` the bone's
deformation ``pose_bone.matrix @ bone.matrix_local^-1``; with the bone's Y axis on the joint
axis through the pivot this equals ``core.kinematics.link_poses`` (the FK mirror, tested).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import bpy
import numpy as np
import trimesh
from mathutils import Matrix

from spark_blender.core.kinematics import link_poses
from spark_blender.core.meshes import texture_image
from spark_blender.core.model import (
    ArticulatedObject,
    Collision,
    Inertial,
    Joint,
    Link,
    Material,
    ModelError,
    Visual,
)

ROLE_ARMATURE, ROLE_LINK, ROLE_VISUAL, ROLE_COLLISION, ROLE_CAMERA = (
    "ARMATURE",
    "LINK",
    "VISUAL",
    "COLLISION",
    "CAMERA",
)


# --- matrices -------------------------------------------------------------------------------
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


# --- model -> scene -------------------------------------------------------------------------
@dataclass
class BuiltObject:
    collection: bpy.types.Collection
    armature: bpy.types.Object
    links: dict[str, bpy.types.Object] = field(default_factory=dict)
    visuals: list[bpy.types.Object] = field(default_factory=list)
    camera: bpy.types.Object | None = None


def build_object(
    obj: ArticulatedObject,
    context: bpy.types.Context | None = None,
    camera: dict | None = None,
    source: str = "",
    with_collisions: bool = True,
    with_textures: bool = True,
) -> BuiltObject:
    """Add `obj` to the scene as a new collection; on failure nothing of it stays."""
    context = context or bpy.context
    problems = obj.validate(require_inertia=False, require_rest_in_limits=False)
    if problems:
        raise ModelError(problems)
    builder = _Builder(obj, context, with_collisions, with_textures)
    try:
        built = builder.build(source)
        if camera:
            built.camera = builder.add_camera(camera)
    except BaseException:
        builder.remove_created()
        raise
    return built


class _Builder:
    def __init__(self, obj: ArticulatedObject, context, with_collisions: bool, textures: bool):
        self.obj = obj
        self.context = context
        self.with_collisions = with_collisions
        self.with_textures = textures
        self.created_objects: list[bpy.types.Object] = []
        self.created_data: list = []
        self.collections: list[bpy.types.Collection] = []
        self.materials: dict[tuple, bpy.types.Material] = {}
        self.images: dict[str, bpy.types.Image] = {}
        self.rest = link_poses(obj)

    # --- bookkeeping ---
    def new_object(self, name: str, data, collection) -> bpy.types.Object:
        ob = bpy.data.objects.new(name, data)
        self.created_objects.append(ob)
        collection.objects.link(ob)
        return ob

    def remove_created(self) -> None:
        """Remove only what this build made (user data is never touched)."""
        if self.context.view_layer.objects.active in self.created_objects:
            if self.context.view_layer.objects.active.mode != "OBJECT":
                bpy.ops.object.mode_set(mode="OBJECT")
        for ob in self.created_objects:
            bpy.data.objects.remove(ob, do_unlink=True)
        for data in self.created_data:
            collection = _data_collection(data)
            if collection is not None and data.users == 0:
                collection.remove(data)
        for collection in reversed(self.collections):
            bpy.data.collections.remove(collection)

    # --- the build ---
    def build(self, source: str) -> BuiltObject:
        obj = self.obj
        collection = bpy.data.collections.new(obj.name)
        self.collections.append(collection)
        self.context.scene.collection.children.link(collection)
        armature = self.add_armature(collection, source)
        built = BuiltObject(collection, armature)
        bone_of = self.bone_of_links()
        for link in obj.links:
            built.links[link.name] = self.add_link_empty(link, collection, armature, bone_of)
        hidden = None
        if self.with_collisions and any(link.collisions for link in obj.links):
            hidden = bpy.data.collections.new(f"{obj.name} collision")
            self.collections.append(hidden)
            collection.children.link(hidden)
            hidden.hide_viewport = hidden.hide_render = True
        for link in obj.links:
            for index, visual in enumerate(link.visuals):
                ob = self.add_mesh(link, visual, index, ROLE_VISUAL, collection, armature, bone_of)
                built.visuals.append(ob)
            if hidden is not None:
                for index, collision in enumerate(link.collisions):
                    self.add_mesh(link, collision, index, ROLE_COLLISION, hidden, armature, bone_of)
        return built

    def bone_of_links(self) -> dict[str, str | None]:
        """Joint whose bone carries each link: the nearest movable joint at or above it."""
        carrier: dict[str, str | None] = {self.obj.root.name: None}
        for joint in self.obj.joints_from_root():
            carrier[joint.child] = joint.name if joint.movable else carrier[joint.parent]
        return carrier

    def add_armature(self, collection, source: str) -> bpy.types.Object:
        obj = self.obj
        data = bpy.data.armatures.new(obj.name)
        self.created_data.append(data)
        data.display_type = "STICK"
        armature = self.new_object(obj.name, data, collection)
        armature.show_in_front = True
        props = armature.spark
        props.role, props.object_name, props.category = ROLE_ARMATURE, obj.name, obj.category
        props.source = source
        self.bone_names = self.add_bones(armature)
        for joint in obj.movable_joints:
            self.setup_pose_bone(armature.pose.bones[self.bone_names[joint.name]], joint)
        return armature

    def bone_length(self) -> float:
        points = [t[:3, 3] for t in self.rest.values()]
        for link in self.obj.links:
            for visual in link.visuals:
                bounds = np.asarray(visual.mesh.bounds)
                points += list(
                    trimesh.transform_points(bounds, self.rest[link.name] @ visual.origin)
                )
        extent = np.ptp(np.asarray(points), axis=0).max() if points else 1.0
        return float(max(0.15 * extent, 0.01))

    def add_bones(self, armature) -> dict[str, str]:
        view_layer = self.context.view_layer
        previous = view_layer.objects.active
        if previous is not None and previous.mode != "OBJECT":
            bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = armature
        bpy.ops.object.mode_set(mode="EDIT")
        names: dict[str, str] = {}
        self.signs: dict[str, float] = {}
        frames: dict[str, np.ndarray] = {}
        length = self.bone_length()
        try:
            for joint in self.obj.joints_from_root():
                if not joint.movable:
                    continue
                frame = self.rest[joint.parent] @ joint.origin
                axis = frame[:3, :3] @ np.asarray(joint.axis, float)
                parent = self.carrier_of(joint.parent)
                above = frames[parent][:3, :3] if parent is not None else np.eye(3)
                self.signs[joint.name] = bone_sign(above.T @ axis)
                wanted = frame_with_y(frame[:3, 3], self.signs[joint.name] * axis)
                frames[joint.name] = wanted
                bone = armature.data.edit_bones.new(joint.name)
                # Head, tail and roll (not `bone.matrix`): Blender's matrix-to-roll conversion
                # leaves the rest matrix off orthonormal by ~1e-6; this route stays near 1e-7.
                bone.head = tuple(wanted[:3, 3])
                bone.tail = tuple(wanted[:3, 3] + length * wanted[:3, 1])
                bone.align_roll(tuple(wanted[:3, 2]))
                if parent is not None:
                    bone.parent = armature.data.edit_bones[names[parent]]
                names[joint.name] = bone.name
        finally:
            bpy.ops.object.mode_set(mode="OBJECT")
            view_layer.objects.active = previous if previous is not None else armature
        return names

    def carrier_of(self, link_name: str) -> str | None:
        joint = self.obj.parent_joint(link_name)
        while joint is not None and not joint.movable:
            joint = self.obj.parent_joint(joint.parent)
        return None if joint is None else joint.name

    def setup_pose_bone(self, pose_bone, joint: Joint) -> None:
        pose_bone.rotation_mode = "XYZ"
        pose_bone.lock_scale = (True, True, True)
        revolving = joint.type in ("revolute", "continuous")
        pose_bone.lock_location = (True, revolving, True)
        pose_bone.lock_rotation = (True, not revolving, True)
        pose_bone.lock_rotation_w = True
        if revolving:
            limit = pose_bone.constraints.new("LIMIT_ROTATION")
            limit.use_limit_x = limit.use_limit_z = True
        else:
            limit = pose_bone.constraints.new("LIMIT_LOCATION")
            limit.use_min_x = limit.use_max_x = limit.use_min_z = limit.use_max_z = True
        limit.name = "SPARK joint limit"
        limit.owner_space = "LOCAL"
        props = pose_bone.spark_joint
        props.is_joint = True
        props.joint_name, props.joint_type, props.label = joint.name, joint.type, joint.label
        props.parent_link, props.child_link = joint.parent, joint.child
        props.effort, props.velocity = joint.effort, joint.velocity
        props.damping, props.friction = joint.damping, joint.friction
        props.sign = self.signs[joint.name]
        props.stored_lower, props.stored_upper = joint.lower, joint.upper
        apply_limits(pose_bone)

    def add_link_empty(self, link: Link, collection, armature, bone_of) -> bpy.types.Object:
        empty = self.new_object(link.name, None, collection)
        empty.empty_display_type = "PLAIN_AXES"
        empty.empty_display_size = 0.3 * self.bone_length()
        empty.hide_render = True
        bone = bone_of[link.name]
        parent_to_bone(empty, armature, bone and self.bone_names[bone], self.rest[link.name])
        props = empty.spark
        props.role, props.link_name, props.label = ROLE_LINK, link.name, link.label
        props.order = self.obj.links.index(link) + 1
        joint = self.obj.parent_joint(link.name)
        if joint is not None:
            props.joint_name, props.parent_link = joint.name, joint.parent
            props.joint_type, props.joint_label = joint.type, joint.label
        if link.inertial is not None:
            props.has_inertial = True
            props.mass = link.inertial.mass
            tensor = link.inertial.inertia
            props.inertia = [tensor[i, j] for i, j in _INERTIA_INDEX]
            props.inertial_origin = to_blender(link.inertial.origin)
        return empty

    def add_mesh(self, link, element, index, role, collection, armature, bone_of):
        name = element.name or f"{link.name}_{index}"
        if role == ROLE_COLLISION and not name.endswith("collision"):
            name = f"{name}.collision"
        data = mesh_data(name, element.mesh)
        self.created_data.append(data)
        ob = self.new_object(name, data, collection)
        bone = bone_of[link.name]
        rest = self.rest[link.name] @ element.origin
        parent_to_bone(ob, armature, bone and self.bone_names[bone], rest)
        ob.spark.role, ob.spark.link_name, ob.spark.order = role, link.name, index + 1
        if role == ROLE_VISUAL:
            ob.data.materials.append(self.material(element.material, element.mesh))
        else:
            ob.display_type = "WIRE"
            ob.hide_render = True
        return ob

    def material(self, material: Material, mesh: trimesh.Trimesh) -> bpy.types.Material:
        image = texture_image(mesh) if self.with_textures else None
        digest = _image_digest(image) if image is not None else None
        key = (material.name, tuple(round(c, 6) for c in material.rgba), material.density, digest)
        if key not in self.materials:
            blender_material = bpy.data.materials.new(material.name or "material")
            self.created_data.append(blender_material)
            blender_material.diffuse_color = material.rgba
            _set_base_color(blender_material, material.rgba)
            if material.density:
                blender_material.spark_density = material.density
            if image is not None:
                _set_base_texture(blender_material, self.image(image, digest, material.name))
            self.materials[key] = blender_material
        return self.materials[key]

    def image(self, image, digest: str, name: str) -> bpy.types.Image:
        if digest not in self.images:
            self.images[digest] = image_data(f"{name or 'texture'}", image)
            self.created_data.append(self.images[digest])
        return self.images[digest]

    def add_camera(self, camera: dict) -> bpy.types.Object:
        data = bpy.data.cameras.new(f"{self.obj.name} camera")
        self.created_data.append(data)
        width = int(camera.get("width", 512))
        data.sensor_fit = "HORIZONTAL"
        data.sensor_width = 36.0
        fx = float(camera.get("fx") or width / (2 * math.tan(math.radians(camera["fov_deg"]) / 2)))
        data.lens = fx * data.sensor_width / width
        collection = self.collections[0]
        cam = self.new_object(f"{self.obj.name} camera", data, collection)
        cam.parent = next(ob for ob in collection.objects if ob.spark.role == ROLE_ARMATURE)
        cam.matrix_basis = to_blender(np.asarray(camera["cam_to_world"], float))
        cam.spark.role = ROLE_CAMERA
        cam["spark_camera"] = {k: v for k, v in camera.items() if not isinstance(v, list | dict)}
        if self.context.scene.camera is None:
            self.context.scene.camera = cam
        return cam


_INERTIA_INDEX = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def _data_collection(data):
    return {
        "Mesh": bpy.data.meshes,
        "Armature": bpy.data.armatures,
        "Material": bpy.data.materials,
        "Camera": bpy.data.cameras,
        "Image": bpy.data.images,
    }.get(type(data).__name__)


def _set_base_color(material: bpy.types.Material, rgba) -> None:
    if getattr(material, "node_tree", None) is None:
        try:
            material.use_nodes = True
        except AttributeError:
            return
    tree = material.node_tree
    if tree is None:
        return
    for node in tree.nodes:
        if node.type == "BSDF_PRINCIPLED":
            node.inputs["Base Color"].default_value = rgba
            node.inputs["Alpha"].default_value = rgba[3]


def _image_digest(image) -> str:
    return hashlib.sha1(image.tobytes() + repr((image.size, image.mode)).encode()).hexdigest()


def image_data(name: str, image) -> bpy.types.Image:
    """A packed Blender image holding the pixels of PIL `image` (kept inside the .blend)."""
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    height, width = rgba.shape[:2]
    data = bpy.data.images.new(name, width=width, height=height, alpha=True)
    data.pixels.foreach_set(np.ascontiguousarray(rgba[::-1]).ravel())  # Blender: bottom row first
    data.pack()
    return data


def image_pixels(data: bpy.types.Image):
    """PIL image of a Blender image's pixels."""
    from PIL import Image

    width, height = data.size
    pixels = np.empty(width * height * data.channels, dtype=np.float32)
    data.pixels.foreach_get(pixels)
    pixels = pixels.reshape(height, width, data.channels)[::-1]
    mode = {4: "RGBA", 3: "RGB", 1: "L"}[data.channels]
    array = np.clip(pixels * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(array[..., 0] if mode == "L" else array, mode)


def _set_base_texture(material: bpy.types.Material, image: bpy.types.Image) -> None:
    tree = material.node_tree
    if tree is None:
        return
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    node = tree.nodes.new("ShaderNodeTexImage")
    node.image = image
    node.location = (-400, 300)
    tree.nodes.active = node  # Workbench's Texture colour shows the active image node
    if bsdf is not None:
        tree.links.new(node.outputs["Color"], bsdf.inputs["Base Color"])


def base_texture(material: bpy.types.Material | None) -> bpy.types.Image | None:
    tree = getattr(material, "node_tree", None)
    if tree is None:
        return None
    for node in tree.nodes:
        if node.type == "TEX_IMAGE" and node.image is not None:
            return node.image
    return None


def mesh_data(name: str, mesh: trimesh.Trimesh) -> bpy.types.Mesh:
    """A Blender mesh with the triangles (and UVs, when the mesh has them) of `mesh`."""
    vertices = np.asarray(mesh.vertices, dtype=np.float32)
    faces = np.asarray(mesh.faces, dtype=np.int32)
    data = bpy.data.meshes.new(name)
    data.vertices.add(len(vertices))
    data.vertices.foreach_set("co", vertices.ravel())
    data.loops.add(faces.size)
    data.loops.foreach_set("vertex_index", faces.ravel())
    data.polygons.add(len(faces))
    data.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    uv = getattr(mesh.visual, "uv", None) if getattr(mesh.visual, "kind", None) else None
    if uv is not None and len(uv) == len(vertices):
        layer = data.uv_layers.new(name="UVMap")
        layer.data.foreach_set("uv", np.asarray(uv, np.float32)[faces.ravel()].ravel())
    # Flat shading: part meshes are mostly planar panels, and shared corners would smear normals.
    data.polygons.foreach_set("use_smooth", np.zeros(len(faces), dtype=bool))
    data.update()
    data.validate(clean_customdata=False)
    return data


# --- joint values and limits ----------------------------------------------------------------
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


def keyframe_sweep(armature, frame_start: int = 1, frames_per_joint: int = 40) -> int:
    """Keyframe every joint from rest to its far limit and back, one joint after another."""
    frame = frame_start
    half = max(frames_per_joint // 2, 1)
    for pose_bone in joint_bones(armature):
        path = "location" if pose_bone.spark_joint.joint_type == "prismatic" else "rotation_euler"
        for offset, value in ((0, 0.0), (half, far_limit(pose_bone)), (2 * half, 0.0)):
            set_joint_value(pose_bone, value)
            pose_bone.keyframe_insert(path, index=1, frame=frame + offset, group="SPARK sweep")
        frame += 2 * half
    return frame


# --- scene -> model -------------------------------------------------------------------------
def find_armature(obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The SPARK armature `obj` belongs to (itself, or up its parents)."""
    while obj is not None:
        if obj.type == "ARMATURE" and obj.spark.role == ROLE_ARMATURE:
            return obj
        obj = obj.parent
    return None


def spark_armatures(scene: bpy.types.Scene) -> list[bpy.types.Object]:
    return [ob for ob in scene.objects if ob.type == "ARMATURE" and ob.spark.role == ROLE_ARMATURE]


def read_object(armature: bpy.types.Object, depsgraph=None) -> ArticulatedObject:
    """The ArticulatedObject the scene shows under `armature` (rest pose, artist edits in)."""
    return _Reader(armature, depsgraph or bpy.context.evaluated_depsgraph_get()).read()


class _Reader:
    def __init__(self, armature, depsgraph):
        self.armature = armature
        self.depsgraph = depsgraph
        self.descendants = list(armature.children_recursive)
        self.pixels: dict = {}

    def read(self) -> ArticulatedObject:
        props = self.armature.spark
        found = [ob for ob in self.descendants if ob.spark.role == ROLE_LINK and ob.spark.link_name]
        empties = {ob.spark.link_name: ob for ob in sorted(found, key=_build_order)}
        if not empties:
            raise ModelError([f"armature '{self.armature.name}' has no SPARK links"])
        bones = {pb.spark_joint.child_link: pb for pb in joint_bones(self.armature)}
        frames = self.link_frames(empties, bones)
        links = {name: Link(name, label=ob.spark.label) for name, ob in empties.items()}
        for name, ob in empties.items():
            links[name].inertial = self.inertial(ob, frames[name])
        for ob in sorted(self.descendants, key=_build_order):
            if ob.type != "MESH" or ob.spark.role not in ("", "NONE", ROLE_VISUAL, ROLE_COLLISION):
                continue
            link = self.link_of(ob, empties, bones)
            if link is None:
                continue
            self.add_geometry(links[link], ob, frames[link])
        joints = [self.joint(name, ob, bones, frames) for name, ob in empties.items()]
        obj = ArticulatedObject(
            name=props.object_name or self.armature.name,
            links=list(links.values()),
            joints=[j for j in joints if j is not None],
            category=props.category,
        )
        problems = obj.validate(require_inertia=False, require_rest_in_limits=False)
        if problems:
            raise ModelError(problems)
        return obj

    def link_frames(self, empties, bones) -> dict[str, np.ndarray]:
        """Link frames at rest; a movable joint's child frame sits on its bone's head (pivot)."""
        frames = {}
        for name, ob in empties.items():
            frame = rigid_part(rest_matrix(ob, self.armature))
            pose_bone = bones.get(name)
            if pose_bone is not None:
                frame[:3, 3] = np.asarray(pose_bone.bone.head_local, float)
            frames[name] = frame
        return frames

    def link_of(self, ob, empties, bones) -> str | None:
        if ob.spark.link_name in empties:
            return ob.spark.link_name
        parent = ob.parent
        while parent is not None:
            if parent.spark.link_name in empties:
                return parent.spark.link_name
            if parent == self.armature:
                if ob.parent_type == "BONE" and ob.parent_bone:
                    for child, pose_bone in bones.items():
                        if pose_bone.name == ob.parent_bone:
                            return child
                return next(
                    (n for n, e in empties.items() if not e.spark.joint_name), None
                )  # the root link
            ob, parent = parent, parent.parent
        return None

    def add_geometry(self, link: Link, ob, frame: np.ndarray) -> None:
        relative = np.linalg.inv(frame) @ rest_matrix(ob, self.armature)
        origin = rigid_part(relative)
        mesh = evaluated_trimesh(ob, self.depsgraph, np.linalg.inv(origin) @ relative, self.pixels)
        if mesh is None:
            return
        name = ob.name.removesuffix(".collision")
        if ob.spark.role == ROLE_COLLISION:
            # The URDF writer names collisions NAME_collision; hand it NAME so names stay put.
            link.collisions.append(Collision(mesh, origin, name.removesuffix("_collision")))
        else:
            link.visuals.append(Visual(mesh, origin, material_of(ob), name))

    def inertial(self, empty, frame: np.ndarray) -> Inertial | None:
        props = empty.spark
        if not props.has_inertial:
            return None
        values = list(props.inertia)
        tensor = np.zeros((3, 3))
        for value, (i, j) in zip(values, _INERTIA_INDEX, strict=True):
            tensor[i, j] = tensor[j, i] = value
        in_empty = rigid_part(to_numpy(props.inertial_origin))
        origin = np.linalg.inv(frame) @ rigid_part(rest_matrix(empty, self.armature)) @ in_empty
        return Inertial(mass=props.mass, inertia=tensor, origin=rigid_part(origin))

    def joint(self, name, empty, bones, frames) -> Joint | None:
        props = empty.spark
        pose_bone = bones.get(name)
        if pose_bone is not None:
            jp = pose_bone.spark_joint
            parent = jp.parent_link
            frame = frames[name]
            axis_world = jp.sign * to_numpy(pose_bone.bone.matrix_local)[:3, 1]
            axis = frame[:3, :3].T @ axis_world
            lower, upper = joint_limits(pose_bone) if jp.joint_type != "continuous" else (0, 0)
            return Joint(
                name=jp.joint_name,
                type=jp.joint_type,
                parent=parent,
                child=name,
                origin=rigid_part(np.linalg.inv(frames[parent]) @ frame),
                axis=axis / np.linalg.norm(axis),
                lower=float(lower),
                upper=float(upper),
                effort=jp.effort,
                velocity=jp.velocity,
                damping=jp.damping,
                friction=jp.friction,
                label=jp.label,
            )
        if not props.joint_name:
            return None  # the root link
        return Joint(
            name=props.joint_name,
            type="fixed",
            parent=props.parent_link,
            child=name,
            origin=rigid_part(np.linalg.inv(frames[props.parent_link]) @ frames[name]),
            axis=np.array([1.0, 0.0, 0.0]),
            label=props.joint_label,
        )


def _build_order(ob) -> tuple:
    """Objects in the order they were built; the artist's additions after, by name."""
    return (ob.spark.order == 0, ob.spark.order, ob.name)


def evaluated_trimesh(
    ob, depsgraph, transform: np.ndarray, pixels: dict | None = None
) -> trimesh.Trimesh | None:
    """Triangles of `ob` with its modifiers applied, vertices moved by `transform`; UVs and the
    texture come along when its material has an image."""
    evaluated = ob.evaluated_get(depsgraph)
    data = evaluated.to_mesh()
    try:
        data.calc_loop_triangles()
        count, triangles = len(data.vertices), len(data.loop_triangles)
        if count == 0 or triangles == 0:
            return None
        vertices = np.empty(count * 3, dtype=np.float32)
        data.vertices.foreach_get("co", vertices)
        faces = np.empty(triangles * 3, dtype=np.int32)
        data.loop_triangles.foreach_get("vertices", faces)
        image = base_texture(ob.active_material)
        uv = None
        if image is not None and data.uv_layers.active is not None:
            loops = np.empty(triangles * 3, dtype=np.int32)
            data.loop_triangles.foreach_get("loops", loops)
            uv_all = np.empty(len(data.loops) * 2, dtype=np.float32)
            data.uv_layers.active.data.foreach_get("uv", uv_all)
            uv = uv_all.reshape(-1, 2)[loops]
    finally:
        evaluated.to_mesh_clear()
    points = trimesh.transform_points(vertices.reshape(-1, 3).astype(float), transform)
    if uv is None:
        return trimesh.Trimesh(points, faces.reshape(-1, 3), process=False)
    # One vertex per distinct (position, uv) corner, as OBJ texture coordinates need.
    corners = np.column_stack([faces.astype(np.float64), uv.astype(np.float64)])
    unique, inverse = np.unique(corners, axis=0, return_inverse=True)
    pixels = {} if pixels is None else pixels  # PIL images by Blender image, shared per export
    if image.name not in pixels:
        pixels[image.name] = image_pixels(image)
    visual = trimesh.visual.TextureVisuals(uv=unique[:, 1:], image=pixels[image.name])
    return trimesh.Trimesh(
        points[unique[:, 0].astype(int)], inverse.reshape(-1, 3), visual=visual, process=False
    )


def material_of(ob) -> Material:
    material = ob.active_material
    if material is None:
        return Material()
    return Material(
        name=material.name,
        rgba=tuple(float(c) for c in material.diffuse_color),
        density=material.spark_density or None,
    )
