"""Model -> scene: ``build_object`` turns an ArticulatedObject into one new collection (the
layout is described in ``blender/scene.py``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import bpy
import numpy as np
import trimesh

from spark_blender.blender.convert import (
    _INERTIA_INDEX,
    CAMERA_KEY,
    ROLE_ARMATURE,
    ROLE_CAMERA,
    ROLE_COLLISION,
    ROLE_LINK,
    ROLE_VISUAL,
    SOURCE_KEY,
    apply_camera,
    bone_sign,
    frame_with_y,
    joint_source,
    parent_to_bone,
    to_blender,
)
from spark_blender.blender.joints import apply_joint_type
from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import link_poses
from spark_blender.core.meshes import texture_image
from spark_blender.core.model import ArticulatedObject, Joint, Link, Material, ModelError


@dataclass
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
    camera: Camera | dict | None = None,
    source: str = "",
    with_collisions: bool = True,
    with_textures: bool = True,
    name: str | None = None,
) -> BuiltObject:
    """Add `obj` to the scene as a new collection named `name` (the file's name on import;
    default the object's); on failure nothing of it stays. `camera` is a core camera or
    camera.json's dict."""
    context = context or bpy.context
    problems = obj.validate(require_inertia=False, require_rest_in_limits=False)
    if problems:
        raise ModelError(problems)
    stored = camera.to_dict() if isinstance(camera, Camera) else dict(camera or {})
    camera = Camera.from_dict(camera) if isinstance(camera, dict) and camera else camera
    builder = _Builder(obj, context, with_collisions, with_textures, name or obj.name)
    try:
        built = builder.build(source)
        if camera:
            built.camera = builder.add_camera(camera, stored)
    except BaseException:
        builder.remove_created()
        raise
    return built


class _Builder:
    def __init__(
        self, obj: ArticulatedObject, context, with_collisions: bool, textures: bool, name: str
    ):
        self.obj = obj
        self.name = name
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
        collection = bpy.data.collections.new(self.name)
        self.collections.append(collection)
        self.context.scene.collection.children.link(collection)
        armature = self.add_armature(collection, source)
        built = BuiltObject(collection, armature)
        bone_of = self.bone_of_links()
        for link in obj.links:
            built.links[link.name] = self.add_link_empty(link, collection, armature, bone_of)
        hidden = None
        if self.with_collisions and any(link.collisions for link in obj.links):
            hidden = bpy.data.collections.new(f"{self.name} collision")
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
        data = bpy.data.armatures.new(self.name)
        self.created_data.append(data)
        data.display_type = "STICK"
        armature = self.new_object(self.name, data, collection)
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
        props = pose_bone.spark_joint
        props.is_joint = True
        props.joint_name, props.joint_type, props.label = joint.name, joint.type, joint.label
        props.parent_link, props.child_link = joint.parent, joint.child
        props.effort, props.velocity = joint.effort, joint.velocity
        props.damping, props.friction = joint.damping, joint.friction
        props.sign = self.signs[joint.name]
        props.stored_lower, props.stored_upper = joint.lower, joint.upper
        pose_bone[SOURCE_KEY] = joint_source(joint)
        apply_joint_type(pose_bone)

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
            if not joint.movable:
                empty[SOURCE_KEY] = joint_source(joint)
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
        ob.spark.element_name = name  # Blender may add ".001"; the export writes this name
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

    def add_camera(self, camera: Camera, stored: dict) -> bpy.types.Object:
        data = bpy.data.cameras.new(f"{self.name} camera")
        self.created_data.append(data)
        apply_camera(data, camera)
        collection = self.collections[0]
        cam = self.new_object(f"{self.name} camera", data, collection)
        cam.parent = next(ob for ob in collection.objects if ob.spark.role == ROLE_ARMATURE)
        cam.matrix_basis = to_blender(camera.cam_to_world)
        cam.spark.role = ROLE_CAMERA
        # What camera.json said (scalars, and the pose flattened), for an exact re-export.
        kept = {k: v for k, v in stored.items() if isinstance(v, int | float | str)}
        kept["cam_to_world"] = [float(v) for v in camera.cam_to_world.ravel()]
        kept["width"], kept["height"] = camera.width, camera.height
        cam[CAMERA_KEY] = kept
        if self.context.scene.camera is None:
            self.context.scene.camera = cam
        return cam


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
