"""Part DiT benchmark: token round trip, decoder robustness, generation F@0.1, sampling speed.

    .venv/bin/python benchmarks/bench_dit.py [--seeds 50] [--noisy 800] [--untrained 200]
        [--heldout DIR --objects 500] [--check-every 1] [--model models/dit]

- round trip: decode(encode(obj)) for seeds 0..S-1 of every category: per-link box IoU (median,
  min), joints identical (type; axis 1e-6; pivot 1 mm; limits 1e-6), `check_urdf` pass rate on
  every `--check-every`-th decoded object;
- robustness: synthetic tokens with Gaussian noise (10% of each field's range over the training
  tokens) and raw samples of an untrained model: share that decode and pass the check, share
  refused with a one-line DecodeError, crashes;
- generation: held-out synth objects (seed 2002) with their true structure; decoded geometry
  at the moved pose scored with EVAL.md's F@0.1 (best of K=8 and K=1);
- speed: K=8 hypotheses with all sampling steps (median of 20, wall and CPU seconds).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from spark_blender.core.kinematics import joint_frames, posed_mesh
from spark_blender.core.simcheck import check_urdf
from spark_blender.core.urdf import write_urdf
from spark_blender.evaluation.geometry import geometry_scores
from spark_blender.generation import sample as S
from spark_blender.generation.tokens import DecodeError, decode, encode, link_boxes
from spark_blender.perception.schema import CameraEstimate, CoarsePart, CoarseURDF
from spark_blender.synth import CATEGORIES, generate


def _iou(a, b) -> float:
    inter = np.prod(np.clip(np.minimum(a[1], b[1]) - np.maximum(a[0], b[0]), 0, None))
    return float(inter / (np.prod(a[1] - a[0]) + np.prod(b[1] - b[0]) - inter))


def _passes(obj) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        return check_urdf(write_urdf(obj, Path(tmp) / "o")).passed


def _moved(obj) -> dict:
    out = {}
    for j in obj.movable_joints:
        if j.type == "continuous":
            continue
        lo, hi = j.limits
        out[j.name] = 0.75 * (hi if abs(hi) >= abs(lo) else lo)
    return out


def round_trip(seeds: int, check_every: int) -> list:
    ious, bad_joints, checked, passed, n = [], 0, 0, 0, 0
    for category in CATEGORIES:
        for seed in range(seeds):
            obj = generate(category, seed)
            dec = decode(encode(obj))
            truth, got = link_boxes(obj), link_boxes(dec)
            ious += [_iou(truth[k], got[k]) for k in truth]
            fo, fd = joint_frames(obj), joint_frames(dec)
            original = {j.child: j for j in obj.joints}
            for j in dec.joints:
                o = original[j.child]
                same = (
                    o.type == j.type
                    and np.abs(fo[o.name][1] - fd[j.name][1]).max() < 1e-6
                    and np.abs(fo[o.name][0] - fd[j.name][0]).max() < 1e-3
                    and (j.type == "continuous"
                         or (abs(o.lower - j.lower) < 1e-6 and abs(o.upper - j.upper) < 1e-6))
                )  # fmt: skip
                bad_joints += not same
            if n % check_every == 0:
                checked += 1
                passed += _passes(dec)
            n += 1
    return [
        f"round trip: {n} objects ({seeds} seeds x {len(CATEGORIES)} categories)",
        f"  per-link box IoU median {np.median(ious):.4f}  min {np.min(ious):.4f}",
        f"  joints not identical: {bad_joints}",
        f"  check passed {passed}/{checked}",
    ]


def robustness(noisy: int, untrained: int, check_every: int) -> list:
    rng = np.random.default_rng(7)
    base = [encode(generate(c, s)) for c in CATEGORIES for s in range(3)]
    rows = np.concatenate([t.vector() for t in base])
    span = rows.max(0) - rows.min(0)
    outcomes = {"passed": 0, "failed check": 0, "refused": 0, "crashed": 0}
    refusals: list[str] = []
    sets = []
    for i in range(noisy):
        t = base[i % len(base)]
        sets.append(t.with_vector(t.vector() + rng.normal(0, 0.1, (len(t.parts), 1)) * span))
    if untrained:
        from spark_blender.generation.part_dit import PartDiT

        torch.manual_seed(0)
        model = PartDiT(mean=rows.mean(0).tolist(), std=np.maximum(rows.std(0), 0.05).tolist())
        for param in model.out.parameters():  # a fresh model outputs zeros: give it noise
            torch.nn.init.normal_(param, std=0.02)
        model.eval()
        for i in range(untrained):
            t = base[i % len(base)]
            coarse = _coarse_of(t)
            structure, parts = S.coarse_structure(coarse, t.category)
            image = np.ones((3, 64, 64), np.float32)
            crops = np.ones((len(parts), 3, 32, 32), np.float32)
            out = S.sample_rows(model, structure, image, crops, 1, i, steps=4)[0]
            sets.append(S.rows_to_tokens(out, coarse, parts, t.category))
    for i, tokens in enumerate(sets):
        try:
            obj = decode(tokens)
        except DecodeError as exc:
            outcomes["refused"] += 1
            refusals.append(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - counted and reported
            outcomes["crashed"] += 1
            refusals.append(f"CRASH {type(exc).__name__}: {exc}")
            continue
        if i % check_every == 0:
            outcomes["passed" if _passes(obj) else "failed check"] += 1
        else:
            outcomes["passed"] += 1
    lines = [f"robustness: {noisy} noisy token sets + {untrained} untrained-model samples"]
    lines += [f"  {k}: {v}" for k, v in outcomes.items()]
    lines += [f"  e.g. refused: {r}" for r in sorted(set(refusals))[:3]]
    return lines


def _coarse_of(tokens, boxes_2d=None) -> CoarseURDF:
    parts = []
    for i, p in enumerate(tokens.parts[1:], 1):
        pivot = p.centre + p.pivot * p.size
        box = boxes_2d[i] if boxes_2d else [0.0, 0.0, 0.0, 0.0]
        parts.append(CoarsePart(p.name, p.label, p.parent, p.joint_type, list(p.axis),
                                list(pivot), list(p.limits), box))  # fmt: skip
    return CoarseURDF(tokens.category, list(tokens.extent), CameraEstimate(), parts)


def generation(heldout: Path, objects: int, model_dir: str | None) -> list:
    from PIL import Image

    from spark_blender.synth.dataset import SynthDataset

    ds = SynthDataset(heldout)
    rng = np.random.default_rng(0)
    picks = rng.choice(len(ds), size=min(objects, len(ds)), replace=False)
    best8, first, fails = [], [], 0
    for index in picks:
        item = ds[int(index)]
        meta = item["meta"]
        truth = generate(meta["category"], meta["object_seed"])
        tokens = encode(truth)
        mask = item["mask"][1]
        h, w = mask.shape
        ids = {link["name"]: link["mask_id"] for link in meta["links"]}
        boxes = []
        for p in tokens.parts:
            ys, xs = np.nonzero(mask == ids[p.name])
            boxes.append([xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h]
                         if len(xs) else [0.0, 0.0, 0.0, 0.0])  # fmt: skip
        coarse = _coarse_of(tokens, boxes)
        try:
            hyps = S.generate(coarse, Image.fromarray(item["rgba"][1]), {}, k=8, seed=0,
                              model_dir=model_dir)  # fmt: skip
        except DecodeError:
            fails += 1
            best8.append(0.0)
            first.append(0.0)
            continue
        gt = posed_mesh(truth, _moved(truth))
        scores = [geometry_scores(posed_mesh(o, _moved(o)), gt).f_01 for o in hyps]
        best8.append(max(scores))
        first.append(scores[0])
    return [
        f"generation: {len(picks)} held-out objects ({heldout.name}), true structure",
        f"  F@0.1 best of K=8: mean {np.mean(best8):.3f}  median {np.median(best8):.3f}",
        f"  F@0.1 K=1:         mean {np.mean(first):.3f}  median {np.median(first):.3f}",
        f"  objects with no decodable hypothesis: {fails}",
    ]


def speed(model_dir: str | None) -> list:
    torch.set_num_threads(1)
    model = S.load_model(model_dir)
    parts = [CoarsePart(f"drawer_{i}", "drawer", "base", "prismatic", [0, -1, 0],
                        [0, -0.5, 0.2 * i], [0, 0.3], [0.2, 0.1 * i, 0.8, 0.1 * i + 0.1])
             for i in range(5)]  # fmt: skip
    coarse = CoarseURDF("StorageFurniture", [0.8, 0.5, 1.0], CameraEstimate(), parts)
    structure, ps = S.coarse_structure(coarse, coarse.category)
    image = np.random.rand(3, 64, 64).astype(np.float32)
    crops = np.random.rand(len(ps), 3, 32, 32).astype(np.float32)
    S.sample_rows(model, structure, image, crops, 8, 0)
    wall, cpu = [], []
    for i in range(20):
        t, c = time.perf_counter(), time.process_time()
        S.sample_rows(model, structure, image, crops, 8, i)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    size = sum(f.stat().st_size for f in Path(model_dir or S.MODEL_DIR).glob("*.safetensors"))
    return [
        f"speed: K=8, {S.STEPS} steps, CFG, 6 parts, 1 thread: median of 20 wall "
        f"{np.median(wall):.3f} s, CPU {np.median(cpu):.3f} s",
        f"  weights {size / 1e6:.1f} MB",
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--noisy", type=int, default=800)
    p.add_argument("--untrained", type=int, default=200)
    p.add_argument("--heldout", type=Path, default=None)
    p.add_argument("--objects", type=int, default=500)
    p.add_argument("--check-every", type=int, default=1, help="run check_urdf on every n-th")
    p.add_argument("--model", default=None)
    p.add_argument("--only", nargs="+", default=["speed", "roundtrip", "robust", "generation"])
    args = p.parse_args()
    torch.set_num_threads(1)
    if "speed" in args.only:
        print("\n".join(speed(args.model)), flush=True)
    if "roundtrip" in args.only:
        print("\n".join(round_trip(args.seeds, args.check_every)), flush=True)
    if "robust" in args.only:
        print("\n".join(robustness(args.noisy, args.untrained, args.check_every)), flush=True)
    if "generation" in args.only and args.heldout is not None:
        print("\n".join(generation(args.heldout, args.objects, args.model)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
