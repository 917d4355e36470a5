"""Recovery of known joints by silhouette refinement, on box-built objects with known truth.

For each object: every revolute pivot is displaced by 10% of the object size across its axis and
one joint's axis sign is flipped (the rest pose kept); the target is the true moved-state mask
(every joint 75% of the way to its upper limit), rendered without anti-aliasing at 256x256. The
optimizer (default options: 128x128, multi-start over signs and box-edge pivots) must bring the
pivots back (EVAL.md's normalised units: the object spans [-1, 1] along its longest side) and
recover the signs.

    python benchmarks/bench_refine_recovery.py --joints 100 [--seed 0] [--threads 1]

Prints one row per joint and the summary: median / mean / 90th-percentile pivot error of the
revolute joints (before and after), share of signs recovered, median value error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from spark_blender.core.kinematics import joint_frames, link_poses, moved_configuration, posed_mesh
from spark_blender.refinement.optimize import RefineOptions, Targets, refine_joints
from spark_blender.refinement.raster import Intrinsics, hard_silhouette

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test fixtures: tests/refinement
from tests.refinement.boxes import (  # noqa: E402
    LAYOUTS,
    box_object,
    corrupt,
    line_distance,
    object_size,
    view_camera,
)


def true_mask(obj, configuration, camera) -> np.ndarray:
    mesh = posed_mesh(obj, configuration)
    return (
        hard_silhouette(
            torch.as_tensor(mesh.vertices, dtype=torch.float32),
            torch.as_tensor(mesh.faces, dtype=torch.long),
            torch.as_tensor(camera.world_to_cam, dtype=torch.float32),
            Intrinsics.from_camera(camera),
            camera.width,
            camera.height,
        )
        .numpy()
        .copy()
    )


def run_case(index: int, rng: np.random.Generator, options: RefineOptions) -> list[dict]:
    layout = LAYOUTS[index % len(LAYOUTS)]
    truth = box_object(layout, rng, name=f"{layout}_{index}")
    camera = view_camera(truth, rng.uniform(-35, 35), rng.uniform(15, 35), width=256)
    moved = moved_configuration(truth)
    target = true_mask(truth, moved, camera)
    coarse, flipped = corrupt(truth, rng)
    started = time.perf_counter()
    result = refine_joints(coarse, camera, Targets(moved_mask=target), options)
    seconds = time.perf_counter() - started
    half = 0.5 * object_size(truth)
    true_frames = joint_frames(truth)
    coarse_frames = joint_frames(coarse)
    rows = []
    for joint in truth.movable_joints:
        pivot, axis = true_frames[joint.name]
        estimate = result.joints[joint.name]
        row = {
            "object": truth.name,
            "joint": joint.name,
            "type": joint.type,
            "flipped": joint.name in flipped,
            "sign_ok": bool(estimate.axis @ axis > 0),
            "value_err": abs(estimate.value - moved[joint.name]),
            "seconds": seconds / len(truth.movable_joints),
        }
        if joint.type == "revolute":
            before = line_distance(pivot, axis, *coarse_frames[joint.name])
            after = line_distance(pivot, axis, estimate.pivot, estimate.axis)
            row["pivot_before"], row["pivot_after"] = before / half, after / half
        rows.append(row)
    # Rest pose kept: every link's rest geometry is where it was.
    rest_truth, rest_refined = link_poses(truth), link_poses(result.object)
    for link in truth.links:
        for mine, theirs in zip(result.object.link(link.name).visuals, link.visuals, strict=True):
            a = rest_refined[link.name] @ mine.origin
            b = rest_truth[link.name] @ theirs.origin
            assert np.allclose(a, b, atol=1e-5), f"rest pose of {link.name} moved"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joints", type=int, default=100, help="stop after this many joints")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    options = RefineOptions()
    rows: list[dict] = []
    index = 0
    print(f"{'object':<18} {'joint':<14} {'type':<9} {'flip':<5} {'sign':<5} "
          f"{'pivot0':>7} {'pivot':>7} {'dvalue':>7} {'s':>5}")  # fmt: skip
    while len(rows) < args.joints:
        for row in run_case(index, rng, options):
            rows.append(row)
            pivot0 = f"{row['pivot_before']:.3f}" if "pivot_before" in row else "-"
            pivot = f"{row['pivot_after']:.4f}" if "pivot_after" in row else "-"
            print(
                f"{row['object']:<18} {row['joint']:<14} {row['type']:<9} "
                f"{'yes' if row['flipped'] else 'no':<5} {'ok' if row['sign_ok'] else 'BAD':<5} "
                f"{pivot0:>7} {pivot:>7} {row['value_err']:>7.4f} {row['seconds']:>5.1f}",
                flush=True,
            )
        index += 1
    revolute = [r for r in rows if "pivot_after" in r]
    after = np.array([r["pivot_after"] for r in revolute])
    before = np.array([r["pivot_before"] for r in revolute])
    signs = np.array([r["sign_ok"] for r in rows])
    flipped = np.array([r["sign_ok"] for r in rows if r["flipped"]])
    print()
    print(f"objects {index}, joints {len(rows)} ({len(revolute)} revolute)")
    print(f"pivot error before: median {np.median(before):.4f}  mean {before.mean():.4f}")
    print(
        f"pivot error after:  median {np.median(after):.4f}  mean {after.mean():.4f}  "
        f"p90 {np.percentile(after, 90):.4f}  <=0.02: {np.mean(after <= 0.02):.1%}"
    )
    print(
        f"signs recovered: {signs.mean():.1%} of all joints, {flipped.mean():.1%} of the "
        f"{len(flipped)} flipped ones"
    )
    print(f"median value error: {np.median([r['value_err'] for r in rows]):.4f}")
    print(f"seconds per joint: {np.mean([r['seconds'] for r in rows]):.2f}")


if __name__ == "__main__":
    main()
