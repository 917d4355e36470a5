"""URDF writing: the object as ``OUT/<name>.urdf`` beside its meshes, through the shared
output-folder path (``core.output_folder``: staged, renamed into place, joint dynamics sized).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from lxml import etree

from spark_blender.core.dynamics import MUJOCO_MEMORY, MUJOCO_NOSLIP_ITERATIONS
from spark_blender.core.model import ArticulatedObject
from spark_blender.core.output_folder import MeshFiles, WriteOptions, write_output_folder
from spark_blender.core.transforms import matrix_to_rpy


def write_urdf(
    obj: ArticulatedObject, out_dir: str | os.PathLike, options: WriteOptions | None = None
) -> Path:
    """Write `obj` into the output folder `out_dir`; returns the URDF's path."""
    return write_output_folder(obj, out_dir, options or WriteOptions(), ".urdf", urdf_element)


def _fmt(values) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(values))


def _origin_element(parent: etree._Element, T: np.ndarray) -> None:
    etree.SubElement(parent, "origin", xyz=_fmt(T[:3, 3]), rpy=_fmt(matrix_to_rpy(T[:3, :3])))


class _UniqueNames:
    """Element names unique across the file: MuJoCo names geoms globally."""

    def __init__(self):
        self.used: set[str] = set()

    def __call__(self, name: str) -> str:
        candidate, k = name, 1
        while candidate in self.used:
            candidate, k = f"{name}_{k}", k + 1
        self.used.add(candidate)
        return candidate


def urdf_element(
    obj: ArticulatedObject, files: MeshFiles, stage: Path | None = None
) -> etree._Element:
    unique = _UniqueNames()
    robot = etree.Element("robot", name=obj.name)
    if obj.category:
        robot.set("category", obj.category)
    # MuJoCo's URDF import strips mesh folders and fuses fixed links unless told otherwise.
    mujoco = etree.SubElement(robot, "mujoco")
    etree.SubElement(
        mujoco,
        "compiler",
        meshdir=".",
        strippath="false",
        discardvisual="true",
        fusestatic="false",
        balanceinertia="false",
    )
    etree.SubElement(mujoco, "option", noslip_iterations=str(MUJOCO_NOSLIP_ITERATIONS))
    etree.SubElement(mujoco, "size", memory=MUJOCO_MEMORY)
    for link in obj.links:
        element = etree.SubElement(robot, "link", name=link.name)
        if link.label:
            element.set("label", link.label)
        if link.inertial is not None:
            inertial = etree.SubElement(element, "inertial")
            _origin_element(inertial, link.inertial.origin)
            etree.SubElement(inertial, "mass", value=repr(float(link.inertial.mass)))
            tensor = link.inertial.inertia
            etree.SubElement(
                inertial,
                "inertia",
                ixx=repr(float(tensor[0, 0])),
                ixy=repr(float(tensor[0, 1])),
                ixz=repr(float(tensor[0, 2])),
                iyy=repr(float(tensor[1, 1])),
                iyz=repr(float(tensor[1, 2])),
                izz=repr(float(tensor[2, 2])),
            )
        for i, visual in enumerate(link.visuals):
            v = etree.SubElement(element, "visual", name=unique(visual.name or f"{link.name}_{i}"))
            _origin_element(v, visual.origin)
            geometry = etree.SubElement(v, "geometry")
            etree.SubElement(geometry, "mesh", filename=files.visuals[(link.name, i)])
            material = etree.SubElement(v, "material", name=visual.material.name or "default")
            etree.SubElement(material, "color", rgba=_fmt(visual.material.rgba))
        for i, collision in enumerate(link.collisions):
            base = collision.name or link.name
            name = unique(base if base.endswith("_collision") else f"{base}_collision")
            c = etree.SubElement(element, "collision", name=name)
            _origin_element(c, collision.origin)
            geometry = etree.SubElement(c, "geometry")
            etree.SubElement(geometry, "mesh", filename=files.collisions[(link.name, i)])
    for joint in obj.joints:
        element = etree.SubElement(robot, "joint", name=joint.name, type=joint.type)
        if joint.label:
            element.set("label", joint.label)
        _origin_element(element, joint.origin)
        etree.SubElement(element, "parent", link=joint.parent)
        etree.SubElement(element, "child", link=joint.child)
        etree.SubElement(element, "axis", xyz=_fmt(joint.axis))
        if joint.type != "fixed":
            limit = etree.SubElement(element, "limit")
            if joint.type != "continuous":
                limit.set("lower", repr(float(joint.lower)))
                limit.set("upper", repr(float(joint.upper)))
            limit.set("effort", repr(float(joint.effort)))
            limit.set("velocity", repr(float(joint.velocity)))
        if joint.type != "fixed" and (joint.damping or joint.friction):
            etree.SubElement(
                element,
                "dynamics",
                damping=repr(float(joint.damping)),
                friction=repr(float(joint.friction)),
            )
    return robot
