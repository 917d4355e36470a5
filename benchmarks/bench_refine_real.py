"""Joint refinement on real renders: the dev cases' own GT objects with corrupted joints.

For each dev case with an ``object/`` folder and movable joints: the GT object (``gt.urdf``,
moved into the canonical frame by ``gt.json``'s ``canonical_from_urdf``) is corrupted the way a
coarse reconstruction would be, keeping its rest pose:
- every revolute pivot displaced by 0.2 (EVAL.md's normalised units: half the object's longest
  side is 1) across its axis, in a seeded random direction;
- the first movable joint's axis reversed, and every prismatic joint's axis reversed;
then ``refine_joints(coarse, camera, Targets(moved_mask=moved.png alpha),
RefineOptions(moved_fraction=0.75))`` with the case's ``camera.json``.

Per joint it reports: the pivot error before and after (revolute; line distance, normalised
units), whether the opening direction is right (the refined axis, opening positive, against the
GT axis times the sign of the GT moved value; joints whose moved value is 0 have no direction),
the moved value's error (radians, or normalised units for a slider), the joint's confidence, and
the seconds per joint (the object's time over its movable joints). Then the summary.

    python benchmarks/bench_refine_real.py [--dev ../shared/data/partnet_dev] [--seed 0]
        [--threads 2] [--cases Oven_7138 Box_100189]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import joint_frames, posed_mesh
from spark_blender.core.urdf import read_urdf
from spark_blender.refinement.optimize import RefineOptions, Targets, refine_joints
from spark_blender.refinement.raster import Intrinsics, hard_silhouette

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test fixtures: tests/refinement
from tests.refinement.boxes import displace_pivot, line_distance  # noqa: E402

PIVOT_SHIFT = 0.2  # normalised units
NO_MOTION = 1e-6  # a moved value below this has no opening direction
VISIBLE = 0.01  # a joint whose opening changes less of the object's pixels is "unseen"


def silhouette(obj, configuration, camera) -> np.ndarray:
    mesh = posed_mesh(obj, configuration)
    return hard_silhouette(
        torch.as_tensor(mesh.vertices, dtype=torch.float32),
        torch.as_tensor(mesh.faces, dtype=torch.long),
        torch.as_tensor(camera.world_to_cam, dtype=torch.float32),
        Intrinsics.from_camera(camera),
        camera.width,
        camera.height,
    ).numpy()


def visible_change(obj, moved: dict, camera) -> dict[str, float]:
    """Per joint, the share of the object's pixels (GT, 128 px) that its opening changes, the
    other joints in the moved state: how much the image can say about it."""
    small = camera.scaled(128, max(1, round(128 * camera.height / camera.width)))
    opened = silhouette(obj, moved, small)
    area = max(1, int(opened.sum()))
    return {
        name: float((opened ^ silhouette(obj, {**moved, name: 0.0}, small)).sum()) / area
        for name in moved
    }


def canonical_object(case: Path):
    """The case's GT object in the canonical frame, and the GT moved value of every joint."""
    obj = read_urdf(case / "object" / "gt.urdf")
    gt = json.loads((case / "gt.json").read_text())
    canonical = np.asarray(gt["canonical_from_urdf"], float)
    root = obj.root
    for element in [*root.visuals, *root.collisions]:
        element.origin = canonical @ element.origin
    if root.inertial is not None:
        root.inertial.origin = canonical @ root.inertial.origin
    for joint in obj.child_joints(root.name):
        joint.origin = canonical @ joint.origin
    moved = {j["name"]: float(j.get("moved_value", 0.0)) for j in gt["joints"]}
    frames = joint_frames(obj)
    for spec in gt["joints"]:  # the canonical object's joints are gt.json's
        if spec["name"] in frames and spec["type"] in ("revolute", "prismatic"):
            pivot, axis = frames[spec["name"]]
            assert np.allclose(axis, spec["axis"], atol=1e-4), f"{case.name}: axis mismatch"
    return obj, {j.name: moved.get(j.name, 0.0) for j in obj.movable_joints}


def corrupt(obj, rng: np.random.Generator, half: float):
    """The probe's coarse object and the names of the joints whose axis was reversed."""
    coarse = obj
    frames = joint_frames(obj)
    for joint in obj.movable_joints:
        if joint.type != "revolute":
            continue
        axis = frames[joint.name][1]
        direction = rng.normal(size=3)
        direction -= (direction @ axis) * axis
        direction /= np.linalg.norm(direction)
        coarse = displace_pivot(coarse, joint.name, PIVOT_SHIFT * half * direction)
    movable = coarse.movable_joints
    flipped = {j.name for j in movable if j.type == "prismatic"} | (
        {movable[0].name} if movable else set()
    )
    for name in flipped:
        coarse.joint(name).axis = -np.asarray(coarse.joint(name).axis, float)
    return coarse, flipped


def moved_alpha(path: Path) -> np.ndarray:
    """The moved render's alpha in [0, 1] (soft: anti-aliased edges, see-through glass)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.float32)[..., 3] / 255.0


def run_case(case: Path, seed: int, options: RefineOptions) -> list[dict]:
    truth, moved = canonical_object(case)
    rest = posed_mesh(truth).vertices
    half = 0.5 * float(np.ptp(rest, axis=0).max())
    rng = np.random.default_rng([seed, zlib.crc32(case.name.encode())])
    coarse, flipped = corrupt(truth, rng, half)
    camera = Camera.from_json(case / "camera.json")
    moved_mask = moved_alpha(case / "moved.png")
    started = time.perf_counter()
    result = refine_joints(coarse, camera, Targets(moved_mask=moved_mask), options)
    seconds = time.perf_counter() - started
    change = visible_change(truth, moved, camera)
    true_frames, coarse_frames = joint_frames(truth), joint_frames(coarse)
    rows = []
    for joint in truth.movable_joints:
        pivot, axis = true_frames[joint.name]
        estimate = result.joints[joint.name]
        target = moved[joint.name]
        row = {
            "case": case.name,
            "joint": joint.name,
            "type": joint.type,
            "flipped": joint.name in flipped,
            "confidence": getattr(estimate, "confidence", float("nan")),
            "seconds": seconds / len(truth.movable_joints),
            "object_seconds": seconds,
            "seen": change[joint.name] >= VISIBLE,
        }
        if abs(target) > NO_MOTION:
            row["direction_ok"] = bool(estimate.axis @ (np.sign(target) * axis) > 0)
            scale = 1.0 if joint.type in ("revolute", "continuous") else half
            row["value_err"] = abs(estimate.value - abs(target)) / scale
        if joint.type == "revolute":
            before = line_distance(pivot, axis, *coarse_frames[joint.name]) / half
            after = line_distance(pivot, axis, estimate.pivot, estimate.axis) / half
            row["pivot_before"], row["pivot_after"] = before, after
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO.parent / "shared/data/partnet_dev")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cases", nargs="*", help="case names (default: every dev case)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not args.dev.is_dir():
        sys.exit(f"{args.dev}: no such folder (the dev cases)")
    cases = [
        p
        for p in sorted(args.dev.iterdir())
        if (p / "object" / "gt.urdf").is_file() and (not args.cases or p.name in args.cases)
    ]
    options = RefineOptions(moved_fraction=0.75)
    rows: list[dict] = []
    print(f"{'case':<24} {'joint':<9} {'type':<10} {'flip':<4} {'seen':<4} {'dir':<4} {'conf':>5} "
          f"{'pivot0':>7} {'pivot':>7} {'dvalue':>7} {'s':>5}")  # fmt: skip
    for case in cases:
        if not read_urdf(case / "object" / "gt.urdf", load_meshes=False).movable_joints:
            continue
        for row in run_case(case, args.seed, options):
            rows.append(row)
            direction = (
                "-" if "direction_ok" not in row else ("ok" if row["direction_ok"] else "BAD")
            )
            print(
                f"{row['case']:<24} {row['joint']:<9} {row['type']:<10} "
                f"{'yes' if row['flipped'] else 'no':<4} {'yes' if row['seen'] else 'no':<4} "
                f"{direction:<4} {row['confidence']:>5.2f} "
                f"{row.get('pivot_before', float('nan')):>7.3f} "
                f"{row.get('pivot_after', float('nan')):>7.3f} "
                f"{row.get('value_err', float('nan')):>7.3f} {row['seconds']:>5.2f}",
                flush=True,
            )
    summarise(rows)


def summarise(rows: list[dict]) -> None:
    revolute = [r for r in rows if "pivot_after" in r]
    before = np.array([r["pivot_before"] for r in revolute])
    after = np.array([r["pivot_after"] for r in revolute])
    seen_after = [r["pivot_after"] for r in revolute if r["seen"]]
    worse = [
        f"{r['case']}/{r['joint']}" for r in revolute if r["pivot_after"] > r["pivot_before"] + 1e-3
    ]
    directed = [r for r in rows if "direction_ok" in r]
    right = np.array([r["direction_ok"] for r in directed])
    confident = [r for r in directed if r["confidence"] >= 0.5]
    by_object = {r["case"]: r["object_seconds"] for r in rows}
    print()
    print(f"objects {len(by_object)}, movable joints {len(rows)}, revolute {len(revolute)}, "
          f"with an opening direction {len(directed)}")  # fmt: skip
    if revolute:
        print(
            f"revolute pivot error before: median {np.median(before):.3f}  mean {before.mean():.3f}"
        )
        print(
            f"revolute pivot error after:  median {np.median(after):.3f}  mean {after.mean():.3f}"
            f"  p90 {np.percentile(after, 90):.3f}  <=0.05: {np.mean(after <= 0.05):.1%}"
        )
        print(
            f"  of the {len(seen_after)} seen: median {np.median(seen_after):.3f}"
            if seen_after
            else "  none seen"
        )
        print(f"worse than they started: {len(worse)} of {len(revolute)} {' '.join(worse)}")
    if directed:
        sure = np.mean([r["direction_ok"] for r in confident]) if confident else float("nan")
        print(
            f"opening direction right: {right.mean():.1%} ({right.sum()} of {len(right)}); "
            f"of the {len(confident)} with confidence >= 0.5: {sure:.1%}"
        )
        seen = [r["direction_ok"] for r in directed if r["seen"]]
        print(
            f"  of the {len(seen)} whose opening changes >= {VISIBLE:.0%} of the object's "
            f"pixels: {np.mean(seen) if seen else float('nan'):.1%}"
        )
        for kind in ("revolute", "prismatic"):
            picked = [r["direction_ok"] for r in directed if r["type"] == kind]
            if picked:
                print(f"  {kind}: {np.mean(picked):.1%} of {len(picked)}")
        print(f"median value error: {np.median([r['value_err'] for r in directed]):.3f}")
    seconds = np.array([r["seconds"] for r in rows])
    objects = np.array(list(by_object.values()))
    print(f"seconds per joint: median {np.median(seconds):.2f}  max {seconds.max():.2f}")
    print(f"seconds per object: median {np.median(objects):.2f}  max {objects.max():.2f}")


if __name__ == "__main__":
    main()
