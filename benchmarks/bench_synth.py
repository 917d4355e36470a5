"""Benchmark of the data engine's renderers: samples per second at 224x224, both back ends.

A sample is one object seen from one random view at two poses (rest and moved): RGBA, per-link
instance mask and depth for each. Measured in one run:
- fast back end, render only (objects generated beforehand), against the 20 samples/s target;
- fast back end end to end (generate + render + metadata, what `synth` does per sample);
- Cycles back end end to end (bpy subprocess, 16 samples per pixel), and the speed ratio.

    python benchmarks/bench_synth.py [--objects 48] [--cycles 3]
"""

from __future__ import annotations

import argparse
import time

from spark_blender.core.kinematics import moved_configuration
from spark_blender.synth import CATEGORIES, generate
from spark_blender.synth.camera import ViewRanges, sample_background, sample_camera, sample_lighting
from spark_blender.synth.dataset import SynthConfig, make_sample, sample_rng
from spark_blender.synth.render_fast import posed_triangles, render, scene_geometry

TARGET = 20.0
SIZE = 224


def fast_render_only(n: int) -> float:
    jobs = []
    for i in range(n):
        category = CATEGORIES[i % len(CATEGORIES)]
        obj = generate(category, 1000 + i)
        rng = sample_rng(SynthConfig(), category, i)
        geometry = scene_geometry(obj)
        moved = moved_configuration(obj)
        pts = posed_triangles(geometry, obj, moved).reshape(-1, 3)
        bounds = [pts.min(0), pts.max(0)]
        camera = sample_camera(rng, bounds, SIZE, SIZE, ViewRanges())
        jobs.append((obj, geometry, moved, camera, sample_lighting(rng, camera),
                     sample_background(rng)))  # fmt: skip
    started = time.perf_counter()
    for obj, geometry, moved, camera, lighting, background in jobs:
        render(obj, camera, {}, lighting, background, geometry)
        render(obj, camera, moved, lighting, background, geometry)
    return n / (time.perf_counter() - started)


def end_to_end(n: int, backend: str) -> float:
    config = SynthConfig(size=SIZE, backend=backend, cycles_samples=16)
    started = time.perf_counter()
    for i in range(n):
        make_sample(config, CATEGORIES[i % len(CATEGORIES)], i)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=48, help="fast-back-end samples")
    parser.add_argument("--cycles", type=int, default=3, help="Cycles samples (0 skips)")
    args = parser.parse_args()
    fast = fast_render_only(args.objects)
    print(f"fast render only : {fast:7.2f} samples/s at {SIZE}x{SIZE} (2 poses each); "
          f"target {TARGET:.0f} -> {fast / TARGET:.2f}x target")  # fmt: skip
    full = end_to_end(args.objects, "fast")
    print(f"fast end to end  : {full:7.2f} samples/s (generate + render + metadata)")
    if args.cycles:
        cycles = end_to_end(args.cycles, "cycles")
        print(f"cycles end to end: {cycles:7.3f} samples/s (16 spp, CPU, incl. Blender start); "
              f"fast/cycles = {full / cycles:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
