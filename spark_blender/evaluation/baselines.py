"""Oracle baselines written as ordinary output folders, so they are scored like any system.

- `bbox`: a solid box with the ground truth's exact bounding box and no joints (EVAL.md's
  calibration: F@0.1 0.608, F@0.5 0.967, Chamfer 0.244 over the 32 dev cases).
- `cube`: a unit cube, no joints (0.140 / 0.656 / 0.778): what knowing nothing scores.
- `gt`: the ground truth itself, its merged rest mesh on the base and every GT joint on an empty
  child link: the upper bound (F = 1, zero joint errors), a check of the scoring itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from spark_blender.core.model import ArticulatedObject, Joint, Link, Visual
from spark_blender.core.transforms import translation
from spark_blender.core.urdf import WriteOptions, write_urdf
from spark_blender.evaluation.cases import Case

BASELINES = ("bbox", "cube", "gt")


def baseline_model(name: str, case: Case) -> ArticulatedObject:
    if name == "bbox":
        return _box_object(case, trimesh.creation.box(bounds=case.mesh("rest").bounds))
    if name == "cube":
        cube = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
        cube.apply_translation((0.0, 0.0, 0.5))  # canonical origin: bottom centre
        return _box_object(case, cube)
    if name == "gt":
        return ground_truth_model(case)
    raise ValueError(f"unknown baseline '{name}' (choose from {', '.join(BASELINES)})")


def write_baseline(name: str, case: Case, out_dir: Path) -> Path:
    """Write baseline `name` for `case` as an output folder; returns the URDF path."""
    return write_urdf(baseline_model(name, case), out_dir, WriteOptions(overwrite=True))


def ground_truth_model(case: Case) -> ArticulatedObject:
    """The GT as a prediction: rest mesh on `base`, each GT joint moving an empty link."""
    links = [Link("base", visuals=[Visual(case.mesh("rest"), name="ground_truth")], label="base")]
    joints = []
    for index, spec in enumerate(case.joints):
        child = f"part_{index}"
        links.append(Link(child, label=spec.name or child))
        joints.append(
            Joint(
                name=spec.name or f"joint_{index}",
                type=spec.type,
                parent="base",
                child=child,
                origin=translation(spec.pivot),
                axis=np.asarray(spec.axis, dtype=float),
                lower=spec.lower if spec.type != "continuous" else 0.0,
                upper=spec.upper if spec.type != "continuous" else 0.0,
            )
        )
    return ArticulatedObject(case.name, links, joints, case.category)


def _box_object(case: Case, box: trimesh.Trimesh) -> ArticulatedObject:
    base = Link("base", visuals=[Visual(box, name="box")], label="base")
    return ArticulatedObject(case.name, [base], [], case.category)
