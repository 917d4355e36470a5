"""URDF reading.

Reading accepts any real URDF (PartNet-Mobility's included: many visuals per link, visual
origins, rpy, OBJ with MTL textures, ``package://`` paths) with safe XML: no DTDs, so no entity
expansion and no network, a size limit, and mesh paths that may not leave the URDF's folder (or
a named package folder) unless allowed. Every problem becomes one ``URDFError`` naming the
element and the problem.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh
from lxml import etree

from spark_blender.core.meshes import MeshLoadError, load_mesh_file
from spark_blender.core.model import (
    ArticulatedObject,
    Collision,
    Inertial,
    Joint,
    Link,
    Material,
    Visual,
)
from spark_blender.core.transforms import make_transform

MAX_URDF_BYTES = 32 * 1024 * 1024
MAX_ELEMENTS = 200_000
SUPPORTED_JOINTS = ("fixed", "revolute", "prismatic", "continuous")


class URDFError(ValueError):
    """A URDF cannot be read or written; the message names the element and the problem."""


@dataclass
class ReadOptions:
    package_dirs: Sequence[Path] = ()  # where package://NAME/... is looked up
    allow_outside: bool = False  # let mesh paths leave the URDF's folder
    load_meshes: bool = True
    max_bytes: int = MAX_URDF_BYTES


def read_urdf(
    path: str | os.PathLike,
    package_dirs: Sequence[str | os.PathLike] = (),
    allow_outside: bool = False,
    load_meshes: bool = True,
) -> ArticulatedObject:
    """Read a URDF file into an ArticulatedObject (raises URDFError)."""
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise URDFError(f"{path}: is a folder, not a URDF file")
        if path.exists():
            raise URDFError(f"{path}: is not a regular file (a device, pipe or socket)")
        raise URDFError(f"{path}: file not found")
    options = ReadOptions(tuple(Path(p) for p in package_dirs), allow_outside, load_meshes)
    size = path.stat().st_size
    if size > options.max_bytes:
        raise URDFError(f"{path.name}: file is {size} bytes, above the {options.max_bytes} limit")
    return parse_urdf(path.read_bytes(), path.parent, options, source=path.name)


def parse_urdf(
    data: bytes | str, base_dir: Path, options: ReadOptions | None = None, source: str = "URDF"
) -> ArticulatedObject:
    options = options or ReadOptions()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > options.max_bytes:
        raise URDFError(f"{source}: {len(data)} bytes, above the {options.max_bytes} limit")
    root = _parse_xml(data, source)
    return _Reader(root, Path(base_dir), options, source).read()


def resolve_mesh_paths(path: Path, package_dirs: Sequence[Path] = ()) -> dict[str, str]:
    """Each mesh filename as written in the URDF -> its absolute path, by the reader's rules
    (tools such as MuJoCo's importer cannot resolve ``package://`` themselves)."""
    root = _parse_xml(path.read_bytes(), path.name)
    reader = _Reader(root, path.parent, ReadOptions(tuple(package_dirs)), path.name)
    return {
        m.get("filename"): str(reader.resolve(m, m.get("filename"), "mesh"))
        for m in root.iter("mesh")
        if m.get("filename")
    }


def _parse_xml(data: bytes, source: str) -> etree._Element:
    # A URDF never needs a DTD; refusing them rules out entity expansion and external fetches.
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise URDFError(f"{source}: DOCTYPE and ENTITY declarations are not allowed")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise URDFError(f"{source}: malformed XML: {exc.msg} (line {exc.lineno})") from None
    except ValueError as exc:
        raise URDFError(f"{source}: cannot be parsed: {exc}") from None
    if root is None or root.tag != "robot":
        tag = None if root is None else root.tag
        raise URDFError(f"{source}: root element is <{tag}>, expected <robot>")
    return root


class _Reader:
    def __init__(self, root: etree._Element, base_dir: Path, options: ReadOptions, source: str):
        self.root = root
        self.base_dir = base_dir
        self.options = options
        self.source = source
        self.materials: dict[str, Material] = {}
        self.mesh_cache: dict[tuple, list] = {}

    def fail(self, element: etree._Element | None, message: str) -> URDFError:
        line = f" (line {element.sourceline})" if element is not None and element.sourceline else ""
        return URDFError(f"{self.source}: {message}{line}")

    def read(self) -> ArticulatedObject:
        count = sum(1 for _ in self.root.iter())
        if count > MAX_ELEMENTS:
            raise self.fail(None, f"{count} XML elements, above the {MAX_ELEMENTS} limit")
        for element in self.root.findall("material"):
            material = self.material(element, "robot")
            self.materials[material.name] = material
        obj = ArticulatedObject(
            name=self.root.get("name") or "robot", category=self.root.get("category") or ""
        )
        obj.links = [self.link(e) for e in self.root.findall("link")]
        obj.joints = [self.joint(e) for e in self.root.findall("joint")]
        self.check_references(obj)
        problems = obj.validate(require_inertia=False, require_rest_in_limits=False)
        if problems:
            raise self.fail(None, "; ".join(problems))
        return obj

    def check_references(self, obj: ArticulatedObject) -> None:
        links = {link.name for link in obj.links}
        for element, joint in zip(self.root.findall("joint"), obj.joints, strict=True):
            for role in ("parent", "child"):
                target = getattr(joint, role)
                if target not in links:
                    message = f"joint '{joint.name}' has {role} '{target}' which is not a link"
                    raise self.fail(element, message)

    # --- elements -----------------------------------------------------------------------------
    def name_of(self, element: etree._Element, what: str) -> str:
        name = element.get("name")
        if not name:
            raise self.fail(element, f"<{what}> has no name")
        return name

    def floats(self, element, attr: str, count: int, where: str, default=None) -> np.ndarray:
        text = element.get(attr) if element is not None else None
        if text is None:
            if default is None:
                raise self.fail(element, f"{where} is missing '{attr}'")
            return np.atleast_1d(np.asarray(default, dtype=float))
        try:
            values = np.array([float(v) for v in text.replace(",", " ").split()], dtype=float)
        except ValueError:
            raise self.fail(element, f"{where} '{attr}' is not numbers: '{text[:40]}'") from None
        if values.size != count:
            raise self.fail(element, f"{where} '{attr}' has {values.size} values, expected {count}")
        if not np.all(np.isfinite(values)):
            raise self.fail(element, f"{where} '{attr}' has a non-finite value: '{text[:40]}'")
        return values

    def origin(self, parent: etree._Element, where: str) -> np.ndarray:
        element = parent.find("origin")
        if element is None:
            return np.eye(4)
        xyz = self.floats(element, "xyz", 3, f"{where} <origin>", (0.0, 0.0, 0.0))
        rpy = self.floats(element, "rpy", 3, f"{where} <origin>", (0.0, 0.0, 0.0))
        return make_transform(xyz, rpy)

    def material(self, element: etree._Element, where: str) -> Material:
        name = element.get("name") or ""
        color = element.find("color")
        if color is None and element.find("texture") is None and name in self.materials:
            return self.materials[name]
        rgba = (0.8, 0.8, 0.8, 1.0)
        if color is not None:
            rgba = tuple(self.floats(color, "rgba", 4, f"{where} material '{name}'"))
        texture = element.find("texture")
        texture_path = None
        if texture is not None and texture.get("filename"):
            texture_path = self.resolve(texture, texture.get("filename"), where)
        return Material(name=name or "default", rgba=rgba, texture=texture_path)

    def link(self, element: etree._Element) -> Link:
        name = self.name_of(element, "link")
        link = Link(name=name, label=element.get("label") or "")
        for index, visual in enumerate(element.findall("visual")):
            where = f"link '{name}' visual {index}"
            origin = self.origin(visual, where)
            urdf_material = None
            if visual.find("material") is not None:
                urdf_material = self.material(visual.find("material"), where)
            for mesh, own_material, has_own in self.geometry(visual, where):
                material = own_material if has_own or urdf_material is None else urdf_material
                link.visuals.append(Visual(mesh, origin, material, visual.get("name") or ""))
        for index, collision in enumerate(element.findall("collision")):
            where = f"link '{name}' collision {index}"
            origin = self.origin(collision, where)
            for mesh, _, _ in self.geometry(collision, where):
                link.collisions.append(Collision(mesh, origin, collision.get("name") or ""))
        inertial = element.find("inertial")
        if inertial is not None:
            link.inertial = self.inertial(inertial, f"link '{name}' <inertial>")
        return link

    def inertial(self, element: etree._Element, where: str) -> Inertial:
        mass_element = element.find("mass")
        if mass_element is None:
            raise self.fail(element, f"{where} has no <mass>")
        mass = float(self.floats(mass_element, "value", 1, f"{where} <mass>")[0])
        tensor = element.find("inertia")
        if tensor is None:
            raise self.fail(element, f"{where} has no <inertia>")
        values = {}
        for key in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz"):
            default = 0.0 if key in ("ixy", "ixz", "iyz") else None
            values[key] = float(self.floats(tensor, key, 1, f"{where} <inertia>", default)[0])
        inertia = np.array(
            [
                [values["ixx"], values["ixy"], values["ixz"]],
                [values["ixy"], values["iyy"], values["iyz"]],
                [values["ixz"], values["iyz"], values["izz"]],
            ]
        )
        return Inertial(mass=mass, inertia=inertia, origin=self.origin(element, where))

    def geometry(
        self, parent: etree._Element, where: str
    ) -> list[tuple[trimesh.Trimesh, Material, bool]]:
        geometry = parent.find("geometry")
        if geometry is None or len(geometry) == 0:
            raise self.fail(parent, f"{where} has no <geometry>")
        shape = geometry[0]
        tag = shape.tag
        if tag == "mesh":
            filename = shape.get("filename")
            if not filename:
                raise self.fail(shape, f"{where} <mesh> has no filename")
            scale = None
            if shape.get("scale") is not None:
                scale = self.floats(shape, "scale", 3, f"{where} <mesh>")
            path = self.resolve(shape, filename, where)
            if not self.options.load_meshes:
                return [(_placeholder(), Material(), False)]
            return self.load(shape, path, scale, where)
        if tag == "box":
            size = self.floats(shape, "size", 3, f"{where} <box>")
            if np.any(size <= 0):
                raise self.fail(shape, f"{where} <box> size must be positive")
            return [(trimesh.creation.box(extents=size), Material(), False)]
        if tag == "cylinder":
            radius = float(self.floats(shape, "radius", 1, f"{where} <cylinder>")[0])
            length = float(self.floats(shape, "length", 1, f"{where} <cylinder>")[0])
            if radius <= 0 or length <= 0:
                raise self.fail(shape, f"{where} <cylinder> radius and length must be positive")
            return [
                (
                    trimesh.creation.cylinder(radius=radius, height=length, sections=32),
                    Material(),
                    False,
                )
            ]
        if tag == "sphere":
            radius = float(self.floats(shape, "radius", 1, f"{where} <sphere>")[0])
            if radius <= 0:
                raise self.fail(shape, f"{where} <sphere> radius must be positive")
            return [(trimesh.creation.icosphere(subdivisions=2, radius=radius), Material(), False)]
        raise self.fail(shape, f"{where} has unsupported geometry <{tag}>")

    def load(self, element, path: Path, scale, where: str):
        key = (str(path), None if scale is None else tuple(scale))
        if key not in self.mesh_cache:
            try:
                self.mesh_cache[key] = [
                    (mesh, material, getattr(mesh.visual, "kind", None) is not None)
                    for mesh, material in load_mesh_file(path, scale, self.root_of(path))
                ]
            except MeshLoadError as exc:
                raise self.fail(element, f"{where}: {exc}") from None
        return [(mesh.copy(), material, own) for mesh, material, own in self.mesh_cache[key]]

    def root_of(self, path: Path) -> Path:
        """The allowed folder a resolved file lies in (its textures may come from there too)."""
        if self.options.allow_outside:
            return Path(path.anchor)
        for root in (self.base_dir, *self.options.package_dirs, self.base_dir.parent):
            if path.is_relative_to(root.resolve()):
                return root
        return path.parent

    def resolve(self, element, filename: str, where: str) -> Path:
        """The file a URDF path names, kept inside the allowed folders."""
        roots = [self.base_dir, *self.options.package_dirs]
        if filename.startswith("package://"):
            package, _, rest = filename[len("package://") :].partition("/")
            candidates = [root / package / rest for root in roots]
            candidates += [root / rest for root in roots if root.name == package]
            candidates += [self.base_dir.parent / package / rest, self.base_dir / rest]
            roots.append(self.base_dir.parent)
        elif filename.startswith("file://"):
            candidates = [Path(filename[len("file://") :])]
        elif "://" in filename:
            raise self.fail(
                element, f"{where} names a remote file '{filename}', which is not allowed"
            )
        else:
            candidates = [self.base_dir / filename]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise self.fail(element, f"{where} file '{filename}' not found")
        resolved = found.resolve()
        if not self.options.allow_outside and not any(
            resolved.is_relative_to(root.resolve()) for root in roots
        ):
            raise self.fail(element, f"{where} file '{filename}' is outside the URDF's folder")
        return resolved

    def joint(self, element: etree._Element) -> Joint:
        name = self.name_of(element, "joint")
        where = f"joint '{name}'"
        kind = element.get("type")
        if kind not in SUPPORTED_JOINTS:
            raise self.fail(element, f"{where} has unsupported type '{kind}'")
        parent, child = element.find("parent"), element.find("child")
        if parent is None or not parent.get("link"):
            raise self.fail(element, f"{where} has no <parent link>")
        if child is None or not child.get("link"):
            raise self.fail(element, f"{where} has no <child link>")
        axis = self.floats(element.find("axis"), "xyz", 3, f"{where} <axis>", (1.0, 0.0, 0.0))
        norm = float(np.linalg.norm(axis))
        if kind != "fixed":
            if norm < 1e-9:
                raise self.fail(element.find("axis"), f"{where} has a zero axis")
            axis = axis / norm
        joint = Joint(
            name=name,
            type=kind,
            parent=parent.get("link"),
            child=child.get("link"),
            origin=self.origin(element, where),
            axis=axis,
            label=element.get("label") or "",
        )
        limit = element.find("limit")
        if kind in ("revolute", "prismatic"):
            if limit is None:
                raise self.fail(element, f"{where} of type {kind} has no <limit>")
            joint.lower = float(self.floats(limit, "lower", 1, f"{where} <limit>", (0.0,))[0])
            joint.upper = float(self.floats(limit, "upper", 1, f"{where} <limit>", (0.0,))[0])
            if joint.lower > joint.upper:
                raise self.fail(limit, f"{where} has lower {joint.lower} above upper {joint.upper}")
        if limit is not None:
            joint.effort = float(self.floats(limit, "effort", 1, f"{where} <limit>", (100.0,))[0])
            joint.velocity = float(self.floats(limit, "velocity", 1, f"{where} <limit>", (1.0,))[0])
        dynamics = element.find("dynamics")
        if dynamics is not None:
            joint.damping = float(
                self.floats(dynamics, "damping", 1, f"{where} <dynamics>", (0.0,))[0]
            )
            joint.friction = float(
                self.floats(dynamics, "friction", 1, f"{where} <dynamics>", (0.0,))[0]
            )
        return joint


def _placeholder() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(1e-3, 1e-3, 1e-3))
