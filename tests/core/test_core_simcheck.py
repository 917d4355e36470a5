"""`spark-articulate check`: real MuJoCo and PyBullet loads; planted faults are caught."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from spark_blender.cli import main
from spark_blender.core.model import Joint, Link
from spark_blender.core.simcheck import check_urdf, sweep_configurations
from spark_blender.core.transforms import translation
from spark_blender.core.urdf import write_urdf
from spark_blender.examples import METAL, box


def test_the_example_passes_every_check(example_urdf):
    report = check_urdf(example_urdf)
    assert report.passed, report.to_text()
    assert report.summary["mujoco"].startswith("loaded")
    assert "0 penetrating pairs" in report.summary["mujoco"]
    assert report.summary["pybullet"].startswith("loaded")


def test_sweeps_reach_both_limits_with_eleven_values(example_cabinet):
    sweeps = sweep_configurations(example_cabinet, 11)
    door = [value for joint, value in sweeps if joint == "door_hinge"]
    assert len(door) == 11
    assert door[0] == 0.0 and door[-1] == pytest.approx(np.deg2rad(110))


def test_planted_penetration_is_caught(example_cabinet, tmp_path):
    # A post standing in front of the carcass, where the opening door sweeps.
    example_cabinet.links.append(
        Link(
            "post", visuals=[box("post", (0.0, -0.55, 0.4), (0.04, -0.5, 0.7), METAL)], label="post"
        )
    )
    example_cabinet.joints.append(Joint("post_fixed", "fixed", "base", "post"))
    report = check_urdf(write_urdf(example_cabinet, tmp_path / "out"))
    assert not report.passed
    overlaps = [f for f in report.findings if f.check == "penetration"]
    assert len(overlaps) == 1
    assert "'door' and 'post'" in overlaps[0].message
    assert report.penetrations[0]["depth"] > 0.002
    assert report.penetrations[0]["joint"] == "door_hinge"


def _add_tray(cabinet, stop: bool = False) -> None:
    """A sliding tray behind the example's door (it can only come out once the door is open);
    with `stop`, a fixed block inside the opening that it hits whatever the door does."""
    w, d, t = 0.3, 0.225, 0.018
    z = 0.35 * 0.8 + t + 0.05
    tray = box("tray_plate", (-w + t + 0.01, 0.0, 0.0), (w - t - 0.01, 0.3, 0.01), METAL)
    cabinet.links.append(Link("tray", visuals=[tray], label="drawer"))
    cabinet.joints.append(
        Joint(
            "tray_slide",
            "prismatic",
            "base",
            "tray",
            origin=translation((0.0, -d + 0.03, z)),
            axis=np.array([0.0, -1.0, 0.0]),
            upper=0.25,
            label="drawer",
        )  # fmt: skip
    )
    if stop:
        block = box("stop", (-0.05, -d + 0.005, z - 0.02), (0.05, -d + 0.02, z + 0.03), METAL)
        cabinet.links.append(Link("stop", visuals=[block], label="stop"))
        cabinet.joints.append(Joint("stop_fixed", "fixed", "base", "stop"))


def test_a_part_that_moves_once_another_is_open_is_a_coupling(example_cabinet, tmp_path):
    # The tray runs into the closed door, and runs clear with the door open: a coupling.
    _add_tray(example_cabinet)
    report = check_urdf(write_urdf(example_cabinet, tmp_path / "out"))
    assert report.passed, report.to_text()
    assert [(c["joint"], c["needs"]) for c in report.couplings] == [("tray_slide", "door_hinge")]
    assert report.couplings[0]["value"] == pytest.approx(np.deg2rad(110))
    assert ["door", "tray"] in report.couplings[0]["pairs"]
    assert "'tray_slide' moves clear only with 'door_hinge'" in report.summary["mujoco"]


def test_a_blocked_part_is_no_coupling(example_cabinet, tmp_path):
    # A block in its way stops the tray with the door open too: a penetration, no coupling.
    _add_tray(example_cabinet, stop=True)
    report = check_urdf(write_urdf(example_cabinet, tmp_path / "out"))
    assert not report.passed
    messages = [f.message for f in report.findings if f.check == "penetration"]
    assert any("'stop' and 'tray'" in m for m in messages), messages
    assert any("'door' and 'tray'" in m for m in messages), messages
    assert report.couplings == []


def test_contact_with_the_parent_is_allowed(example_cabinet, tmp_path):
    # The drawer slides inside its parent carcass: that contact is not a finding.
    example_cabinet.joint("drawer_slide").origin = translation((0.0, -0.2, 0.021))
    report = check_urdf(write_urdf(example_cabinet, tmp_path / "out"))
    assert not [f for f in report.findings if f.check == "penetration"], report.to_text()


def test_planted_zero_mass_moving_link_is_caught(example_urdf, tmp_path):
    text = example_urdf.read_text()
    door = text.index('<link name="door"')
    mass = re.compile(r'<mass value="[^"]+"/>')
    planted = text[:door] + mass.sub('<mass value="0.0"/>', text[door:], count=1)
    path = example_urdf.parent / "zero_mass.urdf"
    path.write_text(planted)
    try:
        report = check_urdf(path)
    finally:
        path.unlink()
    assert not report.passed
    messages = [f.message for f in report.findings if f.severity == "error"]
    assert "link 'door' has non-positive mass 0.0" in messages


def test_cli_exit_codes_and_json(example_urdf, tmp_path, capsys):
    assert main(["check", str(example_urdf), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True and report["findings"] == []
    missing = tmp_path / "nothing.urdf"
    assert main(["check", str(missing)]) == 2  # bad input: one line on stderr (issue 11)
    assert "does not exist" in capsys.readouterr().err


def test_check_of_a_broken_file_reports_the_read_error(tmp_path):
    path = tmp_path / "broken.urdf"
    path.write_text("<robot name='x'><link name='a'/><link name='b'/></robot>")
    report = check_urdf(path)
    assert not report.passed
    assert report.findings[0].check == "read"
    assert "2 root links" in report.findings[0].message


def test_package_paths_resolve_for_both_simulators(example_urdf, tmp_path, capsys):
    # A ROS-style layout: the URDF in my_cabinet/urdf/, its meshes named package://my_cabinet/...
    package = tmp_path / "ws" / "my_cabinet"
    shutil.copytree(example_urdf.parent / "meshes", package / "meshes")
    (package / "urdf").mkdir()
    text = example_urdf.read_text().replace(
        'filename="meshes/', 'filename="package://my_cabinet/meshes/'
    )
    urdf = package / "urdf" / "cabinet.urdf"
    urdf.write_text(text)
    assert main(["check", str(urdf), "--package-dir", str(tmp_path / "ws"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["mujoco"].startswith("loaded")


def test_a_body_beyond_pybullets_state_limit_is_a_warning_not_a_traceback(tmp_path):
    """PyBullet loads a body of 128+ joints but its state queries fail for it: the check says
    so in one warning (and still runs MuJoCo) instead of letting pybullet.error escape."""
    import trimesh

    from spark_blender.core.model import ArticulatedObject, Visual

    links = [Link("base", [Visual(trimesh.creation.box((1.0, 1.0, 0.02)))], label="base")]
    joints = []
    for i in range(129):
        x, y = divmod(i, 12)
        links.append(Link(f"stud_{i}", [Visual(trimesh.creation.box((0.02, 0.02, 0.02)))]))
        where = translation((x * 0.08 - 0.4, y * 0.08 - 0.4, 0.03))
        joints.append(Joint(f"stud_{i}_joint", "fixed", "base", f"stud_{i}", origin=where))
    urdf = write_urdf(ArticulatedObject("studs", links, joints), tmp_path / "studs")
    report = check_urdf(urdf)
    warnings = [f.message for f in report.findings if f.severity == "warning"]
    assert any("cannot report the state" in w and "129 joints" in w for w in warnings)
    assert report.passed
    assert "state not readable" in report.summary["pybullet"]
    assert report.summary["mujoco"].startswith("loaded")
