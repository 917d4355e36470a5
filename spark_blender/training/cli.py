"""`spark-articulate train MODEL`: arguments and dispatch; each loop lives in its own module.

A trainer module provides ``add_arguments(parser)`` and ``run(args) -> int``; it is imported only
when its model is asked for, so `--help` stays fast and torch loads only for training.
"""

from __future__ import annotations

import importlib

TRAINERS: dict[str, tuple[str, str]] = {
    "parser": ("spark_blender.training.train_parser", "the embedded structure parser"),
    "dit": ("spark_blender.training.train_dit", "the part DiT"),
}


def add_train_arguments(p) -> None:
    sub = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    for name, (module, text) in TRAINERS.items():
        q = sub.add_parser(name, help=f"train {text}")
        try:
            importlib.import_module(module).add_arguments(q)
        except ImportError as exc:  # the ML extras are not installed
            q.set_defaults(unavailable=f"{exc}")


def run_train_verb(args, user_error: type[Exception]) -> int:
    if getattr(args, "unavailable", None):
        raise user_error(f"training '{args.model}' needs the ML extras: {args.unavailable}")
    module = importlib.import_module(TRAINERS[args.model][0])
    return int(module.run(args) or 0)
