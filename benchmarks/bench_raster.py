"""Speed of the soft silhouette renderer: culled (per-face bounding boxes) against dense.

One optimisation iteration = render + a mean-squared loss against a target mask + backward, as
the joint optimizer does. Meshes are tori (a silhouette with a hole, faces of all orientations)
with 500, 2,000 and 10,000 faces filling about 60% of the view; images 128x128 and 256x256;
sharpness 4/pixel (the optimizer's final value). The dense renderer runs the same arithmetic on
every pixel for every face, in the same process, right after the culled one, so both see the
same machine load. Also times the acceptance case directly: 200 iterations at 128x128 on 2,000
faces, with one and with two torch threads (the machine has two cores).

    python benchmarks/bench_raster.py [--threads 1] [--dense-seconds 20]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from spark_blender.core.camera import Camera
from spark_blender.refinement.raster import (
    Intrinsics,
    RasterSettings,
    hard_silhouette,
    render_silhouette,
    render_silhouette_dense,
)


def torus(faces: int, major: float = 0.5, minor: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """A torus with exactly `faces` triangles (faces/2 quads, about 2.5 around per 1 across)."""
    quads = faces // 2
    rings = max(3, round(math.sqrt(quads * 2.5)))
    sides = quads // rings
    u = np.linspace(0, 2 * np.pi, rings, endpoint=False)
    v = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    U, V = np.meshgrid(u, v, indexing="ij")
    radius = major + minor * np.cos(V)
    points = np.stack([radius * np.cos(U), radius * np.sin(U), minor * np.sin(V)], -1)
    i, j = (g.ravel() for g in np.meshgrid(np.arange(rings), np.arange(sides), indexing="ij"))
    a, b = i * sides + j, ((i + 1) % rings) * sides + j
    c, d = ((i + 1) % rings) * sides + (j + 1) % sides, i * sides + (j + 1) % sides
    triangles = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    return points.reshape(-1, 3), triangles


class Scene:
    def __init__(self, faces: int, size: int, sharpness: float = 4.0):
        points, triangles = torus(faces)
        self.faces_count = len(triangles)
        camera = Camera.look_at((0.7, -1.6, 1.0), (0.0, 0.0, 0.0), size, size, fov_deg=40)
        self.vertices = torch.tensor(points, dtype=torch.float32, requires_grad=True)
        self.faces = torch.tensor(triangles, dtype=torch.long)
        self.view = torch.tensor(camera.world_to_cam, dtype=torch.float32)
        self.intrinsics = Intrinsics.from_camera(camera)
        self.settings = RasterSettings(size, size, sharpness=sharpness)
        self.target = hard_silhouette(
            self.vertices.detach() * 1.02, self.faces, self.view, self.intrinsics, size, size
        ).float()
        self.coverage = float(self.target.mean())

    def iteration(self, renderer) -> None:
        image = renderer(self.vertices, self.faces, self.view, self.intrinsics, self.settings)
        loss = ((image - self.target) ** 2).mean()
        loss.backward()
        self.vertices.grad = None


def iterations_per_second(scene: Scene, renderer, budget_s: float, max_iterations: int) -> float:
    scene.iteration(renderer)  # warm-up
    started, count = time.perf_counter(), 0
    while count < max_iterations and (count == 0 or time.perf_counter() - started < budget_s):
        scene.iteration(renderer)
        count += 1
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per culled cell")
    parser.add_argument("--dense-seconds", type=float, default=10.0, help="per dense cell")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), float32 CPU, sharpness 4/px")
    print(
        f"{'size':>8} {'faces':>6} {'cover':>6} {'culled it/s':>12} {'dense it/s':>11} {'ratio':>7}"
    )
    for size in (128, 256):
        for faces in (500, 2000, 10000):
            scene = Scene(faces, size)
            culled = iterations_per_second(scene, render_silhouette, args.seconds, 200)
            dense = iterations_per_second(scene, render_silhouette_dense, args.dense_seconds, 20)
            print(
                f"{size:>4}x{size:<3} {scene.faces_count:>6} {scene.coverage:>6.1%} "
                f"{culled:>12.1f} {dense:>11.3f} {culled / dense:>6.0f}x",
                flush=True,
            )
    for threads in sorted({1, 2, args.threads}):
        torch.set_num_threads(threads)
        scene = Scene(2000, 128)
        scene.iteration(render_silhouette)
        started = time.perf_counter()
        for _ in range(200):
            scene.iteration(render_silhouette)
        took = time.perf_counter() - started
        print(
            f"200 iterations, 128x128, {scene.faces_count} faces, {threads} thread(s): "
            f"{took:.2f} s (target <= 3 s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
