"""How an exception becomes the one-line message the project's tools report (CLI, worker,
Blender operators, evaluation records)."""

from __future__ import annotations


def one_line(exc: BaseException, with_type: bool = False) -> str:
    """The first line of `exc`'s message (its type's name when it has none); with `with_type`,
    prefixed by the type's name: ``ValueError: the first line``."""
    lines = str(exc).strip().splitlines()
    first = lines[0].strip() if lines else ""
    if with_type:
        return f"{type(exc).__name__}: {first}".strip()
    return first or type(exc).__name__
