"""Benchmark: read + write + check of generated 50-, 200- and 500-link chains (issues: core, 11).

A serial chain of boxes alternating revolute and prismatic joints, built with the core model,
written once to get a URDF; then the three operations are timed and printed with their share of
the total, one table per chain length, and a summary row per length at the end.

    python benchmarks/bench_core_chain.py [--links 50 200 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh

from spark_blender.core.model import ArticulatedObject, Joint, Link, Visual
from spark_blender.core.simcheck import check_urdf
from spark_blender.core.transforms import make_transform, translation
from spark_blender.core.urdf import WriteOptions, read_urdf, write_urdf


def chain(links: int) -> ArticulatedObject:
    """Boxes 10 cm long, each hanging from the last; revolute joints turn about Z."""
    parts = [Link("base", [Visual(trimesh.creation.box((0.1, 0.04, 0.04)))], label="base")]
    joints = []
    for i in range(1, links):
        mesh = trimesh.creation.box((0.08, 0.03, 0.03))
        parts.append(Link(f"link_{i}", [Visual(mesh, translation((0.05, 0, 0)))]))
        revolute = i % 2 == 1
        joints.append(
            Joint(
                f"joint_{i}",
                "revolute" if revolute else "prismatic",
                parts[i - 1].name,
                parts[i].name,
                origin=make_transform((0.1 if i > 1 else 0.05, 0.0, 0.0)),
                axis=np.array([0.0, 0.0, 1.0]) if revolute else np.array([1.0, 0.0, 0.0]),
                lower=-0.05 if revolute else 0.0,
                upper=0.05 if revolute else 0.005,
            )
        )
    return ArticulatedObject(f"chain_{links}", parts, joints)


def timed(function, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [run(links, args.repeat) for links in args.links]
    print(f"{'links':>6}{'read s':>9}{'write s':>9}{'check s':>9}{'total s':>9}  passed")
    for links, read_s, write_s, check_s, passed in rows:
        total = read_s + write_s + check_s
        print(f"{links:>6}{read_s:>9.2f}{write_s:>9.2f}{check_s:>9.2f}{total:>9.2f}  {passed}")


def run(links: int, repeat: int) -> tuple[int, float, float, float, bool]:
    obj = chain(links)
    with tempfile.TemporaryDirectory() as tmp:
        urdf = write_urdf(obj, Path(tmp) / "source")
        write_s, _ = timed(
            lambda: write_urdf(obj, Path(tmp) / "out", WriteOptions(overwrite=True)), repeat
        )
        read_s, read_back = timed(lambda: read_urdf(urdf), repeat)
        check_s, report = timed(lambda: check_urdf(urdf), 1)
    total = read_s + write_s + check_s
    joints = len(read_back.movable_joints)
    print(f"chain of {links} links, {joints} movable joints ({report.summary['mujoco']})")
    print(f"{'step':<8}{'seconds':>10}{'share':>8}")
    for name, seconds in (("read", read_s), ("write", write_s), ("check", check_s)):
        print(f"{name:<8}{seconds:>10.3f}{seconds / total:>8.0%}")
    print(f"{'total':<8}{total:>10.3f}")
    print(f"check passed: {report.passed}; check per joint: {check_s / joints * 1000:.1f} ms")
    for finding in report.findings[:5]:
        print(f"  {finding.severity} {finding.check}: {finding.message}")
    return links, read_s, write_s, check_s, report.passed


if __name__ == "__main__":
    main()
