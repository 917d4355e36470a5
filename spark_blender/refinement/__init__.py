"""Stage 4: refine joints by matching silhouettes, with gradients, in plain torch.

- ``raster``: the soft silhouette renderer (Blender's camera, culling by face bounding boxes).
- ``kinematics``: torch forward kinematics, equal to the core's numpy definition.
- ``optimize``: ``refine_joints`` (pivots, moved-state values, limits, camera) with multi-start.
- ``masks``: object masks from RGBA alpha or a plain background.
- ``boxes``: box-built articulated objects with known joints, for recovery experiments.
"""
