"""The one progress type used by the CLI (a progress bar), the worker protocol and the Blender
panel: a stage name, a fraction in [0, 1] and a short message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ProgressEvent:
    stage: str
    fraction: float
    message: str = ""

    def to_dict(self) -> dict:
        return {"type": "progress", **asdict(self)}


ProgressCallback = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """A callback that ignores every event."""


def stage_progress(callback: ProgressCallback, stage: str, start: float, end: float):
    """A callback for a sub-stage whose own fractions map onto [start, end] of the parent's."""

    def report(fraction: float, message: str = "") -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        callback(ProgressEvent(stage, start + (end - start) * fraction, message))

    return report
