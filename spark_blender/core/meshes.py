"""Mesh services for the core: loading mesh files, OBJ+MTL writing with shared textures,
inertia from geometry, and collision hulls."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image
from trimesh.resolvers import FilePathResolver

from spark_blender.core.model import DEFAULT_DENSITY, Inertial, Link, Material

# Wall thickness (m) given to open (non-watertight) surfaces when computing their mass: real
# sheet parts (doors modelled as single surfaces, thin shells) are a few millimetres thick.
SHELL_THICKNESS = 0.005
# Half-thickness (m) added to flat parts so their convex hull has volume.
FLAT_HULL_HALF_THICKNESS = 0.0005


class MeshLoadError(ValueError):
    """A mesh file could not be read or holds no triangles."""


# --- loading --------------------------------------------------------------------------------
class _ConfinedResolver(FilePathResolver):
    """Lets a mesh reach its textures anywhere under `root` (PartNet's MTLs name
    ``../images/...``) and nowhere else."""

    def __init__(self, source: Path, root: Path):
        super().__init__(str(source), allow_anywhere=True)
        self.root = root.resolve()

    def get(self, name: str) -> bytes:
        target = (Path(self.parent) / name.strip()).resolve()
        if not target.is_relative_to(self.root):
            raise FileNotFoundError(f"'{name}' is outside '{self.root}'")
        return super().get(name)


def load_mesh_file(
    path: Path, scale=None, root: Path | None = None
) -> list[tuple[trimesh.Trimesh, Material]]:
    """Every triangle mesh in a file with its material, vertices scaled by `scale` (xyz).

    Files the mesh names (MTL, textures) are read only from under `root` (default: the mesh's
    own folder).
    """
    path = Path(path)
    resolver = _ConfinedResolver(path, Path(root) if root is not None else path.parent)
    try:
        loaded = trimesh.load(str(path), process=False, resolver=resolver)
    except Exception as exc:  # trimesh raises many types for bad files
        raise MeshLoadError(f"mesh file '{path.name}' cannot be read: {exc}") from None
    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.dump(concatenate=False) if isinstance(g, trimesh.Trimesh)]
    elif isinstance(loaded, trimesh.Trimesh):
        meshes = [loaded]
    else:
        meshes = []
    meshes = [m for m in meshes if len(m.faces) > 0]
    if not meshes:
        raise MeshLoadError(f"mesh file '{path.name}' holds no triangles")
    out = []
    for index, mesh in enumerate(meshes):
        if not np.all(np.isfinite(mesh.vertices)):
            raise MeshLoadError(f"mesh file '{path.name}' has non-finite vertices")
        if scale is not None:
            mesh.apply_scale(np.asarray(scale, dtype=float))
        out.append((mesh, material_of(mesh, f"{path.stem}_{index}")))
    return out


def material_of(mesh: trimesh.Trimesh, default_name: str) -> Material:
    """The colour (and name) a mesh's own visuals carry."""
    visual = mesh.visual
    material = getattr(visual, "material", None)
    if material is not None:
        name = getattr(material, "name", None) or default_name
        diffuse = getattr(material, "diffuse", None)
        if diffuse is None:
            diffuse = getattr(material, "baseColorFactor", None)
        rgba = _rgba(diffuse) if diffuse is not None else (1.0, 1.0, 1.0, 1.0)
        return Material(name=str(name), rgba=rgba)
    if getattr(visual, "kind", None) in ("face", "vertex"):
        return Material(name=default_name, rgba=_rgba(visual.main_color))
    return Material(name=default_name)


def _rgba(color) -> tuple[float, float, float, float]:
    c = np.asarray(color, dtype=float).ravel()
    if c.max() > 1.0:
        c = c / 255.0
    if c.size == 3:
        c = np.append(c, 1.0)
    return tuple(float(v) for v in np.clip(c[:4], 0.0, 1.0))


def texture_image(mesh: trimesh.Trimesh) -> Image.Image | None:
    """The texture image of a UV-mapped mesh, or None."""
    visual = mesh.visual
    if getattr(visual, "kind", None) != "texture" or getattr(visual, "uv", None) is None:
        return None
    material = visual.material
    image = getattr(material, "image", None)
    if image is None:
        image = getattr(material, "baseColorTexture", None)
    return image


# --- writing --------------------------------------------------------------------------------
class TextureStore:
    """Writes each distinct texture image once into `folder` and hands out its file name."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._names: dict[str, str] = {}

    def add(self, image: Image.Image) -> str:
        image = image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image
        digest = hashlib.sha1(image.tobytes() + repr(image.size).encode()).hexdigest()[:16]
        if digest not in self._names:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{digest}.png"
            image.save(self.folder / name)
            self._names[digest] = name
        return self._names[digest]


def write_obj(
    path: Path, mesh: trimesh.Trimesh, material: Material, textures: TextureStore | None = None
) -> None:
    """Write `mesh` as OBJ with an MTL beside it; a texture goes through `textures`."""
    path = Path(path)
    mtl_path = path.with_suffix(".mtl")
    image = texture_image(mesh) if textures is not None else None
    uv = np.asarray(mesh.visual.uv, dtype=float) if image is not None else None
    mat_name = _safe_name(material.name) or "material"
    lines = [f"mtllib {mtl_path.name}", f"usemtl {mat_name}"]
    lines += [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in np.asarray(mesh.vertices)]
    faces = np.asarray(mesh.faces, dtype=np.int64) + 1
    if uv is not None:
        lines += [f"vt {u:.9g} {v:.9g}" for u, v in uv]
        lines += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in faces]
    else:
        lines += [f"f {a} {b} {c}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")
    r, g, b, a = material.rgba
    mtl = [f"newmtl {mat_name}", f"Kd {r:.6g} {g:.6g} {b:.6g}", f"d {a:.6g}", "illum 1"]
    if image is not None:
        name = textures.add(image)
        rel = Path(
            *[".."] * _depth_below(path.parent, textures.folder.parent), textures.folder.name
        )
        mtl[1] = "Kd 1 1 1"  # the texture carries the colour
        mtl.append(f"map_Kd {(rel / name).as_posix()}")
    mtl_path.write_text("\n".join(mtl) + "\n")


def _depth_below(folder: Path, ancestor: Path) -> int:
    return len(folder.resolve().relative_to(ancestor.resolve()).parts)


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


# --- inertia ----------------------------------------------------------------------------------
def mass_properties(mesh: trimesh.Trimesh, density: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Mass, centre of mass and inertia about it: solid when watertight, else a thin shell."""
    with np.errstate(divide="ignore", invalid="ignore"):
        solid = mesh.is_watertight and mesh.volume > 1e-12
    if solid:
        props = _solid(mesh, density)
        return float(props["mass"]), np.asarray(props["center_mass"]), np.asarray(props["inertia"])
    return _shell(mesh, density * SHELL_THICKNESS)


def _solid(mesh: trimesh.Trimesh, density: float) -> dict:
    copy = mesh.copy()
    copy.density = density
    return copy.mass_properties


def _shell(mesh: trimesh.Trimesh, areal_density: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Exact mass properties of a surface of uniform areal density."""
    tri = np.asarray(mesh.triangles, dtype=float)  # (F, 3, 3)
    areas = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    area = areas.sum()
    if area <= 0.0:
        return 0.0, np.zeros(3), np.zeros((3, 3))
    mass = areal_density * area
    centroids = tri.mean(axis=1)
    com = (areas[:, None] * centroids).sum(axis=0) / area
    # Second moment of a triangle about the origin: A/12 (sum v v^T + s s^T), s = sum of corners.
    rel = tri - com
    s = rel.sum(axis=1)
    second = np.einsum("f,fij->ij", areas / 12.0, np.einsum("fki,fkj->fij", rel, rel)) + np.einsum(
        "f,fi,fj->ij", areas / 12.0, s, s
    )
    second *= areal_density
    inertia = np.trace(second) * np.eye(3) - second
    return mass, com, inertia


def compute_inertial(link: Link, min_mass: float = 1e-3) -> Inertial | None:
    """Inertial of a link from its visual geometry, in the link frame (None with no geometry)."""
    total_mass, weighted_com, parts = 0.0, np.zeros(3), []
    for visual in link.visuals:
        density = visual.material.density or DEFAULT_DENSITY
        mesh = visual.mesh.copy()
        mesh.apply_transform(visual.origin)
        mass, com, inertia = mass_properties(mesh, density)
        if mass > 0.0 and np.all(np.isfinite(inertia)):
            parts.append((mass, com, inertia))
            total_mass += mass
            weighted_com += mass * com
    if total_mass <= 0.0:
        return None
    com = weighted_com / total_mass
    inertia = np.zeros((3, 3))
    for mass, part_com, part_inertia in parts:  # parallel-axis theorem to the link's COM
        d = part_com - com
        inertia += part_inertia + mass * (d @ d * np.eye(3) - np.outer(d, d))
    if total_mass < min_mass:  # scale tiny parts up so simulators stay stable
        inertia *= min_mass / total_mass
        total_mass = min_mass
    return principal_inertial(total_mass, com, inertia)


def principal_inertial(mass: float, com: np.ndarray, inertia: np.ndarray) -> Inertial:
    """An inertial whose frame lies on the principal axes, so every simulator reads it alike.

    PyBullet ignores products of inertia; a diagonal tensor in a rotated frame is read
    identically everywhere. A small isotropic term keeps flat parts strictly valid.
    """
    inertia = 0.5 * (inertia + inertia.T)
    moments, axes = np.linalg.eigh(inertia)
    floor = max(1e-6 * float(moments.max()), 1e-12)
    moments = np.maximum(moments, 0.0) + floor
    if np.linalg.det(axes) < 0:
        axes[:, 2] *= -1.0
    origin = np.eye(4)
    origin[:3, :3] = axes
    origin[:3, 3] = com
    return Inertial(mass=float(mass), inertia=np.diag(moments), origin=origin)


# --- collision geometry -------------------------------------------------------------------------
def convex_hull(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Convex hull of a mesh; flat or thin parts are thickened slightly so the hull has volume."""
    points = np.asarray(mesh.vertices, dtype=float)
    centre = points.mean(axis=0)
    _, singular, directions = np.linalg.svd(points - centre, full_matrices=False)
    extent = singular / math.sqrt(max(len(points), 1))
    thin = [directions[i] for i in range(3) if i >= len(extent) or extent[i] < 1e-5]
    for direction in thin:
        offset = FLAT_HULL_HALF_THICKNESS * direction
        points = np.vstack([points + offset, points - offset])
    hull = trimesh.convex.convex_hull(points)
    hull.fix_normals()
    return hull


def convex_decomposition(mesh: trimesh.Trimesh, threshold: float = 0.08) -> list[trimesh.Trimesh]:
    """Approximate convex decomposition with CoACD (optional dependency)."""
    try:
        import coacd
    except ImportError as exc:
        raise RuntimeError(
            "convex decomposition needs the 'coacd' package: pip install coacd"
        ) from exc
    coacd.set_log_level("error")
    parts = coacd.run_coacd(coacd.Mesh(mesh.vertices, mesh.faces), threshold=threshold)
    return [convex_hull(trimesh.Trimesh(v, f, process=False)) for v, f in parts]
