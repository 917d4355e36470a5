"""Geometry metrics of EVAL.md (PartCrafter's protocol): Chamfer distance and F-scores.

Each mesh is normalised on its own (bounding-box centre to the origin, half its longest side to
1), 10,000 points are sampled on each surface by area, and the two point sets are compared by
nearest neighbours. The `yaw` variant keeps the best of four 90-degree turns of the prediction
about Z, for a prediction whose front was misjudged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh
from scipy.spatial import cKDTree

SAMPLE_COUNT = 10_000
THRESHOLDS = (0.1, 0.5)
# Both normalised point sets lie in [-1, 1]^3, so no directed mean distance can exceed the cube's
# diagonal: 4*sqrt(3) bounds the Chamfer distance and is the score of a case that failed.
WORST_CHAMFER = 4.0 * math.sqrt(3.0)


class GeometryError(ValueError):
    """A mesh cannot be scored (no triangles, no area, not finite)."""


@dataclass(frozen=True)
class Normalisation:
    """x -> (x - centre) / scale maps a mesh's bounding box into [-1, 1] on its longest side."""

    centre: np.ndarray
    scale: float

    def apply(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=float) - self.centre) / self.scale


@dataclass(frozen=True)
class GeometryScores:
    chamfer: float
    f_01: float
    f_05: float
    chamfer_yaw: float
    f_01_yaw: float
    f_05_yaw: float
    yaw_turns: int  # quarter turns about Z of the best yaw variant (0-3)

    @classmethod
    def worst(cls) -> GeometryScores:
        return cls(WORST_CHAMFER, 0.0, 0.0, WORST_CHAMFER, 0.0, 0.0, 0)


def normalisation(mesh: trimesh.Trimesh) -> Normalisation:
    """The normalisation of EVAL.md step 2, from the vertices the faces actually use."""
    if len(mesh.faces) == 0:
        raise GeometryError("mesh has no triangles")
    used = np.asarray(mesh.vertices, dtype=float)[np.unique(np.asarray(mesh.faces))]
    if not np.all(np.isfinite(used)):
        raise GeometryError("mesh has non-finite vertices")
    low, high = used.min(axis=0), used.max(axis=0)
    scale = float((high - low).max()) / 2.0
    if scale <= 0.0:
        raise GeometryError("mesh has no extent (every vertex at one point)")
    return Normalisation(centre=(low + high) / 2.0, scale=scale)


def sample_surface(mesh: trimesh.Trimesh, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` points uniformly distributed over the surface (faces chosen by area)."""
    triangles = np.asarray(mesh.vertices, dtype=float)[np.asarray(mesh.faces)]  # (M, 3, 3)
    areas = 0.5 * np.linalg.norm(
        np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1
    )
    total = areas.sum()
    if not (np.isfinite(total) and total > 0.0):
        raise GeometryError("mesh has no surface area")
    chosen = rng.choice(len(areas), size=count, p=areas / total)
    r1 = np.sqrt(rng.random(count))
    r2 = rng.random(count)
    weights = np.stack([1.0 - r1, r1 * (1.0 - r2), r1 * r2], axis=1)  # barycentric, uniform
    return np.einsum("nk,nkd->nd", weights, triangles[chosen])


def normalised_samples(mesh: trimesh.Trimesh, count: int, seed: tuple[int, ...]) -> np.ndarray:
    """EVAL.md steps 2-3: normalise the mesh, then sample it with a seeded generator."""
    norm = normalisation(mesh)
    normalised = trimesh.Trimesh(norm.apply(mesh.vertices), mesh.faces, process=False)
    return sample_surface(normalised, count, np.random.default_rng(seed))


def point_set_scores(
    predicted: np.ndarray, truth: np.ndarray, thresholds=THRESHOLDS
) -> tuple[float, list[float]]:
    """(Chamfer distance, [F@tau for each tau]) between two point sets."""
    # Unbalanced trees build and query faster on surface samples; the neighbours are exact.
    to_truth, _ = cKDTree(truth, balanced_tree=False, compact_nodes=False).query(predicted)
    to_predicted, _ = cKDTree(predicted, balanced_tree=False, compact_nodes=False).query(truth)
    chamfer = float(to_truth.mean() + to_predicted.mean())
    return chamfer, [f_score(to_truth, to_predicted, tau) for tau in thresholds]


def f_score(to_truth: np.ndarray, to_predicted: np.ndarray, tau: float) -> float:
    precision = float(np.mean(to_truth < tau))
    recall = float(np.mean(to_predicted < tau))
    if precision + recall == 0.0:
        return 0.0
    return 2.0 * precision * recall / (precision + recall)


def yaw_turn(points: np.ndarray, quarter_turns: int) -> np.ndarray:
    """Points turned by `quarter_turns` * 90 degrees about +Z (exact, no rounding error)."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    turned = [(x, y), (-y, x), (-x, -y), (y, -x)][quarter_turns % 4]
    return np.stack([turned[0], turned[1], z], axis=1)


def geometry_scores(
    predicted: trimesh.Trimesh,
    truth: trimesh.Trimesh,
    seed: int = 0,
    count: int = SAMPLE_COUNT,
) -> GeometryScores:
    """Every geometry metric of EVAL.md for one prediction against its ground truth."""
    truth_points = normalised_samples(truth, count, (seed, 0))
    predicted_points = normalised_samples(predicted, count, (seed, 1))
    results = [point_set_scores(yaw_turn(predicted_points, k), truth_points) for k in range(4)]
    chamfer, (f_01, f_05) = results[0]
    best = min(range(4), key=lambda k: results[k][0])
    chamfer_yaw, (f_01_yaw, f_05_yaw) = results[best]
    return GeometryScores(chamfer, f_01, f_05, chamfer_yaw, f_01_yaw, f_05_yaw, best)
