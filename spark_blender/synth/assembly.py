"""Assembling parts into a core ``ArticulatedObject`` in the canonical frame.

``Assembly`` collects links (lists of ``Piece``), joints and the object's finishes; ``build``
moves the base so the origin is the bottom centre of the rest-pose bounding box, turns pieces
into textured visuals and computes every link's inertial from its geometry. ``fill_cell`` puts a
door, a pair of doors, a drawer or a flap into a carcass opening with the clearances that keep
neighbours from touching anywhere in their joint ranges.

Part programs: ``build`` also writes ``obj.part_programs`` (link name -> list of ``PartRecord``):
per link, the part builders it used (builder name, ``Params``, the placement frame of the call's
pieces in the link frame) and, for carcasses, the grid of openings. Pieces made without a builder
are recorded as ``box`` primitives (axis-aligned boxes: size and centre) or ``mesh`` (bounds
only). The records are additions: the geometry is the same with or without them.

Couplings: ``build`` writes ``obj.couplings`` (joint name -> (joint name, value)): joints that
move only while another stands at a value (`Assembly.couple`); `synth.dataset` poses them so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spark_blender.core.kinematics import link_poses
from spark_blender.core.meshes import compute_inertial
from spark_blender.core.model import ArticulatedObject, Joint, Link, Visual
from spark_blender.core.transforms import translation
from spark_blender.synth.materials import Finish, apply_finish
from spark_blender.synth.parts import (
    BUILDERS,
    Cell,
    DoorParams,
    DrawerParams,
    Piece,
    drawer,
    panel_door,
)

CLEARANCE = 0.003  # gap (m) between a moving part and anything it could touch


@dataclass
class PartRecord:
    """One builder call of a link's part program (frame: the call's pieces in the link frame)."""

    builder: str  # a name in parts.BUILDERS, or "box" / "mesh" for pieces made without one
    params: dict[str, float]
    frame: np.ndarray = field(default_factory=lambda: np.eye(4))
    pieces: list[str] = field(default_factory=list)
    grid: dict | None = None  # carcass: {"columns": [...], "rows": [[...], ...]} (fractions)

    def to_json(self) -> dict:
        out = {
            "builder": self.builder,
            "params": {k: round(float(v), 9) for k, v in self.params.items()},
            "frame": np.round(self.frame, 9).tolist(),
            "pieces": list(self.pieces),
        }
        if self.grid is not None:
            out["grid"] = self.grid
        return out


@dataclass
class PendingJoint:
    name: str
    type: str
    parent: str
    child: str
    xyz: np.ndarray
    axis: np.ndarray
    lower: float
    upper: float
    label: str


class Assembly:
    """Links and joints of one object under construction (coordinates in the base frame)."""

    def __init__(self, name: str, category: str, finishes: dict[str, Finish]):
        self.name = name
        self.category = category
        self.finishes = finishes
        self.links: dict[str, tuple[str, list[Piece]]] = {}
        self.joints: list[PendingJoint] = []
        self.couplings: dict[str, tuple[str, float]] = {}  # child link -> (link, value) it needs

    def add_link(self, name: str, label: str, pieces: list[Piece]) -> str:
        if name in self.links:
            raise ValueError(f"link '{name}' added twice")
        self.links[name] = (label, list(pieces))
        return name

    def extend(self, name: str, pieces: list[Piece]) -> None:
        self.links[name][1].extend(pieces)

    def add_joint(
        self,
        type_: str,
        parent: str,
        child: str,
        xyz,
        axis=(1.0, 0.0, 0.0),
        limits: tuple[float, float] = (0.0, 0.0),
        label: str = "",
    ) -> None:
        axis = np.asarray(axis, float)
        self.joints.append(
            PendingJoint(
                f"joint_{len(self.joints)}",
                type_,
                parent,
                child,
                np.asarray(xyz, float),
                axis / np.linalg.norm(axis),
                float(limits[0]),
                float(limits[1]),
                label,
            )
        )

    def couple(self, link: str, needs: str, value: float) -> None:
        """`link` moves only while the joint of `needs` is at `value` (a dish rack slides out once
        the door is open); `build` writes it to ``obj.couplings`` by joint name."""
        self.couplings[link] = (needs, float(value))

    def count(self, label: str) -> int:
        return sum(1 for lab, _ in self.links.values() if lab == label)

    def build(self) -> ArticulatedObject:
        links = [self._link(name, label, pieces) for name, (label, pieces) in self.links.items()]
        joints = [
            Joint(
                name=j.name,
                type=j.type,
                parent=j.parent,
                child=j.child,
                origin=translation(j.xyz),
                axis=j.axis,
                lower=j.lower if j.type != "continuous" else 0.0,
                upper=j.upper if j.type != "continuous" else 0.0,
                effort=20.0,
                velocity=1.0,
                label=j.label,
            )
            for j in self.joints
        ]
        obj = ArticulatedObject(self.name, links, joints, self.category)
        _recentre(obj)
        for link in obj.links:
            link.inertial = compute_inertial(link)
        obj.assert_valid()
        obj.part_programs = {
            link.name: _program(self.links[link.name][1], link) for link in obj.links
        }
        joint_of = {j.child: j.name for j in obj.joints}
        obj.couplings = {
            joint_of[link]: (joint_of[needs], value)
            for link, (needs, value) in self.couplings.items()
        }
        return obj

    def _link(self, name: str, label: str, pieces: list[Piece]) -> Link:
        visuals = []
        for piece in pieces:
            finish = self.finishes.get(piece.role) or self.finishes["body"]
            visuals.append(
                Visual(
                    mesh=apply_finish(piece.mesh, finish),
                    material=finish.material(),
                    name=piece.name,
                )
            )
        return Link(name=name, visuals=visuals, label=label)


def _program(pieces: list[Piece], link: Link) -> list[PartRecord]:
    """The part program of one link: its pieces grouped by the builder call that made them."""
    records: list[PartRecord] = []
    by_call: dict[int, PartRecord] = {}
    for piece, visual in zip(pieces, link.visuals, strict=True):
        final = np.asarray(piece.mesh.vertices, float)
        call = piece.call
        if call is None:
            lo, hi = final.min(0), final.max(0)
            is_box = len(final) == 8 and np.all(np.isclose(final, lo) | np.isclose(final, hi))
            frame = visual.origin @ translation((lo + hi) / 2)
            params = dict(zip(("width", "depth", "height"), (hi - lo).tolist(), strict=True))
            records.append(PartRecord("box" if is_box else "mesh", params, frame, [piece.name]))
            continue
        if id(call) in by_call:
            by_call[id(call)].pieces.append(piece.name)
            continue
        frame = visual.origin @ _rigid_fit(piece.built, final) @ translation(call.offset)
        grid = (
            {"columns": list(call.grid[0]), "rows": [list(r) for r in call.grid[1]]}
            if call.grid is not None
            else None
        )
        names = BUILDERS[call.builder].names()
        params = dict(zip(names, call.params.vector().tolist(), strict=True))
        record = PartRecord(call.builder, params, frame, [piece.name], grid)
        by_call[id(call)] = record
        records.append(record)
    return records


def _rigid_fit(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The rigid 4x4 transform taking `source` points onto `target` (least squares, Kabsch)."""
    a, b = source.mean(0), target.mean(0)
    u, _, vt = np.linalg.svd((source - a).T @ (target - b))
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    rotation = np.where(np.abs(rotation - np.round(rotation)) < 1e-9, np.round(rotation), rotation)
    out = np.eye(4)
    out[:3, :3] = rotation
    out[:3, 3] = b - rotation @ a
    return out


def _recentre(obj: ArticulatedObject) -> None:
    """Move the base so the rest-pose bounding box's bottom centre is the origin."""
    poses = link_poses(obj)
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for link in obj.links:
        for visual in link.visuals:
            points = visual.mesh.bounds  # (2, 3) corners of an axis-aligned box
            corners = np.array(
                [[x, y, z] for x in points[:, 0] for y in points[:, 1] for z in points[:, 2]]
            )
            world = (
                corners @ (poses[link.name] @ visual.origin)[:3, :3].T
                + (poses[link.name] @ visual.origin)[:3, 3]
            )
            lo, hi = np.minimum(lo, world.min(0)), np.maximum(hi, world.max(0))
    offset = -np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    shift = translation(offset)
    base = obj.root
    for visual in base.visuals:
        visual.origin = shift @ visual.origin
    for joint in obj.child_joints(base.name):
        joint.origin = shift @ joint.origin


# ============================================================================================
# Filling carcass openings
# ============================================================================================
@dataclass
class Outer:
    """The carcass's outer bounds in x and z: fronts of edge cells overlay the side panels."""

    x0: float
    x1: float
    z0: float
    z1: float
    wall: float


def front_rect(cell: Cell, outer: Outer) -> tuple[float, float, float, float]:
    """x0, x1, z0, z1 of the front covering `cell`.

    Edges on the carcass's outside overlay the panel; inner edges stop `CLEARANCE` inside the
    cell, so two neighbouring fronts are a divider plus two clearances apart: more than a door's
    thickness, which is how far a door's hinge corner swings towards its neighbour.
    """
    eps = 1e-6
    x0 = outer.x0 if cell.x0 - outer.wall <= outer.x0 + eps else cell.x0 + CLEARANCE
    x1 = outer.x1 if cell.x1 + outer.wall >= outer.x1 - eps else cell.x1 - CLEARANCE
    z0 = outer.z0 if cell.z0 - outer.wall <= outer.z0 + eps else cell.z0 + CLEARANCE
    z1 = outer.z1 if cell.z1 + outer.wall >= outer.z1 - eps else cell.z1 - CLEARANCE
    return x0, x1, z0, z1


def fill_cell(
    asm: Assembly,
    parent: str,
    cell: Cell,
    outer: Outer,
    kind: str,
    rng: np.random.Generator,
    thickness: float,
    door_limit: float = math.pi / 2,
    handle: float = 1.0,
    hinge_side: float | None = None,
    door_style: tuple[float, float] = (0.0, 0.0),
) -> list[str]:
    """Put a `kind` front (door, door_pair, drawer, flap_down, flap_up, open) into `cell`.

    `door_style` is the doors' (frame, glass) pair of ``DoorParams``: plain (0, 0), a raised
    moulding (frame width, 0) or a glazed frame (frame width, 1).
    """
    x0, x1, z0, z1 = front_rect(cell, outer)
    yf = cell.y_front
    names: list[str] = []
    if kind == "open":
        return names
    if kind == "drawer":
        n = asm.count("drawer")
        name = asm.add_link(f"drawer_{n}", "drawer", [])
        box_w = cell.width - 2 * CLEARANCE
        box_h = cell.height - 2 * CLEARANCE - min(0.01, 0.3 * cell.height)
        box_d = cell.depth - 2 * CLEARANCE
        params = DrawerParams(
            width=box_w,
            height=box_h,
            depth=box_d,
            wall=min(0.012, box_w / 8),
            front_width=x1 - x0,
            front_height=z1 - z0,
            front_thickness=thickness,
            handle=handle,
            handle_length=min(0.16, 0.45 * (x1 - x0)),
        )
        # Drawer frame: bottom centre of the box at the front plane; the front is centred on it
        # in x but spans [z0, z1], which is asymmetric about the box when the cell is at an edge.
        zb = cell.z0 + CLEARANCE
        pieces = drawer(params, name)
        shift_x = (x0 + x1) / 2 - (cell.x0 + cell.x1) / 2
        shift_z = (z0 + z1) / 2 - (zb + box_h / 2)
        pieces[0].mesh.apply_translation((shift_x, 0, shift_z))
        for piece in pieces[5:]:  # the handle follows the front
            piece.mesh.apply_translation((shift_x, 0, shift_z))
        asm.extend(name, pieces)
        travel = box_d * float(rng.uniform(0.6, 0.85))
        asm.add_joint(
            "prismatic",
            parent,
            name,
            ((cell.x0 + cell.x1) / 2, yf, zb),
            (0, -1, 0),
            (0.0, travel),
            "drawer",
        )
        return [name]
    if kind in ("flap_down", "flap_up"):
        n = asm.count("door")
        name = f"door_{n}"
        w, h = x1 - x0, z1 - z0
        params = DoorParams(
            width=h,
            height=w,
            thickness=thickness,
            side=1.0,
            handle=handle,
            handle_u=0.9,
            handle_v=0.5,
            handle_length=min(0.2, 0.5 * w),
            frame=door_style[0],
            glass=door_style[1],
        )
        pieces = panel_door(params, name)
        # A door built with its hinge along Z, turned so the hinge runs along X.
        down = kind == "flap_down"
        rot = _flap_rotation(down)
        for piece in pieces:
            piece.mesh.apply_transform(rot)
        asm.add_link(name, "door", pieces)
        hinge_z = z0 if down else z1
        asm.add_joint(
            "revolute",
            parent,
            name,
            (x1 if down else x0, yf, hinge_z),
            (1, 0, 0) if down else (-1, 0, 0),
            (0.0, door_limit),
            "door",
        )
        return [name]
    if kind == "door_pair":
        mid = (x0 + x1) / 2
        left, right = (x0, mid - CLEARANCE / 2, z0, z1), (mid + CLEARANCE / 2, x1, z0, z1)
        names += _door(asm, parent, left, yf, 1.0, thickness, door_limit, handle, door_style)
        names += _door(asm, parent, right, yf, -1.0, thickness, door_limit, handle, door_style)
        return names
    side = hinge_side
    if side is None:
        at_left = abs(x0 - outer.x0) < 1e-6
        at_right = abs(x1 - outer.x1) < 1e-6
        side = (
            1.0
            if at_left and not at_right
            else -1.0
            if at_right and not at_left
            else (1.0 if rng.random() < 0.5 else -1.0)
        )
    rect = (x0, x1, z0, z1)
    return _door(asm, parent, rect, yf, side, thickness, door_limit, handle, door_style)


def _door(asm, parent, rect, yf, side, thickness, limit, handle, style=(0.0, 0.0)) -> list[str]:
    x0, x1, z0, z1 = rect
    n = asm.count("door")
    name = f"door_{n}"
    params = DoorParams(
        width=x1 - x0,
        height=z1 - z0,
        thickness=thickness,
        side=side,
        handle=handle,
        handle_u=0.85,
        handle_v=0.5,
        handle_length=min(0.3, 0.4 * (z1 - z0)),
        frame=style[0],
        glass=style[1],
    )
    asm.add_link(name, "door", panel_door(params, name))
    hinge_x = x0 if side > 0 else x1
    # Opening turns the free edge towards -Y: about -Z for a left hinge, +Z for a right one.
    axis = (0, 0, -1) if side > 0 else (0, 0, 1)
    asm.add_joint("revolute", parent, name, (hinge_x, yf, z0), axis, (0.0, limit), "door")
    return [name]


def _flap_rotation(down: bool) -> np.ndarray:
    """Turns a Z-hinged door (extending +X, height along +Z) into an X-hinged flap.

    Down-flap: a quarter turn about -Y: the panel rises +Z from a hinge at its bottom and its
    height runs along -X (so the hinge origin sits at the right end). Up-flap: a quarter turn
    about +Y: the panel hangs -Z from a hinge at its top, height along +X.
    """
    import trimesh

    angle = -math.pi / 2 if down else math.pi / 2
    return trimesh.transformations.rotation_matrix(angle, [0, 1, 0])
