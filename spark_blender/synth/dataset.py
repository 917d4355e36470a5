"""Sharded datasets of procedural objects and their renders, reproducible from one seed.

Layout of a dataset folder (written to a temporary sibling, renamed into place when complete):

    manifest.json          format, the config, poses, per-category counts, shards + sha256
    shard_00000.zip ...    per shard: rgba.npy (N, P, H, W, 4) uint8, mask.npy (N, P, H, W)
                           uint8 (link index + 1, 0 = background), depth.npy (N, P, H, W)
                           float16 metres (0 = background), meta.json (one record per sample)
    urdf/<sample>/         optional (``--urdf``): the URDF folder, camera.json, preview.png

P poses per sample: ``rest`` (all joints 0), ``moved`` (``core.kinematics.moved_configuration``:
every revolute/prismatic joint 75% of the way to its far limit, continuous joints at 0, as in the
evaluation cases), ``observed`` when ``observed_pose`` is set, and ``random_k``; each with the
joints a moved joint needs set as it needs them (`coupled`: a dish rack out, its door open).
Every sample's meta also carries ``observed_configuration`` (from ``observed_configuration``:
the pose a photo of the object would show, ARCHITECTURE.md "Observed configuration"; joints
left out are 0).
Sample i of category c draws its object seed and its view from ``SeedSequence([seed, crc32(c),
i])``, so any sample can be rebuilt alone and the whole folder is byte-identical for the same
config. ``SynthDataset`` reads it for training.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from spark_blender.core.kinematics import (
    joint_frames,
    link_poses,
    moved_configuration,
    random_configuration,
)
from spark_blender.core.model import ArticulatedObject
from spark_blender.core.urdf import WriteOptions, staged_folder, write_urdf
from spark_blender.progress import ProgressEvent
from spark_blender.synth import CATEGORIES, generate
from spark_blender.synth.camera import (
    BACKGROUNDS,
    ViewRanges,
    sample_background,
    sample_lighting,
    sample_view,
)
from spark_blender.synth.render_fast import RenderResult, render, scene_geometry

FORMAT = "spark-synth-v1"
BACKENDS = ("fast", "cycles")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: byte-identical shards


@dataclass
class SynthConfig:
    categories: tuple[str, ...] = CATEGORIES
    n: int = 10  # samples per category
    seed: int = 0
    size: int = 224
    random_poses: int = 0
    backend: str = "fast"
    shard_size: int = 64
    backgrounds: tuple[str, ...] = BACKGROUNDS
    cycles_samples: int = 16
    write_urdf: bool = False
    observed_pose: bool = False  # also render the object in its observed configuration

    def problems(self) -> list[str]:
        found = [f"unknown category '{c}'" for c in self.categories if c not in CATEGORIES]
        if self.backend not in BACKENDS:
            found.append(f"backend '{self.backend}' is not one of {', '.join(BACKENDS)}")
        found += [f"unknown background '{b}'" for b in self.backgrounds if b not in BACKGROUNDS]
        if self.seed < 0:
            found.append(f"seed must be 0 or more, got {self.seed}")
        if self.n < 1:
            found.append(f"n must be at least 1, got {self.n}")
        if not 16 <= self.size <= 2048:
            found.append(f"size must be in [16, 2048], got {self.size}")
        if self.shard_size < 1:
            found.append(f"shard size must be at least 1, got {self.shard_size}")
        return found

    @property
    def poses(self) -> list[str]:
        observed = ["observed"] if self.observed_pose else []
        return ["rest", "moved", *observed] + [f"random_{k}" for k in range(self.random_poses)]


@dataclass
class Sample:
    key: str
    views: list[RenderResult]
    meta: dict = field(default_factory=dict)


def sample_rng(config: SynthConfig, category: str, index: int) -> np.random.Generator:
    entropy = [int(config.seed), zlib.crc32(category.encode()), int(index)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


# Joints a photo may show open: laptops are photographed open, now and then a door stands ajar or
# a drawer is out; everything else (controls, handles, knobs) shows at rest.
OBSERVED_OPENINGS = ("door", "drawer", "lid", "window", "seat")
OBSERVED_OPEN_CHANCE = 0.25  # chance that one such joint is partly open
SCREEN_OPEN_DEG = (60.0, 130.0)


def coupled(obj: ArticulatedObject, configuration: dict[str, float]) -> dict[str, float]:
    """`configuration` with every joint a moved joint needs (``obj.couplings``, written by
    `Assembly.couple`) at the value it needs: a dish rack out means the door is open."""
    out = dict(configuration)
    for name, (needs, value) in getattr(obj, "couplings", {}).items():
        if abs(out.get(name, 0.0)) > 1e-9:
            out[needs] = value
    return out


def observed_configuration(obj: ArticulatedObject, seed: int) -> dict[str, float]:
    """The joint values a photo of `obj` (made from `seed`) would show; joints left out are 0.

    Laptop screens open 60-130 degrees (clipped to the limit); with a 25% chance one door,
    drawer, lid, window or seat is 20-90% of the way open; all else closed. At most
    one joint besides a screen moves (with what it needs open: `coupled`), so the pose is one
    the sim check's sweeps cover.
    Drawn from its own stream of (seed, category): the object itself does not change.
    """
    rng = np.random.default_rng([int(seed), zlib.crc32(obj.category.encode()), 0x0B5E])
    configuration: dict[str, float] = {}
    movable = [j for j in obj.joints if j.type in ("revolute", "prismatic") and j.upper > 1e-9]
    for joint in movable:
        if joint.label == "screen":
            low, high = (math.radians(a) for a in SCREEN_OPEN_DEG)
            high = min(high, joint.upper)
            configuration[joint.name] = float(rng.uniform(min(low, high), high))
    openings = [j for j in movable if j.label in OBSERVED_OPENINGS]
    if openings and rng.random() < OBSERVED_OPEN_CHANCE:
        joint = openings[int(rng.integers(len(openings)))]
        configuration[joint.name] = float(rng.uniform(0.2, 0.9) * joint.upper)
    return coupled(obj, configuration)


def object_record(obj: ArticulatedObject) -> dict:
    """What a model learns from: links (label, mask id, rest box) and joints in the canonical
    frame at rest."""
    poses = link_poses(obj)
    frames = joint_frames(obj)
    links = []
    for index, link in enumerate(obj.links):
        pts = [
            (poses[link.name] @ v.origin)[:3, :3] @ np.asarray(v.mesh.vertices).T
            + (poses[link.name] @ v.origin)[:3, 3:4]
            for v in link.visuals
        ]
        pts = np.concatenate(pts, axis=1) if pts else np.zeros((3, 1))
        links.append({
            "name": link.name,
            "label": link.label,
            "mask_id": index + 1,
            "bbox_min": pts.min(1).round(6).tolist(),
            "bbox_max": pts.max(1).round(6).tolist(),
        })  # fmt: skip
    joints = []
    for joint in obj.joints:
        pivot, axis = frames[joint.name]
        joints.append({
            "name": joint.name,
            "type": joint.type,
            "label": joint.label,
            "parent": joint.parent,
            "child": joint.child,
            "pivot": np.round(pivot, 6).tolist(),
            "axis": np.round(axis, 6).tolist(),
            "lower": float(joint.limits[0]),
            "upper": float(joint.limits[1]),
        })  # fmt: skip
    lo = np.min([link["bbox_min"] for link in links], axis=0)
    hi = np.max([link["bbox_max"] for link in links], axis=0)
    return {
        "name": obj.name,
        "category": obj.category,
        "extent": np.round(hi - lo, 6).tolist(),
        "links": links,
        "joints": joints,
        "couplings": {  # joint -> [the joint it needs, the value it needs] (`coupled`)
            name: [needs, value] for name, (needs, value) in getattr(obj, "couplings", {}).items()
        },
        "programs": {  # per link, the part builders it used (synth.Assembly's part programs)
            name: [record.to_json() for record in records]
            for name, records in getattr(obj, "part_programs", {}).items()
        },
    }


def make_sample(config: SynthConfig, category: str, index: int) -> tuple[Sample, ArticulatedObject]:
    """Sample `index` of `category`: the object, its poses, one random view, the renders."""
    rng = sample_rng(config, category, index)
    object_seed = int(rng.integers(2**31))
    obj = generate(category, object_seed)
    configurations = {"rest": {}, "moved": coupled(obj, moved_configuration(obj))}
    observed = observed_configuration(obj, object_seed)
    if config.observed_pose:
        configurations["observed"] = observed
    for k in range(config.random_poses):
        configurations[f"random_{k}"] = coupled(obj, random_configuration(obj, rng))
    geometry = scene_geometry(obj)
    bounds = _bounds(geometry, obj, configurations.values())
    view = sample_view(rng, ViewRanges())
    camera = view.camera(bounds, config.size, config.size)
    lighting = sample_lighting(rng, camera)
    background = sample_background(rng, config.backgrounds)
    if config.backend == "cycles":
        from spark_blender.synth.render_cycles import View, render_cycles

        views = render_cycles(
            obj,
            [View(c, camera, lighting, background) for c in configurations.values()],
            samples=config.cycles_samples,
        )
    else:
        views = [
            render(obj, camera, c, lighting, background, geometry) for c in configurations.values()
        ]
    meta = {
        "key": f"{category}_{index:06d}",
        "object_seed": object_seed,
        **object_record(obj),
        "poses": {name: dict(c) for name, c in configurations.items()},
        "observed_configuration": dict(observed),
        "camera": view.record(camera),
        "lighting": lighting.to_json(),
        "background": background.to_json(),
        "backend": config.backend,
    }
    return Sample(meta["key"], views, meta), obj


def _extras(sample: Sample) -> dict[str, bytes]:
    """The evaluation-case files beside a sample's URDF: the render of the pose the "photo"
    shows (the observed pose when the dataset renders one, else rest) and camera.json with that
    pose as its ``observed_configuration``, as `reconstruct` writes it."""
    from PIL import Image

    names = list(sample.meta["poses"])
    shown = "observed" if "observed" in names else "rest"
    buffer = io.BytesIO()
    Image.fromarray(sample.views[names.index(shown)].rgba).save(buffer, format="PNG")
    record = {**sample.meta["camera"], "observed_configuration": sample.meta["poses"][shown]}
    camera = json.dumps(record, indent=1) + "\n"
    return {"camera.json": camera.encode(), "preview.png": buffer.getvalue()}


def _bounds(geometry, obj, configurations) -> np.ndarray:
    from spark_blender.synth.render_fast import posed_triangles

    pts = np.concatenate([posed_triangles(geometry, obj, c).reshape(-1, 3) for c in configurations])
    return np.stack([pts.min(0), pts.max(0)])


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_shard(path: Path, samples: Sequence[Sample]) -> str:
    """Write one shard zip; returns its sha256."""
    arrays = {
        "rgba": np.stack([np.stack([v.rgba for v in s.views]) for s in samples]),
        "mask": np.stack([np.stack([v.mask for v in s.views]) for s in samples]),
        "depth": np.stack([np.stack([v.depth for v in s.views]) for s in samples]).astype(
            np.float16
        ),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _npy_bytes(array), compresslevel=1)
        info = zipfile.ZipInfo("meta.json", _ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, json.dumps([s.meta for s in samples], indent=None), compresslevel=6)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_dataset(
    config: SynthConfig,
    out: str | Path,
    overwrite: bool = False,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> Path:
    """Generate, render and write the dataset of `config` into `out`; returns the manifest."""
    problems = config.problems()
    if problems:
        raise ValueError("; ".join(problems))
    out = Path(out)
    order = [(c, i) for c in config.categories for i in range(config.n)]
    shards, pending = [], []
    with staged_folder(out, overwrite) as stage:
        for done, (category, index) in enumerate(order):
            sample, obj = make_sample(config, category, index)
            if config.write_urdf:
                write_urdf(
                    obj, stage / "urdf" / sample.key, WriteOptions(extra_files=_extras(sample))
                )
            pending.append(sample)
            if len(pending) == config.shard_size or done == len(order) - 1:
                name = f"shard_{len(shards):05d}.zip"
                digest = write_shard(stage / name, pending)
                shards.append({"file": name, "samples": len(pending), "sha256": digest,
                               "keys": [s.key for s in pending]})  # fmt: skip
                pending = []
            if progress is not None:
                progress(ProgressEvent("synth", (done + 1) / len(order), sample.key))
        manifest = {
            "format": FORMAT,
            "config": {**asdict(config), "categories": list(config.categories)},
            "poses": config.poses,
            "image_size": [config.size, config.size],
            "samples": len(order),
            "per_category": {c: config.n for c in config.categories},
            "shards": shards,
        }
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return out / "manifest.json"


class SynthDataset:
    """Random access to a written dataset: ``ds[i]`` -> dict of numpy arrays and metadata.

    Works as a PyTorch ``Dataset`` (``__len__``/``__getitem__``) without importing torch.
    ``rgba`` (P, H, W, 4) uint8, ``mask`` (P, H, W) uint8, ``depth`` (P, H, W) float32,
    ``meta`` the sample's record; P follows ``poses``.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        manifest_path = self.root / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"'{self.root}' holds no manifest.json: not a synth dataset")
        self.manifest = json.loads(manifest_path.read_text())
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"'{manifest_path}' has format {self.manifest.get('format')!r}, "
                             f"expected {FORMAT!r}")  # fmt: skip
        self.poses: list[str] = self.manifest["poses"]
        self._index = [
            (s, j)
            for s, shard in enumerate(self.manifest["shards"])
            for j in range(shard["samples"])
        ]
        self._cached: tuple[int, dict] | None = None

    def __len__(self) -> int:
        return len(self._index)

    def _shard(self, number: int) -> dict:
        if self._cached is None or self._cached[0] != number:
            path = self.root / self.manifest["shards"][number]["file"]
            with zipfile.ZipFile(path) as archive:
                data = {
                    name: np.load(io.BytesIO(archive.read(f"{name}.npy")), allow_pickle=False)
                    for name in ("rgba", "mask", "depth")
                }
                data["meta"] = json.loads(archive.read("meta.json"))
            self._cached = (number, data)
        return self._cached[1]

    def __getitem__(self, i: int) -> dict:
        if not -len(self) <= i < len(self):
            raise IndexError(f"sample {i} out of range for {len(self)} samples")
        shard, j = self._index[i]
        data = self._shard(shard)
        return {
            "rgba": data["rgba"][j],
            "mask": data["mask"][j],
            "depth": data["depth"][j].astype(np.float32),
            "meta": data["meta"][j],
        }

    def verify(self) -> list[str]:
        """Shards whose bytes no longer match the manifest's sha256."""
        bad = []
        for shard in self.manifest["shards"]:
            digest = hashlib.sha256((self.root / shard["file"]).read_bytes()).hexdigest()
            if digest != shard["sha256"]:
                bad.append(shard["file"])
        return bad
