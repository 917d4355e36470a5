"""The verbs under a careless or hostile user (issue 11), through the real CLI in subprocesses:
one test per class of failure. Each ends in one line on stderr and a non-zero exit, with
nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "spark_blender.cli"]
BOX_URDF = """<robot name="r">
  <link name="base"><visual><geometry><box size="0.2 0.2 0.2"/></geometry></visual></link>
  <link name="lid">
    <inertial><mass value="{mass}"/>
      <inertia ixx="1e-3" ixy="0" ixz="0" iyy="1e-3" iyz="0" izz="1e-3"/></inertial>
    <visual><geometry><box size="0.2 0.2 0.01"/></geometry></visual>
  </link>
  <joint name="hinge" type="revolute"><parent link="base"/><child link="lid"/>
    <origin xyz="0 0 0.11"/><axis xyz="1 0 0"/><limit lower="{lower}" upper="{upper}"/>
  </joint>
</robot>
"""


def run(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def assert_one_line_failure(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    # argparse prints its usage line before the one error line
    errors = [line for line in lines if not line.startswith("usage:") and not line[:1].isspace()]
    assert len(errors) == 1, done.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def cabinet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cabinet") / "cabinet"
    done = run("example", "-o", str(out))
    assert done.returncode == 0, done.stderr
    return next(out.glob("*.urdf"))


def test_bad_output_targets_fail_in_one_line_before_any_work(tmp_path, cabinet):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    cases = [
        (str(afile), "is a file"),
        ("/dev/null", "is a device"),
        ("", "folder"),
        (str(afile / "out"), "is a file"),
        ("/proc/spark_out/x", "cannot be made"),
    ]
    for target, words in cases:
        done = run("convert", str(cabinet), "-o", target, "--force", cwd=tmp_path)
        assert_one_line_failure(done, words)
    assert_one_line_failure(run("example", "-o", str(afile), cwd=tmp_path), "is a file")
    for verb in (["convert", str(cabinet)], ["example"]):
        assert_one_line_failure(run(*verb, "-o", ".", "--force", cwd=tmp_path), "current folder")
    done = run("synth", "--categories", "Box", "--n", "1", "-o", str(afile))
    assert_one_line_failure(done, "is a file")
    photo = Path(__file__).resolve().parents[1] / "examples" / "cabinet.png"
    for target, words in (
        (".", "current folder"),
        ("", "the name is empty"),
        (str(afile), "is a file"),
        ("/dev/null", "device"),
    ):
        started = time.perf_counter()
        done = run("reconstruct", str(photo), "-o", target, "--force", cwd=tmp_path)
        assert_one_line_failure(done, words)
        assert "embedded parser" not in done.stderr  # refused before the parser ran
        assert time.perf_counter() - started < 60
    assert afile.read_text() == "keep me"
    assert hidden_leftovers(tmp_path) == []


def test_force_replaces_and_a_signal_leaves_nothing_behind(tmp_path, cabinet):
    out = tmp_path / "out"
    assert run("convert", str(cabinet), "-o", str(out)).returncode == 0
    assert_one_line_failure(run("convert", str(cabinet), "-o", str(out)), "exists")
    assert run("convert", str(cabinet), "-o", str(out), "--force").returncode == 0
    assert hidden_leftovers(tmp_path) == []
    before = sorted(p.name for p in out.rglob("*"))
    # SIGTERM in the middle of a dataset: the staged folder goes, the old folder stays.
    dataset = tmp_path / "data"
    process = subprocess.Popen(
        [*CLI, "synth", "--categories", "all", "--n", "20", "-o", str(dataset)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not any(
        p.name.startswith(".data.") for p in tmp_path.iterdir()
    ):
        time.sleep(0.1)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGTERM, process.stderr.read()
    assert "Traceback" not in process.stderr.read()
    assert hidden_leftovers(tmp_path) == []
    assert not dataset.exists()
    assert sorted(p.name for p in out.rglob("*")) == before


def test_numeric_options_are_checked_where_they_are_parsed(tmp_path, cabinet):
    probes = [
        (["check", str(cabinet), "--steps", "-1"], "--steps"),
        (["check", str(cabinet), "--steps", "0"], "--steps"),
        (["check", str(cabinet), "--penetration", "nan"], "--penetration"),
        (["check", str(cabinet), "--penetration", "-1"], "--penetration"),
        (["check", str(cabinet), "--penetration", "inf"], "--penetration"),
        (
            ["synth", "--n", "1", "-o", str(tmp_path / "d"), "--random-poses", "-1"],
            "--random-poses",
        ),
        (["synth", "--n", "1", "-o", str(tmp_path / "d"), "--cycles-samples", "0"], "--cycles"),
        (["synth", "--n", "0", "-o", str(tmp_path / "d")], "--n"),
        (["eval", str(tmp_path), "-o", str(tmp_path / "r"), "--jobs", "0"], "--jobs"),
        (["eval", str(tmp_path), "-o", str(tmp_path / "r"), "--timeout", "nan"], "--timeout"),
        (
            ["parse", str(cabinet), "-o", str(tmp_path / "p"), "--request-timeout", "nan"],
            "--request-timeout",
        ),  # fmt: skip
        (
            ["parse", str(cabinet), "-o", str(tmp_path / "p"), "--request-timeout", "0"],
            "--request-timeout",
        ),  # fmt: skip
    ]
    for args, option in probes:
        done = run(*args)
        assert_one_line_failure(done, option)
    assert not (tmp_path / "d").exists()


def test_inputs_that_are_not_files_are_named_as_such(tmp_path):
    fifo = tmp_path / "pipe.urdf"
    os.mkfifo(fifo)
    probes = [
        (str(tmp_path), "is a folder"),
        ("/dev/zero", "not a regular file"),
        (str(fifo), "not a regular file"),
        (str(tmp_path / "missing.urdf"), "does not exist"),
    ]
    for path, words in probes:
        for verb in ("check", "info"):
            assert_one_line_failure(run(verb, path), words)
        assert_one_line_failure(run("convert", path, "-o", str(tmp_path / "o")), words)
    assert not (tmp_path / "o").exists()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size: signature, IHDR, an empty IDAT, IEND (no pixels follow)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_parse_refuses_unusable_images_in_one_line(tmp_path):
    (tmp_path / "huge.png").write_bytes(_png_header(20000, 20000))
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture")
    (tmp_path / "cut.png").write_bytes(_png_header(64, 64)[:30])
    probes = [
        ("huge.png", "is 20000x20000 pixels; the limit is"),
        ("empty.png", "empty"),
        ("text.png", "not an image"),
        ("cut.png", "image"),
        ("/dev/zero", "not a regular file"),
        (str(tmp_path), "is a folder"),
    ]
    for name, words in probes:
        done = run(
            "parse", str(tmp_path / name), "-o", str(tmp_path / "out"), "--parser", "embedded"
        )
        assert_one_line_failure(done, words)
    assert not (tmp_path / "out").exists()
    assert hidden_leftovers(tmp_path) == []


def test_check_refuses_absurd_values_and_odd_folders(tmp_path):
    absurd = tmp_path / "absurd.urdf"
    absurd.write_text(BOX_URDF.format(mass=1.0, lower=-1e300, upper=1e300))
    done = run("check", str(absurd))
    assert done.returncode == 1 and "beyond" in done.stdout, done.stdout
    heavy = tmp_path / "heavy.urdf"
    heavy.write_text(BOX_URDF.format(mass=1e9, lower=0, upper=1))
    done = run("check", str(heavy))
    assert done.returncode == 1 and "mass" in done.stdout, done.stdout
    # A folder whose name is not UTF-8: both simulators still load the file.
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    odd.mkdir()
    (odd / "box.urdf").write_text(BOX_URDF.format(mass=0.5, lower=0, upper=1))
    done = subprocess.run([*CLI, "check", "--json", os.fsencode(odd / "box.urdf")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert "load failed" not in json.dumps(report["summary"]), report
    # 500 links without inertials: the model rules refuse it, no simulator error escapes.
    links = "".join(
        f'<link name="l{i}"><visual><geometry><box size="0.01 0.01 0.01"/></geometry>'
        "</visual></link>"
        for i in range(501)
    )
    joints = "".join(
        f'<joint name="j{i}" type="revolute"><parent link="l0"/><child link="l{i}"/>'
        f'<limit lower="0" upper="1"/></joint>'
        for i in range(1, 501)
    )
    star = tmp_path / "star.urdf"
    star.write_text(f'<robot name="star">{links}{joints}</robot>')
    done = run("check", str(star))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "has no inertial" in done.stdout


def test_eval_survives_garbage_in_its_report_folder(tmp_path):
    from spark_blender.evaluation.runner import read_results

    (tmp_path / "results.jsonl").write_bytes(b'\xff\xfe garbage\n[1, 2]\n{"case": [1]}\n')
    assert read_results(tmp_path / "results.jsonl") == {}
