"""The ``spark-articulate parse`` verb: one photo -> coarse URDF folder (stages 1-2 alone).

``spark-articulate parse IMAGE -o OUT [--parser openai|local|embedded] [parser options]``
writes ``OUT/coarse.json``, ``OUT/parse.json``, ``OUT/parts/*.png`` and ``OUT/moved.png`` (see
`ParseResult.save`) and prints the category, the parts and the cost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spark_blender.cli_options import path
from spark_blender.perception.parsers import add_parser_arguments, parser_options_from_args
from spark_blender.progress import ProgressEvent


def add_parse_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", type=Path, help="photo of one articulated object")
    p.add_argument("-o", "--out", type=path, required=True, help="output folder")
    add_parser_arguments(p)
    p.add_argument("--device", help="local: cpu, cuda, cuda:1 (default cpu)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def run_parse_verb(args: argparse.Namespace, user_error: type[Exception]) -> int:
    from spark_blender.core.images import ImageError, load_image
    from spark_blender.core.output_folder import check_output_target
    from spark_blender.perception.errors import PerceptionError
    from spark_blender.perception.parsers import get_parser

    try:
        image = load_image(args.image)  # the one loader: pixel limit, one-line errors
    except ImageError as exc:
        raise user_error(str(exc)) from None
    if args.out.exists() and not args.force and args.out.is_dir() and any(args.out.iterdir()):
        raise user_error(f"output folder '{args.out}' exists and is not empty (use --force)")
    check_output_target(args.out, args.force)
    name, options = parser_options_from_args(args)
    progress = None if args.quiet else _print_progress
    try:
        result = get_parser(name, options).parse(image, progress)
    except PerceptionError as exc:
        raise user_error(str(exc)) from None
    out = result.save(args.out, overwrite=args.force)
    print(summary(result, out))
    return 0


def summary(result, out: Path) -> str:
    coarse = result.coarse
    w, d, h = coarse.size_m
    lines = [f"{coarse.category}, about {w:.2f} x {d:.2f} x {h:.2f} m ({result.model})"]
    for part in coarse.parts:
        axis = ", ".join(f"{v:+.2f}" for v in part.axis)
        lines.append(
            f"  {part.name:<16} {part.label:<10} {part.joint_type:<10} on {part.parent:<12} "
            f"axis [{axis}] limits [{part.limits[0]:.2f}, {part.limits[1]:.2f}]"
        )
    cost = result.cost_usd
    lines.append(
        f"tokens {result.usage.total_tokens}, cost "
        + (f"${cost:.4f}" if cost is not None else "unknown (no price for this model)")
    )
    lines += [f"repair: {r}" for r in result.repairs] + [f"warning: {w}" for w in result.warnings]
    lines.append(f"wrote {out}")
    return "\n".join(lines)


def _print_progress(event: ProgressEvent) -> None:
    print(f"[{event.stage} {event.fraction:4.0%}] {event.message}", file=sys.stderr)
