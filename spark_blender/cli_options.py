"""Argument types for the command line: numbers checked where they are parsed.

``int_in(2, 1000)`` and ``float_in(0.0, 1.0)`` are argparse ``type=`` callables; a value that is
not a number, not finite or out of range ends in argparse's one error line naming the option,
the allowed range and the value given, and exit 2. ``path`` is ``Path`` for file and folder
arguments, except that an empty name is refused (``Path("")`` would quietly mean ".").
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def int_in(low: int, high: int | None = None):
    """A whole number from `low` to `high` (no upper bound when None)."""
    span = f"from {low} to {high}" if high is not None else f"of at least {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {span}, not '{text}'"
            ) from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {span}, not {value}")
        return value

    return parse


def float_in(low: float, high: float | None = None, low_open: bool = False):
    """A finite number from `low` (excluded when `low_open`) to `high`."""
    bound = f"above {low:g}" if low_open else f"at least {low:g}"
    span = f"{bound} and at most {high:g}" if high is not None else bound

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number {span}, not '{text}'") from None
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a finite number {span}, not {text}")
        return value

    return parse


def path(text: str) -> Path:
    """A file or folder argument; an empty name is an error, not the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the name is empty; give a file or folder name")
    return Path(text)
