"""Evaluation cases: the folders of EVAL.md (`gt.json`, `camera.json`, GT meshes, renders).

A case folder holds `rest.png` (the input), `moved.png`, `camera.json`, `gt.json`,
`gt_rest.npz` and `gt_moved.npz`; everything is in the canonical frame of ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from spark_blender.core.camera import Camera
from spark_blender.evaluation.joints import JointSpec, joint_kind

CASE_FILES = ("gt.json", "gt_rest.npz")  # the least a folder needs to be scored as a case


class CaseError(ValueError):
    """A case folder is missing a file or holds a malformed one; the message names it."""


@dataclass
class Case:
    name: str
    folder: Path
    category: str
    joints: list[JointSpec]  # movable GT joints, canonical frame
    camera: Camera | None

    @property
    def rest_image(self) -> Path:
        return self.folder / "rest.png"

    @property
    def moved_image(self) -> Path:
        return self.folder / "moved.png"

    def mesh(self, state: str = "rest") -> trimesh.Trimesh:
        """The merged GT mesh at `rest` or `moved`."""
        return load_npz_mesh(self.folder / f"gt_{state}.npz")


def list_cases(cases_dir: str | Path, limit: int | None = None) -> list[Path]:
    """Case folders under `cases_dir` (sorted by name), the first `limit` of them."""
    cases_dir = Path(cases_dir)
    if not cases_dir.is_dir():
        raise CaseError(f"{cases_dir}: not a folder of evaluation cases")
    folders = sorted(p for p in cases_dir.iterdir() if p.is_dir() and (p / "gt.json").is_file())
    if not folders:
        raise CaseError(f"{cases_dir}: holds no case folders (sub-folders with a gt.json)")
    return folders[:limit] if limit is not None else folders


def load_case(folder: str | Path) -> Case:
    folder = Path(folder)
    for name in CASE_FILES:
        if not (folder / name).is_file():
            raise CaseError(f"{folder}: case has no {name}")
    try:
        gt = json.loads((folder / "gt.json").read_text())
        joints = [_gt_joint(j) for j in gt.get("joints", [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise CaseError(f"{folder / 'gt.json'}: malformed ({exc})") from exc
    camera = None
    if (folder / "camera.json").is_file():
        try:
            camera = Camera.from_dict(json.loads((folder / "camera.json").read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise CaseError(f"{folder / 'camera.json'}: malformed ({exc})") from exc
    return Case(
        name=folder.name,
        folder=folder,
        category=str(gt.get("category") or "unknown"),
        joints=[j for j in joints if j is not None],
        camera=camera,
    )


def _gt_joint(data: dict) -> JointSpec | None:
    kind = joint_kind(data["type"])
    if kind is None:  # fixed joints are not scored
        return None
    lower = data.get("lower")
    upper = data.get("upper")
    return JointSpec(
        type=data["type"],
        pivot=np.asarray(data["pivot"], dtype=float),
        axis=np.asarray(data["axis"], dtype=float),
        lower=-math.pi if lower is None else float(lower),
        upper=math.pi if upper is None else float(upper),
        name=str(data.get("name", "")),
    )


def load_npz_mesh(path: Path) -> trimesh.Trimesh:
    if not path.is_file():
        raise CaseError(f"{path}: file not found")
    try:
        with np.load(path) as data:
            vertices = np.asarray(data["vertices"], dtype=float)
            faces = np.asarray(data["faces"], dtype=np.int64)
    except (ValueError, KeyError, OSError) as exc:
        raise CaseError(f"{path}: not a mesh archive with 'vertices' and 'faces' ({exc})") from exc
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise CaseError(f"{path}: has no triangles")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise CaseError(f"{path}: faces index past the {len(vertices)} vertices")
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


def save_npz_mesh(path: Path, mesh: trimesh.Trimesh) -> None:
    np.savez_compressed(
        path,
        vertices=np.asarray(mesh.vertices, dtype=np.float32),
        faces=np.asarray(mesh.faces, dtype=np.int32),
    )
