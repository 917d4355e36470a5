"""The benchmark runner behind `spark-articulate eval`.

For each case it gets a prediction (a `reconstruct` subprocess on `rest.png`, an existing output
folder, or an oracle baseline), scores it with EVAL.md's metrics, renders thumbnails and appends
one JSON line to `results.jsonl`. A case that crashes, times out or yields an invalid output is
recorded as failed with the worst score for every metric; the run goes on. Re-running into the
same report folder skips the cases already recorded, so an interrupted run resumes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spark_blender.errors import one_line
from spark_blender.evaluation.baselines import BASELINES, write_baseline
from spark_blender.evaluation.cases import Case, CaseError, list_cases, load_case
from spark_blender.evaluation.geometry import GeometryScores, geometry_scores, normalisation
from spark_blender.evaluation.joints import JointScores, joint_scores
from spark_blender.evaluation.prediction import Prediction, load_prediction
from spark_blender.progress import ProgressCallback, ProgressEvent, no_progress

RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"
DEFAULT_TIMEOUT = 900.0  # seconds per reconstruction


class EvalError(ValueError):
    """The run cannot start (bad cases folder, a report folder of another run, bad options)."""


@dataclass
class EvalOptions:
    cases_dir: Path
    out_dir: Path
    predictions_dir: Path | None = None  # score these output folders (DIR/<case>/*.urdf)
    baseline: str | None = None  # score an oracle baseline (bbox, cube, gt)
    parser: str | None = None  # passed to `reconstruct --parser`
    moved_image_oracle: bool = False  # give `reconstruct` the case's moved.png
    reconstruct_args: list[str] = field(default_factory=list)  # e.g. ablations: --samples 1
    limit: int | None = None
    jobs: int = 1
    timeout: float = DEFAULT_TIMEOUT
    simcheck: bool = True
    render: bool = True
    retry_failed: bool = False
    seed: int = 0
    reconstruct_command: list[str] = field(
        default_factory=lambda: [sys.executable, "-m", "spark_blender.cli", "reconstruct"]
    )

    @property
    def source(self) -> str:
        """What produced the predictions; one report folder holds results of one source."""
        if self.predictions_dir is not None:
            return f"predictions:{self.predictions_dir.resolve()}"
        if self.baseline is not None:
            return f"baseline:{self.baseline}"
        flags = [f"parser={self.parser or 'default'}"]
        if self.moved_image_oracle:
            flags.append("moved-image-oracle")
        flags += self.reconstruct_args
        return f"reconstruct:{','.join(flags)}"

    def check(self) -> None:
        if self.predictions_dir is not None and self.baseline is not None:
            raise EvalError("--predictions and --baseline exclude each other")
        if self.predictions_dir is not None and not self.predictions_dir.is_dir():
            raise EvalError(f"{self.predictions_dir}: predictions folder not found")
        if self.baseline is not None and self.baseline not in BASELINES:
            raise EvalError(f"unknown baseline '{self.baseline}' ({', '.join(BASELINES)})")
        if self.jobs < 1 or (self.limit is not None and self.limit < 1):
            raise EvalError("--jobs and --limit must be at least 1")
        if not self.timeout > 0:
            raise EvalError("--timeout must be positive")


@dataclass
class EvalRun:
    options: EvalOptions
    records: list[dict]  # one per case, in case order
    evaluated: int  # cases scored by this invocation (the rest were already recorded)


class CaseFailure(Exception):
    """A case failed at `stage`; the message is the one line recorded for it."""

    def __init__(self, stage: str, message: str, seconds: float | None = None):
        super().__init__(message)
        self.stage = stage
        self.seconds = seconds


# --- the run -------------------------------------------------------------------------------------
def run_evaluation(options: EvalOptions, progress: ProgressCallback = no_progress) -> EvalRun:
    """Evaluate every case (resuming), then write summary.md and report.html."""
    from spark_blender.evaluation.report import write_report

    options.check()
    try:
        folders = list_cases(options.cases_dir, options.limit)
    except CaseError as exc:
        raise EvalError(str(exc)) from exc
    options.out_dir.mkdir(parents=True, exist_ok=True)
    _claim_report_folder(options)
    recorded = read_results(options.out_dir / RESULTS_FILE)
    todo = [f for f in folders if _needs_run(recorded.get(f.name), options)]
    done = len(folders) - len(todo)
    progress(ProgressEvent("eval", done / len(folders), f"{done} of {len(folders)} recorded"))
    for record in _evaluate_all(todo, options):
        recorded[record["case"]] = record
        _append_result(options.out_dir / RESULTS_FILE, record)
        done += 1
        progress(ProgressEvent("eval", done / len(folders), f"{record['case']} {record['status']}"))
    records = [recorded[f.name] for f in folders]
    _rewrite_results(options.out_dir / RESULTS_FILE, recorded)
    write_report(records, options)
    return EvalRun(options, records, evaluated=len(todo))


def _needs_run(record: dict | None, options: EvalOptions) -> bool:
    if record is None:
        return True
    return options.retry_failed and record.get("status") != "ok"


def _evaluate_all(folders: list[Path], options: EvalOptions):
    if options.jobs == 1 or len(folders) <= 1:
        for folder in folders:
            yield evaluate_case(folder, options)
        return
    with ProcessPoolExecutor(max_workers=options.jobs) as pool:
        futures = {pool.submit(evaluate_case, folder, options): folder for folder in folders}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker died (e.g. a native crash): the case failed
                yield _worker_failure(futures[future], options, exc)


def _worker_failure(folder: Path, options: EvalOptions, exc: Exception) -> dict:
    try:
        case = load_case(folder)
    except CaseError:
        case = None
    return failed_record(folder.name, case, options, "worker", one_line(exc, with_type=True))


def _claim_report_folder(options: EvalOptions) -> None:
    """Record what this report folder scores; refuse to mix results of another source."""
    path = options.out_dir / RUN_FILE
    run = {"source": options.source, "seed": options.seed}
    if path.is_file():
        try:
            previous = json.loads(path.read_bytes().decode("utf-8"))
        except ValueError:  # garbage (not UTF-8, not JSON): no claim, it is replaced
            previous = {}
        if not isinstance(previous, dict):
            previous = {}
        mine = f"'{options.source}' (seed {options.seed})"
        theirs = f"'{previous.get('source')}' (seed {previous.get('seed')})"
        if previous and {k: previous.get(k) for k in run} != run:
            raise EvalError(
                f"{options.out_dir}: holds results of {theirs}, not {mine}; use another -o"
            )
    run["cases_dir"] = str(options.cases_dir.resolve())
    path.write_text(json.dumps(run, indent=1) + "\n")


# --- results.jsonl -------------------------------------------------------------------------------
def read_results(path: Path) -> dict[str, dict]:
    """Recorded cases (the last line of a case wins). Lines that are not a case record (a torn
    last line, garbage, a record without its case, status and category) are ignored, so those
    cases are evaluated again."""
    records: dict[str, dict] = {}
    if not path.is_file():
        return records
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and all(
            isinstance(record.get(key), str) for key in ("case", "status", "category")
        ):
            records[record["case"]] = record
    return records


def _append_result(path: Path, record: dict) -> None:
    with path.open("a") as stream:
        stream.write(json.dumps(record) + "\n")
        stream.flush()
        os.fsync(stream.fileno())


def _rewrite_results(path: Path, records: dict[str, dict]) -> None:
    """One line per case, sorted, replaced atomically (retries leave no stale lines)."""
    staged = path.with_suffix(".jsonl.tmp")
    staged.write_text("".join(json.dumps(records[name]) + "\n" for name in sorted(records)))
    os.replace(staged, path)


# --- one case ------------------------------------------------------------------------------------
def evaluate_case(folder: Path, options: EvalOptions) -> dict:
    """Score one case; never raises: any failure becomes a failed record with the worst scores."""
    case = None
    try:
        case = load_case(folder)
        output, seconds = _produce(case, options)
        try:
            prediction = load_prediction(output)
        except Exception as exc:
            message = one_line(exc, with_type=True)
            raise CaseFailure("load", f"invalid output: {message}", seconds) from exc
        record = _score(case, prediction, options)
        record["seconds"] = seconds
    except CaseError as exc:
        record = failed_record(folder.name, None, options, "case", str(exc))
        prediction = None
    except CaseFailure as failure:
        record = failed_record(folder.name, case, options, failure.stage, str(failure))
        record["seconds"] = failure.seconds
        prediction = None
    except Exception as exc:  # a bug or a crash in scoring must not end the run
        record = failed_record(folder.name, case, options, "score", one_line(exc, with_type=True))
        record["traceback"] = traceback.format_exc(limit=6)
        prediction = None
    if options.render and case is not None:
        record["images"] = _render_case(case, prediction, options)
    return record


def _produce(case: Case, options: EvalOptions) -> tuple[Path, float | None]:
    """The case's output folder and the seconds it took (None when not measured here)."""
    if options.predictions_dir is not None:
        return options.predictions_dir / case.name, None
    if options.baseline is not None:
        out = options.out_dir / "predictions" / case.name
        try:
            write_baseline(options.baseline, case, out)
        except Exception as exc:
            raise CaseFailure("baseline", one_line(exc, with_type=True)) from exc
        return out, None
    return _reconstruct(case, options)


def reconstruct_command(case: Case, out: Path, options: EvalOptions) -> list[str]:
    command = [*options.reconstruct_command, str(case.rest_image), "-o", str(out)]
    if options.parser:
        command += ["--parser", options.parser]
    if options.moved_image_oracle:
        command += ["--moved-image", str(case.moved_image)]
    return command + list(options.reconstruct_args)


def _reconstruct(case: Case, options: EvalOptions) -> tuple[Path, float]:
    out = options.out_dir / "outputs" / case.name
    if out.exists():  # left by an interrupted run: start clean so the result is this run's
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = reconstruct_command(case, out, options)
    started = time.perf_counter()
    try:
        done = run_with_timeout(command, options.timeout)
    except subprocess.TimeoutExpired as exc:
        seconds = time.perf_counter() - started
        raise CaseFailure("reconstruct", f"timed out after {options.timeout:g} s", seconds) from exc
    except OSError as exc:
        raise CaseFailure("reconstruct", f"could not start: {exc}", 0.0) from exc
    seconds = time.perf_counter() - started
    _save_log(options.out_dir / "logs" / f"{case.name}.log", command, done)
    if done.returncode != 0:
        raise CaseFailure(
            "reconstruct", f"exit {done.returncode}: {_last_line(done.stderr)}", seconds
        )
    return out, seconds


def run_with_timeout(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run `command` in its own process group; on timeout kill the whole group (a pipeline's
    worker processes included) and raise TimeoutExpired."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _save_log(path: Path, command: list[str], done: subprocess.CompletedProcess) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"$ {' '.join(command)}\nexit {done.returncode}\n--- stdout\n{done.stdout}"
    path.write_text(text + f"--- stderr\n{done.stderr}")


def _score(case: Case, prediction: Prediction, options: EvalOptions) -> dict:
    truth_mesh = case.mesh("rest")
    predicted_mesh = prediction.mesh("observed")
    geometry = geometry_scores(predicted_mesh, truth_mesh, seed=options.seed)
    truth_joints = [j.normalised(normalisation(truth_mesh)) for j in case.joints]
    predicted_joints = [
        j.normalised(normalisation(predicted_mesh)) for j in prediction.joints("observed")
    ]
    joints = joint_scores(predicted_joints, truth_joints)
    record = _base_record(case.name, case, options, "ok")
    record.update(_scores_dict(geometry, joints))
    record["predicted_joints"] = len(predicted_joints)
    record["prediction"] = str(prediction.urdf)
    record.update(_sim_check(prediction.urdf, options))
    return record


def _sim_check(urdf: Path, options: EvalOptions) -> dict:
    """sim_ready True/False, or None when not computed (disabled or the checker is missing)."""
    if not options.simcheck:
        return {"sim_ready": None, "sim_problem": "not computed (--no-simcheck)"}
    try:
        from spark_blender.core.simcheck import check_urdf
    except ImportError as exc:
        return {"sim_ready": None, "sim_problem": f"not computed ({one_line(exc, with_type=True)})"}
    try:
        report = check_urdf(urdf)
    except Exception as exc:
        message = one_line(exc, with_type=True)
        return {"sim_ready": False, "sim_problem": f"checker crashed: {message}"}
    errors = [f.message for f in report.findings if f.severity == "error"]
    return {"sim_ready": bool(report.passed), "sim_problem": errors[0] if errors else ""}


def failed_record(
    name: str, case: Case | None, options: EvalOptions, stage: str, message: str
) -> dict:
    """A failed case: the worst score for every metric."""
    truth = case.joints if case is not None else []
    record = _base_record(name, case, options, "failed")
    record.update(_scores_dict(GeometryScores.worst(), JointScores.worst(truth)))
    record.update(predicted_joints=0, prediction=None, sim_ready=False, sim_problem="case failed")
    record.update(failed_stage=stage, error=message, seconds=None)
    if options.predictions_dir is None and options.baseline is None:
        record["timeout"] = options.timeout  # the time it is charged (summary.scored_seconds)
    return record


def _base_record(name: str, case: Case | None, options: EvalOptions, status: str) -> dict:
    return {
        "case": name,
        "category": case.category if case is not None else "unknown",
        "status": status,
        "error": "",
        "source": options.source,
        "gt_joints": len(case.joints) if case is not None else None,
    }


def _scores_dict(geometry: GeometryScores, joints: JointScores) -> dict:
    scores = {k: _finite(v) for k, v in asdict(geometry).items()}
    scores.update(
        axis_error=_finite(joints.axis_error),
        pivot_error=_finite(joints.pivot_error),
        type_error=_finite(joints.type_error),
        part_count_error=joints.part_count_error,
        matches=[list(m) for m in joints.matches],
    )
    return scores


def _finite(value):
    if value is None or isinstance(value, int):
        return value
    return float(value) if math.isfinite(value) else None


def _render_case(case: Case, prediction: Prediction | None, options: EvalOptions) -> dict:
    """Thumbnails for the report; a rendering problem never changes the case's scores."""
    from spark_blender.evaluation.report import render_thumbnails

    try:
        return render_thumbnails(case, prediction, options.out_dir / "images" / case.name)
    except Exception as exc:
        return {"error": one_line(exc, with_type=True)}


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"
