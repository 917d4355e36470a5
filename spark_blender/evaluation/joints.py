"""Joint metrics of EVAL.md: Hungarian matching, axis, pivot, type and part-count errors.

Both joint sets are expressed in their own mesh's normalised frame (`geometry.normalisation`),
matched by the Hungarian algorithm on `axis angle + pivot line distance + (1 if types differ)`,
and scored per GT joint; a GT joint left without a partner scores the worst values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from spark_blender.evaluation.geometry import Normalisation

UNMATCHED_AXIS = math.pi / 2.0
UNMATCHED_PIVOT = 1.0
UNMATCHED_TYPE = 1.0
PARALLEL_SINE = 1e-9  # |a x b| below this: the lines are treated as parallel


@dataclass
class JointSpec:
    """A movable joint as the metrics see it: a type, a line (pivot + unit axis), limits."""

    type: str  # revolute, continuous or prismatic
    pivot: np.ndarray  # a point on the joint axis
    axis: np.ndarray  # direction (normalised on construction)
    lower: float = 0.0
    upper: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        self.pivot = np.asarray(self.pivot, dtype=float).reshape(3)
        axis = np.asarray(self.axis, dtype=float).reshape(3)
        length = float(np.linalg.norm(axis))
        if not (np.isfinite(length) and length > 0.0) or not np.all(np.isfinite(self.pivot)):
            raise ValueError(f"joint '{self.name}' has a degenerate axis or pivot")
        self.axis = axis / length

    @property
    def kind(self) -> str:
        """revolute or prismatic: EVAL.md counts a continuous joint as revolute."""
        return joint_kind(self.type) or "fixed"

    def normalised(self, norm: Normalisation) -> JointSpec:
        return JointSpec(
            self.type, norm.apply(self.pivot), self.axis, self.lower, self.upper, self.name
        )


@dataclass
class JointScores:
    axis_error: float | None  # radians, mean over GT joints (None: the GT has no movable joint)
    pivot_error: float | None  # mean over revolute GT joints (None: the GT has none)
    type_error: float | None  # share of GT joints matched to another type
    part_count_error: int  # |#predicted movable - #GT movable|
    matches: list[tuple[int, int]] = field(default_factory=list)  # (GT index, predicted index)

    @classmethod
    def worst(cls, truth: list[JointSpec]) -> JointScores:
        """The scores of a prediction with no joints at all (a failed case)."""
        return joint_scores([], truth)


def joint_kind(joint_type: str) -> str | None:
    """revolute (revolute, continuous), prismatic, or None for joints that do not move."""
    if joint_type in ("revolute", "continuous"):
        return "revolute"
    if joint_type == "prismatic":
        return "prismatic"
    return None


def axis_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Sign-free angle between two axis directions, arccos(|a . b|), in [0, pi/2]."""
    cosine = abs(float(np.dot(a, b))) / (float(np.linalg.norm(a)) * float(np.linalg.norm(b)))
    return float(math.acos(min(1.0, cosine)))


def line_distance(p: np.ndarray, a: np.ndarray, q: np.ndarray, b: np.ndarray) -> float:
    """Distance between the lines p + s a and q + t b (parallel lines: point to line)."""
    a = np.asarray(a, float) / np.linalg.norm(a)
    b = np.asarray(b, float) / np.linalg.norm(b)
    offset = np.asarray(q, float) - np.asarray(p, float)
    normal = np.cross(a, b)
    sine = float(np.linalg.norm(normal))
    if sine < PARALLEL_SINE:
        return float(np.linalg.norm(np.cross(offset, a)))
    return abs(float(np.dot(offset, normal))) / sine


def pair_cost(truth: JointSpec, predicted: JointSpec) -> float:
    """Matching cost; the pivot term counts for revolute GT joints, as the pivot error does."""
    cost = axis_angle(truth.axis, predicted.axis)
    if truth.kind == "revolute":
        cost += line_distance(truth.pivot, truth.axis, predicted.pivot, predicted.axis)
    if truth.kind != predicted.kind:
        cost += 1.0
    return cost


def match_joints(truth: list[JointSpec], predicted: list[JointSpec]) -> list[tuple[int, int]]:
    """Hungarian matching, as (GT index, predicted index) pairs; the surplus stays unmatched."""
    if not truth or not predicted:
        return []
    cost = np.array([[pair_cost(t, p) for p in predicted] for t in truth])
    rows, cols = linear_sum_assignment(cost)
    return sorted(zip(rows.tolist(), cols.tolist(), strict=True))


def joint_scores(predicted: list[JointSpec], truth: list[JointSpec]) -> JointScores:
    """EVAL.md's joint errors; both lists must already be in their normalised frames."""
    matches = match_joints(truth, predicted)
    partner = dict(matches)
    axis, pivot, kind = [], [], []
    for index, gt in enumerate(truth):
        if index not in partner:
            axis.append(UNMATCHED_AXIS)
            kind.append(UNMATCHED_TYPE)
            if gt.kind == "revolute":
                pivot.append(UNMATCHED_PIVOT)
            continue
        guess = predicted[partner[index]]
        axis.append(axis_angle(gt.axis, guess.axis))
        kind.append(0.0 if gt.kind == guess.kind else 1.0)
        if gt.kind == "revolute":
            pivot.append(line_distance(gt.pivot, gt.axis, guess.pivot, guess.axis))
    return JointScores(
        axis_error=_mean(axis),
        pivot_error=_mean(pivot),
        type_error=_mean(kind),
        part_count_error=abs(len(predicted) - len(truth)),
        matches=matches,
    )


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
