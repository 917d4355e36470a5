"""The hold-still and push tests (`core.holdtest`): real MuJoCo and PyBullet runs on a lidded
box; the static screen and the part model checked against full-model simulations."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from spark_blender.core import holdtest
from spark_blender.core.dynamics import hold_value, joint_loads
from spark_blender.core.model import ArticulatedObject, Joint, Link
from spark_blender.core.simcheck import check_urdf, mujoco_urdf_text, quiet_native_output
from spark_blender.core.transforms import make_transform
from spark_blender.core.urdf import write_urdf
from spark_blender.core.urdf_read import read_urdf, resolve_mesh_paths
from spark_blender.examples import METAL, box


def lidded_box(lid_friction: float | None = None) -> ArticulatedObject:
    """A 30 x 20 x 10 cm box whose lid hinges on its top back edge, a drawer in its front."""
    base = Link(
        "base",
        [
            box("bottom", (-0.15, -0.1, 0.0), (0.15, 0.1, 0.01), METAL),
            box("back", (-0.15, 0.09, 0.01), (0.15, 0.1, 0.1), METAL),
            box("left", (-0.15, -0.1, 0.01), (-0.14, 0.09, 0.1), METAL),
            box("right", (0.14, -0.1, 0.01), (0.15, 0.09, 0.1), METAL),
        ],
        label="base",
    )
    lid = Link("lid", [box("panel", (-0.15, -0.2, -0.01), (0.15, 0.0, 0.0), METAL)], label="lid")
    drawer = Link("drawer", [box("front", (-0.1, -0.01, 0.02), (0.1, 0.0, 0.08), METAL)])
    joints = [
        Joint(
            "lid_hinge", "revolute", "base", "lid", make_transform((0.0, 0.1, 0.111)),
            np.array([-1.0, 0.0, 0.0]), 0.0, 1.8,
        ),
        Joint(
            "drawer_slide", "prismatic", "base", "drawer", make_transform((0.0, -0.1, 0.0)),
            np.array([0.0, -1.0, 0.0]), 0.0, 0.12,
        ),
    ]  # fmt: skip
    obj = ArticulatedObject("lidded_box", [base, lid, drawer], joints)
    if lid_friction is not None:  # damping alone: the writers keep the friction given
        joints[0].friction, joints[0].damping = lid_friction, 0.05
    return obj


def mujoco_model(urdf: Path):
    text = mujoco_urdf_text(urdf, urdf.parent, resolve_mesh_paths(urdf, ()))
    path = urdf.parent / "mujoco.urdf"
    path.write_bytes(text)
    with quiet_native_output():
        return mujoco.MjModel.from_xml_path(str(path))


def test_a_sized_lid_holds_still_by_the_screen_and_yields_in_both_engines(tmp_path):
    report = check_urdf(write_urdf(lidded_box(), tmp_path / "out"))
    assert report.passed, report.to_text()
    assert "(2/2 held by the static screen); 2/2 move under a push" in report.summary["mujoco"]
    assert "2/2 move under a push" in report.summary["pybullet"]


def test_a_lid_with_too_little_friction_drops_in_both_engines(tmp_path):
    report = check_urdf(write_urdf(lidded_box(lid_friction=1e-4), tmp_path / "out"))
    holds = [f.message for f in report.findings if f.check == "hold"]
    for engine in ("MuJoCo", "PyBullet"):
        assert any(m.startswith(f"{engine}: joint 'lid_hinge'") and "drifts" in m for m in holds)
    # The screen sends the unheld lid to a simulation; the drawer stays screened.
    assert "(1/2 held by the static screen)" in report.summary["mujoco"]


def test_a_lid_with_far_too_much_friction_does_not_yield(tmp_path):
    report = check_urdf(write_urdf(lidded_box(lid_friction=50.0), tmp_path / "out"))
    pushes = [f.message for f in report.findings if f.check == "push" and f.severity == "error"]
    for engine in ("MuJoCo", "PyBullet"):
        assert any(m.startswith(f"{engine}: joint 'lid_hinge' moves only") for m in pushes)
    assert not [f for f in report.findings if f.check == "hold"]  # it does hold, though


def written_without_contacts(tmp_path: Path):
    """The lidded box as written and read back, and its MuJoCo model with contacts off (as the
    hold and push tests run it)."""
    urdf = write_urdf(lidded_box(), tmp_path / "out")
    model = mujoco_model(urdf)
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
    return read_urdf(urdf), model


def _state_at_hold(model, obj, name: str):
    data = mujoco.MjData(model)
    joint = obj.joint(name)
    jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
    data.qpos[model.jnt_qposadr[jid]] = hold_value(joint)
    holdtest._statics(mujoco, model, data)
    return data, jid


def test_the_part_model_moves_exactly_as_the_full_model_with_the_rest_locked(tmp_path):
    obj, model = written_without_contacts(tmp_path)
    data, jid = _state_at_hold(model, obj, "lid_hinge")
    part = holdtest._part_model(mujoco, model, data, jid, model.jnt_dofadr[jid])
    # The full model with the drawer locked at 0: the lid is its only free joint.
    drawer = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "drawer_slide")
    model.jnt_range[drawer] = (0.0, 0.0)
    model.dof_frictionloss[model.jnt_dofadr[drawer]] = 1e6
    push = joint_loads(obj)["lid_hinge"].push
    part_data = mujoco.MjData(part)
    start = float(data.qpos[model.jnt_qposadr[jid]])
    data.qvel[:] = 0.0
    data.qfrc_applied[model.jnt_dofadr[jid]] = -push  # against gravity: the lid lifts
    part_data.qfrc_applied[0] = -push
    for _ in range(5):
        for _ in range(50):
            mujoco.mj_step(model, data)
            mujoco.mj_step(part, part_data)
        full_q = float(data.qpos[model.jnt_qposadr[jid]]) - start
        assert float(part_data.qpos[0]) == pytest.approx(full_q, abs=1e-6)
    assert abs(full_q) > 0.01  # it did move, so the agreement means something


def test_what_the_screen_holds_does_not_move_in_a_full_simulation(tmp_path):
    obj, model = written_without_contacts(tmp_path)
    ids = {
        j.name: mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, j.name)
        for j in obj.movable_joints
    }
    adrs = {n: model.jnt_qposadr[i] for n, i in ids.items()}
    dofs = {n: model.jnt_dofadr[i] for n, i in ids.items()}
    for name in ids:
        data, jid = _state_at_hold(model, obj, name)
        assert holdtest._held_mujoco(model, data, ids, adrs, dofs)
        start = float(data.qpos[adrs[name]])
        for _ in range(1000):  # 2 s
            mujoco.mj_step(model, data)
        assert abs(float(data.qpos[adrs[name]]) - start) < 1e-4, name
