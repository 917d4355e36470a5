"""`spark-articulate synth`: write a procedural dataset (arguments and handler)."""

from __future__ import annotations

import sys

from spark_blender.cli_options import int_in, path
from spark_blender.synth import CATEGORIES
from spark_blender.synth.camera import BACKGROUNDS


def add_synth_arguments(p) -> None:
    p.add_argument("--categories", nargs="+", default=["all"],
                   help=f"category names or 'all' ({', '.join(CATEGORIES)})")  # fmt: skip
    p.add_argument("--n", type=int_in(1, 1_000_000), default=10, help="samples per category (10)")
    p.add_argument("--out", "-o", type=path, required=True, help="dataset folder")
    p.add_argument("--seed", type=int_in(0), default=0, help="dataset seed (0)")
    p.add_argument("--size", type=int_in(16, 4096), default=224, help="image size, 16-4096 (224)")
    p.add_argument("--random-poses", type=int_in(0, 100), default=0,
                   help="random poses besides rest/moved, 0-100 (0)")  # fmt: skip
    p.add_argument("--backend", choices=("fast", "cycles"), default="fast", help="renderer")
    p.add_argument("--cycles-samples", type=int_in(1, 65536), default=16,
                   help="Cycles samples per pixel, 1-65536 (16)")  # fmt: skip
    p.add_argument("--shard-size", type=int_in(1, 100_000), default=64,
                   help="samples per shard file (64)")  # fmt: skip
    p.add_argument("--backgrounds", nargs="+", default=list(BACKGROUNDS), choices=BACKGROUNDS)
    p.add_argument("--urdf", action="store_true", help="also write every object's URDF folder")
    p.add_argument("--observed-pose", action="store_true",
                   help="also render each object in its observed configuration (partly "
                        "open, as photographed); --urdf folders then show that pose")  # fmt: skip
    p.add_argument("--force", action="store_true", help="replace an existing output folder")


def run_synth_verb(args, user_error: type[Exception]) -> int:
    from spark_blender.synth.dataset import SynthConfig, write_dataset

    categories = list(CATEGORIES) if args.categories == ["all"] else args.categories
    config = SynthConfig(
        categories=tuple(categories),
        n=args.n,
        seed=args.seed,
        size=args.size,
        random_poses=args.random_poses,
        backend=args.backend,
        shard_size=args.shard_size,
        backgrounds=tuple(args.backgrounds),
        cycles_samples=args.cycles_samples,
        write_urdf=args.urdf,
        observed_pose=args.observed_pose,
    )
    from spark_blender.core.output_folder import check_output_target

    problems = config.problems()
    if problems:
        raise user_error("; ".join(problems))
    check_output_target(args.out, args.force)  # before any work
    total = len(categories) * args.n

    def progress(event) -> None:
        done = round(event.fraction * total)
        print(f"\r{event.stage}: {done}/{total} {event.message:<28}", end="", file=sys.stderr)

    manifest = write_dataset(config, args.out, overwrite=args.force, progress=progress)
    print(file=sys.stderr)
    print(f"wrote {total} samples ({len(categories)} categories) to {manifest.parent}")
    return 0
