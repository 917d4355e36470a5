"""URDF reading and writing.

Reading accepts any real URDF (PartNet-Mobility's included: many visuals per link, visual
origins, rpy, OBJ with MTL textures, ``package://`` paths) with safe XML: no DTDs, so no entity
expansion and no network, a size limit, and mesh paths that may not leave the URDF's folder (or
a named package folder) unless allowed. Every problem becomes one ``URDFError`` naming the
element and the problem.

Writing produces the output-folder layout of ARCHITECTURE.md: ``OUT/<name>.urdf`` and
``OUT/meshes/`` (visual OBJ+MTL, collision hulls, textures), written to a temporary folder that
is renamed into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh
from lxml import etree

from spark_blender.core.meshes import (
    MeshLoadError,
    TextureStore,
    compute_inertial,
    convex_decomposition,
    convex_hull,
    load_mesh_file,
    write_obj,
)
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
from spark_blender.core.transforms import make_transform, matrix_to_rpy

MAX_URDF_BYTES = 32 * 1024 * 1024
MAX_ELEMENTS = 200_000
SUPPORTED_JOINTS = ("fixed", "revolute", "prismatic", "continuous")


class URDFError(ValueError):
    """A URDF cannot be read or written; the message names the element and the problem."""


# ============================================================================================
# Reading
# ============================================================================================
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


# ============================================================================================
# Writing
# ============================================================================================
COLLISION_MODES = ("auto", "hull", "coacd", "keep")


@dataclass
class WriteOptions:
    collision: str = "auto"  # auto: keep a link's collisions, hull its visuals when it has none
    recompute_inertia: bool = False  # True: replace every inertial by one from the geometry
    overwrite: bool = False
    extra_files: dict[str, bytes] = field(default_factory=dict)  # e.g. camera.json, preview.png


def write_urdf(
    obj: ArticulatedObject, out_dir: str | os.PathLike, options: WriteOptions | None = None
) -> Path:
    """Write `obj` into the output folder `out_dir`; returns the URDF's path."""
    return write_output_folder(obj, out_dir, options or WriteOptions(), ".urdf", urdf_element)


def write_output_folder(
    obj: ArticulatedObject,
    out_dir: str | os.PathLike,
    options: WriteOptions,
    suffix: str,
    build: Callable[[ArticulatedObject, _MeshFiles, Path], etree._Element],
) -> Path:
    """The shared writing path of every format: validate, stage, write meshes, the document
    `build` makes (from the prepared object, its mesh files and the stage folder) and the
    extra files, then rename into place. Returns the document's final path."""
    if options.collision not in COLLISION_MODES:
        raise ValueError(f"collision mode '{options.collision}' is not one of {COLLISION_MODES}")
    problems = obj.validate(require_inertia=False, require_rest_in_limits=False)
    if problems:
        raise ModelError(problems)
    out_dir = Path(out_dir)
    with staged_folder(out_dir, options.overwrite) as stage:
        prepared = prepare_for_export(obj, options)
        element = build(prepared, export_meshes(prepared, stage), stage)
        document = stage / f"{safe_file_name(obj.name)}{suffix}"
        document.write_bytes(
            etree.tostring(element, pretty_print=True, xml_declaration=True, encoding="utf-8")
        )
        for relative, payload in options.extra_files.items():
            (stage / relative).parent.mkdir(parents=True, exist_ok=True)
            (stage / relative).write_bytes(payload)
    return out_dir / document.name


class staged_folder:
    """Context manager: a temporary sibling folder renamed onto `target` only on success."""

    def __init__(self, target: Path, overwrite: bool):
        self.target = target
        self.overwrite = overwrite

    def __enter__(self) -> Path:
        if self.target.exists() and not self.overwrite and any(self.target.iterdir()):
            raise FileExistsError(f"output folder '{self.target}' exists and is not empty")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        return self.stage

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return
        if self.target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old.", dir=self.target.parent))
            os.replace(self.target, old / "previous")
            os.replace(self.stage, self.target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.stage, self.target)


def safe_file_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".")
    return cleaned or "object"


def prepare_for_export(obj: ArticulatedObject, options: WriteOptions) -> ArticulatedObject:
    """A copy of `obj` with the collisions and inertials the export will carry."""
    moving = set(obj.moving_links())
    links = []
    for link in obj.links:
        collisions = _collisions_for(link, options.collision)
        inertial = link.inertial
        if inertial is None or options.recompute_inertia:
            inertial = compute_inertial(link) or inertial
        if inertial is None and link.name in moving:
            # A moving link with no geometry still needs mass for the simulators.
            inertial = Inertial(mass=1e-3, inertia=np.eye(3) * 1e-7)
        links.append(Link(link.name, link.visuals, collisions, inertial, link.label))
    return ArticulatedObject(obj.name, links, obj.joints, obj.category)


def _collisions_for(link: Link, mode: str) -> list[Collision]:
    if mode == "keep" or (mode == "auto" and link.collisions):
        return link.collisions
    collisions = []
    for visual in link.visuals:
        if mode == "coacd":
            hulls = convex_decomposition(visual.mesh)
        else:
            hulls = [convex_hull(visual.mesh)]
        collisions += [Collision(h, visual.origin, visual.name) for h in hulls]
    return collisions


@dataclass
class _MeshFiles:
    visuals: dict[tuple[str, int], str] = field(default_factory=dict)
    collisions: dict[tuple[str, int], str] = field(default_factory=dict)


def export_meshes(obj: ArticulatedObject, folder: Path) -> _MeshFiles:
    """Write every visual and collision mesh under `folder`/meshes; returns relative paths."""
    meshes = folder / "meshes"
    meshes.mkdir(parents=True, exist_ok=True)
    textures = TextureStore(meshes / "textures")
    files = _MeshFiles()
    for link_index, link in enumerate(obj.links):
        stem = f"{link_index:03d}_{safe_file_name(link.name)}"
        for i, visual in enumerate(link.visuals):
            name = f"{stem}_visual_{i}.obj"
            write_obj(meshes / name, visual.mesh, visual.material, textures)
            files.visuals[(link.name, i)] = f"meshes/{name}"
        for i, collision in enumerate(link.collisions):
            name = f"{stem}_collision_{i}.obj"
            write_obj(meshes / name, collision.mesh, Material(name="collision"))
            files.collisions[(link.name, i)] = f"meshes/{name}"
    return files


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
    obj: ArticulatedObject, files: _MeshFiles, stage: Path | None = None
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
            if joint.damping or joint.friction:
                etree.SubElement(
                    element, "dynamics", damping=repr(joint.damping), friction=repr(joint.friction)
                )
    return robot
