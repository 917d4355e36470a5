"""Forward kinematics: known answers, and agreement with yourdfpy on real files."""

import numpy as np
import pytest
import yourdfpy

from spark_blender.core.kinematics import joint_frames, link_poses, random_configuration
from spark_blender.core.model import ArticulatedObject, Joint, Link
from spark_blender.core.transforms import make_transform, matrix_to_rpy, rpy_to_matrix
from spark_blender.core.urdf import read_urdf
from tests.conftest import DEV_URDFS, needs_shared


def _two_links(kind: str, axis) -> ArticulatedObject:
    joint = Joint(
        "j",
        kind,
        "base",
        "part",
        origin=make_transform((1.0, 0.0, 0.0)),
        axis=np.array(axis, float),
        lower=-3,
        upper=3,
    )
    return ArticulatedObject("t", [Link("base"), Link("part")], [joint])


def test_revolute_rotates_about_the_axis_through_the_joint_origin():
    obj = _two_links("revolute", [0.0, 0.0, 1.0])
    pose = link_poses(obj, {"j": np.pi / 2})["part"]
    np.testing.assert_allclose(pose[:3, 3], [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(pose[:3, :3] @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)


def test_prismatic_translates_along_the_axis():
    obj = _two_links("prismatic", [0.0, -1.0, 0.0])
    pose = link_poses(obj, {"j": 0.25})["part"]
    np.testing.assert_allclose(pose[:3, 3], [1.0, -0.25, 0.0], atol=1e-12)


def test_joint_frames_give_world_pivot_and_axis(example_cabinet):
    pivot, axis = joint_frames(example_cabinet)["door_hinge"]
    np.testing.assert_allclose(axis, [0.0, 0.0, -1.0])
    assert pivot[1] < 0  # the hinge is on the front (-Y) face


def test_unknown_joint_names_are_refused(example_cabinet):
    with pytest.raises(KeyError, match="nope"):
        link_poses(example_cabinet, {"nope": 1.0})


def test_rpy_round_trips_including_gimbal_lock():
    rng = np.random.default_rng(1)
    for rpy in [*rng.uniform(-3, 3, (50, 3)), (0.3, np.pi / 2, 0.2), (0.3, -np.pi / 2, -1.0)]:
        R = rpy_to_matrix(rpy)
        np.testing.assert_allclose(rpy_to_matrix(matrix_to_rpy(R)), R, atol=1e-12)


def _compare_with_yourdfpy(path, configurations: int = 20) -> float:
    ours = read_urdf(path)
    theirs = yourdfpy.URDF.load(str(path), load_meshes=False, build_collision_scene_graph=False)
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(configurations):
        q = random_configuration(ours, rng)
        theirs.update_cfg({name: q[name] for name in theirs.actuated_joint_names})
        poses = link_poses(ours, q)
        for name, pose in poses.items():
            other = theirs.get_transform(frame_to=name, frame_from=ours.root.name)
            worst = max(worst, float(np.abs(other - pose).max()))
    return worst


def test_fk_agrees_with_yourdfpy_on_the_example(example_urdf):
    assert _compare_with_yourdfpy(example_urdf) < 1e-9


@needs_shared
@pytest.mark.parametrize("path", DEV_URDFS, ids=lambda p: p.parents[1].name)
def test_fk_agrees_with_yourdfpy_on_dev_objects(path):
    assert _compare_with_yourdfpy(path, configurations=5) < 1e-9
