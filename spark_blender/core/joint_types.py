"""The joint-type vocabulary (URDF's names), in a module of its own so that light stages
(perception's schema) can import it without loading trimesh through ``core.model``."""

from __future__ import annotations

from typing import Literal

JointType = Literal["fixed", "revolute", "prismatic", "continuous"]
# The order is load-bearing: generation.tokens numbers its joint-type tokens by it (shipped
# weights).
JOINT_TYPES: tuple[str, ...] = ("fixed", "revolute", "prismatic", "continuous")
MOVABLE_TYPES: tuple[str, ...] = ("revolute", "prismatic", "continuous")
