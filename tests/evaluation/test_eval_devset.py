"""EVAL.md's calibration on the 32 real dev cases (skipped when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_blender.evaluation import EvalOptions, run_evaluation
from spark_blender.evaluation.summary import summarise

DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "partnet_dev"
pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not DEV.is_dir(), reason="needs ../shared/data/partnet_dev"),
]


def baseline_run(name: str, out: Path):
    options = EvalOptions(DEV, out, baseline=name, simcheck=False, render=False)
    return run_evaluation(options)


def test_oracle_box_matches_the_calibration_of_eval_md(tmp_path):
    run = baseline_run("bbox", tmp_path / "bbox")
    overall = summarise(run.records)
    assert overall.cases == 32 and overall.failed == 0
    assert overall.means["f_01"] == pytest.approx(0.608, abs=0.02)
    assert overall.means["f_05"] == pytest.approx(0.967, abs=0.02)
    assert overall.means["chamfer"] == pytest.approx(0.244, abs=0.02)
    # No joints predicted: every GT joint unmatched.
    assert overall.means["axis_error"] == pytest.approx(1.5707963, abs=1e-6)
    assert overall.means["type_error"] == 1.0


def test_ground_truth_as_its_own_prediction_scores_f_one_and_zero_joint_errors(tmp_path):
    # The prediction folders are written by the test into tmp from gt_rest.npz + gt.json.
    run = baseline_run("gt", tmp_path / "gt")
    for record in run.records:
        assert record["status"] == "ok", record["error"]
        assert record["f_01"] == 1.0 and record["f_05"] == 1.0, record["case"]
        assert record["chamfer"] < 0.07
        assert record["axis_error"] < 1e-6 and record["type_error"] == 0.0
        assert record["pivot_error"] is None or record["pivot_error"] < 1e-6
        assert record["part_count_error"] == 0
    assert summarise(run.records).means["chamfer"] == pytest.approx(0.05, abs=0.02)
