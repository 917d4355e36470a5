"""A prediction as the metrics see it: an output folder holding one URDF (ARCHITECTURE.md).

The predicted mesh is every visual mesh of the URDF, merged, posed as the photo shows it: at
the ``observed_configuration`` of the folder's ``camera.json`` (omitted joints and folders
without one at 0; EVAL.md); the predicted joints are its movable joints, read through the core
forward kinematics in the same pose, in the canonical frame.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import trimesh

from spark_blender.core.kinematics import joint_frames, moved_configuration, posed_mesh
from spark_blender.core.model import ArticulatedObject
from spark_blender.evaluation.joints import JointSpec


class PredictionError(ValueError):
    """An output folder cannot be scored; the message names the folder and the problem."""


@dataclass
class Prediction:
    urdf: Path
    model: ArticulatedObject
    observed: dict[str, float] = field(default_factory=dict)  # camera.json's pose of the photo

    def mesh(self, state: str = "rest") -> trimesh.Trimesh:
        return posed_mesh(self.model, self.configuration(state))

    def link_meshes(self, state: str = "rest") -> list[trimesh.Trimesh]:
        """One merged mesh per link (for renders that colour parts apart)."""
        configuration = self.configuration(state)
        meshes = [
            posed_mesh(self.model, configuration, links=[link.name]) for link in self.model.links
        ]
        return [m for m in meshes if len(m.faces)]

    def configuration(self, state: str) -> dict[str, float]:
        """Rest: every joint 0; observed: the pose the photo shows (camera.json's
        ``observed_configuration``, omitted joints at 0); moved: EVAL.md's moved state (75%
        towards the far limit)."""
        if state == "rest":
            return self.model.rest_configuration()
        if state == "observed":
            return {**self.model.rest_configuration(), **self.observed}
        return moved_configuration(self.model)

    def joints(self, state: str = "rest") -> list[JointSpec]:
        frames = joint_frames(self.model, self.configuration(state))
        return [
            JointSpec(j.type, frames[j.name][0], frames[j.name][1], *j.limits, name=j.name)
            for j in self.model.movable_joints
        ]


def find_urdf(folder: Path) -> Path:
    """The one URDF of an output folder."""
    if not folder.is_dir():
        raise PredictionError(f"{folder}: no output folder")
    urdfs = sorted(folder.glob("*.urdf"))
    if len(urdfs) != 1:
        found = ", ".join(p.name for p in urdfs) or "none"
        raise PredictionError(f"{folder}: expected one .urdf file, found {found}")
    return urdfs[0]


def load_prediction(folder: Path) -> Prediction:
    """Read an output folder (raises PredictionError or the core's URDFError)."""
    from spark_blender.core.urdf import read_urdf

    urdf = find_urdf(Path(folder))
    model = read_urdf(urdf)
    if not any(link.visuals for link in model.links):
        raise PredictionError(f"{urdf}: has no visual geometry")
    return Prediction(urdf=urdf, model=model, observed=read_observed(urdf.parent, model))


def read_observed(folder: Path, model: ArticulatedObject) -> dict[str, float]:
    """camera.json's ``observed_configuration`` (movable joints of `model` only); {} without."""
    path = folder / "camera.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PredictionError(f"{path}: not readable JSON ({exc})") from None
    values = data.get("observed_configuration") if isinstance(data, dict) else None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise PredictionError(f"{path}: observed_configuration is not an object")
    movable = {j.name for j in model.movable_joints}
    observed = {}
    for name, value in values.items():
        if name not in movable:
            raise PredictionError(f"{path}: observed_configuration names '{name}', "
                                  "which is not a movable joint")  # fmt: skip
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise PredictionError(f"{path}: observed value of '{name}' is not a finite number")
        observed[name] = float(value)
    return observed
