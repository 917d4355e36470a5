"""The main job's benchmark and its ablations: `spark-articulate eval` over a case folder for each
variant, one table at the end (EVAL.md's metrics, sim-readiness, time per image).

    python benchmarks/bench_reconstruct.py ../shared/data/partnet_dev -o /tmp/bench_rec
    python benchmarks/bench_reconstruct.py CASES -o OUT --variants full k1 no_fit oracle

Variants: ``full`` (the default pipeline, K=8), ``k1`` (one hypothesis: no verification),
``no_fit`` (no camera/proportion fit), ``oracle`` (the case's moved.png as the moved-state photo:
joint refinement runs), ``oracle_no_refine`` (the same without refinement: what refinement
adds). Each variant's report folder is resumable; re-running skips finished cases.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

VARIANTS: dict[str, tuple[list[str], str]] = {
    "full": ([], ""),
    "k1": ([], "--samples 1"),
    "no_fit": ([], "--no-fit"),
    "oracle": (["--moved-image-oracle"], ""),
    "oracle_no_refine": (["--moved-image-oracle"], "--no-refine"),
}


def run_variant(cases: Path, out: Path, name: str, jobs: int, limit: int | None) -> list[dict]:
    from spark_blender.evaluation.runner import read_results

    flags, extra = VARIANTS[name]
    command = [sys.executable, "-m", "spark_blender.cli", "eval", str(cases), "-o", str(out),
               "--jobs", str(jobs), "--no-render", *flags]  # fmt: skip
    if extra:
        command.append(f"--reconstruct-args={extra}")
    if limit:
        command += ["--limit", str(limit)]
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run(command, check=True)
    return list(read_results(out / "results.jsonl").values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=Path)
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    from spark_blender.evaluation.summary import SummaryRow, markdown_table, summarise

    rows: list[SummaryRow] = []
    for name in args.variants:
        records = run_variant(args.cases, args.out / name, name, args.jobs, args.limit)
        rows.append(summarise(records, name))
    print()
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
