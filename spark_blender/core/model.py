"""The articulated-object model every stage reads and writes: links, joints, visuals, inertials.

Joint semantics are URDF's (see ``core.kinematics`` for the one definition of forward
kinematics). Geometry is held as ``trimesh.Trimesh`` in the frame of the element that owns it
(a visual's mesh is in the visual frame, which ``Visual.origin`` places in the link frame).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from spark_blender.core.joint_types import JOINT_TYPES, MOVABLE_TYPES, JointType
from spark_blender.core.transforms import is_rigid

# Default density (kg/m^3) when a material names none: a mid-weight hardwood or dense plastic.
DEFAULT_DENSITY = 600.0


class ModelError(ValueError):
    """An articulated object breaks the model's rules; the message lists every problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class Material:
    """Surface appearance of a visual, and the density used for its inertia."""

    name: str = "default"
    rgba: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)
    texture: Path | None = None  # image file the texture came from, when there is one
    density: float | None = None  # kg/m^3; None means DEFAULT_DENSITY


@dataclass
class Visual:
    mesh: trimesh.Trimesh
    origin: np.ndarray = field(default_factory=lambda: np.eye(4))  # visual frame in link frame
    material: Material = field(default_factory=Material)
    name: str = ""


@dataclass
class Collision:
    mesh: trimesh.Trimesh
    origin: np.ndarray = field(default_factory=lambda: np.eye(4))
    name: str = ""


@dataclass
class Inertial:
    mass: float
    inertia: np.ndarray  # (3, 3) about the centre of mass, in the inertial frame
    origin: np.ndarray = field(default_factory=lambda: np.eye(4))  # inertial frame in link frame

    def problems(self, owner: str) -> list[str]:
        """Why this inertial is not physically valid (empty when it is)."""
        found = []
        if not (math.isfinite(self.mass) and self.mass > 0.0):
            found.append(f"link '{owner}' has non-positive mass {self.mass}")
        inertia = np.asarray(self.inertia, dtype=float)
        if inertia.shape != (3, 3) or not np.all(np.isfinite(inertia)):
            found.append(f"link '{owner}' has a non-finite inertia")
            return found
        if not np.allclose(inertia, inertia.T, atol=1e-12 + 1e-9 * np.abs(inertia).max()):
            found.append(f"link '{owner}' has a non-symmetric inertia")
        moments = np.linalg.eigvalsh(0.5 * (inertia + inertia.T))
        if moments.min() <= 0.0:
            found.append(f"link '{owner}' has an inertia that is not positive definite")
        else:
            a, b, c = sorted(moments)
            if a + b < c * (1.0 - 1e-6):
                found.append(f"link '{owner}' has principal moments breaking the triangle rule")
        if not is_rigid(self.origin):
            found.append(f"link '{owner}' has an invalid inertial origin")
        return found


@dataclass
class Link:
    name: str
    visuals: list[Visual] = field(default_factory=list)
    collisions: list[Collision] = field(default_factory=list)
    inertial: Inertial | None = None
    label: str = ""  # semantic part name: base, door, drawer, lid, knob, ...


@dataclass
class Joint:
    name: str
    type: JointType
    parent: str
    child: str
    origin: np.ndarray = field(default_factory=lambda: np.eye(4))  # joint frame in parent frame
    axis: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))
    lower: float = 0.0
    upper: float = 0.0
    effort: float = 100.0
    velocity: float = 1.0
    damping: float = 0.0
    friction: float = 0.0
    label: str = ""

    @property
    def movable(self) -> bool:
        return self.type in MOVABLE_TYPES

    @property
    def limits(self) -> tuple[float, float]:
        """Position range; a continuous joint has none, so one full turn stands for it."""
        if self.type == "continuous":
            return (-math.pi, math.pi)
        if self.type == "fixed":
            return (0.0, 0.0)
        return (self.lower, self.upper)


@dataclass
class ArticulatedObject:
    name: str
    links: list[Link] = field(default_factory=list)
    joints: list[Joint] = field(default_factory=list)
    category: str = ""

    # --- look-ups ---------------------------------------------------------------------------
    # Look-ups go through an index rebuilt whenever the names or the tree change, so a walk
    # over a 500-link object stays linear (objects are edited in place by many stages).
    def _index(self) -> _Index:
        # The index holds the objects it names, so their ids cannot be reused while it lives.
        key = (
            tuple((id(link), link.name) for link in self.links),
            tuple((id(j), j.name, j.type, j.parent, j.child) for j in self.joints),
        )
        cached = self.__dict__.get("_cached_index")
        if cached is None or cached.key != key:
            cached = _Index(self, key)
            self.__dict__["_cached_index"] = cached
        return cached

    def link(self, name: str) -> Link:
        link = self._index().links.get(name)
        if link is None:
            raise KeyError(f"no link named '{name}'")
        return link

    def joint(self, name: str) -> Joint:
        joint = self._index().joints.get(name)
        if joint is None:
            raise KeyError(f"no joint named '{name}'")
        return joint

    @property
    def root(self) -> Link:
        """The one link that is no joint's child (``validate`` reports when there is not one)."""
        children = {j.child for j in self.joints}
        roots = [link for link in self.links if link.name not in children]
        if len(roots) != 1:
            raise ModelError([f"object '{self.name}' has {len(roots)} root links, expected 1"])
        return roots[0]

    @property
    def movable_joints(self) -> list[Joint]:
        return [j for j in self.joints if j.movable]

    def child_joints(self, link_name: str) -> list[Joint]:
        return list(self._index().children.get(link_name, ()))

    def parent_joint(self, link_name: str) -> Joint | None:
        return self._index().parent.get(link_name)

    def joints_from_root(self) -> Iterator[Joint]:
        """Joints in breadth-first order from the root, so parents come before children."""
        children = self._index().children
        queue = deque([self.root.name])
        while queue:
            name = queue.popleft()
            for joint in children.get(name, ()):
                yield joint
                queue.append(joint.child)

    def subtree(self, link_name: str) -> list[str]:
        """Names of `link_name` and every link below it."""
        children = self._index().children
        names, queue, seen = [], deque([link_name]), {link_name}
        while queue:
            name = queue.popleft()
            names.append(name)
            for joint in children.get(name, ()):
                if joint.child not in seen:  # a cycle (reported by validate) ends the walk
                    seen.add(joint.child)
                    queue.append(joint.child)
        return names

    def moving_links(self) -> list[str]:
        """Links that some movable joint moves relative to the root."""
        index = self._index()
        if index.moving is None:
            moving: set[str] = set()
            for joint in self.movable_joints:
                if joint.child not in moving:
                    moving.update(self.subtree(joint.child))
            index.moving = [link.name for link in self.links if link.name in moving]
        return list(index.moving)

    def rest_configuration(self) -> dict[str, float]:
        return {j.name: 0.0 for j in self.movable_joints}

    # --- validation ---------------------------------------------------------------------------
    def validate(
        self, require_inertia: bool = True, require_rest_in_limits: bool = True
    ) -> list[str]:
        """Every rule the object breaks, as one message each (empty when valid).

        `require_inertia=False` skips the mass rules (files read from elsewhere often have no
        inertials; the writer computes them); `require_rest_in_limits=False` accepts joints
        whose limits leave out 0 (real robots' URDFs).
        """
        problems = _name_problems(self)
        link_names = {link.name for link in self.links}
        problems += _tree_problems(self, link_names)
        for joint in self.joints:
            problems += _joint_problems(joint, link_names, require_rest_in_limits)
        problems += _geometry_problems(self)
        if require_inertia and not problems:  # mass rules need a tree to know which links move
            for name in self.moving_links():
                link = self.link(name)
                if link.inertial is None:
                    problems.append(f"moving link '{name}' has no inertial")
                else:
                    problems += link.inertial.problems(name)
        return problems

    def assert_valid(self) -> None:
        problems = self.validate()
        if problems:
            raise ModelError(problems)


class _Index:
    """Name and tree look-ups of one state of an object (see `ArticulatedObject._index`)."""

    def __init__(self, obj: ArticulatedObject, key: tuple):
        self.key = key
        self.links: dict[str, Link] = {}
        for link in obj.links:
            self.links.setdefault(link.name, link)
        self.joints: dict[str, Joint] = {}
        self.children: dict[str, list[Joint]] = {}
        self.parent: dict[str, Joint] = {}
        for joint in obj.joints:
            self.joints.setdefault(joint.name, joint)
            self.children.setdefault(joint.parent, []).append(joint)
            self.parent.setdefault(joint.child, joint)
        self.moving: list[str] | None = None


def _duplicates(names: list[str]) -> list[str]:
    seen, dupes = set(), []
    for name in names:
        if name in seen and name not in dupes:
            dupes.append(name)
        seen.add(name)
    return dupes


def _name_problems(obj: ArticulatedObject) -> list[str]:
    problems = [f"link name '{n}' is used twice" for n in _duplicates([k.name for k in obj.links])]
    problems += [
        f"joint name '{n}' is used twice" for n in _duplicates([j.name for j in obj.joints])
    ]
    problems += ["a link has an empty name" for k in obj.links if not k.name][:1]
    problems += ["a joint has an empty name" for j in obj.joints if not j.name][:1]
    return problems


def _tree_problems(obj: ArticulatedObject, link_names: set[str]) -> list[str]:
    if not obj.links:
        return [f"object '{obj.name}' has no links"]
    problems = []
    child_count: dict[str, int] = {}
    for joint in obj.joints:
        child_count[joint.child] = child_count.get(joint.child, 0) + 1
    problems += [f"link '{n}' is the child of {c} joints" for n, c in child_count.items() if c > 1]
    roots = [n for n in link_names if n not in child_count]
    if len(roots) != 1:
        problems.append(
            f"object has {len(roots)} root links ({', '.join(sorted(roots))}), expected 1"
        )
    # Walk from each link up to the root: a cycle never reaches it.
    parent_of = {j.child: j.parent for j in obj.joints}
    for name in sorted(link_names):
        seen, node = {name}, name
        while node in parent_of:
            node = parent_of[node]
            if node in seen:
                problems.append(f"link '{name}' is on a kinematic cycle")
                break
            seen.add(node)
    if len(roots) == 1 and not any("cycle" in p for p in problems):
        reachable = set(obj.subtree(roots[0]))
        orphans = sorted(link_names - reachable)
        problems += [f"link '{n}' is not connected to the root '{roots[0]}'" for n in orphans]
    return problems


def _joint_problems(joint: Joint, link_names: set[str], require_rest_in_limits: bool) -> list[str]:
    where = f"joint '{joint.name}'"
    problems = []
    if joint.type not in JOINT_TYPES:
        problems.append(f"{where} has unknown type '{joint.type}'")
    for role in ("parent", "child"):
        name = getattr(joint, role)
        if name not in link_names:
            problems.append(f"{where} has {role} '{name}' which is not a link")
    if joint.parent == joint.child:
        problems.append(f"{where} joins link '{joint.parent}' to itself")
    if not is_rigid(joint.origin):
        problems.append(f"{where} has an origin that is not a finite rigid transform")
    axis = np.asarray(joint.axis, dtype=float)
    if axis.shape != (3,) or not np.all(np.isfinite(axis)):
        problems.append(f"{where} has a non-finite axis")
    elif joint.movable and abs(np.linalg.norm(axis) - 1.0) > 1e-6:
        problems.append(f"{where} has an axis of length {np.linalg.norm(axis):.6g}, not 1")
    if joint.type in ("revolute", "prismatic"):
        lo, hi = joint.lower, joint.upper
        if not (math.isfinite(lo) and math.isfinite(hi)):
            problems.append(f"{where} has non-finite limits [{lo}, {hi}]")
        elif lo > hi:
            problems.append(f"{where} has lower limit {lo} above upper limit {hi}")
        elif require_rest_in_limits and not lo <= 0.0 <= hi:
            problems.append(f"{where} limits [{lo}, {hi}] do not contain the rest value 0")
    for name in ("effort", "velocity", "damping", "friction"):
        value = getattr(joint, name)
        if not (math.isfinite(value) and value >= 0.0):
            problems.append(f"{where} has invalid {name} {value}")
    return problems


def _geometry_problems(obj: ArticulatedObject) -> list[str]:
    problems = []
    for link in obj.links:
        parts = [("visual", v.name, v.mesh, v.origin) for v in link.visuals]
        parts += [("collision", c.name, c.mesh, c.origin) for c in link.collisions]
        for i, (kind, name, mesh, origin) in enumerate(parts):
            where = f"link '{link.name}' {kind} '{name or i}'"
            if mesh is None or len(mesh.faces) == 0 or len(mesh.vertices) == 0:
                problems.append(f"{where} has an empty mesh")
            elif not np.all(np.isfinite(mesh.vertices)):
                problems.append(f"{where} has non-finite vertices")
            if not is_rigid(origin):
                problems.append(f"{where} has an origin that is not a finite rigid transform")
    return problems
