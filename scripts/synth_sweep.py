"""Sweep: N seeds per procedural category, each written as URDF and run through the full
sim-readiness check (`spark-articulate check`: MuJoCo + PyBullet load, joint sweeps, penetration,
inertia, stability), plus the exact parent/child overlap test the check leaves out
(`synth.overlap`). Prints one line per category and the total; exits 1 when any object fails.

    python scripts/synth_sweep.py                  # 50 seeds x every category
    python scripts/synth_sweep.py --seeds 5 --categories Door Oven
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from spark_blender.core.simcheck import check_urdf
from spark_blender.core.urdf import write_urdf
from spark_blender.synth import CATEGORIES, generate
from spark_blender.synth.overlap import parent_overlaps


def sweep_category(category: str, seeds: range, folder: Path) -> tuple[int, list[str]]:
    passed, failures = 0, []
    for seed in seeds:
        obj = generate(category, seed)
        report = check_urdf(write_urdf(obj, folder / f"{category}_{seed}"))
        errors = [f.message for f in report.findings if f.severity == "error"]
        errors += [
            f"'{o.child_visual}' cuts into parent '{o.parent_visual}' ({o.volume * 1e6:.2f} cm3) "
            f"at {o.joint}={o.value:.3g}"
            for o in parent_overlaps(obj)
        ]
        if errors:
            failures.append(f"{category} seed {seed}: {'; '.join(errors)[:300]}")
        else:
            passed += 1
    return passed, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="seeds per category (default 50)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--categories", nargs="*", default=list(CATEGORIES))
    args = parser.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    total, total_passed, all_failures = 0, 0, []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for category in args.categories:
            t0 = time.perf_counter()
            passed, failures = sweep_category(category, seeds, Path(tmp))
            total += len(seeds)
            total_passed += passed
            all_failures += failures
            print(
                f"{category:<18} {passed:>3}/{len(seeds)} passed  "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    for line in all_failures:
        print("FAIL", line)
    print(
        f"total: {total_passed}/{total} objects pass `check` and the parent-overlap test "
        f"across {len(args.categories)} categories in {time.perf_counter() - started:.0f} s"
    )
    return 0 if total_passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
