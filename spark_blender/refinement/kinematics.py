"""Forward kinematics in torch, mirroring ``spark_blender.core.kinematics`` (the definition).

Same semantics as the core: a joint's origin places the joint frame in the parent link's frame;
the child link's frame is the joint frame rotated about the unit axis by the joint value
(revolute, continuous) or translated along it (prismatic). Here every quantity may be a tensor
that requires grad: joint values, joint origins (pivots) and axis directions (normalised inside,
so an unnormalised direction parameter works and a unit axis is left as it is).
Tested to equal the numpy FK and Blender's pose-bone matrices to 1e-6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from spark_blender.core.model import ArticulatedObject

ROTATING = ("revolute", "continuous")


def skew(v: torch.Tensor) -> torch.Tensor:
    """(3, 3) cross-product matrix of a 3-vector."""
    zero = torch.zeros((), dtype=v.dtype, device=v.device)
    return torch.stack(
        [
            torch.stack([zero, -v[2], v[1]]),
            torch.stack([v[2], zero, -v[0]]),
            torch.stack([-v[1], v[0], zero]),
        ]
    )


def axis_angle_matrix(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """(3, 3) rotation by `angle` about the unit `axis` (Rodrigues, as the core's)."""
    K = skew(axis)
    eye = torch.eye(3, dtype=axis.dtype, device=axis.device)
    return eye + torch.sin(angle) * K + (1.0 - torch.cos(angle)) * (K @ K)


def rotation_vector_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """(3, 3) rotation of a rotation vector; smooth at zero (for small pose corrections)."""
    theta2 = (rotvec * rotvec).sum()
    K = skew(rotvec)
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device)
    if (
        float(theta2.detach()) < 1e-12
    ):  # Taylor terms: sin(t)/t ~ 1 - t^2/6, (1-cos t)/t^2 ~ 1/2 - t^2/24
        return eye + (1.0 - theta2 / 6.0) * K + (0.5 - theta2 / 24.0) * (K @ K)
    theta = torch.sqrt(theta2)
    return eye + (torch.sin(theta) / theta) * K + ((1.0 - torch.cos(theta)) / theta2) * (K @ K)


def joint_motion(joint_type: str, axis: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """(4, 4) motion of the child relative to the joint frame (axis normalised here)."""
    unit = axis / torch.linalg.norm(axis)
    motion = torch.eye(4, dtype=axis.dtype, device=axis.device)
    if joint_type in ROTATING:
        motion = motion.clone()
        rotation = axis_angle_matrix(unit, value)
        return torch.cat(
            [torch.cat([rotation, motion[:3, 3:]], dim=1), motion[3:]],
            dim=0,
        )
    if joint_type == "prismatic":
        return torch.cat(
            [torch.cat([motion[:3, :3], (unit * value).unsqueeze(1)], dim=1), motion[3:]],
            dim=0,
        )
    return motion


def rigid_inverse(T: torch.Tensor) -> torch.Tensor:
    R, t = T[:3, :3], T[:3, 3:]
    top = torch.cat([R.transpose(0, 1), -R.transpose(0, 1) @ t], dim=1)
    return torch.cat([top, T[3:]], dim=0)


@dataclass
class KinematicTree:
    """The joint tree of an articulated object, with its origins and axes as tensors.

    ``origins`` (J, 4, 4) and ``axes`` (J, 3) start as the object's; pass replacements (tensors
    that require grad) to ``link_poses`` to differentiate through them.
    """

    root: str
    joint_names: list[str]
    joint_types: list[str]
    parents: list[str]
    children: list[str]
    origins: torch.Tensor
    axes: torch.Tensor

    @classmethod
    def from_object(
        cls,
        obj: ArticulatedObject,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
    ) -> KinematicTree:
        joints = list(obj.joints_from_root())  # parents before children
        return cls(
            root=obj.root.name,
            joint_names=[j.name for j in joints],
            joint_types=[j.type for j in joints],
            parents=[j.parent for j in joints],
            children=[j.child for j in joints],
            origins=torch.tensor(
                np.stack([j.origin for j in joints]) if joints else np.zeros((0, 4, 4)),
                dtype=dtype,
                device=device,
            ),
            axes=torch.tensor(
                np.stack([j.axis for j in joints]) if joints else np.zeros((0, 3)),
                dtype=dtype,
                device=device,
            ),
        )

    def index(self, joint_name: str) -> int:
        return self.joint_names.index(joint_name)

    def values_tensor(self, configuration: Mapping[str, float] | None = None) -> torch.Tensor:
        """(J,) joint values in tree order from a {joint: value} mapping (missing -> 0)."""
        configuration = configuration or {}
        unknown = set(configuration) - set(self.joint_names)
        if unknown:
            raise KeyError(f"configuration names unknown joints: {', '.join(sorted(unknown))}")
        return torch.tensor(
            [float(configuration.get(name, 0.0)) for name in self.joint_names],
            dtype=self.origins.dtype,
            device=self.origins.device,
        )

    def link_poses(
        self,
        values: torch.Tensor | None = None,
        origins: torch.Tensor | None = None,
        axes: torch.Tensor | None = None,
        base_pose: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """World pose (4, 4) of every link, as the core's ``link_poses``; differentiable."""
        origins = self.origins if origins is None else origins
        axes = self.axes if axes is None else axes
        if values is None:
            values = torch.zeros(len(self.joint_names), dtype=origins.dtype, device=origins.device)
        eye = torch.eye(4, dtype=origins.dtype, device=origins.device)
        poses = {self.root: eye if base_pose is None else base_pose}
        for k, joint_type in enumerate(self.joint_types):
            motion = joint_motion(joint_type, axes[k], values[k])
            poses[self.children[k]] = poses[self.parents[k]] @ origins[k] @ motion
        return poses

    def joint_frames(
        self,
        values: torch.Tensor | None = None,
        origins: torch.Tensor | None = None,
        axes: torch.Tensor | None = None,
    ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """World pivot and unit axis of every joint, as the core's ``joint_frames``."""
        origins = self.origins if origins is None else origins
        axes = self.axes if axes is None else axes
        poses = self.link_poses(values, origins, axes)
        frames = {}
        for k, name in enumerate(self.joint_names):
            frame = poses[self.parents[k]] @ origins[k]
            unit = axes[k] / torch.linalg.norm(axes[k])
            frames[name] = (frame[:3, 3], frame[:3, :3] @ unit)
        return frames
