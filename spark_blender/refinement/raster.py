"""A differentiable soft silhouette renderer in plain torch (SoftRas-style, no compiled kernels).

Every face f casts a soft coverage on a pixel p, D_f(p) = sigmoid(sharpness * s_f(p)), where
s_f(p) is the signed screen-space distance (pixels) from the pixel centre to the triangle's
boundary, positive inside. Coverages combine as a probabilistic union,
S(p) = 1 - prod_f (1 - D_f(p)), which is computed as 1 - exp(sum_f logsigmoid(-sharpness * s)).

Speed: a face only reaches pixels within `margin` of it, where D_f falls below `eps`; so the
renderer lists (face, pixel) pairs from each face's screen bounding box grown by that margin and
works on those pairs alone. Cost grows with the pixels the faces cover, not pixels x faces.
``render_silhouette_dense`` runs the same arithmetic on every pixel for every face (the baseline
of the benchmark, and a check that culling drops nothing that matters).

Camera: Blender's perspective camera (``spark_blender.core.camera.Camera``), looking along -Z with
+Y up; pixel (i, j) has its centre at (i + 0.5, j + 0.5), y down. Faces with a vertex behind the
near plane are dropped (the optimizer's views never cut through the object). Works in float32 or
float64 on whatever device the vertices live on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

# Pairs handled per chunk by the dense baseline, to bound its memory.
_DENSE_CHUNK_PAIRS = 1 << 19


@dataclass(frozen=True)
class RasterSettings:
    """Image size and softness. `sharpness` is in 1/pixels: the coverage a pixel centre gets from
    a face it lies d pixels inside is sigmoid(sharpness * d); 1-2 is soft (wide gradients), 20+ is
    practically a hard edge."""

    width: int
    height: int
    sharpness: float = 4.0
    eps: float = 1e-3  # coverage below which a face's influence on a pixel is dropped
    near: float = 1e-4  # faces with a vertex closer than this to the camera plane are dropped
    saturation: float = 1e-6  # pixels covered above 1 - saturation are constants (see below)

    @property
    def margin(self) -> float:
        """Pixels beyond a face's edge where its coverage is still above eps."""
        return math.log(1.0 / self.eps) / self.sharpness


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels (Blender's principal point is the image centre + shift)."""

    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_camera(cls, camera) -> Intrinsics:
        return cls(*camera.intrinsics())


def project(
    vertices: torch.Tensor, world_to_cam: torch.Tensor, intrinsics: Intrinsics
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel coordinates (V, 2) and depth in front of the camera (V,) of world vertices (V, 3)."""
    cam = vertices @ world_to_cam[:3, :3].transpose(0, 1) + world_to_cam[:3, 3]
    depth = -cam[:, 2]  # Blender cameras look along -Z
    safe = torch.where(depth.abs() > 1e-12, depth, torch.full_like(depth, 1e-12))
    x = intrinsics.cx + intrinsics.fx * cam[:, 0] / safe
    y = intrinsics.cy - intrinsics.fy * cam[:, 1] / safe
    return torch.stack([x, y], dim=1), depth


def _face_table(screen: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Per face, the row that each of its pairs gathers: for every edge k, the signed distance
    to its line (A x + B y + C, in pixels, positive on the inner side), the position along it
    measured from its midpoint (P x + Q y + R) and its half length H: columns
    [A(3) B(3) C(3) P(3) Q(3) R(3) H(3)], (F, 21). Everything per pair is then a few fused
    multiply-adds, and backward is one index_add into this small table."""
    corners = screen[faces]  # (F, 3, 2)
    edges = corners.roll(-1, dims=1) - corners
    length = torch.sqrt((edges * edges).sum(-1) + 1e-20)  # (F, 3)
    ex, ey = edges[..., 0] / length, edges[..., 1] / length
    ax, ay = corners[..., 0], corners[..., 1]
    e0, e1 = edges[:, 0], edges[:, 1]
    winding = torch.sign(e0[:, 0] * e1[:, 1] - e0[:, 1] * e1[:, 0]).detach().unsqueeze(1)
    half = 0.5 * length
    return torch.cat(
        [
            -winding * ey,
            winding * ex,
            winding * (ey * ax - ex * ay),
            ex,
            ey,
            -(ex * ax + ey * ay) - half,
            half,
        ],
        dim=1,
    )


def _signed_distance(table: torch.Tensor, face_idx, px, py) -> torch.Tensor:
    """Signed distance (pixels, + inside) from each pair's pixel centre to its face's boundary.

    Inside a triangle that is the nearest edge line's distance; outside, the distance to the
    nearest edge segment (line distance and overshoot past the segment's ends, combined)."""
    rows = table.index_select(0, face_idx)  # (N, 21)
    A, B, C, P, Q, R, H = rows.view(-1, 7, 3).unbind(1)  # each (N, 3), one column per edge
    x = (px.to(table.dtype) + 0.5).unsqueeze(1)
    y = (py.to(table.dtype) + 0.5).unsqueeze(1)
    line = torch.addcmul(torch.addcmul(C, A, x), B, y)
    along = torch.addcmul(torch.addcmul(R, P, x), Q, y)
    overshoot = torch.relu(along.abs() - H)
    outside = torch.sqrt(torch.addcmul(line * line, overshoot, overshoot).amin(dim=1) + 1e-12)
    inner = line.amin(dim=1)
    return torch.where(inner > 0, inner, -outside)


def _pair_log_miss(table, face_idx, px, py, sharpness: float) -> torch.Tensor:
    """log(1 - D) of each (face, pixel) pair."""
    return F.logsigmoid(-sharpness * _signed_distance(table, face_idx, px, py))


def _face_pairs(corners: torch.Tensor, settings: RasterSettings):
    """(face, column, row) of every pixel inside each face's bounding box grown by the margin."""
    with torch.no_grad():
        xs, ys = corners[..., 0], corners[..., 1]
        margin = settings.margin + 0.5  # pixel i's centre is i + 0.5
        x0 = (xs.amin(dim=1) - margin).ceil().clamp(0, settings.width).long()
        y0 = (ys.amin(dim=1) - margin).ceil().clamp(0, settings.height).long()
        x1 = (xs.amax(dim=1) + settings.margin - 0.5).floor().clamp(-1, settings.width - 1).long()
        y1 = (ys.amax(dim=1) + settings.margin - 0.5).floor().clamp(-1, settings.height - 1).long()
        span_x = (x1 - x0 + 1).clamp_min(0)
        counts = span_x * (y1 - y0 + 1).clamp_min(0)
        face_idx = torch.repeat_interleave(torch.arange(len(counts), device=corners.device), counts)
        starts = torch.cumsum(counts, 0) - counts
        local = torch.arange(len(face_idx), device=corners.device) - starts[face_idx]
        sx = span_x[face_idx]
        px = x0[face_idx] + local % sx
        py = y0[face_idx] + torch.div(local, sx, rounding_mode="floor")
    return face_idx, px, py


def _row_spans(corners: torch.Tensor, height: int):
    """Every (face, pixel row) whose centre line crosses the face: face index, row, and the x
    interval [x0, x1] of the face on that line (scanline, no autograd)."""
    ys = corners[..., 1]
    y0 = (ys.amin(dim=1) - 0.5).ceil().clamp(0, height).long()
    y1 = (ys.amax(dim=1) - 0.5).floor().clamp(-1, height - 1).long()
    counts = (y1 - y0 + 1).clamp_min(0)
    face = torch.repeat_interleave(torch.arange(len(counts), device=corners.device), counts)
    starts = torch.cumsum(counts, 0) - counts
    row = y0[face] + torch.arange(len(face), device=corners.device) - starts[face]
    a = corners[face]  # (N, 3, 2)
    b = corners.roll(-1, dims=1)[face]
    ya, yb, yc = a[..., 1], b[..., 1], (row.to(corners.dtype) + 0.5).unsqueeze(1)
    crosses = ((ya <= yc) & (yb > yc)) | ((yb <= yc) & (ya > yc))
    t = (yc - ya) / torch.where(crosses, yb - ya, torch.ones_like(ya))
    x = a[..., 0] + t * (b[..., 0] - a[..., 0])
    inf = torch.full_like(x, math.inf)
    return (
        face,
        row,
        torch.where(crosses, x, inf).amin(dim=1),
        torch.where(crosses, x, -inf).amax(1),
    )


def _band_pairs(corners: torch.Tensor, settings: RasterSettings, face_image, images: int):
    """The (face, pixel) pairs that can matter, and the pixels every face leaves saturated.

    A face reaches the pixels within `margin` of it: per pixel row, the x extent of the face
    clipped to the band [centre - margin, centre + margin], grown by the margin (tighter than
    the face's box for slanted faces). Pixels deeper inside one face than the saturation depth
    (the face shrunk towards its incentre by that depth) are covered above 1 - saturation
    whatever else happens: they are marked saturated and get no pairs at all."""
    width, height = settings.width, settings.height
    margin = settings.margin
    device = corners.device
    ys = corners[..., 1]
    y0 = (ys.amin(dim=1) - margin - 0.5).ceil().clamp(0, height).long()
    y1 = (ys.amax(dim=1) + margin - 0.5).floor().clamp(-1, height - 1).long()
    counts = (y1 - y0 + 1).clamp_min(0)
    face = torch.repeat_interleave(torch.arange(len(counts), device=device), counts)
    starts = torch.cumsum(counts, 0) - counts
    row = y0[face] + torch.arange(len(face), device=device) - starts[face]
    centre = row.to(corners.dtype) + 0.5
    lo_y, hi_y = (centre - margin).unsqueeze(1), (centre + margin).unsqueeze(1)
    a = corners[face]
    b = corners.roll(-1, dims=1)[face]
    ya, yb, xa, xb = a[..., 1], b[..., 1], a[..., 0], b[..., 0]
    inf = torch.full_like(ya, math.inf)
    inside = (ya >= lo_y) & (ya <= hi_y)
    lo = torch.where(inside, xa, inf).amin(dim=1)
    hi = torch.where(inside, xa, -inf).amax(dim=1)
    for level in (lo_y, hi_y):  # edges crossing the band's two boundary lines
        crosses = ((ya <= level) & (yb > level)) | ((yb <= level) & (ya > level))
        t = (level - ya) / torch.where(crosses, yb - ya, torch.ones_like(ya))
        x = xa + t * (xb - xa)
        lo = torch.minimum(lo, torch.where(crosses, x, inf).amin(dim=1))
        hi = torch.maximum(hi, torch.where(crosses, x, -inf).amax(dim=1))
    c0 = (lo - margin - 0.5).ceil().clamp(0, width).long()
    c1 = (hi + margin - 0.5).floor().clamp(-1, width - 1).long()
    # Saturated cores: each face shrunk towards its incentre by the saturation depth.
    depth = math.log(1.0 / settings.saturation) / settings.sharpness
    edges = corners.roll(-1, dims=1) - corners
    side = torch.sqrt((edges * edges).sum(-1))  # side k runs from corner k to k+1
    opposite = side.roll(-1, dims=1)  # the side opposite corner k
    perimeter = side.sum(1).clamp_min(1e-12)
    centre_in = (opposite.unsqueeze(-1) * corners).sum(1) / perimeter.unsqueeze(-1)
    area = 0.5 * (edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0]).abs()
    radius = 2.0 * area / perimeter
    solid = radius > depth + 1.0
    table = torch.zeros(images * height * (width + 1), dtype=torch.int32, device=device)
    core_face = solid.nonzero().squeeze(1)
    e0 = torch.full_like(c0, width)
    e1 = torch.full_like(c1, -1)
    if len(core_face):
        shrink = (1.0 - depth / radius[core_face]).view(-1, 1, 1)
        core = centre_in[core_face].unsqueeze(1) + shrink * (
            corners[core_face] - centre_in[core_face].unsqueeze(1)
        )
        cf, crow, cx0, cx1 = _row_spans(core, height)
        k0 = (cx0 - 0.5).ceil().clamp(0, width).long()
        k1 = (cx1 - 0.5).floor().clamp(-1, width - 1).long()
        spans = k1 >= k0
        image = face_image[core_face[cf]] if face_image is not None else torch.zeros_like(cf)
        line = (image * height + crow) * (width + 1)
        ones = spans.to(torch.int32)
        table.index_add_(0, line + k0.clamp_max(width), ones)
        table.index_add_(0, line + (k1 + 1).clamp(0, width), -ones)
        # This face's own core on its rows: those pixels need no pair of it.
        band_index = starts[core_face[cf]] + (crow - y0[core_face[cf]])
        e0[band_index[spans]] = k0[spans]
        e1[band_index[spans]] = k1[spans]
    saturated = table.view(images, height, width + 1).cumsum(dim=2)[..., :width] > 0
    # Pairs: the row's columns c0..c1 without the face's own core e0..e1.
    left = (torch.minimum(c1, e0 - 1) - c0 + 1).clamp_min(0)
    right = (c1 - torch.maximum(c0, e1 + 1) + 1).clamp_min(0)
    right = torch.where(e1 >= e0, right, torch.zeros_like(right))
    left = torch.where(e1 >= e0, left, (c1 - c0 + 1).clamp_min(0))
    total = left + right
    pair_band = torch.repeat_interleave(torch.arange(len(total), device=device), total)
    starts_p = torch.cumsum(total, 0) - total
    local = torch.arange(len(pair_band), device=device) - starts_p[pair_band]
    in_left = local < left[pair_band]
    px = torch.where(
        in_left,
        c0[pair_band] + local,
        torch.maximum(c0, e1 + 1)[pair_band] + local - left[pair_band],
    )
    return face[pair_band], px, row[pair_band], saturated.reshape(-1)


def _screen_faces(vertices, faces, world_to_cam, intrinsics, settings, face_image=None):
    """The face table of the faces in front of the camera, their screen corners (F, 3, 2) and
    (when given) the image index of each of them."""
    screen, depth = project(vertices, world_to_cam, intrinsics)
    front = (depth[faces] > settings.near).all(dim=1)
    faces = faces[front]
    if face_image is not None:
        face_image = face_image[front]
    return _face_table(screen, faces), screen.detach()[faces], face_image


def _batch(vertices: torch.Tensor, faces: torch.Tensor):
    """(B, V, 3) vertices sharing (F, 3) faces -> flat vertices, flat faces, per-face image."""
    count, per = vertices.shape[0], vertices.shape[1]
    shift = per * torch.arange(count, device=faces.device)
    flat_faces = (faces.unsqueeze(0) + shift.view(-1, 1, 1)).reshape(-1, 3)
    face_image = torch.arange(count, device=faces.device).repeat_interleave(len(faces))
    return vertices.reshape(-1, 3), flat_faces, face_image


def render_silhouette(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    world_to_cam: torch.Tensor,
    intrinsics: Intrinsics,
    settings: RasterSettings,
) -> torch.Tensor:
    """Soft silhouette (H, W) in [0, 1] of a triangle mesh; differentiable in vertices and pose.

    vertices: (V, 3) world, float; faces: (F, 3) long; world_to_cam: (4, 4) same dtype/device.

    Two passes: a screening pass without autograd finds, for every pair, its edge-line distance
    and nearest edge; pixels that inside pairs already cover above 1 - saturation keep that
    value as a constant (their gradient is below `saturation`), pairs beyond the margin are
    dropped, and only the remaining pairs go through autograd, one edge each.
    """
    return _render(vertices, faces, None, 1, world_to_cam, intrinsics, settings)[0]


def render_silhouettes(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    world_to_cam: torch.Tensor,
    intrinsics: Intrinsics,
    settings: RasterSettings,
) -> torch.Tensor:
    """Soft silhouettes (B, H, W) of B poses of one mesh in one pass: vertices (B, V, 3) share
    the faces (F, 3). The same arithmetic as ``render_silhouette``, image by image."""
    flat, flat_faces, face_image = _batch(vertices, faces)
    return _render(
        flat, flat_faces, face_image, vertices.shape[0], world_to_cam, intrinsics, settings
    )


def _render(vertices, faces, face_image, images, world_to_cam, intrinsics, settings):
    table, corners, face_image = _screen_faces(
        vertices, faces, world_to_cam, intrinsics, settings, face_image
    )
    with torch.no_grad():
        face_idx, px, py, cored = _band_pairs(corners, settings, face_image, images)
    pixel = py * settings.width + px
    if face_image is not None:
        pixel = pixel + face_image[face_idx] * (settings.height * settings.width)
    n_pixels = images * settings.height * settings.width
    zeros = torch.zeros(n_pixels, dtype=table.dtype, device=table.device)
    floor = math.log(settings.saturation)
    with torch.no_grad():
        inner, edge = _screen_pairs(table.detach(), face_idx, px, py)
        inside = inner > 0
        # Inside a triangle the nearest line's distance is exact; pixels that inside pairs alone
        # already cover above 1 - saturation are constants (a conservative test), and so are
        # the pixels deep inside some face (`cored`).
        coverage = torch.where(inside, F.logsigmoid(-settings.sharpness * inner), 0.0)
        constant = zeros.index_add(0, pixel, coverage)
        saturated = (constant < floor) | cored
        constant = torch.where(cored, torch.minimum(constant, zeros + floor), constant)
        # The pairs that matter: an unsaturated pixel within the face's margin (outside, the
        # line distance never exceeds the true distance, so this drops nothing that counts).
        keep = (~saturated[pixel] & (inner > -settings.margin)).nonzero().squeeze(1)
        face_idx, px, py, pixel, inside, edge = (
            t.index_select(0, keep) for t in (face_idx, px, py, pixel, inside, edge)
        )
    # Each pair's distance is decided by its nearest edge, which stays the nearest under a small
    # change: the autograd pass handles one edge per pair.
    per_edge = table.view(-1, 7, 3).transpose(1, 2).reshape(-1, 7)  # (3F, 7): one row per edge
    signed = _edge_signed_distance(per_edge, 3 * face_idx + edge, inside, px, py)
    total = zeros.index_add(0, pixel, F.logsigmoid(-settings.sharpness * signed))
    total = torch.where(saturated, constant, total)
    return -torch.expm1(total).view(images, settings.height, settings.width)


def _screen_pairs(table: torch.Tensor, face_idx, px, py) -> tuple[torch.Tensor, torch.Tensor]:
    """For each pair (no autograd): the smallest signed edge-line distance (the exact signed
    distance inside the triangle), and the index (0-2) of the edge nearest to the pixel centre:
    inside, the nearest line; outside, the nearest segment."""
    A, B, C, P, Q, R, H = table.index_select(0, face_idx).view(-1, 7, 3).unbind(1)
    x = (px.to(table.dtype) + 0.5).unsqueeze(1)
    y = (py.to(table.dtype) + 0.5).unsqueeze(1)
    line = torch.addcmul(torch.addcmul(C, A, x), B, y)
    overshoot = torch.relu(torch.addcmul(torch.addcmul(R, P, x), Q, y).abs() - H)
    inner = line.amin(dim=1)
    score = torch.where((inner > 0).unsqueeze(1), line, line * line + overshoot * overshoot)
    return inner, score.argmin(dim=1)


def _edge_signed_distance(per_edge: torch.Tensor, rows, inside, px, py) -> torch.Tensor:
    """Signed distance (+ inside) from each pixel centre to one chosen edge of its face."""
    A, B, C, P, Q, R, H = per_edge.index_select(0, rows).unbind(1)
    x = px.to(per_edge.dtype) + 0.5
    y = py.to(per_edge.dtype) + 0.5
    line = torch.addcmul(torch.addcmul(C, A, x), B, y)
    overshoot = torch.relu(torch.addcmul(torch.addcmul(R, P, x), Q, y).abs() - H)
    outside = torch.sqrt(torch.addcmul(line * line, overshoot, overshoot) + 1e-12)
    return torch.where(inside, line, -outside)


def _dense_chunk(table, px, py, sharpness: float):
    n_faces, n_pixels = len(table), len(px)
    face_idx = torch.arange(n_faces, device=table.device).repeat_interleave(n_pixels)
    log_miss = _pair_log_miss(table, face_idx, px.repeat(n_faces), py.repeat(n_faces), sharpness)
    return log_miss.view(n_faces, n_pixels).sum(0)


def render_silhouette_dense(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    world_to_cam: torch.Tensor,
    intrinsics: Intrinsics,
    settings: RasterSettings,
) -> torch.Tensor:
    """The same silhouette with no culling: every face against every pixel (the slow baseline).

    Faces go in chunks through activation checkpointing so that memory stays bounded.
    """
    table, _, _ = _screen_faces(vertices, faces, world_to_cam, intrinsics, settings)
    rows, cols = torch.meshgrid(
        torch.arange(settings.height, device=table.device),
        torch.arange(settings.width, device=table.device),
        indexing="ij",
    )
    px, py = cols.reshape(-1), rows.reshape(-1)
    chunk = max(1, _DENSE_CHUNK_PAIRS // len(px))
    total = torch.zeros(len(px), dtype=table.dtype, device=table.device)
    for start in range(0, len(table), chunk):
        part = table[start : start + chunk]
        if torch.is_grad_enabled() and table.requires_grad:
            total = total + checkpoint(
                _dense_chunk, part, px, py, settings.sharpness, use_reentrant=False
            )
        else:
            total = total + _dense_chunk(part, px, py, settings.sharpness)
    return -torch.expm1(total).view(settings.height, settings.width)


def hard_silhouette(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    world_to_cam: torch.Tensor,
    intrinsics: Intrinsics,
    width: int,
    height: int,
) -> torch.Tensor:
    """Boolean (H, W) mask of pixels whose centre lies inside some face (the sharpness -> inf
    limit): what a renderer without anti-aliasing shows."""
    return hard_silhouettes(vertices[None], faces, world_to_cam, intrinsics, width, height)[0]


def hard_silhouettes(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    world_to_cam: torch.Tensor,
    intrinsics: Intrinsics,
    width: int,
    height: int,
) -> torch.Tensor:
    """Boolean (B, H, W) masks of B poses of one mesh (vertices (B, V, 3), faces (F, 3)) in one
    pass, each as ``hard_silhouette``: the optimizer's cheap screening of many hypotheses.

    Scanline, without autograd: every face crosses each pixel row (at its centre) in one x
    interval; the intervals are marked +1 / -1 in a per-row difference table whose running sum
    is the coverage. Cost grows with the rows the faces span, not with their area."""
    images = vertices.shape[0]
    with torch.no_grad():
        flat, flat_faces, face_image = _batch(vertices, faces)
        screen, depth = project(flat, world_to_cam, intrinsics)
        front = (depth[flat_faces] > RasterSettings(width, height).near).all(dim=1)
        corners = screen[flat_faces[front]]  # (F, 3, 2)
        face_image = face_image[front]
        face, row, x0, x1 = _row_spans(corners, height)
        c0 = (x0 - 0.5).ceil().clamp(0, width).long()
        c1 = (x1 - 0.5).floor().clamp(-1, width - 1).long()
        spans = c1 >= c0
        line = (face_image[face] * height + row)[spans] * (width + 1)
        table = torch.zeros(images * height * (width + 1), dtype=torch.int32, device=corners.device)
        ones = torch.ones(len(line), dtype=torch.int32, device=corners.device)
        table.index_add_(0, line + c0[spans], ones)
        table.index_add_(0, line + c1[spans] + 1, -ones)
        coverage = table.view(images, height, width + 1).cumsum(dim=2)[..., :width]
    return coverage > 0
