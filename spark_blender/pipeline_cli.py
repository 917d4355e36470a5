"""`spark-articulate reconstruct`: arguments and handler (the pipeline itself is `pipeline.py`)."""

from __future__ import annotations

from pathlib import Path

from spark_blender.cli_options import path


def add_reconstruct_arguments(p) -> None:
    from spark_blender.perception.parsers import add_parser_arguments

    p.add_argument("image", type=Path, help="a photo, or a folder of photos")
    p.add_argument("-o", "--out", type=path, required=True,
                   help="output folder (for a folder of photos: one sub-folder each)")  # fmt: skip
    p.add_argument("--moved-image", type=Path, default=None,
                   help="a second photo, same camera, with the parts opened")  # fmt: skip
    p.add_argument("--height", type=float, default=None, help="the object's real height (m)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="torch device")
    p.add_argument("--samples", type=int, default=8, help="hypotheses K to generate (8)")
    p.add_argument("--categories", type=int, default=1,
                   help="generate for the parser's next N-1 categories too, K/2 each; the "
                        "silhouette picks (1: the parser's category only)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="sampling seed (0)")
    p.add_argument("--no-texture", action="store_true", help="skip projecting the photo")
    p.add_argument("--no-pose", action="store_true",
                   help="keep the parser's observed pose (no search against the mask)")  # fmt: skip
    p.add_argument("--no-fit", action="store_true", help="skip fitting camera and size")
    p.add_argument("--no-refine", action="store_true", help="skip joint refinement")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_parser_arguments(p)


def run_reconstruct_verb(args, user_error: type[Exception]) -> int:
    from spark_blender.pipeline import run_cli

    return run_cli(args, user_error)
