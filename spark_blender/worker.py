"""The worker process: runs one heavy job (reconstruction) away from Blender's UI process.

Protocol (JSON lines, version ``PROTOCOL``): the client writes one request line on the worker's
stdin::

    {"protocol": 1, "job": "reconstruct", "args": {"image": ..., "out": ..., "options": {...}}}

and the worker answers on stdout, one JSON object per line:

- ``{"type": "hello", "protocol": 1, "pid": 123, "job": "reconstruct"}`` once, first;
- ``{"type": "progress", "stage": "...", "fraction": 0.4, "message": "..."}`` any number;
- then exactly one of ``{"type": "result", "folder": OUT, "urdf": OUT/<name>.urdf}`` (exit 0)
  or ``{"type": "error", "message": "one line naming the input and the problem"}`` (exit 1).

Every job writes its output folder through ``core.urdf.write_urdf`` (temporary folder renamed
into place), so a worker killed mid-job never leaves a half-written folder at ``out``. Anything
else a library prints goes to stderr, never into the protocol stream.

Jobs: ``reconstruct`` (image -> articulated object, through ``spark_blender.pipeline``) and
``load_urdf`` (re-writes a given URDF folder as an output folder: the job the Blender side's
protocol is tested with, and a way to bring an existing URDF in without blocking Blender).
The same logic runs in-process through ``run_job`` (headless tests drive it without a process).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from spark_blender.errors import one_line
from spark_blender.progress import ProgressEvent

PROTOCOL = 1
Emit = Callable[[dict], None]


class JobError(Exception):
    """A job cannot run with the request it was given; the message is shown to the user."""


# --- jobs -----------------------------------------------------------------------------------
def _job_load_urdf(args: dict, progress: Callable[[ProgressEvent], None]) -> dict:
    """Read the URDF `args["urdf"]` and write it as an output folder at `args["out"]`.

    `args["step_delay"]` (seconds, default 0) pauses between stages so a caller can watch the
    progress events and cancel mid-job.
    """
    from spark_blender.core.urdf import WriteOptions, read_urdf, write_urdf

    urdf = Path(_required(args, "urdf"))
    out = Path(_required(args, "out"))
    delay = float(args.get("step_delay", 0.0))
    progress(ProgressEvent("read", 0.0, f"reading {urdf.name}"))
    time.sleep(delay)
    obj = read_urdf(urdf)
    progress(ProgressEvent("read", 0.4, f"{len(obj.links)} links, {len(obj.joints)} joints"))
    time.sleep(delay)
    extra = {}
    camera = urdf.parent / "camera.json"
    if camera.is_file():
        extra["camera.json"] = camera.read_bytes()
    progress(ProgressEvent("write", 0.6, "writing the output folder"))
    time.sleep(delay)
    path = write_urdf(obj, out, WriteOptions(collision="keep", extra_files=extra))
    progress(ProgressEvent("write", 1.0, "done"))
    return {"folder": str(out), "urdf": str(path)}


def _job_reconstruct(args: dict, progress: Callable[[ProgressEvent], None]) -> dict:
    """One photo -> output folder, through the reconstruction pipeline."""
    image = Path(_required(args, "image"))
    out = Path(_required(args, "out"))
    if not image.is_file():
        raise JobError(f"image '{image}' not found")
    try:
        from spark_blender import pipeline
    except ImportError as exc:
        raise JobError(f"the reconstruction pipeline is not in this install ({exc})") from None
    result = _call_pipeline(pipeline, image, out, dict(args.get("options") or {}), progress)
    if not any(out.glob("*.urdf")):
        from spark_blender.core.model import ArticulatedObject
        from spark_blender.core.urdf import write_urdf

        if not isinstance(result, ArticulatedObject):
            raise JobError(f"the pipeline wrote no URDF into '{out}'")
        write_urdf(result, out)
    urdf = next(out.glob("*.urdf"))
    return {"folder": str(out), "urdf": str(urdf)}


OUT_NAMES = ("out", "out_dir", "output", "output_dir")
PROGRESS_NAMES = ("progress", "callback", "on_progress")


def _call_pipeline(pipeline, image: Path, out: Path, options: dict, progress):
    """Call ``pipeline.reconstruct`` with what its signature asks for (ARCHITECTURE.md:
    ``reconstruct(image, options, progress)`` plus the output folder), so the protocol stays the
    same whichever keyword names the pipeline settles on."""
    import dataclasses
    import inspect

    reconstruct = pipeline.reconstruct
    option_type = getattr(pipeline, "ReconstructOptions", None)
    if hasattr(pipeline, "options_from_settings"):  # the settings vocabulary, parser keys too
        options = pipeline.options_from_settings(options)
    elif option_type is not None and dataclasses.is_dataclass(option_type):
        known = {f.name for f in dataclasses.fields(option_type)}
        options = option_type(**{k: v for k, v in options.items() if k in known})
    kwargs = {}
    for name in inspect.signature(reconstruct).parameters:
        if name in OUT_NAMES:
            kwargs[name] = out
        elif name == "options":
            kwargs[name] = options
        elif name in PROGRESS_NAMES:
            kwargs[name] = progress
    return reconstruct(image, **kwargs)


JOBS: dict[str, Callable[[dict, Callable[[ProgressEvent], None]], dict]] = {
    "reconstruct": _job_reconstruct,
    "load_urdf": _job_load_urdf,
}


def _required(args: dict, key: str) -> str:
    value = args.get(key)
    if not value:
        raise JobError(f"the request has no '{key}'")
    return str(value)


# --- protocol -------------------------------------------------------------------------------
def run_job(request: dict, emit: Emit) -> bool:
    """Run one request, reporting through `emit`; True when a result was emitted."""
    job = request.get("job") if isinstance(request, dict) else None
    emit({"type": "hello", "protocol": PROTOCOL, "pid": os.getpid(), "job": job})
    if not isinstance(request, dict) or request.get("protocol") != PROTOCOL:
        emit({"type": "error", "message": f"worker speaks protocol {PROTOCOL}; request differs"})
        return False
    if job not in JOBS:
        emit({"type": "error", "message": f"unknown job '{job}' (known: {', '.join(JOBS)})"})
        return False
    try:
        result = JOBS[job](request.get("args") or {}, lambda e: emit(e.to_dict()))
    except Exception as exc:  # every failure becomes one error line for the UI
        traceback.print_exc(file=sys.stderr)
        emit({"type": "error", "message": f"{type(exc).__name__}: {one_line(exc)}"})
        return False
    emit({"type": "result", **result})
    return True


def main() -> int:
    """``python -m spark_blender.worker``: one request on stdin, the answers on stdout."""
    # Keep stdout for the protocol alone: whatever libraries print lands on stderr.
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr

    def emit(message: dict) -> None:
        protocol_out.write(json.dumps(message) + "\n")
        protocol_out.flush()

    line = sys.stdin.readline()
    try:
        request = json.loads(line)
    except json.JSONDecodeError:
        emit({"type": "hello", "protocol": PROTOCOL, "pid": os.getpid(), "job": None})
        emit({"type": "error", "message": f"request is not JSON: {line[:60]!r}"})
        return 1
    return 0 if run_job(request, emit) else 1


if __name__ == "__main__":
    sys.exit(main())
