"""Part tokens: one token per link, and the decoder that turns tokens into a sim-ready object.

A ``PartToken`` holds what the part DiT generates for one link and what conditions it:

- given (the coarse structure): ``name``, ``label``, ``parent`` ("" for the root ``base``),
  ``joint_type``, ``axis`` (unit, canonical frame), ``limits``;
- generated: ``centre`` and ``size`` of the link's rest-pose box in the *normalised object
  frame* (canonical frame divided by the object's extent: x, y in [-0.5, 0.5], z in [0, 1]),
  ``pivot`` relative to that box ((pivot - centre) / size, so a hinge on the box's left edge has
  x = -0.5), the part ``builder`` (a name in ``synth.parts.BUILDERS`` or ``box``) and its
  ``params`` (the builder's ``Params`` vector: lengths divided by the box's largest side,
  unitless fields as they are, see ``UNITLESS``).

``PartTokens`` adds the category, the object's extent in metres and the base's carcass grid
(column and row fractions; None lets the decoder use one opening). ``vector()`` /
``from_vector`` give the model's fixed-width rows (``TOKEN_DIM`` floats per part).

``encode(obj)`` is exact for synthetic objects: boxes and joints are measured on the object,
builders and parameters are read from its part programs (``obj.part_programs``, written by
``synth.Assembly``). ``decode(tokens)`` builds an ``ArticulatedObject`` through the part
builders and these assembly rules: values clipped to sane ranges; each link's builder pieces
fitted into its box (a carcass is rebuilt at the box's size with its walls, so they stay thin);
overlaps at rest between links that are not parent and child removed by shrinking the smaller
box; joint ranges cut back where a sweep would hit a link that is not its parent (link boxes as
oriented boxes, 33 values per joint: the simulator check sweeps 11); inertials from the meshes.
Link names are the token names, joint names ``f"{child}_joint"``. What cannot be made valid
raises a one-line ``DecodeError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import trimesh

from spark_blender.core import model as core_model
from spark_blender.core.kinematics import link_poses
from spark_blender.core.meshes import compute_inertial
from spark_blender.core.model import ArticulatedObject, Joint, Link, Material, Visual
from spark_blender.core.transforms import translation
from spark_blender.synth.parts import BUILDERS, CarcassParams, Piece, build_part, carcass

KINDS: tuple[str, ...] = (*BUILDERS, "box")
# The token ids of the joint types: "root" (the base link) and then the core's types in the
# core's order; the shipped weights (models/dit) were trained with these ids, so neither may
# be reordered.
JOINT_TYPES: tuple[str, ...] = ("root", *core_model.JOINT_TYPES)
PARAM_DIM = max(len(cls.names()) for cls in BUILDERS.values())
UNITLESS: dict[str, float] = {  # field -> divisor; every other field is a length
    "side": 1.0, "handle": 1.0, "handle_u": 1.0, "handle_v": 1.0, "vertical": 1.0,
    "glass": 1.0, "pointer": 1.0, "round": 1.0, "angle": 1.0, "span": 1.0, "segments": 10.0,
    "belly_at": 1.0, "neck": 1.0,
}  # fmt: skip
# centre 3, size 3, pivot 3, params, builder one-hot
TOKEN_DIM = 9 + PARAM_DIM + len(KINDS)
MIN_SIZE_M = 0.004  # the thinnest box side a decoded link gets
ROLE_COLOURS = {
    "body": (0.72, 0.72, 0.70, 1.0), "front": (0.82, 0.80, 0.76, 1.0),
    "handle": (0.55, 0.56, 0.58, 1.0), "knob": (0.20, 0.20, 0.22, 1.0),
}  # fmt: skip


class DecodeError(ValueError):
    """Tokens that cannot become a valid object (the message is one line)."""


@dataclass
class PartToken:
    name: str
    label: str
    parent: str  # "" for the root
    joint_type: str  # one of JOINT_TYPES ("root" for the base)
    axis: np.ndarray  # (3,) unit, canonical frame
    limits: tuple[float, float]
    centre: np.ndarray  # (3,) normalised object frame
    size: np.ndarray  # (3,) normalised object frame
    pivot: np.ndarray  # (3,) relative to the box: (pivot - centre) / size
    builder: str  # a name in KINDS
    params: np.ndarray  # (PARAM_DIM,) normalised builder parameters, zero-padded


@dataclass
class PartTokens:
    category: str
    extent: np.ndarray  # (3,) metres: the object's rest-pose width, depth, height
    parts: list[PartToken] = field(default_factory=list)  # the base first, parents first
    grid: dict | None = None  # base carcass: {"columns": [...], "rows": [[...], ...]}

    def vector(self) -> np.ndarray:
        """(n_parts, TOKEN_DIM): the generated fields of every part, as the model sees them."""
        return np.stack([token_vector(p) for p in self.parts])

    def with_vector(self, rows: np.ndarray) -> PartTokens:
        """A copy with the generated fields replaced by `rows` (n_parts, TOKEN_DIM)."""
        rows = np.asarray(rows, float)
        if rows.shape != (len(self.parts), TOKEN_DIM):
            raise DecodeError(
                f"token rows have shape {rows.shape}, expected ({len(self.parts)}, {TOKEN_DIM})"
            )
        parts = []
        for part, row in zip(self.parts, rows, strict=True):
            parts.append(
                PartToken(
                    part.name,
                    part.label,
                    part.parent,
                    part.joint_type,
                    part.axis.copy(),
                    part.limits,
                    row[0:3].copy(),
                    row[3:6].copy(),
                    row[6:9].copy(),
                    KINDS[int(np.argmax(row[9 + PARAM_DIM :]))],
                    row[9 : 9 + PARAM_DIM].copy(),
                )
            )
        return PartTokens(self.category, self.extent.copy(), parts, self.grid)


def token_vector(part: PartToken) -> np.ndarray:
    onehot = np.zeros(len(KINDS))
    onehot[KINDS.index(part.builder)] = 1.0
    return np.concatenate([part.centre, part.size, part.pivot, part.params, onehot])


# ============================================================================================
# Parameters
# ============================================================================================
def normalise_params(builder: str, values: dict[str, float], scale: float) -> np.ndarray:
    out = np.zeros(PARAM_DIM)
    if builder == "box":
        return out
    for i, name in enumerate(BUILDERS[builder].names()):
        value = float(values[name])
        out[i] = value / UNITLESS[name] if name in UNITLESS else value / scale
    return out


def denormalise_params(builder: str, row: np.ndarray, scale: float) -> np.ndarray:
    names = BUILDERS[builder].names()
    out = np.zeros(len(names))
    for i, name in enumerate(names):
        value = float(row[i])
        if name in UNITLESS:
            out[i] = float(np.clip(value * UNITLESS[name], -3.0, 30.0))
        else:
            out[i] = float(np.clip(value, 0.0, 2.0)) * scale
    return out


# ============================================================================================
# Encoding
# ============================================================================================
def link_boxes(obj: ArticulatedObject, configuration=None) -> dict[str, np.ndarray]:
    """(2, 3) world box of every link's visuals (at rest unless `configuration`)."""
    poses = link_poses(obj, configuration)
    boxes = {}
    for link in obj.links:
        pts = [
            np.asarray(v.mesh.vertices) @ (poses[link.name] @ v.origin)[:3, :3].T
            + (poses[link.name] @ v.origin)[:3, 3]
            for v in link.visuals
        ]
        if not pts:
            p = poses[link.name][:3, 3]
            boxes[link.name] = np.stack([p, p])
            continue
        pts = np.concatenate(pts)
        boxes[link.name] = np.stack([pts.min(0), pts.max(0)])
    return boxes


def _frame_of(boxes: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(bottom centre, extent) of the union of `boxes`."""
    lo = np.min([b[0] for b in boxes.values()], axis=0)
    hi = np.max([b[1] for b in boxes.values()], axis=0)
    return np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]]), np.maximum(hi - lo, 1e-6)


def _main_record(records, link: Link):
    """The builder call that makes most of a link (by the box volume of its pieces)."""
    volume = {}
    for visual in link.visuals:
        lo, hi = visual.mesh.bounds
        volume[visual.name] = float(np.prod(np.maximum(hi - lo, 1e-4)))
    best, best_volume = None, -1.0
    for record in records:
        v = sum(volume.get(name, 0.0) for name in record.pieces)
        if record.builder in BUILDERS:
            v *= 4.0  # a builder call says more about a part than a plain box does
        if v > best_volume:
            best, best_volume = record, v
    return best


def encode(obj: ArticulatedObject, programs: dict | None = None) -> PartTokens:
    """The tokens of `obj` (canonical frame, rest pose). Builders and parameters come from its
    part programs (`programs`, or ``obj.part_programs``); without them every link is a box."""
    programs = programs if programs is not None else getattr(obj, "part_programs", None) or {}
    boxes = link_boxes(obj)
    origin, extent = _frame_of(boxes)
    poses = link_poses(obj)
    parent_joint = {j.child: j for j in obj.joints}
    parts, grid = [], None
    for link in [obj.root] + [obj.link(j.child) for j in obj.joints_from_root()]:
        lo, hi = boxes[link.name]
        centre_m, size_m = (lo + hi) / 2, np.maximum(hi - lo, 1e-9)
        record = _main_record(programs.get(link.name, []), link)
        builder = record.builder if record is not None and record.builder in BUILDERS else "box"
        scale = float(size_m.max())
        params = normalise_params(builder, record.params if record else {}, scale)
        joint = parent_joint.get(link.name)
        if joint is None:
            parent, jtype, axis, limits, pivot = "", "root", np.zeros(3), (0.0, 0.0), np.zeros(3)
            if record is not None and record.grid is not None:
                grid = record.grid
        else:
            frame = poses[joint.parent] @ joint.origin
            pivot_m = frame[:3, 3]
            axis = frame[:3, :3] @ np.asarray(joint.axis, float)
            parent, jtype = joint.parent, joint.type
            limits = (float(joint.lower), float(joint.upper))
            if jtype == "continuous":
                limits = (0.0, 0.0)
            pivot = (pivot_m - centre_m) / size_m
        parts.append(
            PartToken(
                link.name,
                link.label or link.name,
                parent,
                jtype,
                np.asarray(axis, float),
                limits,
                (centre_m - origin) / extent,
                size_m / extent,
                pivot,
                builder,
                params,
            )
        )
    return PartTokens(obj.category, extent, parts, grid)


# ============================================================================================
# Decoding
# ============================================================================================
@dataclass
class _Box:
    lo: np.ndarray
    hi: np.ndarray

    @property
    def size(self) -> np.ndarray:
        return self.hi - self.lo

    @property
    def centre(self) -> np.ndarray:
        return (self.lo + self.hi) / 2


def decode(tokens: PartTokens, category: str | None = None) -> ArticulatedObject:
    """An object built from `tokens` (see the module docstring), or a one-line DecodeError."""
    category = category or tokens.category
    parts = _checked(tokens)
    extent = np.asarray(tokens.extent, float)
    origin = np.zeros(3)
    boxes: dict[str, _Box] = {}
    pivots: dict[str, np.ndarray] = {}
    for part in parts:
        size = np.clip(np.asarray(part.size, float), 0.0, 1.5) * extent
        size = np.maximum(size, MIN_SIZE_M)
        centre = origin + np.clip(part.centre, [-1.0, -1.0, -0.5], [1.0, 1.0, 1.5]) * extent
        boxes[part.name] = _Box(centre - size / 2, centre + size / 2)
        pivots[part.name] = centre + np.clip(part.pivot, -1.5, 1.5) * size
    axes = {p.name: _unit(p.axis, p.name) for p in parts if p.parent}
    limits = {p.name: _limits(p, boxes[p.name], axes.get(p.name)) for p in parts if p.parent}
    parent_of = {p.name: p.parent for p in parts if p.parent}
    meshes = {p.name: _pieces(p, boxes[p.name], tokens.grid, p is parts[0]) for p in parts}
    _separate_at_rest(parts, boxes, meshes, tokens.grid, parent_of)
    _cut_ranges(parts, boxes, meshes, tokens.grid, pivots, axes, limits, parent_of)
    return _assemble(category, parts, boxes, meshes, pivots, axes, limits)


def _checked(tokens: PartTokens) -> list[PartToken]:
    parts = list(tokens.parts)
    if not parts:
        raise DecodeError("the tokens have no parts")
    if parts[0].parent:
        raise DecodeError(f"the first part '{parts[0].name}' must be the root (no parent)")
    seen: set[str] = set()
    for part in parts:
        if part.name in seen:
            raise DecodeError(f"part name '{part.name}' is used twice")
        if part is not parts[0]:
            if part.parent not in seen:
                raise DecodeError(f"part '{part.name}' has parent '{part.parent}' not before it")
            if part.joint_type not in ("fixed", "revolute", "prismatic", "continuous"):
                raise DecodeError(f"part '{part.name}' has joint type '{part.joint_type}'")
        seen.add(part.name)
        if part.builder not in KINDS:
            raise DecodeError(f"part '{part.name}' has unknown builder '{part.builder}'")
        values = np.concatenate([part.centre, part.size, part.pivot, part.params, part.axis])
        if not np.all(np.isfinite(values)) or not all(math.isfinite(v) for v in part.limits):
            raise DecodeError(f"part '{part.name}' has non-finite token values")
    extent = np.asarray(tokens.extent, float)
    if extent.shape != (3,) or not np.all(np.isfinite(extent)) or extent.min() <= 0:
        raise DecodeError(f"object extent {extent.tolist()} is not three positive sizes")
    return parts


def _unit(axis, name: str) -> np.ndarray:
    axis = np.asarray(axis, float)
    norm = float(np.linalg.norm(axis))
    if norm < 1e-6:
        raise DecodeError(f"part '{name}' has a zero joint axis")
    return axis / norm


def _limits(part: PartToken, box: _Box, axis) -> tuple[float, float]:
    if part.joint_type in ("fixed", "continuous"):
        return (0.0, 0.0)
    lo, hi = sorted(float(v) for v in part.limits)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if part.joint_type == "revolute":
        lo, hi = max(lo, -2 * math.pi), min(hi, 2 * math.pi)
        if hi - lo < 1e-3:
            hi = math.pi / 2
    else:
        reach = float(np.abs(box.size @ axis)) * 1.5 + 0.02
        lo, hi = max(lo, -reach), min(hi, reach)
        if hi - lo < 1e-4:
            hi = 0.5 * float(np.abs(box.size @ axis)) + 1e-3
    return (lo, hi)


def _piece_boxes(pieces: list[Piece]) -> np.ndarray:
    """(n, 2, 3) axis-aligned bounds of each piece (world, rest)."""
    return np.stack([p.mesh.bounds for p in pieces])


def _carve(pieces: list[Piece], lo: np.ndarray, hi: np.ndarray) -> list[Piece] | None:
    """`pieces` with the box [lo, hi] cut out of every box piece it enters (up to six boxes
    each); None when a piece it enters is not a box."""
    out = []
    for piece in pieces:
        plo, phi = piece.mesh.bounds
        if np.any(np.minimum(phi, hi) - np.maximum(plo, lo) <= 0.0005):
            out.append(piece)
            continue
        if len(piece.mesh.vertices) != 8:
            return None
        cur_lo, cur_hi = plo.copy(), phi.copy()
        for k in range(3):
            for side in (0, 1):
                part_lo, part_hi = cur_lo.copy(), cur_hi.copy()
                if side == 0:
                    part_hi[k] = min(lo[k], cur_hi[k])
                    cur_lo[k] = max(cur_lo[k], lo[k])
                else:
                    part_lo[k] = max(hi[k], cur_lo[k])
                    cur_hi[k] = min(cur_hi[k], hi[k])
                if np.all(part_hi - part_lo > 0.0005):
                    mesh = trimesh.creation.box(extents=part_hi - part_lo)
                    mesh.apply_translation((part_lo + part_hi) / 2)
                    out.append(Piece(mesh, f"{piece.name}_{k}{side}", piece.role))
    return out


def _move_face_off(boxes, order) -> str | None:
    """Move one face of the first box in `order` that can lose it (keeping 30% of its side)
    just past the other piece's box; returns the box's name, or None when none can."""
    for name, other in order:
        box = boxes[name]
        options = []
        for k in range(3):
            low_side = other[0][k] - 0.0005  # keep the box below the other piece
            high_side = other[1][k] + 0.0005  # or above it
            options.append((box.hi[k] - low_side, k, "hi", low_side))
            options.append((high_side - box.lo[k], k, "lo", high_side))
        for loss, k, face, value in sorted(options):
            keep = box.size[k] - max(loss, 0.0)
            if keep >= max(MIN_SIZE_M, 0.3 * box.size[k]):
                if face == "hi":
                    box.hi[k] = min(box.hi[k], value)
                else:
                    box.lo[k] = max(box.lo[k], value)
                return name
    return None


def _separate_at_rest(parts, boxes, meshes, grid, parent_of) -> None:
    """Shrink the smaller of two links whose pieces overlap at rest (not parent and child)."""
    names = [p.name for p in parts]
    by_name = {p.name: p for p in parts}
    for _ in range(12):
        changed = False
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if parent_of.get(a) == b or parent_of.get(b) == a:
                    continue
                pa, pb = _piece_boxes(meshes[a]), _piece_boxes(meshes[b])
                overlap = np.minimum(pa[:, None, 1], pb[None, :, 1]) - np.maximum(
                    pa[:, None, 0], pb[None, :, 0]
                )  # (na, nb, 3)
                depth = overlap.min(-1)
                if depth.max() <= 0.001:
                    continue
                ia, ib = np.unravel_index(int(np.argmax(depth)), depth.shape)
                if names[0] in (a, b):  # the root makes an opening for the other part
                    other_name = b if a == names[0] else a
                    cut = boxes[other_name]
                    carved = _carve(meshes[names[0]], cut.lo - 0.001, cut.hi + 0.001)
                    if carved is not None:
                        meshes[names[0]] = carved
                        changed = True
                        continue
                va, vb = np.prod(boxes[a].size), np.prod(boxes[b].size)
                order = [(a, pb[ib]), (b, pa[ia])] if va <= vb else [(b, pa[ia]), (a, pb[ib])]
                order = [(n, o) for n, o in order if n != names[0]]
                small = _move_face_off(boxes, order)
                if small is None:
                    raise DecodeError(f"parts '{a}' and '{b}' occupy the same space")
                meshes[small] = _pieces(by_name[small], boxes[small], grid, False)
                changed = True
        if not changed:
            return
    raise DecodeError(f"parts '{a}' and '{b}' still overlap at rest after shrinking them apart")


def _motion(pivot, axis, jtype, value) -> np.ndarray:
    from spark_blender.core.transforms import axis_angle_matrix

    m = np.eye(4)
    if jtype in ("revolute", "continuous"):
        m[:3, :3] = axis_angle_matrix(axis, value)
        m[:3, 3] = pivot - m[:3, :3] @ pivot
    elif jtype == "prismatic":
        m[:3, 3] = axis * value
    return m


def _overlaps(moving: np.ndarray, others: np.ndarray, motion: np.ndarray, margin: float) -> bool:
    """Separating-axis test of rest boxes `moving` (m, 2, 3) moved by `motion` against rest
    boxes `others` (o, 2, 3): does any pair overlap by more than `margin`?"""
    if len(moving) == 0 or len(others) == 0:
        return False
    rot = motion[:3, :3]
    ca = (moving[:, 0] + moving[:, 1]) / 2 @ rot.T + motion[:3, 3]
    ha = (moving[:, 1] - moving[:, 0]) / 2
    cb = (others[:, 0] + others[:, 1]) / 2
    hb = (others[:, 1] - others[:, 0]) / 2
    crosses = np.cross(np.eye(3)[:, None, :], rot.T[None, :, :]).reshape(9, 3)
    norms = np.linalg.norm(crosses, axis=1)
    crosses = crosses[norms > 1e-6] / norms[norms > 1e-6, None]
    axes = np.concatenate([np.eye(3), rot.T, crosses])  # (k, 3)
    ra = ha @ np.abs(rot.T @ axes.T)  # (m, k)
    rb = hb @ np.abs(axes.T)  # (o, k)
    dist = np.abs((cb[None, :, :] - ca[:, None, :]) @ axes.T)  # (m, o, k)
    separated = dist > ra[:, None, :] + rb[None, :, :] - margin
    return bool(np.any(~separated.any(-1)))


def _pairs(moving, meshes, piece_boxes, parent_of) -> list[tuple[np.ndarray, np.ndarray]]:
    """(boxes of a moving link, boxes of every link it must not touch) for each moving link."""
    pairs = []
    for a in moving:
        others = [
            piece_boxes[b]
            for b in meshes
            if b not in moving and parent_of.get(a) != b and parent_of.get(b) != a
        ]
        if others:
            pairs.append((piece_boxes[a], np.concatenate(others)))
    return pairs


def _swept_bounds(boxes: np.ndarray, pivot, axis, part, limits, samples: int = 17):
    """Axis-aligned bounds of piece `boxes` over the joint's range."""
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    pts = np.concatenate([b[corners, [0, 1, 2]] for b in boxes])  # (8n, 3)
    out = []
    for value in np.linspace(limits[0], limits[1], samples):
        m = _motion(pivot, axis, part.joint_type, value)
        out.append(pts @ m[:3, :3].T + m[:3, 3])
    out = np.concatenate(out)
    return out.min(0), out.max(0)


def _cut_ranges(parts, boxes, meshes, grid, pivots, axes, limits, parent_of) -> None:
    """Cut each joint's range back to where its subtree hits no link but its parent; a part
    that cannot move at all is shrunk about its pivot (up to three times) and tried again."""
    children: dict[str, list[str]] = {}
    for p in parts:
        if p.parent:
            children.setdefault(p.parent, []).append(p.name)

    def subtree(name):
        out = [name]
        for c in children.get(name, []):
            out += subtree(c)
        return out

    root = parts[0].name
    piece_boxes = {name: _piece_boxes(m) for name, m in meshes.items()}
    for part in parts:
        if not part.parent or part.joint_type == "fixed":
            continue
        moving = subtree(part.name)
        for attempt in range(4):
            if attempt == 1:  # move the faces of the links in the way off the swept region
                _clear_sweep(part, moving, root, boxes, meshes, piece_boxes, grid, pivots, axes,
                             limits[part.name], parent_of, {p.name: p for p in parts})  # fmt: skip
            elif attempt:  # shrink the part towards its pivot and rebuild it
                box, pivot = boxes[part.name], pivots[part.name]
                box.lo = pivot + (box.lo - pivot) * 0.8
                box.hi = pivot + (box.hi - pivot) * 0.8
                meshes[part.name] = _pieces(part, box, grid, False)
                piece_boxes[part.name] = _piece_boxes(meshes[part.name])
            result = _free_range(part, moving, root, meshes, piece_boxes, pivots, axes,
                                 limits[part.name], parent_of)  # fmt: skip
            if result is not None:
                limits[part.name] = result
                break
        else:
            raise DecodeError(f"part '{part.name}' cannot move without hitting its neighbours")


def _clear_sweep(part, moving, root, boxes, meshes, piece_boxes, grid, pivots, axes, limits,
                 parent_of, by_name) -> None:  # fmt: skip
    """Shrink every link (not the root, not a parent or child of a moving link) whose box
    enters the region the moving subtree sweeps through, off that region."""
    lo, hi = limits if part.joint_type != "continuous" else (-math.pi, math.pi)
    for a in moving:
        swept_lo, swept_hi = _swept_bounds(piece_boxes[a], pivots[part.name], axes[part.name],
                                           part, (lo, hi))  # fmt: skip
        for b in list(meshes):
            if b in moving or b == root or parent_of.get(a) == b or parent_of.get(b) == a:
                continue
            box = boxes[b]
            if np.any(np.minimum(box.hi, swept_hi) - np.maximum(box.lo, swept_lo) <= 0.0005):
                continue
            region = np.stack([swept_lo, swept_hi])
            if _move_face_off(boxes, [(b, region)]) is not None:
                meshes[b] = _pieces(by_name[b], boxes[b], grid, False)
                piece_boxes[b] = _piece_boxes(meshes[b])


def _free_range(part, moving, root, meshes, piece_boxes, pivots, axes, limits, parent_of,
                samples: int = 33):  # fmt: skip
    """The joint range with no contact (cut back from `limits`), or None when there is none."""
    pairs = _pairs(moving, meshes, piece_boxes, parent_of)

    def hits(value) -> bool:
        m = _motion(pivots[part.name], axes[part.name], part.joint_type, value)
        return any(_overlaps(a, b, m, 0.001) for a, b in pairs)

    if part.joint_type == "continuous":
        return None if any(hits(v) for v in np.linspace(-math.pi, math.pi, 25)) else (0.0, 0.0)
    lo, hi = limits
    if root not in moving and any(hits(v) for v in np.linspace(lo, hi, samples) if v != 0.0):
        # open the root up where the subtree sweeps, when its pieces there are boxes
        carved = meshes[root]
        for a in moving:
            if parent_of.get(a) == root or not carved:
                continue
            box_lo, box_hi = _swept_bounds(piece_boxes[a], pivots[part.name], axes[part.name],
                                           part, (lo, hi))  # fmt: skip
            carved = _carve(carved, box_lo - 0.0015, box_hi + 0.0015)
        if carved:
            meshes[root] = carved
            piece_boxes[root] = _piece_boxes(carved)
            pairs = _pairs(moving, meshes, piece_boxes, parent_of)
    new = []
    for end in (lo, hi):
        if end == 0.0:
            new.append(0.0)
            continue
        values = np.linspace(0.0, end, samples)[1:]
        if not any(hits(v) for v in values):
            new.append(end)
            continue
        safe = 0.0
        for value in values:
            if hits(value):
                break
            safe = float(value)
        new.append(safe * 0.97)
    if new[1] - new[0] < 0.1 * (hi - lo):
        return None
    return (new[0], new[1])


def _fit(pieces: list[Piece], box: _Box) -> list[Piece]:
    """`pieces` scaled and moved so their bounds are `box` (meshes stay watertight)."""
    lo = np.min([p.mesh.bounds[0] for p in pieces], axis=0)
    hi = np.max([p.mesh.bounds[1] for p in pieces], axis=0)
    scale = box.size / np.maximum(hi - lo, 1e-9)
    out = []
    for p in pieces:
        v = (np.asarray(p.mesh.vertices) - lo) * scale + box.lo
        out.append(Piece(trimesh.Trimesh(v, p.mesh.faces.copy(), process=False), p.name, p.role))
    return out


def _pieces(part: PartToken, box: _Box, grid: dict | None, is_root: bool) -> list[Piece]:
    """The builder's pieces for one part, fitted into its box; a plain box when it fails."""
    size = box.size
    scale = float(size.max())
    if part.builder == "carcass":
        values = denormalise_params("carcass", part.params, scale)
        wall = float(np.clip(values[3], 0.004, 0.2 * size.min()))
        back = float(np.clip(values[4], 0.002, 0.2 * size[1]))
        plinth = float(np.clip(values[5], 0.0, 0.25 * size[2]))
        p = CarcassParams(size[0], size[1], size[2], wall, back, plinth)
        columns, rows = [1.0], [[1.0]]
        if grid is not None and is_root:
            columns, rows = list(grid["columns"]), [list(r) for r in grid["rows"]]
        try:
            pieces = carcass(p, columns, rows)[0]
            return _fit(pieces, box)
        except Exception:  # noqa: BLE001 - a bad grid falls back to one opening
            return _fit(carcass(p, [1.0], [[1.0]])[0], box)
    if part.builder != "box":
        try:
            values = denormalise_params(part.builder, part.params, scale)
            pieces = build_part(part.builder, values)
            if pieces and all(
                len(p.mesh.faces) and np.all(np.isfinite(p.mesh.vertices)) for p in pieces
            ):
                return _fit(pieces, box)
        except Exception:  # noqa: BLE001 - any builder failure falls back to the part's box
            pass
    role = "body" if is_root else "front"
    return [Piece(trimesh.creation.box(extents=size).apply_translation(box.centre), "box", role)]


def _assemble(category, parts, boxes, meshes, pivots, axes, limits) -> ArticulatedObject:
    # The canonical frame: bottom centre of the rest boxes at the origin.
    lo = np.min([b.lo for b in boxes.values()], axis=0)
    hi = np.max([b.hi for b in boxes.values()], axis=0)
    shift = -np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    for box in boxes.values():
        box.lo, box.hi = box.lo + shift, box.hi + shift
    frames = {parts[0].name: np.zeros(3)}
    for part in parts[1:]:
        frames[part.name] = pivots[part.name] + shift
    links, joints = [], []
    for part in parts:
        visuals = []
        for i, piece in enumerate(meshes[part.name]):
            mesh = piece.mesh.copy()
            mesh.apply_translation(shift - frames[part.name])
            colour = ROLE_COLOURS.get(piece.role, ROLE_COLOURS["body"])
            visuals.append(
                Visual(mesh=mesh, material=Material(f"{part.name}_{piece.role}", colour),
                       name=f"{part.name}_{i}")
            )  # fmt: skip
        links.append(Link(name=part.name, visuals=visuals, label=part.label))
        if part.parent:
            lo_, hi_ = limits[part.name]
            joints.append(
                Joint(
                    name=f"{part.name}_joint",
                    type=part.joint_type,
                    parent=part.parent,
                    child=part.name,
                    origin=translation(frames[part.name] - frames[part.parent]),
                    axis=axes[part.name],
                    lower=lo_,
                    upper=hi_,
                    effort=20.0,
                    velocity=1.0,
                    label=part.label,
                )
            )
    obj = ArticulatedObject(f"{category}_generated", links, joints, category)
    for link in obj.links:
        link.inertial = compute_inertial(link)
    problems = obj.validate(require_inertia=True, require_rest_in_limits=False)
    if problems:
        raise DecodeError(f"decoded object is invalid: {problems[0]}")
    return obj
