"""The photoreal back end: Blender Cycles through the real ``bpy`` module, in a subprocess.

The object is written with the core URDF writer (OBJ+MTL with its textures), and a job file hands
Blender the visual meshes, each view's world matrices (from the core's forward kinematics), the
camera, the lights and the output PNG. Blender renders RGBA on a transparent film; here the
background is composited in, and the per-link masks and depth come from the rasteriser with the
same camera and geometry (the same pixels the Cycles image shows, without a second pass).
A subprocess keeps bpy out of this process (the package's rule: only ``blender/`` imports bpy).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lxml import etree
from PIL import Image

from spark_blender.core.camera import Camera
from spark_blender.core.kinematics import link_poses
from spark_blender.core.model import ArticulatedObject
from spark_blender.core.transforms import make_transform
from spark_blender.core.urdf import write_urdf
from spark_blender.synth.camera import Background, Lighting
from spark_blender.synth.render_fast import RenderResult, render, scene_geometry


class CyclesError(RuntimeError):
    """Blender could not render the job; the message carries Blender's last output lines."""


@dataclass
class View:
    configuration: Mapping[str, float]
    camera: Camera
    lighting: Lighting
    background: Background


def visual_files(urdf_path: Path) -> list[tuple[str, str, np.ndarray]]:
    """(link, mesh file, visual origin) of every visual in a URDF the core wrote, in order."""
    root = etree.parse(str(urdf_path)).getroot()
    out = []
    for link in root.findall("link"):
        for visual in link.findall("visual"):
            origin = visual.find("origin")
            xyz = (
                [float(v) for v in origin.get("xyz", "0 0 0").split()] if origin is not None else 0
            )
            rpy = (
                [float(v) for v in origin.get("rpy", "0 0 0").split()] if origin is not None else 0
            )
            mesh = visual.find("geometry/mesh").get("filename")
            transform = make_transform(xyz or (0, 0, 0), rpy or (0, 0, 0))
            out.append((link.get("name"), str(urdf_path.parent / mesh), transform))
    return out


def render_cycles(
    obj: ArticulatedObject, views: Sequence[View], samples: int = 16, seed: int = 0,
    timeout: float = 600.0,
) -> list[RenderResult]:  # fmt: skip
    """Render every view of `obj` with Cycles; masks and depth from the rasteriser."""
    with tempfile.TemporaryDirectory(prefix="spark_cycles_") as tmp:
        tmp = Path(tmp)
        urdf = write_urdf(obj, tmp / "object")
        visuals = visual_files(urdf)
        job_views = []
        for i, view in enumerate(views):
            poses = link_poses(obj, view.configuration)
            job_views.append({
                "matrices": [(poses[link] @ origin).tolist() for link, _, origin in visuals],
                "camera": view.camera.to_dict(),
                "lighting": view.lighting.to_json(),
                "out": str(tmp / f"view_{i}.png"),
            })  # fmt: skip
        job = {
            "visuals": [{"file": f, "link": link} for link, f, _ in visuals],
            "views": job_views,
            "samples": int(samples),
            "seed": int(seed),
        }
        (tmp / "job.json").write_text(json.dumps(job))
        _run_blender(tmp / "job.json", timeout)
        images = [np.asarray(Image.open(v["out"]).convert("RGBA")) for v in job_views]
    geometry = scene_geometry(obj)
    results = []
    for view, image in zip(views, images, strict=True):
        fast = render(obj, view.camera, view.configuration, view.lighting,
                      Background("transparent"), geometry)  # fmt: skip
        results.append(RenderResult(_composite(image, view.background), fast.mask, fast.depth,
                                    view.camera, fast.link_names))  # fmt: skip
    return results


def _run_blender(job: Path, timeout: float) -> None:
    command = [sys.executable, "-m", "spark_blender.blender.synth_render", str(job)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise CyclesError(f"Blender render of '{job}' failed ({done.returncode}): {tail}")


def _composite(rgba: np.ndarray, background: Background) -> np.ndarray:
    """Cycles' premultiplied-free straight-alpha PNG over the background image."""
    if background.kind == "transparent":
        return rgba
    h, w = rgba.shape[:2]
    fg = rgba[..., :3].astype(float) / 255.0
    alpha = rgba[..., 3:4].astype(float) / 255.0
    out = fg * alpha + background.image(w, h) * (1.0 - alpha)
    image = np.concatenate([out, np.ones((h, w, 1))], axis=2)
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
