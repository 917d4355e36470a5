"""Geometry metrics of EVAL.md on hand-made meshes and point sets with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from spark_blender.evaluation.geometry import (
    WORST_CHAMFER,
    GeometryError,
    GeometryScores,
    geometry_scores,
    normalisation,
    point_set_scores,
    sample_surface,
    yaw_turn,
)


def l_shape() -> trimesh.Trimesh:
    """Two boxes in an L: no quarter turn about Z maps it onto itself."""
    long_bar = trimesh.creation.box(bounds=[(0, 0, 0), (2.0, 0.4, 0.5)])
    short_bar = trimesh.creation.box(bounds=[(0, 0.4, 0), (0.4, 1.2, 0.5)])
    return trimesh.util.concatenate([long_bar, short_bar])


def grid(spacing: float = 1.0) -> np.ndarray:
    axis = np.arange(5) * spacing
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)


def test_identical_meshes_score_f_one_and_only_the_sampling_floor():
    mesh = trimesh.creation.box(extents=(1.0, 0.6, 0.8))
    scores = geometry_scores(mesh, mesh.copy())
    assert scores.f_01 == 1.0 and scores.f_05 == 1.0
    # Two independent samplings of one surface leave a small distance, never zero (EVAL.md:
    # "about 0.05" for the dev objects).
    assert 0.01 < scores.chamfer < 0.08


def test_each_mesh_is_normalised_on_its_own_so_scale_and_offset_do_not_matter():
    mesh = l_shape()
    moved = mesh.copy()
    moved.apply_scale(3.7)
    moved.apply_translation((10.0, -4.0, 2.0))
    assert geometry_scores(moved, mesh).chamfer == pytest.approx(
        geometry_scores(mesh, mesh).chamfer, abs=1e-9
    )


def test_normalisation_maps_the_longest_side_onto_minus_one_to_one():
    mesh = trimesh.creation.box(bounds=[(1.0, 2.0, 3.0), (5.0, 3.0, 4.0)])
    norm = normalisation(mesh)
    points = norm.apply(mesh.vertices)
    assert points.min(axis=0) == pytest.approx([-1.0, -0.25, -0.25])
    assert points.max(axis=0) == pytest.approx([1.0, 0.25, 0.25])


def test_shifted_copy_of_a_point_set_has_chamfer_twice_the_shift():
    truth = grid()
    predicted = truth + np.array([0.05, 0.0, 0.0])
    chamfer, (f_01, f_05) = point_set_scores(predicted, truth)
    assert chamfer == pytest.approx(0.1)
    assert f_01 == 1.0 and f_05 == 1.0
    chamfer, (f_tight,) = point_set_scores(predicted, truth, thresholds=(0.04,))
    assert f_tight == 0.0


def test_f_score_is_the_harmonic_mean_of_precision_and_recall():
    truth = grid()
    predicted = truth[: len(truth) // 2]  # every predicted point is right; half the GT is missed
    far = np.array([[100.0, 100.0, 100.0]])
    _, (f_01,) = point_set_scores(predicted, truth, thresholds=(0.1,))
    precision, recall = 1.0, len(predicted) / len(truth)
    assert f_01 == pytest.approx(2 * precision * recall / (precision + recall))
    _, (f_none,) = point_set_scores(far, truth, thresholds=(0.1,))
    assert f_none == 0.0


def test_yaw_variant_recovers_a_prediction_turned_a_quarter_about_z():
    truth = l_shape()
    turned = truth.copy()
    turned.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, (0, 0, 1)))
    scores = geometry_scores(turned, truth)
    identical = geometry_scores(truth, truth)
    assert scores.chamfer > 0.2  # the plain score sees the wrong front
    assert scores.chamfer_yaw == pytest.approx(identical.chamfer, abs=0.01)
    assert scores.f_01_yaw == 1.0
    assert scores.yaw_turns == 3  # a further three quarter turns bring it back


def test_yaw_turn_is_exact_and_keeps_z():
    points = np.array([[1.0, 2.0, 3.0]])
    assert yaw_turn(points, 1).tolist() == [[-2.0, 1.0, 3.0]]
    assert yaw_turn(points, 4).tolist() == points.tolist()


def test_sampling_is_area_weighted_and_seeded():
    # Two triangles, the second with three times the area of the first.
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [10, 0, 0], [13, 0, 0], [10, 1, 0]])
    mesh = trimesh.Trimesh(vertices, [[0, 1, 2], [3, 4, 5]], process=False)
    points = sample_surface(mesh, 20_000, np.random.default_rng(7))
    assert np.mean(points[:, 0] >= 10.0) == pytest.approx(0.75, abs=0.01)
    again = sample_surface(mesh, 20_000, np.random.default_rng(7))
    assert np.array_equal(points, again)
    first = points[points[:, 0] < 10.0]
    assert np.all(first[:, 0] + first[:, 1] <= 1.0 + 1e-12)  # inside the triangle


def test_meshes_without_area_or_extent_are_refused():
    flat = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]], process=False)
    with pytest.raises(GeometryError, match="no surface area"):
        geometry_scores(flat, trimesh.creation.box())
    point = trimesh.Trimesh([[1, 1, 1]] * 3, [[0, 1, 2]], process=False)
    with pytest.raises(GeometryError, match="no extent"):
        normalisation(point)


def test_worst_scores_bound_every_real_score():
    worst = GeometryScores.worst()
    assert worst.f_01 == worst.f_05 == 0.0
    # The normalised sets lie in [-1, 1]^3, so a prediction as far off as a normalised mesh can
    # be still scores below the bound.
    tiny_corner = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    scores = geometry_scores(tiny_corner, l_shape())
    assert scores.chamfer < WORST_CHAMFER == pytest.approx(4 * math.sqrt(3))
