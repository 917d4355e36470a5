"""A prediction as the metrics see it: an output folder holding one URDF (ARCHITECTURE.md).

The predicted mesh is every visual mesh of the URDF at rest, merged; the predicted joints are
its movable joints, read through the core forward kinematics at rest, in the canonical frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trimesh

from spark_blender.core.kinematics import joint_frames, posed_mesh
from spark_blender.core.model import ArticulatedObject
from spark_blender.evaluation.cases import moved_value
from spark_blender.evaluation.joints import JointSpec


class PredictionError(ValueError):
    """An output folder cannot be scored; the message names the folder and the problem."""


@dataclass
class Prediction:
    urdf: Path
    model: ArticulatedObject

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
        """Rest: every joint 0; moved: EVAL.md's moved state (75% towards the far limit)."""
        if state == "rest":
            return self.model.rest_configuration()
        return {j.name: moved_value(*j.limits, j.type) for j in self.model.movable_joints}

    def joints(self) -> list[JointSpec]:
        frames = joint_frames(self.model, self.model.rest_configuration())
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
    return Prediction(urdf=urdf, model=model)
