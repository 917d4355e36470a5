"""`reconstruct` end to end through the real CLI: the bundled example photo with the shipped
embedded models, a folder of photos, bad inputs, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from itertools import groupby
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cabinet.png"
MODELS = REPO / "models"

pytest.importorskip("torch")
needs_models = pytest.mark.skipif(
    not (MODELS / "parser" / "config.json").is_file() or not (MODELS / "dit").is_dir(),
    reason="needs the shipped weights in models/parser and models/dit",
)


def cli(*args, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "spark_blender.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.lstrip(".").startswith(name))


@pytest.fixture(scope="module")
def example_output(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("rec") / "cabinet"
    done = cli("reconstruct", EXAMPLE, "-o", out, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    return out, json.loads(done.stdout)


@needs_models
def test_the_example_photo_becomes_a_sim_ready_articulated_folder(example_output):
    from spark_blender.core.urdf import read_urdf

    out, summary = example_output
    urdf = Path(summary["urdf"])
    assert urdf.parent == out and urdf.is_file()
    assert summary["sim_ready"] is True
    assert (out / "preview.png").is_file() and (out / "parse" / "coarse.json").is_file()
    camera = json.loads((out / "camera.json").read_text())
    assert {"fx", "cam_to_world", "observed_configuration"} <= set(camera)
    assert (camera["width"], camera["height"]) == Image.open(EXAMPLE).size
    obj = read_urdf(urdf)
    assert obj.movable_joints, "the reconstruction has no movable part"
    assert all(link.inertial is not None for link in obj.links if link.name != "base")
    # The photo is projected onto the parts: every link has a texture atlas.
    textures = list((out / "meshes").rglob("*.png"))
    assert textures
    # Nothing but the output folder itself is left beside it.
    assert leftovers(out.parent, "cabinet") == ["cabinet"]


@needs_models
def test_the_reconstruction_matches_the_photo_silhouette(example_output):
    from spark_blender.core.camera import Camera
    from spark_blender.core.urdf import read_urdf
    from spark_blender.refinement.fit import iou
    from spark_blender.synth.render_fast import render

    out, summary = example_output
    obj = read_urdf(summary["urdf"])
    data = json.loads((out / "camera.json").read_text())
    camera = Camera.from_dict(data).scaled(128, 128)
    drawn = render(obj, camera, data["observed_configuration"]).mask > 0
    truth_record = json.loads((REPO / "examples" / "cabinet.json").read_text())
    from spark_blender.synth import generate

    truth = generate(truth_record["category"], truth_record["object_seed"])
    true_camera = Camera.from_dict(truth_record["camera"]).scaled(128, 128)
    want = render(truth, true_camera, {}).mask > 0
    assert iou(drawn, want) > 0.75


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` pixels (the header is all a loader needs to read
    to refuse it) with an empty image stream."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))  # fmt: skip


def bad_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    cases = {}
    cases["text"] = folder / "notes.png"
    cases["text"].write_text("this is not an image\n")
    cases["empty"] = folder / "empty.png"
    cases["empty"].write_bytes(b"")
    cases["tiny"] = folder / "tiny.png"
    Image.new("RGB", (1, 1), "red").save(cases["tiny"])
    cases["huge"] = folder / "huge.png"
    cases["huge"].write_bytes(png_header_only(20000, 20000))
    cases["truncated"] = folder / "truncated.png"
    cases["truncated"].write_bytes(EXAMPLE.read_bytes()[:2000])
    cases["missing"] = folder / "does_not_exist.png"
    cases["directory"] = folder / "a_folder.png"
    cases["directory"].mkdir()
    cases["nothing"] = folder / "nothing.png"
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(cases["nothing"])
    return cases


def test_bad_inputs_end_in_one_line_and_leave_no_output(tmp_path):
    for kind, path in bad_inputs(tmp_path / "in").items():
        out = tmp_path / f"out_{kind}"
        done = cli("reconstruct", path, "-o", out)
        assert done.returncode != 0, kind
        lines = done.stderr.strip().splitlines()
        assert len(lines) >= 1 and "Traceback" not in done.stderr, (kind, done.stderr[-800:])
        assert path.name in lines[-1], (kind, lines[-1])
        assert not out.exists() and leftovers(tmp_path, f"out_{kind}") == [], kind


@needs_models
def test_the_parsers_next_categories_are_generated_too_and_the_silhouette_picks(
    example_output, tmp_path
):
    """With --categories 3: K hypotheses for the parser's first category, K/2 for each next one
    it gives at least a tenth of the first one's probability; the written object's category
    and height are the winner's. By default the parser's category alone."""
    from spark_blender.core.kinematics import posed_mesh
    from spark_blender.core.urdf import read_urdf
    from spark_blender.pipeline import ALTERNATIVE_SHARE

    out, summary = example_output
    ranked = json.loads((out / "parse" / "parse.json").read_text())["category_probs"]
    alone = summary["hypothesis_categories"]
    assert set(alone) == {ranked[0][0]} and len(alone) <= 8

    done = cli("reconstruct", EXAMPLE, "-o", tmp_path / "three", "--json", "--categories", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    others = [c for c, p in ranked[1:] if p >= ALTERNATIVE_SHARE * ranked[0][1]]
    kinds = summary["hypothesis_categories"]
    # in the parser's order, up to 8 and 4 each (a hypothesis that does not decode is left out)
    runs = [(c, len(list(group))) for c, group in groupby(kinds)]
    assert runs[0][0] == ranked[0][0] and 1 <= runs[0][1] <= 8
    assert [c for c, _ in runs[1:]] == [c for c in others if c in kinds]
    assert all(1 <= n <= 4 for _, n in runs[1:]) and len(runs) >= 2
    assert len(summary["hypotheses"]) == len(kinds)
    winner = kinds[summary["chosen"]]
    assert summary["category"] == winner
    assert Path(summary["urdf"]).name == f"{winner}_generated.urdf"
    # written at the height the parser gives the winning category
    heights = json.loads((out / "parse" / "parse.json").read_text())["category_heights_m"]
    obj = read_urdf(summary["urdf"])
    bounds = posed_mesh(obj, obj.rest_configuration()).bounds
    assert bounds[1, 2] - bounds[0, 2] == pytest.approx(heights[winner], rel=0.01)


def test_alternative_categories_follow_the_parsers_ranking():
    from types import SimpleNamespace

    from spark_blender.pipeline import alternative_categories

    parsed = SimpleNamespace(category_probs=[("Oven", 0.5), ("Microwave", 0.3), ("Safe", 0.04)])
    assert alternative_categories(parsed, 3) == ["Microwave"]  # Safe: under a tenth of Oven's
    assert alternative_categories(parsed, 2) == ["Microwave"]
    assert alternative_categories(parsed, 1) == []
    assert alternative_categories(SimpleNamespace(category_probs=[]), 3) == []
    assert alternative_categories(SimpleNamespace(), 3) == []  # a parser that ranks nothing


def test_a_category_that_wins_verification_brings_its_own_height():
    from types import SimpleNamespace

    from spark_blender.pipeline import with_category

    coarse = SimpleNamespace(category="Microwave", size_m=[0.5, 0.4, 0.35])
    heights = {"Microwave": 0.35, "Refrigerator": 1.75}
    fridge = with_category(coarse, "Refrigerator", heights)
    assert fridge.category == "Refrigerator"
    assert fridge.size_m == pytest.approx([2.5, 2.0, 1.75])
    assert coarse.category == "Microwave" and coarse.size_m == [0.5, 0.4, 0.35]
    assert with_category(coarse, "Safe", heights).size_m == coarse.size_m  # no height known


def test_bad_options_are_refused_before_any_work(tmp_path):
    for flags in (["--samples", "0"], ["--height", "nan"], ["--height", "-1"],
                  ["--categories", "0"]):  # fmt: skip
        done = cli("reconstruct", EXAMPLE, "-o", tmp_path / "o", *flags)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "o").exists()


@needs_models
def test_ctrl_c_leaves_no_output_folder(tmp_path):
    out = tmp_path / "cut"
    # 64 hypotheses keep the run busy well past the signal: the default run can finish in 4 s
    command = [sys.executable, "-m", "spark_blender.cli", "reconstruct", str(EXAMPLE), "-o",
               str(out), "--samples", "64"]  # fmt: skip
    # As from a terminal: a suite started in the background (`cmd &`, no job control) inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler (the old flake).
    process = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(4.0)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    assert not out.exists() and leftovers(tmp_path, "cut") == []


@needs_models
def test_a_folder_of_photos_gives_one_folder_each_and_skips_a_bad_one(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "cabinet.png").write_bytes(EXAMPLE.read_bytes())
    (photos / "broken.png").write_bytes(b"\x89PNG garbage")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = cli("reconstruct", photos, "-o", tmp_path / "out", "--samples", "2", env=env)
    assert done.returncode == 1
    assert "broken.png" in done.stderr and "1 reconstructed, 1 failed" in done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cabinet"]
    assert list((tmp_path / "out" / "cabinet").glob("*.urdf"))


def test_scaling_to_a_given_height(tmp_path):
    """--height sets the result's height exactly (the parser's size only sets proportions)."""
    if not (MODELS / "parser" / "config.json").is_file():
        pytest.skip("needs the shipped weights")
    from spark_blender.core.kinematics import posed_mesh
    from spark_blender.core.urdf import read_urdf

    done = cli("reconstruct", EXAMPLE, "-o", tmp_path / "h", "--height", "1.5", "--samples", "1",
               "--no-texture", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    obj = read_urdf(json.loads(done.stdout)["urdf"])
    bounds = posed_mesh(obj, {}).bounds
    assert bounds[1, 2] - bounds[0, 2] == pytest.approx(1.5, rel=1e-6)
    assert np.allclose(bounds[0, :2] + bounds[1, :2], 0, atol=1e-6)


@needs_models
def test_a_searched_pose_whose_parts_collide_falls_back_to_the_parsers(tmp_path, monkeypatch):
    # The pose stage stands in for one that wrote a joint driving one part into another (the
    # first movable joint made a slide towards the second one's pivot, twice as far) and
    # shortening is off (a collision it cannot mend): the object written must be the one at
    # the parser's pose, with its own joints, sim-ready.
    from dataclasses import replace

    from spark_blender import pipeline
    from spark_blender.core.kinematics import joint_frames, link_poses

    before = {}

    def drive_into_neighbour(obj, camera, coarse, observed, mask, part_masks, warnings):
        movable = obj.movable_joints
        assert len(movable) >= 2, "the example reconstruction has fewer than two moving parts"
        first, second = movable[0], movable[1]
        frames = joint_frames(obj, {})
        gap = frames[second.name][0] - frames[first.name][0]
        frame = link_poses(obj, {})[first.parent] @ first.origin
        axis = frame[:3, :3].T @ (gap / np.linalg.norm(gap))
        before.update({j.name: (j.type, j.lower, j.upper) for j in obj.joints})
        slide = replace(first, type="prismatic", axis=axis, lower=0.0,
                        upper=2 * float(np.linalg.norm(gap)))  # fmt: skip
        joints = [slide if j.name == first.name else j for j in obj.joints]
        return type(obj)(obj.name, list(obj.links), joints, obj.category), camera, observed

    monkeypatch.setattr(pipeline, "_pose", drive_into_neighbour)
    monkeypatch.setattr(pipeline, "cut_back", lambda *args: [])
    # the parser's first category only: the example's cabinet
    options = pipeline.ReconstructOptions(fit=False, texture=False, samples=2, categories=1)
    result = pipeline.reconstruct(EXAMPLE, tmp_path / "out", options)
    assert "the searched pose made parts collide; kept the parser's pose" in result.warnings
    assert result.check_passed is True
    written = {j.name: j.type for j in result.object.joints}
    assert written == {name: kind for name, (kind, _, _) in before.items()}
