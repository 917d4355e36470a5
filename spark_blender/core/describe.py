"""Human- and machine-readable summaries of an articulated object (`spark-articulate info`)."""

from __future__ import annotations

import numpy as np

from spark_blender.core.kinematics import joint_frames
from spark_blender.core.model import ArticulatedObject


def describe(obj: ArticulatedObject) -> dict:
    """Tree, joints (world pivot and axis at rest), limits and masses as plain data."""
    frames = joint_frames(obj)
    links = []
    for link in obj.links:
        parent = obj.parent_joint(link.name)
        links.append(
            {
                "name": link.name,
                "label": link.label,
                "parent_joint": parent.name if parent else None,
                "visuals": len(link.visuals),
                "collisions": len(link.collisions),
                "mass": None if link.inertial is None else link.inertial.mass,
            }
        )
    joints = []
    for joint in obj.joints:
        pivot, axis = frames[joint.name]
        joints.append(
            {
                "name": joint.name,
                "type": joint.type,
                "label": joint.label,
                "parent": joint.parent,
                "child": joint.child,
                "pivot": [float(v) for v in pivot],
                "axis": [float(v) for v in axis],
                "lower": None if joint.type == "continuous" else joint.lower,
                "upper": None if joint.type == "continuous" else joint.upper,
            }
        )
    return {
        "name": obj.name,
        "category": obj.category,
        "root": obj.root.name,
        "links": links,
        "joints": joints,
    }


def describe_text(obj: ArticulatedObject) -> str:
    info = describe(obj)
    lines = [f"{obj.name}" + (f" ({obj.category})" if obj.category else "")]
    lines.append(f"tree ({len(obj.links)} links, {len(obj.joints)} joints):")
    lines += _tree_lines(obj, obj.root.name, "  ")
    movable = [j for j in info["joints"] if j["type"] != "fixed"]
    if movable:
        lines.append("movable joints:")
    for j in movable:
        if j["type"] == "continuous":
            limits = "unlimited"
        elif j["type"] == "revolute":
            limits = f"[{np.rad2deg(j['lower']):.1f}, {np.rad2deg(j['upper']):.1f}] deg"
        else:
            limits = f"[{j['lower']:.4g}, {j['upper']:.4g}] m"
        lines.append(
            f"  {j['name']:<16} {j['type']:<10} {j['parent']} -> {j['child']}  axis "
            f"{_vec(j['axis'])} pivot {_vec(j['pivot'])}  {limits}"
        )
    lines.append("masses:")
    for link in info["links"]:
        mass = "no inertial" if link["mass"] is None else f"{link['mass']:.4g} kg"
        lines.append(
            f"  {link['name']:<16} {mass:<14} {link['visuals']} visuals, "
            f"{link['collisions']} collisions" + (f"  [{link['label']}]" if link["label"] else "")
        )
    return "\n".join(lines)


def _tree_lines(obj: ArticulatedObject, name: str, indent: str) -> list[str]:
    lines = [f"{indent}{name}"]
    for joint in obj.child_joints(name):
        sub = _tree_lines(obj, joint.child, indent + "    ")
        sub[0] = f"{indent}  +-[{joint.type} {joint.name}]- {joint.child}"
        lines += sub
    return lines


def _vec(values) -> str:
    return "(" + ", ".join(f"{v:+.3f}" for v in values) + ")"
