"""`spark-articulate`: the command line.

Each verb is one `_add_<verb>` function that declares its arguments and points at a `_run_<verb>`
handler; heavy modules are imported inside the handlers so `--help` stays fast. Bad input ends
in one line on stderr naming the input and the problem, and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spark_blender.cli_options import float_in, int_in, path

EXIT_FAILED_CHECK = 1
EXIT_BAD_INPUT = 2


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


# --- check --------------------------------------------------------------------------------------
def _add_check(sub) -> None:
    p = sub.add_parser("check", help="sim-readiness checks: MuJoCo + PyBullet load, joint sweeps")
    p.add_argument("model", type=Path, help="URDF file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--steps", type=int_in(2, 1000), default=11, help="values per joint sweep, 2-1000 (11)"
    )
    p.add_argument(
        "--penetration",
        type=float_in(0.0, 1.0),
        default=0.002,
        help="allowed penetration in metres, 0-1 (0.002)",
    )
    p.add_argument("--no-hold", action="store_true", help="skip the hold-still and push tests")
    p.add_argument("--package-dir", type=Path, action="append", default=[], help="package:// root")
    p.set_defaults(handler=_run_check)


def _run_check(args) -> int:
    from spark_blender.core.simcheck import CheckOptions, check_urdf

    _input_file(args.model, "URDF")
    options = CheckOptions(
        steps=args.steps,
        penetration=args.penetration,
        package_dirs=tuple(args.package_dir),
        hold=not args.no_hold,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    report = check_urdf(args.model, options)
    if not report.passed and report.summary.get("read") == "failed":
        raise CLIError(report.findings[0].message)
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.to_text())
    return 0 if report.passed else EXIT_FAILED_CHECK


# --- convert ------------------------------------------------------------------------------------
def _add_convert(sub) -> None:
    p = sub.add_parser("convert", help="normalise a URDF into the project's layout, or write MJCF")
    p.add_argument("model", type=Path, help="input URDF")
    p.add_argument("-o", "--out", type=path, required=True, help="output folder")
    p.add_argument("--mjcf", action="store_true", help="write MuJoCo XML instead of URDF")
    p.add_argument(
        "--collision",
        choices=("auto", "hull", "coacd", "keep"),
        default="auto",
        help="auto: keep a link's collisions, else convex hulls of its visual parts",
    )
    p.add_argument("--recompute-inertia", action="store_true", help="replace given inertials")
    p.add_argument("--package-dir", type=Path, action="append", default=[], help="package:// root")
    p.add_argument("--allow-outside", action="store_true", help="let mesh paths leave the folder")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.set_defaults(handler=_run_convert)


def _run_convert(args) -> int:
    from spark_blender.core.urdf import WriteOptions, check_output_target, read_urdf, write_urdf

    _input_file(args.model, "URDF")
    check_output_target(args.out, args.force)  # before any work
    obj = read_urdf(args.model, args.package_dir, allow_outside=args.allow_outside)
    options = WriteOptions(
        collision=args.collision, recompute_inertia=args.recompute_inertia, overwrite=args.force
    )
    if args.mjcf:
        from spark_blender.core.mjcf import write_mjcf

        path = write_mjcf(obj, args.out, options)
    else:
        path = write_urdf(obj, args.out, options)
    print(f"wrote {path}")
    return 0


# --- info ---------------------------------------------------------------------------------------
def _add_info(sub) -> None:
    p = sub.add_parser("info", help="print the tree, joints, limits and masses of a URDF")
    p.add_argument("model", type=Path, help="URDF file")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=_run_info)


def _run_info(args) -> int:
    from spark_blender.core.describe import describe, describe_text
    from spark_blender.core.urdf import read_urdf

    _input_file(args.model, "URDF")
    obj = read_urdf(args.model)
    print(json.dumps(describe(obj), indent=1) if args.json else describe_text(obj))
    return 0


# --- example ------------------------------------------------------------------------------------
def _add_example(sub) -> None:
    p = sub.add_parser("example", help="write the bundled example cabinet (built by our own code)")
    p.add_argument("-o", "--out", type=path, required=True, help="output folder")
    p.add_argument("--mjcf", action="store_true", help="write MuJoCo XML instead of URDF")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.set_defaults(handler=_run_example)


def _run_example(args) -> int:
    from spark_blender.core.mjcf import write_mjcf
    from spark_blender.core.urdf import WriteOptions, check_output_target, write_urdf
    from spark_blender.examples import example_cabinet

    check_output_target(args.out, args.force)
    write = write_mjcf if args.mjcf else write_urdf
    path = write(example_cabinet(), args.out, WriteOptions(overwrite=args.force))
    print(f"wrote {path}")
    return 0


# --- eval ---------------------------------------------------------------------------------------
def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="score reconstructions on evaluation cases (EVAL.md)")
    p.add_argument("cases", type=Path, help="folder of case folders (rest.png, gt.json, ...)")
    p.add_argument("-o", "--out", type=path, required=True, help="report folder (resumable)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--predictions", type=Path, help="score existing outputs: DIR/<case>/")
    source.add_argument("--baseline", choices=("bbox", "cube", "gt"), help="score an oracle")
    p.add_argument("--parser", help="reconstruct --parser (embedded, openai, local)")
    p.add_argument("--moved-image-oracle", action="store_true", help="give it moved.png too")
    p.add_argument("--reconstruct-args", metavar="FLAGS",
                   help="more reconstruct flags, e.g. '--samples 1 --no-fit'")  # fmt: skip
    p.add_argument("--limit", type=int_in(1), help="first N cases only")
    p.add_argument("--jobs", type=int_in(1, 64), default=1, help="cases in parallel, 1-64 (1)")
    p.add_argument("--timeout", type=float_in(0.0, low_open=True), default=900.0,
                   help="seconds per reconstruction (900)")  # fmt: skip
    p.add_argument("--no-simcheck", action="store_true", help="skip the sim-readiness checks")
    p.add_argument("--no-render", action="store_true", help="skip the report's thumbnails")
    p.add_argument("--retry-failed", action="store_true", help="re-run cases recorded as failed")
    p.add_argument("--seed", type=int, default=0, help="surface-sampling seed (0)")
    p.set_defaults(handler=_run_eval)


def _run_eval(args) -> int:
    from spark_blender.evaluation.cli import run_eval_verb

    return run_eval_verb(args, CLIError)


# --- parse --------------------------------------------------------------------------------------
def _add_parse(sub) -> None:
    from spark_blender.perception.cli import add_parse_arguments

    p = sub.add_parser("parse", help="photo -> coarse URDF (category, parts, joints) and images")
    add_parse_arguments(p)
    p.set_defaults(handler=_run_parse)


def _run_parse(args) -> int:
    from spark_blender.perception.cli import run_parse_verb

    return run_parse_verb(args, CLIError)


# --- synth --------------------------------------------------------------------------------------
def _add_synth(sub) -> None:
    from spark_blender.synth.cli import add_synth_arguments

    p = sub.add_parser("synth", help="write a procedural dataset: objects, renders, manifest")
    add_synth_arguments(p)
    p.set_defaults(handler=_run_synth)


def _run_synth(args) -> int:
    from spark_blender.synth.cli import run_synth_verb

    return run_synth_verb(args, CLIError)


# --- train ---------------------------------------------------------------------------------------
def _add_train(sub) -> None:
    from spark_blender.training.cli import add_train_arguments

    p = sub.add_parser("train", help="train an embedded model (parser, dit) on synth data")
    add_train_arguments(p)
    p.set_defaults(handler=_run_train)


def _run_train(args) -> int:
    from spark_blender.training.cli import run_train_verb

    return run_train_verb(args, CLIError)


# --- reconstruct ---------------------------------------------------------------------------------
def _add_reconstruct(sub) -> None:
    from spark_blender.pipeline_cli import add_reconstruct_arguments

    p = sub.add_parser("reconstruct", help="photo (or a folder of photos) -> sim-ready URDF folder")
    add_reconstruct_arguments(p)
    p.set_defaults(handler=_run_reconstruct)


def _run_reconstruct(args) -> int:
    from spark_blender.pipeline_cli import run_reconstruct_verb

    return run_reconstruct_verb(args, CLIError)


# --- entry point -------------------------------------------------------------------------------
VERBS = [
    _add_reconstruct,
    _add_check,
    _add_convert,
    _add_info,
    _add_example,
    _add_eval,
    _add_parse,
    _add_synth,
    _add_train,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spark-articulate",
        description="SPARK for Blender: articulated objects from one photo, sim-ready URDFs.",
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for add in VERBS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("spark-articulate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`)
        sys.stderr.close()
        return 0
    except Exception as exc:  # one line, naming the input and the problem
        if not _is_user_error(exc):
            raise
        print(f"spark-articulate {args.verb}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _is_user_error(exc: Exception) -> bool:
    from spark_blender.core.model import ModelError
    from spark_blender.core.urdf import OutputFolderError, URDFError

    kinds = CLIError | URDFError | ModelError | OutputFolderError | FileExistsError
    return isinstance(exc, kinds | FileNotFoundError | NotADirectoryError | PermissionError)


def _input_file(path: Path, what: str) -> None:
    """One line when an input is missing or is not a regular file (a folder, a device, a FIFO)."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CLIError(f"{what} '{path}' does not exist") from None
    except OSError as exc:
        raise CLIError(f"{what} '{path}': {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise CLIError(f"{what} '{path}' is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise CLIError(f"{what} '{path}' is not a regular file (a device, pipe or socket)")


if __name__ == "__main__":
    sys.exit(main())
