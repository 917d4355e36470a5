"""Part tokens: encode is exact on synthetic objects, decode gives objects that pass the check."""

from __future__ import annotations

import numpy as np
import pytest

from spark_blender.core.simcheck import CheckOptions, check_urdf
from spark_blender.core.urdf import write_urdf
from spark_blender.generation.tokens import DecodeError, decode, encode, link_boxes
from spark_blender.synth import generate
from spark_blender.synth.parts import BUILDERS


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.prod(np.clip(np.minimum(a[1], b[1]) - np.maximum(a[0], b[0]), 0, None))
    return float(inter / (np.prod(a[1] - a[0]) + np.prod(b[1] - b[0]) - inter))


def test_part_programs_name_builders_and_frames():
    obj = generate("StorageFurniture", 3)
    programs = obj.part_programs
    assert set(programs) == {link.name for link in obj.links}
    assert programs["base"][0].builder == "carcass"
    assert programs["base"][0].grid is not None
    for records in programs.values():
        for record in records:
            assert record.builder in BUILDERS or record.builder in ("box", "mesh")
            assert record.frame.shape == (4, 4)
            assert np.allclose(record.frame[:3, :3] @ record.frame[:3, :3].T, np.eye(3))


@pytest.mark.parametrize("category", ["StorageFurniture", "Toilet"])
def test_round_trip_keeps_boxes_and_joints(category, tmp_path):
    obj = generate(category, 11)
    decoded = decode(encode(obj))
    truth, got = link_boxes(obj), link_boxes(decoded)
    assert min(_iou(truth[n], got[n]) for n in truth) > 0.97
    joints = {j.child: j for j in obj.joints}
    for joint in decoded.joints:
        original = joints[joint.child]
        assert joint.name == f"{joint.child}_joint"
        assert joint.type == original.type
        if joint.type != "continuous":
            assert joint.lower == pytest.approx(original.lower, abs=1e-6)
            assert joint.upper == pytest.approx(original.upper, abs=1e-6)
    report = check_urdf(write_urdf(decoded, tmp_path / "o"), CheckOptions(engines=("mujoco",)))
    assert report.passed, report.to_text()


def test_noisy_tokens_decode_or_refuse_in_one_line(tmp_path):
    rng = np.random.default_rng(5)
    tokens = encode(generate("Refrigerator", 4))
    for trial in range(2):
        rows = tokens.vector()
        rows[:, :9] += rng.normal(0.0, 0.1, rows[:, :9].shape)
        try:
            obj = decode(tokens.with_vector(rows))
        except DecodeError as exc:
            assert "\n" not in str(exc)
            continue
        report = check_urdf(
            write_urdf(obj, tmp_path / f"o{trial}"), CheckOptions(engines=("mujoco",))
        )
        assert report.passed, report.to_text()


def test_bad_tokens_are_refused():
    tokens = encode(generate("Box", 2))
    tokens.parts[1].parent = "nowhere"
    with pytest.raises(DecodeError, match="nowhere"):
        decode(tokens)
