"""MuJoCo XML (MJCF) writing: the same object as the URDF writer, as nested bodies with hinge and
slide joints, mesh assets (textured visuals, convex collision hulls) and explicit inertials.

A body's frame is the URDF child link's frame at rest, placed by the joint origin; the joint sits
at the body origin with the URDF axis, so MuJoCo's kinematics equal the core FK.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from lxml import etree

from spark_blender.core.dynamics import MUJOCO_MEMORY, MUJOCO_NOSLIP_ITERATIONS
from spark_blender.core.meshes import texture_image
from spark_blender.core.model import ArticulatedObject, Link
from spark_blender.core.output_folder import WriteOptions, safe_file_name, write_output_folder

MUJOCO_JOINT_TYPES = {"revolute": "hinge", "continuous": "hinge", "prismatic": "slide"}


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """(w, x, y, z) unit quaternion of a 3x3 rotation, w >= 0."""
    R = np.asarray(rotation, dtype=float)
    trace = np.trace(R)
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(R)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + R[i, i] - R[j, j] - R[k, k])
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = (R[k, j] - R[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (R[j, i] + R[i, j]) / s
        q[1 + k] = (R[k, i] + R[i, k]) / s
    q = np.asarray(q)
    q /= np.linalg.norm(q)
    return -q if q[0] < 0 else q


def _fmt(values) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(values))


def _place(element: etree._Element, T: np.ndarray) -> None:
    element.set("pos", _fmt(T[:3, 3]))
    element.set("quat", _fmt(matrix_to_quaternion(T[:3, :3])))


def write_mjcf(
    obj: ArticulatedObject, out_dir: str | os.PathLike, options: WriteOptions | None = None
) -> Path:
    """Write `obj` as `OUT/<name>.xml` with its meshes; returns the XML's path."""

    def build(prepared: ArticulatedObject, files, stage: Path) -> etree._Element:
        return _MJCFBuilder(prepared, files, stage).build()

    return write_output_folder(obj, out_dir, options or WriteOptions(), ".xml", build)


class _MJCFBuilder:
    def __init__(self, obj: ArticulatedObject, files, stage: Path):
        self.obj = obj
        self.files = files
        self.stage = stage
        self.root = etree.Element("mujoco", model=obj.name)
        etree.SubElement(
            self.root, "compiler", angle="radian", meshdir=".", inertiafromgeom="false"
        )
        etree.SubElement(self.root, "option", noslip_iterations=str(MUJOCO_NOSLIP_ITERATIONS))
        etree.SubElement(self.root, "size", memory=MUJOCO_MEMORY)
        self.asset = etree.SubElement(self.root, "asset")
        self.textures: dict[str, str] = {}

    def build(self) -> etree._Element:
        world = etree.SubElement(self.root, "worldbody")
        etree.SubElement(world, "light", pos="0 -2 3", dir="0 0.5 -1", directional="true")
        self.body(world, self.obj.root, np.eye(4))
        return self.root

    def body(self, parent: etree._Element, link: Link, placement: np.ndarray) -> None:
        element = etree.SubElement(parent, "body", name=link.name)
        _place(element, placement)
        if link.inertial is not None:
            inertial = etree.SubElement(element, "inertial")
            frame, moments = _principal_frame(link.inertial.origin, link.inertial.inertia)
            _place(inertial, frame)
            inertial.set("mass", repr(float(link.inertial.mass)))
            inertial.set("diaginertia", _fmt(moments))
        joint = self.obj.parent_joint(link.name)
        if joint is not None and joint.movable:
            j = etree.SubElement(
                element, "joint", name=joint.name, type=MUJOCO_JOINT_TYPES[joint.type]
            )
            j.set("axis", _fmt(joint.axis))
            if joint.type != "continuous":
                j.set("range", _fmt([joint.lower, joint.upper]))
                j.set("limited", "true")
            if joint.damping:
                j.set("damping", repr(float(joint.damping)))
            if joint.friction:
                j.set("frictionloss", repr(float(joint.friction)))
        for i, visual in enumerate(link.visuals):
            if len(visual.mesh.vertices) < 4:  # MuJoCo rejects meshes this small; nothing to see
                continue
            mesh = self.mesh_asset(self.files.visuals[(link.name, i)], shell=True)
            geom = etree.SubElement(
                element, "geom", type="mesh", mesh=mesh, contype="0", conaffinity="0", group="1"
            )
            geom.set("mass", "0")
            _place(geom, visual.origin)
            geom.set("material", self.material(visual, link.name, i))
        for i, collision in enumerate(link.collisions):
            mesh = self.mesh_asset(self.files.collisions[(link.name, i)], shell=False)
            geom = etree.SubElement(element, "geom", type="mesh", mesh=mesh, group="3")
            geom.set("mass", "0")
            geom.set("rgba", "0.5 0.5 0.5 0")
            _place(geom, collision.origin)
        for child_joint in self.obj.child_joints(link.name):
            self.body(element, self.obj.link(child_joint.child), child_joint.origin)

    def mesh_asset(self, relative: str, shell: bool) -> str:
        name = Path(relative).stem
        mesh = etree.SubElement(self.asset, "mesh", name=name, file=relative)
        if shell:  # visual surfaces need not be closed; MuJoCo must not ask them for a volume
            mesh.set("inertia", "shell")
        return name

    def material(self, visual, link_name: str, index: int) -> str:
        name = f"material_{safe_file_name(link_name)}_{index}"
        element = etree.SubElement(
            self.asset, "material", name=name, rgba=_fmt(visual.material.rgba)
        )
        if texture_image(visual.mesh) is not None:
            mtl = (self.stage / self.files.visuals[(link_name, index)]).with_suffix(".mtl")
            texture_file = _map_kd(mtl)
            if texture_file:
                element.set("texture", self.texture(texture_file))
                element.set("rgba", "1 1 1 1")
        return name

    def texture(self, relative: str) -> str:
        if relative not in self.textures:
            name = f"texture_{len(self.textures)}"
            etree.SubElement(self.asset, "texture", name=name, type="2d", file=relative)
            self.textures[relative] = name
        return self.textures[relative]


def _map_kd(mtl: Path) -> str | None:
    """The texture an MTL names, relative to the output folder."""
    for line in mtl.read_text().splitlines():
        if line.startswith("map_Kd "):
            return Path(os.path.normpath(Path("meshes") / line.split(" ", 1)[1])).as_posix()
    return None


def _principal_frame(origin: np.ndarray, inertia: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inertial frame turned onto the principal axes, and the principal moments."""
    moments, axes = np.linalg.eigh(0.5 * (inertia + inertia.T))
    if np.linalg.det(axes) < 0:
        axes[:, 2] *= -1.0
    frame = origin.copy()
    frame[:3, :3] = origin[:3, :3] @ axes
    return frame, moments
