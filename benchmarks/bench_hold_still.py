"""Benchmark: the hold-still and push acceptance (issue 11) over the synthetic categories and
the converted dev objects.

One object per synthetic category (seed 0) is written with `write_urdf`; every dev object
(../shared/data/partnet_dev/*/object/gt.urdf, when present) goes through
`spark-articulate convert`. Each is checked with `check_urdf`, and the worst hold-still drift
per engine, the joints that leave their limits and those a push does not move are printed.

    python benchmarks/bench_hold_still.py [--no-dev] [--categories Laptop Door ...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spark_blender.core.simcheck import check_urdf
from spark_blender.core.urdf import write_urdf
from spark_blender.synth import CATEGORIES, generate

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "partnet_dev"
DRIFT = re.compile(
    r"hold 5 s: worst drift (\S+) rad, (\S+) m \((\d+)/\d+ held by the static screen\); "
    r"(\d+)/(\d+) move"
)


def row(name: str, urdf: Path) -> tuple[str, bool]:
    started = time.perf_counter()
    report = check_urdf(urdf)
    cells = []
    for engine in ("mujoco", "pybullet"):
        match = DRIFT.search(report.summary.get(engine, ""))
        if match:
            rad, m, screened, moved, total = match.groups()
            drift = f"{float(rad):>9.2g} {float(m):>8.2g}"
            cells.append(f"{drift} {screened:>3}/{total:<3} {moved:>3}/{total:<3}")
        else:
            cells.append(f"{'-':>9} {'-':>8} {'-':>7} {'-':>7}")
    bad = [f for f in report.findings if f.check in ("hold", "push")]
    ok = not bad
    print(f"{name:<28}{cells[0]}  {cells[1]}  {time.perf_counter() - started:6.2f}  "
          f"{'ok' if ok else 'FAIL'}")  # fmt: skip
    for finding in bad:
        print(f"    {finding.message}")
    return name, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dev", action="store_true", help="synthetic categories only")
    parser.add_argument("--categories", nargs="+", default=list(CATEGORIES))
    args = parser.parse_args()
    header = f"{'rad':>9} {'m':>8} {'static':>7} {'push':>7}"
    print(f"{'object':<28}{header}  {header}  {'check s':>6}")
    print(f"{'':<28}{'MuJoCo':^35}  {'PyBullet':^35}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for category in args.categories:
            urdf = write_urdf(generate(category, 0), Path(tmp) / "synth" / category)
            results.append(row(f"synth {category}", urdf))
        if not args.no_dev and DEV.is_dir():
            for source in sorted(DEV.glob("*/object/gt.urdf")):
                name = source.parent.parent.name
                out = Path(tmp) / "dev" / name
                command = [sys.executable, "-m", "spark_blender.cli", "convert", str(source),
                           "-o", str(out)]  # fmt: skip
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    print(f"{name:<28}convert failed: {done.stderr.strip()[:70]}")
                    results.append((name, False))
                    continue
                results.append(row(f"dev {name}", next(out.glob("*.urdf"))))
    passed = sum(ok for _, ok in results)
    print(f"hold still and yield to a push: {passed}/{len(results)} objects")


if __name__ == "__main__":
    main()
