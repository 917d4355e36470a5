"""The command line: info, convert, example; bad input is one line and a non-zero exit."""

import subprocess
import sys

from spark_blender.cli import main
from spark_blender.core.urdf import read_urdf


def test_info_prints_tree_joints_limits_and_masses(example_urdf, capsys):
    assert main(["info", str(example_urdf)]) == 0
    out = capsys.readouterr().out
    assert "+-[revolute door_hinge]- door" in out
    assert "[0.0, 110.0] deg" in out
    assert "kg" in out


def test_convert_normalises_and_writes_mjcf(example_urdf, tmp_path, capsys):
    assert main(["convert", str(example_urdf), "-o", str(tmp_path / "urdf")]) == 0
    assert read_urdf(tmp_path / "urdf" / "example_cabinet.urdf").joint("drawer_slide")
    assert main(["convert", str(example_urdf), "-o", str(tmp_path / "mjcf"), "--mjcf"]) == 0
    assert (tmp_path / "mjcf" / "example_cabinet.xml").is_file()


def test_convert_refuses_to_overwrite_without_force(example_urdf, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["convert", str(example_urdf), "-o", str(out)]) == 0
    assert main(["convert", str(example_urdf), "-o", str(out)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(["convert", str(example_urdf), "-o", str(out), "--force"]) == 0


def test_bad_input_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "bad.urdf"
    bad.write_text("<robot name='r'><joint name='j' type='fixed'/></robot>")
    result = subprocess.run(
        [sys.executable, "-m", "spark_blender.cli", "info", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "bad.urdf" in result.stderr and "URDFError" in result.stderr
    assert "Traceback" not in result.stderr


def test_example_verb_writes_a_checkable_folder(tmp_path, capsys):
    assert main(["example", "-o", str(tmp_path / "ex")]) == 0
    assert main(["check", str(tmp_path / "ex" / "example_cabinet.urdf")]) == 0
    assert "PASSED" in capsys.readouterr().out
