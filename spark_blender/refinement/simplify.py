"""Mesh simplification for silhouette fitting: vertex clustering on a grid.

The optimizer renders part meshes hundreds of times, and a silhouette needs far fewer faces than
a scan carries. Clustering vertices into grid cells keeps the outline to within about a cell,
needs nothing beyond numpy, and never fails on non-manifold input. The cell is either given (the
optimizer converts a screen-space error in pixels to world units at the object's depth) or
chosen by bisection so that at most `max_faces` survive; both together: the given cell, grown
until the faces fit.
"""

from __future__ import annotations

import numpy as np
import trimesh


def cluster_vertices(mesh: trimesh.Trimesh, cell: float) -> trimesh.Trimesh:
    """Merge vertices that share a grid cell (their mean stands for them); drop collapsed faces."""
    vertices = np.asarray(mesh.vertices, float)
    faces = np.asarray(mesh.faces)
    keys = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
    _, cluster, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    cluster = cluster.reshape(-1)
    merged = np.zeros((len(counts), 3))
    np.add.at(merged, cluster, vertices)
    merged /= counts[:, None]
    new_faces = cluster[faces]
    keep = (
        (new_faces[:, 0] != new_faces[:, 1])
        & (new_faces[:, 1] != new_faces[:, 2])
        & (new_faces[:, 0] != new_faces[:, 2])
    )
    new_faces = np.unique(np.sort(new_faces[keep], axis=1), axis=0)
    return trimesh.Trimesh(merged, new_faces, process=False)


def simplify_mesh(
    mesh: trimesh.Trimesh, max_faces: int, cell: float | None = None
) -> trimesh.Trimesh:
    """A copy with at most `max_faces` faces: vertex-clustered on a grid of `cell` (world units,
    e.g. a screen-space error converted at the object's depth) when one is given, with the cell
    grown by bisection when that still leaves too many faces; `mesh` itself when it is small
    enough and no cell is given."""
    if cell is not None and cell > 0:
        candidate = cluster_vertices(mesh, cell)
        if len(candidate.faces) <= max_faces:
            return candidate
        mesh, low = candidate, cell
    elif len(mesh.faces) <= max_faces:
        return mesh
    else:
        low = None
    extent = float(np.ptp(np.asarray(mesh.vertices), axis=0).max()) or 1.0
    low, high = low or extent * 1e-4, extent  # cell sizes bracketing the answer
    best = cluster_vertices(mesh, high)
    for _ in range(20):
        cell = float(np.sqrt(low * high))
        candidate = cluster_vertices(mesh, cell)
        if len(candidate.faces) <= max_faces:
            best, high = candidate, cell
        else:
            low = cell
        if high / low < 1.05:
            break
    return best
