"""Stage 4: refine joints by matching silhouettes, with gradients, in plain torch.

- ``raster``: the soft silhouette renderer (Blender's camera, scanline pair listing) and the
  batched hard silhouettes that screen hypotheses.
- ``kinematics``: torch forward kinematics, equal to the core's numpy definition.
- ``optimize``: ``refine_joints`` (pivots, axis signs, moved-state values, limits, camera, a
  confidence per joint) by screening, batched multi-start and coarse-to-fine refinement.
- ``masks``: object masks from RGBA alpha or a plain background.
- ``simplify``: vertex-clustering simplification to a screen-space error.
- ``adam``: Adam on plain tensors (``torch.optim`` costs seconds to import).
"""

from spark_blender.refinement.optimize import (
    JointEstimate,
    RefineOptions,
    RefineResult,
    Targets,
    refine_joints,
)

__all__ = ["JointEstimate", "RefineOptions", "RefineResult", "Targets", "refine_joints"]
