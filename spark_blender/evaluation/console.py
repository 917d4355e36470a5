"""A text progress bar for the terminal, driven by the project's one progress type."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from spark_blender.progress import ProgressEvent


class ProgressBar:
    """A ProgressCallback drawing `[#####.....]  50%  message` on one line of `stream`."""

    def __init__(self, stream: TextIO | None = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.interactive = self.stream.isatty()

    def __call__(self, event: ProgressEvent) -> None:
        filled = round(self.width * min(max(event.fraction, 0.0), 1.0))
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.started
        line = f"[{bar}] {100 * event.fraction:3.0f}% {elapsed:6.0f}s  {event.message}"
        if self.interactive:  # redraw in place; a log file gets one line per event instead
            self.stream.write("\r" + line[:120].ljust(120))
            if event.fraction >= 1.0:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
