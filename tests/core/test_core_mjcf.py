"""MJCF writing: loads in MuJoCo, and MuJoCo's kinematics equal the core FK."""

import mujoco
import numpy as np
import pytest

from spark_blender.core.kinematics import link_poses, random_configuration
from spark_blender.core.mjcf import matrix_to_quaternion, write_mjcf
from spark_blender.core.transforms import rpy_to_matrix
from spark_blender.core.urdf import read_urdf
from tests.conftest import DEV_URDFS, needs_shared


def _assert_mujoco_matches_fk(obj, xml_path, configurations=10):
    model = mujoco.MjModel.from_xml_path(str(xml_path))
    data = mujoco.MjData(model)
    rng = np.random.default_rng(3)
    for _ in range(configurations):
        q = random_configuration(obj, rng)
        for name, value in q.items():
            data.qpos[model.jnt_qposadr[model.joint(name).id]] = value
        mujoco.mj_forward(model, data)
        for name, pose in link_poses(obj, q).items():
            body = model.body(name).id
            np.testing.assert_allclose(data.xpos[body], pose[:3, 3], atol=1e-9)
            np.testing.assert_allclose(data.xmat[body].reshape(3, 3), pose[:3, :3], atol=1e-9)
    return model


def test_quaternions_match_rotations():
    rng = np.random.default_rng(0)
    for rpy in rng.uniform(-3.1, 3.1, (100, 3)):
        R = rpy_to_matrix(rpy)
        back = np.zeros(9)
        mujoco.mju_quat2Mat(back, matrix_to_quaternion(R))
        np.testing.assert_allclose(back.reshape(3, 3), R, atol=1e-12)


def test_example_as_mjcf(example_cabinet, tmp_path):
    path = write_mjcf(example_cabinet, tmp_path / "out")
    assert path.name == "example_cabinet.xml"
    model = _assert_mujoco_matches_fk(example_cabinet, path)
    assert model.njnt == 2
    hinge = model.joint("door_hinge")
    np.testing.assert_allclose(model.jnt_range[hinge.id], [0.0, np.deg2rad(110)])
    assert model.body("door").mass[0] > 0.5


@needs_shared
@pytest.mark.parametrize("path", DEV_URDFS[::4], ids=lambda p: p.parents[1].name)
def test_dev_objects_as_mjcf(path, tmp_path):
    obj = read_urdf(path)
    _assert_mujoco_matches_fk(obj, write_mjcf(obj, tmp_path / "out"), configurations=3)
