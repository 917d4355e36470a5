"""Joint metrics of EVAL.md on hand-made joints with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spark_blender.evaluation.geometry import Normalisation
from spark_blender.evaluation.joints import (
    JointSpec,
    axis_angle,
    joint_scores,
    line_distance,
    match_joints,
)

X, Y, Z = np.eye(3)


def revolute(pivot, axis, kind="revolute") -> JointSpec:
    return JointSpec(kind, np.asarray(pivot, float), np.asarray(axis, float))


def prismatic(pivot, axis) -> JointSpec:
    return JointSpec("prismatic", np.asarray(pivot, float), np.asarray(axis, float))


def test_axis_angle_is_sign_free():
    assert axis_angle(Z, Z) == 0.0
    assert axis_angle(Z, -Z) == 0.0
    assert axis_angle(X, Y) == pytest.approx(math.pi / 2)
    assert axis_angle(X, X + Y) == pytest.approx(math.pi / 4)


def test_distance_between_parallel_lines_is_point_to_line():
    assert line_distance([0, 0, 0], Z, [0.3, 0.4, 5.0], Z) == pytest.approx(0.5)
    assert line_distance([0, 0, 0], Z, [0.3, 0.4, 5.0], -Z) == pytest.approx(0.5)
    assert line_distance([0, 0, 0], Z, [0.0, 0.0, 9.0], Z) == pytest.approx(0.0)


def test_distance_between_skew_lines_is_along_their_common_normal():
    assert line_distance([0, 0, 0], X, [5.0, -3.0, 2.0], Y) == pytest.approx(2.0)
    assert line_distance([0, 0, 0], X, [1.0, 0.0, 0.0], Y) == pytest.approx(0.0)  # they cross


def test_a_perfect_prediction_scores_zero_errors():
    truth = [revolute([0.1, -1, 0], Z), prismatic([0, -1, -0.5], -Y)]
    scores = joint_scores([truth[1], truth[0]], truth)  # order does not matter
    assert scores.axis_error == 0.0 and scores.pivot_error == 0.0 and scores.type_error == 0.0
    assert scores.part_count_error == 0
    assert scores.matches == [(0, 1), (1, 0)]


def test_hungarian_matching_minimises_the_total_cost():
    truth = [revolute([-1, 0, 0], Z), revolute([1, 0, 0], Z)]
    predicted = [revolute([0.9, 0, 0], Z), revolute([-0.8, 0, 0], Z)]
    assert match_joints(truth, predicted) == [(0, 1), (1, 0)]
    assert joint_scores(predicted, truth).pivot_error == pytest.approx((0.2 + 0.1) / 2)


def test_an_unmatched_gt_joint_scores_the_worst_values():
    truth = [revolute([0, 0, 0], Z), revolute([1, 0, 0], X)]
    scores = joint_scores([revolute([0, 0, 0], Z)], truth)
    assert scores.axis_error == pytest.approx((0.0 + math.pi / 2) / 2)
    assert scores.pivot_error == pytest.approx((0.0 + 1.0) / 2)
    assert scores.type_error == pytest.approx(0.5)
    assert scores.part_count_error == 1
    nothing = joint_scores([], truth)
    assert (nothing.axis_error, nothing.pivot_error, nothing.type_error) == (
        pytest.approx(math.pi / 2),
        1.0,
        1.0,
    )


def test_surplus_predicted_joints_only_count_in_the_part_count_error():
    truth = [prismatic([0, 0, 0], Y)]
    predicted = [prismatic([0, 0, 0], Y), revolute([0, 0, 0], X), revolute([1, 1, 1], Z)]
    scores = joint_scores(predicted, truth)
    assert scores.axis_error == 0.0 and scores.type_error == 0.0
    assert scores.part_count_error == 2


def test_type_mismatch_scores_type_error_one_and_keeps_the_axis_error():
    truth = [revolute([0, 0, 0], Z)]
    scores = joint_scores([prismatic([0, 0, 0], Z)], truth)
    assert scores.type_error == 1.0
    assert scores.axis_error == 0.0
    assert scores.pivot_error == 0.0  # the same line


def test_continuous_counts_as_revolute():
    truth = [revolute([0, 0, 0], Z, kind="continuous")]
    scores = joint_scores([revolute([0, 0, 0], Z)], truth)
    assert scores.type_error == 0.0
    assert scores.pivot_error == 0.0


def test_pivot_error_covers_revolute_gt_joints_only():
    truth = [prismatic([0, 0, 0], X)]
    scores = joint_scores([prismatic([5, 5, 5], X)], truth)
    assert scores.pivot_error is None  # prismatic joints have no pivot to get wrong
    assert scores.axis_error == 0.0
    assert joint_scores([], []).axis_error is None


def test_normalised_joints_move_their_pivot_and_keep_their_axis():
    joint = revolute([3.0, 1.0, 2.0], [0.0, 0.0, 2.0])
    moved = joint.normalised(Normalisation(centre=np.array([1.0, 1.0, 1.0]), scale=2.0))
    assert moved.pivot.tolist() == [1.0, 0.0, 0.5]
    assert moved.axis.tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="degenerate"):
        revolute([0, 0, 0], [0, 0, 0])
