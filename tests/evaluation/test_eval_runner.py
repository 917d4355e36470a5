"""The benchmark runner on cases built by our own code: scoring output folders, failures,
resuming, parallel jobs, the reconstruct subprocess, the report files and the CLI verb."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from eval_synthetic import write_demo_set
from PIL import Image

from spark_blender.cli import main
from spark_blender.evaluation import EvalError, EvalOptions, run_evaluation
from spark_blender.evaluation.geometry import WORST_CHAMFER
from spark_blender.evaluation.runner import read_results


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    return write_demo_set(tmp_path_factory.mktemp("demo"))


def options(cases: Path, out: Path, **kwargs) -> EvalOptions:
    kwargs.setdefault("simcheck", False)
    kwargs.setdefault("render", False)
    return EvalOptions(cases_dir=cases, out_dir=out, **kwargs)


def by_case(run) -> dict[str, dict]:
    return {r["case"]: r for r in run.records}


def test_a_perfect_prediction_scores_f_one_and_zero_joint_errors(demo, tmp_path):
    cases, predictions = demo
    run = run_evaluation(options(cases, tmp_path / "r", predictions_dir=predictions))
    perfect = by_case(run)["cabinet_small"]
    assert perfect["status"] == "ok"
    assert perfect["f_01"] == 1.0 and perfect["f_05"] == 1.0 and perfect["chamfer"] < 0.08
    assert perfect["axis_error"] < 1e-6 and perfect["pivot_error"] < 1e-6
    assert perfect["type_error"] == 0.0 and perfect["part_count_error"] == 0


def test_wrong_joints_are_scored_as_wrong(demo, tmp_path):
    cases, predictions = demo
    records = by_case(run_evaluation(options(cases, tmp_path / "r", predictions_dir=predictions)))
    tall = records["cabinet_tall"]  # door axis flipped (sign-free: no error), drawer sideways
    assert tall["axis_error"] == pytest.approx(np.pi / 4)
    assert tall["f_01"] == 1.0  # the geometry at rest is untouched
    lid = records["lidded_box"]  # hinge on the front edge: 0.35 m over a half-width of 0.25 m
    assert lid["pivot_error"] == pytest.approx(0.35 / 0.25)
    assert lid["axis_error"] == pytest.approx(0.0, abs=1e-9)


def test_bad_outputs_are_failures_with_worst_scores_and_the_run_goes_on(demo, tmp_path):
    cases, predictions = demo
    broken = tmp_path / "broken"
    shutil.copytree(predictions, broken)
    shutil.rmtree(broken / "cabinet_small")  # no output at all
    urdf = next((broken / "lidded_box").glob("*.urdf"))
    urdf.write_text("<robot name='x'><link name='a'/><joint name='j'")  # torn file
    run = run_evaluation(options(cases, tmp_path / "r", predictions_dir=broken))
    records = by_case(run)
    for name in ("cabinet_small", "lidded_box"):
        failed = records[name]
        assert failed["status"] == "failed" and failed["error"]
        assert failed["chamfer"] == WORST_CHAMFER and failed["f_01"] == 0.0
        assert failed["axis_error"] == pytest.approx(np.pi / 2)
        assert failed["type_error"] == 1.0 and failed["sim_ready"] is False
    assert "no output folder" in records["cabinet_small"]["error"]
    assert "invalid output" in records["lidded_box"]["error"]
    assert records["cabinet_tall"]["status"] == "ok"


def test_rerunning_skips_recorded_cases_and_resumes_missing_ones(demo, tmp_path):
    cases, predictions = demo
    opts = options(cases, tmp_path / "r", predictions_dir=predictions)
    first = run_evaluation(opts)
    assert first.evaluated == 3
    assert run_evaluation(opts).evaluated == 0
    results = tmp_path / "r" / "results.jsonl"
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:1]) + "\n" + lines[1][:40])  # a torn last line
    resumed = run_evaluation(opts)
    assert resumed.evaluated == 2
    assert [r["f_01"] for r in resumed.records] == [r["f_01"] for r in first.records]
    assert len(results.read_text().splitlines()) == 3


def test_a_report_folder_of_another_source_is_refused(demo, tmp_path):
    cases, predictions = demo
    run_evaluation(options(cases, tmp_path / "r", predictions_dir=predictions))
    with pytest.raises(EvalError, match="holds results of"):
        run_evaluation(options(cases, tmp_path / "r", baseline="bbox"))


def test_parallel_jobs_give_the_same_scores(demo, tmp_path):
    cases, predictions = demo
    serial = run_evaluation(options(cases, tmp_path / "a", predictions_dir=predictions))
    parallel = run_evaluation(options(cases, tmp_path / "b", predictions_dir=predictions, jobs=2))
    keys = ("chamfer", "f_01", "axis_error", "pivot_error")
    assert [[r[k] for k in keys] for r in serial.records] == [
        [r[k] for k in keys] for r in parallel.records
    ]


def test_reconstruct_failures_and_timeouts_are_recorded_per_case(demo, tmp_path):
    cases, _ = demo
    # The real CLI on photos that are not images: each case records the one-line reason.
    broken = tmp_path / "cases"
    shutil.copytree(cases, broken)
    for rest in broken.glob("*/rest.png"):
        rest.write_bytes(b"not a png at all")
    run = run_evaluation(options(broken, tmp_path / "r", limit=2, timeout=120))
    for record in run.records:
        assert record["status"] == "failed" and record["failed_stage"] == "reconstruct"
        assert "rest.png" in record["error"] and record["seconds"] > 0
        assert (tmp_path / "r" / "logs" / f"{record['case']}.log").is_file()


def test_a_timed_out_reconstruction_is_killed_with_its_children(demo, tmp_path):
    cases, _ = demo
    pid_file = tmp_path / "child.pid"
    slow = [
        sys.executable,
        "-c",
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
    ]
    opts = options(cases, tmp_path / "t", limit=1, timeout=3, reconstruct_command=slow)
    run = run_evaluation(opts)
    assert run.records[0]["error"] == "timed out after 3 s"
    assert run.records[0]["seconds"] < 30
    assert not _running(int(pid_file.read_text()))


def _running(pid: int) -> bool:
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state in ("Z", "X"):  # killed; a zombie until someone reaps it
            return False
        time.sleep(0.1)
    return True


def test_reconstruct_path_scores_what_the_command_writes(demo, tmp_path):
    cases, predictions = demo
    # A stand-in reconstructor (copies a known output folder to -o) exercises the subprocess
    # path end to end: arguments, the output folder, timing.
    script = tmp_path / "reconstructor.py"
    script.write_text(
        "import shutil, sys, pathlib\n"
        "image, out = pathlib.Path(sys.argv[1]), sys.argv[sys.argv.index('-o') + 1]\n"
        "assert '--moved-image' in sys.argv and '--parser' in sys.argv\n"
        f"shutil.copytree(pathlib.Path({str(predictions)!r}) / image.parent.name, out)\n"
    )
    run = run_evaluation(
        options(
            cases,
            tmp_path / "r",
            parser="embedded",
            moved_image_oracle=True,
            reconstruct_command=[sys.executable, str(script)],
        )
    )
    records = by_case(run)
    assert all(r["status"] == "ok" for r in run.records)
    assert records["cabinet_small"]["f_01"] == 1.0
    assert all(r["seconds"] > 0 for r in run.records)
    summary = (tmp_path / "r" / "summary.md").read_text()
    assert "reconstruct:parser=embedded,moved-image-oracle" in summary


def test_report_has_tables_plots_and_case_images(demo, tmp_path):
    cases, predictions = demo
    out = tmp_path / "r"
    run_evaluation(options(cases, out, predictions_dir=predictions, render=True))
    summary = (out / "summary.md").read_text()
    assert "## Overall" in summary and "| StorageFurniture | 2 | 0 |" in summary
    assert "| Box | 1 | 0 |" in summary
    html = (out / "report.html").read_text()
    sources = [part.split("'")[0] for part in html.split("src='")[1:]]
    try:
        import matplotlib  # noqa: F401  (the `eval` extra)

        assert any(s.startswith("plots/") for s in sources)
    except ImportError:
        assert "No plots: install matplotlib" in html
    assert sum(s.startswith("images/") for s in sources) == 3 * 5
    for source in sources:
        assert (out / source).is_file(), source
    moved = np.asarray(Image.open(out / "images" / "lidded_box" / "pred_moved.png"))
    rest = np.asarray(Image.open(out / "images" / "lidded_box" / "pred_rest.png"))
    assert (moved < 250).any() and not np.array_equal(moved, rest)  # drawn, and the lid moved


def test_simcheck_is_wired_in(demo, tmp_path):
    cases, predictions = demo
    run = run_evaluation(
        options(cases, tmp_path / "r", predictions_dir=predictions, limit=1, simcheck=True)
    )
    assert run.records[0]["sim_ready"] is True


def test_cli_eval_prints_the_scores_and_refuses_bad_input(demo, tmp_path, capsys):
    cases, _ = demo
    code = main(
        [
            "eval",
            str(cases),
            "-o",
            str(tmp_path / "r"),
            "--baseline",
            "gt",
            "--no-simcheck",
            "--no-render",
        ]
    )
    printed = capsys.readouterr()
    assert code == 0
    assert "3 cases (0 failed): F@0.1 1.000 / F@0.5 1.000" in printed.out
    assert "axis 0.000 rad, pivot 0.000, type 0.000" in printed.out
    assert "100%" in printed.err  # the progress bar
    records = read_results(tmp_path / "r" / "results.jsonl")
    assert set(records) == {"cabinet_small", "cabinet_tall", "lidded_box"}
    assert main(["eval", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "nowhere" in error[0]


def test_a_broken_case_folder_is_that_case_failure(demo, tmp_path):
    cases, predictions = demo
    copy = tmp_path / "cases"
    shutil.copytree(cases, copy)
    (copy / "lidded_box" / "gt_rest.npz").unlink()
    run = run_evaluation(options(copy, tmp_path / "r", predictions_dir=predictions))
    broken = by_case(run)["lidded_box"]
    assert broken["status"] == "failed" and broken["failed_stage"] == "case"
    assert "gt_rest.npz" in broken["error"]
    assert by_case(run)["cabinet_small"]["status"] == "ok"
