"""Scene -> model: ``read_object`` turns the scene under a SPARK armature back into an
ArticulatedObject, from rest matrices (the current pose never leaks into a URDF); what the artist
changed (a bone moved, a limit edited, a mesh added) comes along."""

from __future__ import annotations

import re

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
    SOURCE_TOLERANCE,
    camera_of,
    kept_float,
    kept_matrix,
    rest_matrix,
    rigid_part,
    source_of,
    to_numpy,
)
from spark_blender.blender.joints import joint_bones, joint_limits
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
        name = element_name(ob).removesuffix(".collision")
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
            src = source_of(pose_bone) or {}
            origin = rigid_part(np.linalg.inv(frames[parent]) @ frame)
            return Joint(
                name=jp.joint_name,
                type=jp.joint_type,
                parent=parent,
                child=name,
                origin=kept_matrix(origin, src.get("origin"), (4, 4)),
                axis=kept_matrix(axis / np.linalg.norm(axis), src.get("axis"), (3,)),
                lower=kept_float(lower, src.get("lower")),
                upper=kept_float(upper, src.get("upper")),
                effort=kept_float(jp.effort, src.get("effort")),
                velocity=kept_float(jp.velocity, src.get("velocity")),
                damping=kept_float(jp.damping, src.get("damping")),
                friction=kept_float(jp.friction, src.get("friction")),
                label=jp.label,
            )
        if not props.joint_name:
            return None  # the root link
        origin = rigid_part(np.linalg.inv(frames[props.parent_link]) @ frames[name])
        src = source_of(empty) or {}
        return Joint(
            name=props.joint_name,
            type="fixed",
            parent=props.parent_link,
            child=name,
            origin=kept_matrix(origin, src.get("origin"), (4, 4)),
            axis=np.asarray(list(src.get("axis", (1.0, 0.0, 0.0))), dtype=float),
            label=props.joint_label,
        )


def element_name(ob) -> str:
    """The URDF name of a visual or collision object: the imported name while the object keeps
    it (Blender's ".001" suffixes for repeated names aside), else the artist's new name."""
    base = re.sub(r"\.\d{3,}$", "", ob.name)
    stored = ob.spark.element_name
    return stored if stored and base == re.sub(r"\.\d{3,}$", "", stored) else base


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


def base_texture(material: bpy.types.Material | None) -> bpy.types.Image | None:
    tree = getattr(material, "node_tree", None)
    if tree is None:
        return None
    for node in tree.nodes:
        if node.type == "TEX_IMAGE" and node.image is not None:
            return node.image
    return None


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


def camera_json(armature: bpy.types.Object, scene: bpy.types.Scene) -> dict | None:
    """camera.json (ARCHITECTURE.md) of the SPARK camera under `armature`, if it has one: the
    imported file's values while the camera is where it was (single-precision noise aside),
    else the camera as it is now, principal point (shift) included."""
    cameras = [c for c in armature.children if c.spark.role == ROLE_CAMERA]
    if not cameras:
        return None
    cam = cameras[0]
    stored = dict(cam.get(CAMERA_KEY, {}))
    width = int(stored.get("width", scene.render.resolution_x))
    height = int(stored.get("height", scene.render.resolution_y))
    camera = camera_of(cam.data, width, height, rest_matrix(cam, armature))
    now = camera.to_dict()
    if "fx" in stored and "cam_to_world" in stored:
        pose = np.asarray(list(stored["cam_to_world"]), float).reshape(4, 4)
        same = np.allclose(camera.cam_to_world, pose, rtol=0, atol=SOURCE_TOLERANCE) and all(
            abs(now[k] - float(stored[k])) <= 1e-4 * max(1.0, abs(float(stored[k])))
            for k in ("fx", "cx", "cy")
            if k in stored
        )
        if same:
            return {**now, **stored, "cam_to_world": pose.tolist()}
    return now
