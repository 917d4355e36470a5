"""Evaluation: EVAL.md's metrics and the benchmark runner behind `spark-articulate eval`.

- `geometry`: normalisation, area-weighted sampling, Chamfer distance and F-scores (+ yaw).
- `joints`: Hungarian matching of movable joints; axis, pivot, type and part-count errors.
- `cases` / `prediction`: reading case folders and output folders.
- `baselines`: oracle predictions (bbox, cube, gt) written as ordinary output folders.
- `runner`: the resumable, failure-tolerant loop; `report`: summary.md, report.html, plots.
"""

from spark_blender.evaluation.geometry import GeometryScores, geometry_scores
from spark_blender.evaluation.joints import JointScores, JointSpec, joint_scores
from spark_blender.evaluation.runner import EvalError, EvalOptions, EvalRun, run_evaluation

__all__ = [
    "EvalError",
    "EvalOptions",
    "EvalRun",
    "GeometryScores",
    "JointScores",
    "JointSpec",
    "geometry_scores",
    "joint_scores",
    "run_evaluation",
]
