"""The worker protocol end to end: a real worker process, JSON lines, progress, result, cancel,
crashes, and the Reconstruct Articulated operator building the result (and undoing it)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

bpy = pytest.importorskip("bpy")

from spark_blender.blender import scene as blender_scene  # noqa: E402
from spark_blender.blender.jobs import ReconstructionJob  # noqa: E402
from spark_blender.blender.worker import (  # noqa: E402
    CANCELLED,
    FAILED,
    FINISHED,
    RUNNING,
    WorkerClient,
)
from spark_blender.worker import PROTOCOL, run_job  # noqa: E402


def scene_state() -> tuple:
    return (
        sorted(ob.name for ob in bpy.data.objects),
        sorted(c.name for c in bpy.data.collections),
        len(bpy.data.meshes),
    )


def drive(job: ReconstructionJob, timeout: float = 60.0) -> str:
    """What the modal operator's timer does, called directly (timers never fire under bpy)."""
    deadline = time.monotonic() + timeout
    while job.step(bpy.context) == RUNNING:
        assert time.monotonic() < deadline, "worker did not finish"
        time.sleep(0.02)
    return job.status


def test_in_process_job_emits_hello_progress_then_one_result(tmp_path, example_urdf):
    messages = []
    request = {"protocol": PROTOCOL, "job": "load_urdf", "args": {"urdf": str(example_urdf)}}
    request["args"]["out"] = str(tmp_path / "out")
    assert run_job(request, messages.append)
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "hello" and kinds[-1] == "result" and kinds.count("result") == 1
    fractions = [m["fraction"] for m in messages if m["type"] == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert (tmp_path / "out" / example_urdf.name).is_file()


def test_in_process_job_reports_unknown_jobs_and_bad_input_as_one_error(tmp_path):
    messages = []
    assert not run_job({"protocol": PROTOCOL, "job": "dance", "args": {}}, messages.append)
    assert messages[-1]["type"] == "error" and "unknown job 'dance'" in messages[-1]["message"]
    messages.clear()
    args = {"image": str(tmp_path / "missing.png"), "out": str(tmp_path / "out")}
    assert not run_job({"protocol": PROTOCOL, "job": "reconstruct", "args": args}, messages.append)
    assert "missing.png' not found" in messages[-1]["message"]
    assert not (tmp_path / "out").exists()


def test_worker_process_streams_progress_and_the_result(example_urdf):
    # A named interpreter (the preferences' route to a CUDA environment) runs it the same way.
    args = {"urdf": str(example_urdf), "step_delay": 0.05}
    client = WorkerClient("load_urdf", args, python=sys.executable).start()
    state = client.wait(timeout=60)
    assert state.status == FINISHED, state.error
    types = [m["type"] for m in state.log]
    assert types[0] == "hello" and types.count("progress") >= 3 and types[-1] == "result"
    assert state.log[0]["pid"] == state.pid
    assert os.path.isfile(state.result["urdf"])
    client.cleanup()
    assert not client.work_dir.exists()


def test_reconstruction_job_builds_the_result_on_the_main_thread(example_urdf):
    job = ReconstructionJob("load_urdf", {"urdf": str(example_urdf)}, bpy.context)
    job.start(bpy.context)
    assert bpy.context.scene.spark.job_running
    assert drive(job) == FINISHED, job.error
    props = bpy.context.scene.spark
    assert not props.job_running and props.job_fraction == 1.0 and props.last_error == ""
    assert job.built is not None
    assert len(blender_scene.joint_bones(job.built.armature)) == 2
    assert not job.client.work_dir.exists()  # the worker's folder is gone once built


def test_cancel_ends_the_worker_and_leaves_nothing(example_urdf):
    before = scene_state()
    job = ReconstructionJob(
        "load_urdf", {"urdf": str(example_urdf), "step_delay": 2.0}, bpy.context
    )
    job.start(bpy.context)
    deadline = time.monotonic() + 30
    while not any(m["type"] == "progress" for m in job.client.state.log):
        assert job.step(bpy.context) == RUNNING and time.monotonic() < deadline
        time.sleep(0.02)
    bpy.context.scene.spark.job_cancel = True  # what the Cancel button sets (Esc calls cancel)
    assert job.step(bpy.context) == CANCELLED
    assert job.client._process.poll() is not None  # the process has ended
    assert not job.client.work_dir.exists()
    assert not bpy.context.scene.spark.job_running
    assert scene_state() == before


def test_a_crashing_worker_gives_an_error_and_leaves_the_scene_untouched(example_urdf):
    before = scene_state()
    job = ReconstructionJob(
        "load_urdf", {"urdf": str(example_urdf), "step_delay": 2.0}, bpy.context
    )
    job.start(bpy.context)
    while not job.client.state.log:
        job.step(bpy.context)
        time.sleep(0.02)
    os.kill(job.client.state.pid, signal.SIGKILL)  # as the OOM killer or a segfault would
    assert drive(job) == FAILED
    assert "ended without a result" in job.error and "-9" in job.error
    assert bpy.context.scene.spark.last_error == job.error
    assert scene_state() == before


def test_a_failing_job_reports_the_workers_one_line_error(tmp_path):
    bad = tmp_path / "broken.urdf"
    bad.write_text("<robot name='x'><link name='a'></robot>")
    before = scene_state()
    job = ReconstructionJob("load_urdf", {"urdf": str(bad)}, bpy.context).start(bpy.context)
    assert drive(job) == FAILED
    assert "URDFError" in job.error and "broken.urdf" in job.error and "\n" not in job.error
    assert scene_state() == before


def test_an_interpreter_that_cannot_start_is_reported(example_urdf):
    client = WorkerClient("load_urdf", {"urdf": str(example_urdf)}, python="/nonexistent/python3")
    state = client.start().wait(timeout=10)
    assert state.status == FAILED and "/nonexistent/python3" in state.error
    client.cleanup()


def test_reconstruct_operator_runs_the_worker_and_undo_removes_the_build(example_urdf):
    before = scene_state()
    bpy.ops.ed.undo_push(message="before reconstruct")
    # (execution context, undo=True): push the operator's undo step as the UI does.
    result = bpy.ops.spark.reconstruct(
        "EXEC_DEFAULT", True, job="load_urdf", urdf=str(example_urdf)
    )
    assert result == {"FINISHED"}
    built = blender_scene.spark_armatures(bpy.context.scene)
    assert len(built) == 1 and scene_state() != before
    bpy.ops.ed.undo()
    assert scene_state() == before
    assert blender_scene.spark_armatures(bpy.context.scene) == []
    bpy.ops.ed.redo()  # the undone step was the build itself
    assert len(blender_scene.spark_armatures(bpy.context.scene)) == 1


def test_reconstruct_operator_reports_a_missing_photo():
    bpy.context.scene.spark.image = "/nonexistent/photo.png"
    with pytest.raises(RuntimeError, match="photo.png' not found"):
        bpy.ops.spark.reconstruct()


def test_api_key_reaches_the_worker_through_its_environment_with_the_variable_first(monkeypatch):
    from spark_blender.blender.prefs import Settings
    from spark_blender.blender.worker import worker_command

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    stored = Settings(api_key="sk-stored", base_url="http://127.0.0.1:8000/v1")
    assert stored.worker_env() == {
        "OPENAI_API_KEY": "sk-stored",
        "OPENAI_BASE_URL": "http://127.0.0.1:8000/v1",
    }
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert stored.worker_env()["OPENAI_API_KEY"] == "sk-from-env"
    assert not any("sk-" in part for part in worker_command())  # never on a command line
