"""Benchmark of the embedded structure parser: accuracy on the dev cases and held-out synth data.

    python benchmarks/bench_parser.py [--dev ../shared/data/partnet_dev]
        [--heldout /work/data/parser/heldout] [--heldout-n 4] [--model models/parser]

Dev cases (real PartNet-Mobility renders the model never saw): input ``rest.png``, truth
``gt.json`` + ``camera.json``. Held-out synthetic data (``spark-articulate synth --seed 1002``):
the rest view of ``--heldout-n`` samples per category, truth from the sample records. Per set:

- category top-1 / top-3;
- movable-part count exact / within one / mean absolute error;
- joints matched as EVAL.md matches them (Hungarian on axis angle + pivot line distance + type,
  both in their own normalised frames): type accuracy, axis within 15 deg, revolute pivot line
  error median (matched joints only);
- aspect (w/h, d/h) median relative error; azimuth and elevation median error (deg);
- laptops: the screen's observed opening against the truth (dev: the GT joint's distance from
  its rest value to its closing limit; synth: the moved pose's value);
- foreground mask IoU of each dev case composited on a plain, a textured and a clutter
  background (its alpha is the truth), minimum and mean;
- CPU inference time per image: median of 20 parses of one image in this process.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from spark_blender.evaluation.cases import list_cases, load_case
from spark_blender.evaluation.geometry import Normalisation, normalisation
from spark_blender.evaluation.joints import (
    JointSpec,
    axis_angle,
    joint_kind,
    line_distance,
    match_joints,
)
from spark_blender.perception.embedded.parser import EmbeddedOptions, EmbeddedParser
from spark_blender.perception.errors import PerceptionError

AXIS_TOLERANCE = math.radians(15.0)


def predicted_joints(coarse) -> tuple[list[JointSpec], Normalisation]:
    """The coarse parts' movable joints in metres and the predicted box's normalisation."""
    w, d, h = coarse.size_m
    joints = [
        JointSpec(p.joint_type, coarse.pivot_metres(p), p.axis, *p.limits, name=p.name)
        for p in coarse.parts
        if joint_kind(p.joint_type)
    ]
    return joints, Normalisation(np.array([0.0, 0.0, h / 2]), max(w, d, h) / 2)


class Tally:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, **row) -> None:
        self.rows.append(row)

    def share(self, key: str) -> str:
        values = [r[key] for r in self.rows if r.get(key) is not None]
        return (
            f"{100 * np.mean(values):.0f}% ({int(np.sum(values))}/{len(values)})" if values else "-"
        )

    def median(self, key: str, fmt: str = "{:.3f}") -> str:
        values = [v for r in self.rows for v in np.atleast_1d(r.get(key, [])) if v is not None]
        return fmt.format(float(np.median(values))) + f" (n={len(values)})" if values else "-"

    def flat(self, key: str) -> list[float]:
        return [v for r in self.rows for v in r.get(key, [])]


def score(coarse, probs, truth_category, truth_joints, truth_norm, extent, azimuth, elevation,
          tally: Tally, laptop_truth: float | None = None) -> None:  # fmt: skip
    names = [c for c, _ in probs]
    pred, pred_norm = predicted_joints(coarse)
    truth_n = [j.normalised(truth_norm) for j in truth_joints]
    pred_n = [j.normalised(pred_norm) for j in pred]
    matches = match_joints(truth_n, pred_n)
    types, axes, pivots = [], [], []
    for t, p in matches:
        types.append(truth_n[t].kind == pred_n[p].kind)
        axes.append(axis_angle(truth_n[t].axis, pred_n[p].axis) <= AXIS_TOLERANCE)
        if truth_n[t].kind == "revolute":
            pivots.append(line_distance(truth_n[t].pivot, truth_n[t].axis, pred_n[p].pivot,
                                        pred_n[p].axis))  # fmt: skip
    w, d, h = coarse.size_m
    aspect_err = [abs(w / h - extent[0] / extent[2]) / (extent[0] / extent[2]),
                  abs(d / h - extent[1] / extent[2]) / (extent[1] / extent[2])]  # fmt: skip
    laptop = None
    if laptop_truth is not None:
        screens = [p for p in coarse.parts if p.joint_type == "revolute"]
        value = max((p.observed for p in screens), default=0.0)
        laptop = abs(value - laptop_truth)
    tally.add(
        top1=names[0] == truth_category,
        top3=truth_category in names,
        count_exact=len(pred) == len(truth_joints),
        count_within1=abs(len(pred) - len(truth_joints)) <= 1,
        count_error=[abs(len(pred) - len(truth_joints))],
        types=types,
        axes=axes,
        pivots=pivots,
        aspect=aspect_err,
        azimuth=[abs((coarse.camera.azimuth_deg - azimuth + 180) % 360 - 180)],
        elevation=[abs(coarse.camera.elevation_deg - elevation)],
        laptop=laptop,
        laptop_truth=laptop_truth,
    )


def dev_set(
    parser,
    root: Path,
    tally: Tally,
    ious: list[tuple[str, str, float]],
    seed: int,
    composites: bool = True,
):
    from spark_blender.training.parser_data import background

    rng = np.random.default_rng(seed)
    for folder in list_cases(root):
        case = load_case(folder)
        gt = json.loads((folder / "gt.json").read_text())
        camera = json.loads((folder / "camera.json").read_text())
        photo = Image.open(case.rest_image).convert("RGBA")
        try:
            result = parser.parse(photo)
        except PerceptionError as exc:
            print(f"  {folder.name}: {exc}")
            continue
        laptop = None
        if case.category == "Laptop" and case.joints:
            j = case.joints[0]
            laptop = max(abs(j.lower), abs(j.upper))  # rest (open) to the closing limit
        score(result.coarse, result.category_probs, case.category, case.joints,
              normalisation(case.mesh("rest")), gt["extent"], camera["azimuth_deg"],
              camera["elevation_deg"], tally, laptop)  # fmt: skip
        alpha = np.asarray(photo.getchannel("A")) > 127
        for kind, label in (
            ()
            if not composites
            else (("plain", "plain"), ("noise", "textured"), ("clutter", "clutter"))
        ):
            bg = background(photo.width, rng, kind)
            a = np.asarray(photo.getchannel("A"), np.float32)[..., None] / 255
            rgb = np.asarray(photo.convert("RGB"), np.float32) / 255
            composite = Image.fromarray(((rgb * a + bg * (1 - a)) * 255).astype(np.uint8))
            try:
                mask = np.asarray(parser.parse(composite).mask) > 127
            except PerceptionError:
                mask = np.zeros_like(alpha)
            iou = float((mask & alpha).sum() / max(1, (mask | alpha).sum()))
            ious.append((folder.name, label, iou))


def heldout_set(parser, root: Path, per_category: int, tally: Tally) -> None:
    from spark_blender.evaluation.joints import JointSpec as Spec
    from spark_blender.perception.embedded.targets import object_frame
    from spark_blender.synth.dataset import SynthDataset

    ds = SynthDataset(root)
    seen: dict[str, int] = {}
    moved = ds.poses.index("moved")
    for i in range(len(ds)):
        item = ds[i]
        meta = item["meta"]
        if seen.get(meta["category"], 0) >= per_category:
            continue
        seen[meta["category"]] = seen.get(meta["category"], 0) + 1
        laptop = None
        pose = 0
        if meta["category"] == "Laptop":  # open, as laptops are photographed
            pose = moved
            laptop = float(next(iter(meta["poses"]["moved"].values())))
        try:
            result = parser.parse(Image.fromarray(item["rgba"][pose]))
        except PerceptionError as exc:
            print(f"  {meta['key']}: {exc}")
            continue
        joints = [Spec(j["type"], j["pivot"], j["axis"], j["lower"], j["upper"], j["name"])
                  for j in meta["joints"] if joint_kind(j["type"])]  # fmt: skip
        origin, size = object_frame(meta)
        norm = Normalisation(origin + np.array([0, 0, size[2] / 2]), float(size.max()) / 2)
        camera = meta["camera"]
        score(result.coarse, result.category_probs, meta["category"], joints, norm, size,
              camera["azimuth_deg"], camera["elevation_deg"], tally, laptop)  # fmt: skip


def timing(parser, image: Path, runs: int = 20) -> float:
    photo = Image.open(image).convert("RGBA")
    parser.parse(photo)  # warm-up: weights loaded
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        parser.parse(photo)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dev", type=Path, default=Path("../shared/data/partnet_dev"))
    p.add_argument("--heldout", type=Path, default=Path("/work/data/parser/heldout"))
    p.add_argument("--heldout-n", type=int, default=4, help="samples per category")
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-composites", action="store_true", help="skip the mask IoU runs")
    p.add_argument(
        "--no-mirror", action="store_true", help="one view only (no mirrored-crop average)"
    )
    p.add_argument("--count", choices=("argmax", "median"), default="argmax",
                   help="how the part count is read from the count head")  # fmt: skip
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    options = EmbeddedOptions(model_path=str(args.model) if args.model else None)
    options.mirror = not args.no_mirror
    options.count = args.count
    parser = EmbeddedParser(options)
    parser.load()
    sets: dict[str, Tally] = {}
    ious: list[tuple[str, str, float]] = []
    if args.dev.is_dir():
        sets["dev (32 real renders)"] = Tally()
        dev_set(parser, args.dev, sets["dev (32 real renders)"], ious, args.seed,
                not args.no_composites)  # fmt: skip
    else:
        print(f"no dev cases at {args.dev}; skipped")
    if args.heldout.is_dir():
        name = f"held-out synth ({args.heldout_n}/category)"
        sets[name] = Tally()
        heldout_set(parser, args.heldout, args.heldout_n, sets[name])
    rows = [
        ("category top-1 (>= 75%)", lambda t: t.share("top1")),
        ("category top-3 (>= 90%)", lambda t: t.share("top3")),
        ("part count exact (>= 50%)", lambda t: t.share("count_exact")),
        ("part count within one (>= 80%)", lambda t: t.share("count_within1")),
        ("part count error mean (main job <= 1.0)", lambda t: _mean_flat(t, "count_error")),
        ("joint type, matched (>= 85%)", lambda t: _share_flat(t, "types")),
        ("axis within 15 deg, matched (>= 75%)", lambda t: _share_flat(t, "axes")),
        ("revolute pivot line error median (<= 0.15)", lambda t: t.median("pivots")),
        ("aspect rel. error median (<= 20%)", lambda t: t.median("aspect", "{:.1%}")),
        ("azimuth error median (<= 12 deg)", lambda t: t.median("azimuth", "{:.1f}")),
        ("elevation error median (deg)", lambda t: t.median("elevation", "{:.1f}")),
        ("laptop opening error (each <= 20 deg)", _laptops),
    ]
    names = list(sets)
    print(f"{'':46}" + "".join(f"{n:>32}" for n in names))
    for label, fn in rows:
        print(f"{label:46}" + "".join(f"{fn(sets[n]):>32}" for n in names))
    if ious:
        values = [v for _, _, v in ious]
        print(f"foreground IoU, plain/textured/clutter (each >= 0.95): min {min(values):.3f}, "
              f"mean {np.mean(values):.3f}, cases >= 0.95: {sum(v >= 0.95 for v in values)}/"
              f"{len(values)}")  # fmt: skip
        for kind in ("plain", "textured", "clutter"):
            k = [v for _, b, v in ious if b == kind]
            print(f"  {kind:9} min {min(k):.3f} mean {np.mean(k):.3f}")
    image = next(iter(list_cases(args.dev)), None) if args.dev.is_dir() else None
    if image is not None:
        seconds = timing(parser, image / "rest.png")
        print(f"CPU inference, {args.threads} thread(s), 512x512 RGBA, median of 20: "
              f"{seconds:.3f} s (target <= 0.5 s)")  # fmt: skip
    return 0


def _share_flat(t: Tally, key: str) -> str:
    values = t.flat(key)
    return f"{100 * np.mean(values):.0f}% ({int(np.sum(values))}/{len(values)})" if values else "-"


def _mean_flat(t: Tally, key: str) -> str:
    values = t.flat(key)
    return f"{np.mean(values):.2f} (n={len(values)})" if values else "-"


def _laptops(t: Tally) -> str:
    errors = [math.degrees(r["laptop"]) for r in t.rows if r.get("laptop") is not None]
    return ", ".join(f"{e:.0f}" for e in errors) + " deg" if errors else "-"


if __name__ == "__main__":
    sys.exit(main())
