"""Render the bundled example photo: `examples/cabinet.png` (Cycles, on a plain backdrop).

The object is the data engine's StorageFurniture of seed 424242: a seed no model was trained on
(training sets draw their objects from dataset seeds >= 1000 through SeedSequence, see
docs/models.md). `examples/cabinet.json` records what made it: the object seed, the camera, the
observed configuration, so tests can check a reconstruction against the truth.

    .venv/bin/python scripts/make_example_photo.py      # about a minute on 2 CPU cores
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from spark_blender.core.kinematics import posed_mesh
from spark_blender.synth import generate
from spark_blender.synth.camera import Background, Lighting, orbit_camera
from spark_blender.synth.render_cycles import View, render_cycles

CATEGORY, SEED = "StorageFurniture", 424242
AZIMUTH, ELEVATION, FOV, SIZE = 24.0, 14.0, 40.0, 512


def main() -> int:
    out = Path(__file__).resolve().parent.parent / "examples"
    out.mkdir(exist_ok=True)
    obj = generate(CATEGORY, SEED)
    observed: dict[str, float] = {}
    bounds = posed_mesh(obj, observed).bounds
    camera = orbit_camera(bounds, AZIMUTH, ELEVATION, FOV, SIZE, SIZE, margin=1.15)
    lighting = Lighting(np.array([-0.5, 0.8, -0.6]), 0.85, 0.35)
    backdrop = Background("plain", (0.42, 0.47, 0.55))
    view = View(observed, camera, lighting, backdrop)
    result = render_cycles(obj, [view], samples=48, seed=7)[0]
    Image.fromarray(result.rgba[..., :3]).save(out / "cabinet.png", optimize=True)
    record = {
        "category": CATEGORY,
        "object_seed": SEED,
        "camera": camera.to_dict(),
        "observed_configuration": observed,
        "movable_joints": len(obj.movable_joints),
        "extent": (bounds[1] - bounds[0]).tolist(),
    }
    (out / "cabinet.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out / 'cabinet.png'} ({len(obj.movable_joints)} movable joints)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
