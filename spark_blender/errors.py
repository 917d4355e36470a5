"""How an exception, or a server's or model's text, becomes the one-line message the project's
tools report (CLI, worker, Blender operators, evaluation records, the parsers' errors)."""

from __future__ import annotations


def one_line(what: BaseException | str, limit: int | None = None, with_type: bool = False) -> str:
    """One line of at most `limit` characters (no limit: None; "..." marks a cut).

    An exception gives the first line of its message (its type's name when it has none); with
    `with_type`, prefixed by the type's name: ``ValueError: the first line``. Text (server or
    model output, quoted in a message) is folded: every run of white space becomes one space.
    """
    if isinstance(what, BaseException):
        lines = str(what).strip().splitlines()
        first = lines[0].strip() if lines else ""
        if with_type:
            line = f"{type(what).__name__}: {first}".strip()
        else:
            line = first or type(what).__name__
    else:
        line = " ".join(str(what).split())
    if limit is None or len(line) <= limit:
        return line
    return line[: limit - 3] + "..."
