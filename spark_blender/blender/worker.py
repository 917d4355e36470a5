"""The Blender side of the worker protocol (see ``spark_blender.worker``): starts the worker
process, reads its JSON lines on a thread, and hands them to the main thread through ``poll``.

``poll`` is a plain function: the modal operator's timer calls it inside Blender, tests call it
directly (``bpy.app.timers`` never fire under the ``bpy`` module). This module needs no bpy.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import spark_blender
from spark_blender.worker import PROTOCOL

RUNNING, FINISHED, FAILED, CANCELLED = "running", "finished", "failed", "cancelled"


@dataclass
class WorkerState:
    status: str = RUNNING
    stage: str = "starting"
    fraction: float = 0.0
    message: str = ""
    result: dict | None = None  # the worker's result message: folder, urdf
    error: str = ""
    pid: int | None = None
    log: list[dict] = field(default_factory=list)  # every message received, in order


def worker_command(python: str | None = None) -> list[str]:
    """The command that starts a worker.

    With no interpreter named, Blender's own Python (``sys.executable``) runs it with the
    extension's site-packages; a named interpreter (say, one with CUDA torch) keeps its own
    packages first and falls back to the extension's for anything it lacks.
    """
    package_root = str(Path(spark_blender.__file__).resolve().parent.parent)
    bootstrap = (
        "import sys; sys.path.append(sys.argv[1]); "
        "from spark_blender.worker import main; sys.exit(main())"
    )
    return [python or sys.executable, "-c", bootstrap, package_root]


class WorkerClient:
    """One job in one worker process; `poll()` advances `state`, `cancel()` ends it."""

    def __init__(
        self,
        job: str,
        args: dict,
        python: str | None = None,
        env: dict[str, str] | None = None,
        work_dir: Path | None = None,
    ):
        self.job = job
        self.args = dict(args)
        self.python = python
        self.extra_env = dict(env or {})
        self.state = WorkerState()
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="spark_job_"))
        self.args.setdefault("out", str(self.work_dir / "result"))
        self._messages: queue.Queue = queue.Queue()
        self._process: subprocess.Popen | None = None
        self._stderr_path = self.work_dir / "worker.log"

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> WorkerClient:
        env = {**os.environ, **self.extra_env, "PYTHONUNBUFFERED": "1"}
        request = {"protocol": PROTOCOL, "job": self.job, "args": self.args}
        try:
            self._stderr = open(self._stderr_path, "wb")
            self._process = subprocess.Popen(
                worker_command(self.python),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=env,
                cwd=self.work_dir,
            )
        except OSError as exc:
            self._fail(f"worker interpreter '{self.python or sys.executable}' cannot start: {exc}")
            return self
        self.state.pid = self._process.pid
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self._process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self._process.stdin.close()
        except OSError:
            pass  # the worker died at once; poll() reports its exit
        return self

    def _read(self) -> None:
        for raw in self._process.stdout:
            try:
                self._messages.put(json.loads(raw))
            except json.JSONDecodeError:
                self._messages.put({"type": "noise", "text": raw.decode("utf-8", "replace")})
        self._messages.put(None)  # end of stream

    def poll(self) -> WorkerState:
        """Apply every message that arrived since the last call; never blocks."""
        while self.state.status == RUNNING:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                break
            if message is None:
                self._ended()
                break
            self._apply(message)
        return self.state

    def wait(self, timeout: float = 600.0, interval: float = 0.05) -> WorkerState:
        """Poll until the job ends (for scripts and tests; the UI polls from a timer)."""
        import time

        deadline = time.monotonic() + timeout
        while self.poll().status == RUNNING:
            if time.monotonic() > deadline:
                self.cancel()
                self.state.status, self.state.error = FAILED, f"worker timed out after {timeout}s"
                break
            time.sleep(interval)
        return self.state

    def cancel(self) -> None:
        """End the worker and remove everything the job wrote."""
        if self.state.status == RUNNING:
            self.state.status, self.state.stage = CANCELLED, "cancelled"
        self._stop_process()
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the job's working folder (its output has been built into the scene)."""
        self._stop_process()
        shutil.rmtree(self.work_dir, ignore_errors=True)

    # --- internals ----------------------------------------------------------------------------
    def _apply(self, message: dict) -> None:
        self.state.log.append(message)
        kind = message.get("type")
        if kind == "progress":
            self.state.stage = str(message.get("stage", ""))
            self.state.fraction = float(message.get("fraction", 0.0))
            self.state.message = str(message.get("message", ""))
        elif kind == "result":
            self.state.result = message
            self.state.status, self.state.stage, self.state.fraction = FINISHED, "done", 1.0
        elif kind == "error":
            self._fail(str(message.get("message", "the worker reported an error")))

    def _ended(self) -> None:
        code = self._process.wait() if self._process else None
        if self.state.status == RUNNING:
            tail = self._stderr_tail()
            self._fail(f"the worker ended without a result (exit code {code})" + tail)

    def _fail(self, text: str) -> None:
        self.state.status, self.state.error, self.state.stage = FAILED, text, "failed"
        self._stop_process()

    def _stop_process(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        stderr = getattr(self, "_stderr", None)
        if stderr is not None and not stderr.closed:
            stderr.close()

    def _stderr_tail(self) -> str:
        try:
            lines = self._stderr_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1][:200]}" if lines else ""
