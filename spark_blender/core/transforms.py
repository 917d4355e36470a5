"""Rigid transforms as 4x4 numpy matrices, and URDF's xyz/rpy origins.

URDF's rpy is fixed-axis roll (X), pitch (Y), yaw (Z): R = Rz(yaw) @ Ry(pitch) @ Rx(roll).
"""

from __future__ import annotations

import numpy as np

Matrix = np.ndarray  # (4, 4) float64 homogeneous transform


def identity() -> Matrix:
    return np.eye(4)


def rpy_to_matrix(rpy) -> np.ndarray:
    """3x3 rotation of URDF's fixed-axis roll, pitch, yaw."""
    r, p, y = (float(v) for v in rpy)
    cr, sr, cp, sp, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def matrix_to_rpy(rotation: np.ndarray) -> np.ndarray:
    """Roll, pitch, yaw of a 3x3 rotation (the inverse of rpy_to_matrix)."""
    R = np.asarray(rotation, dtype=float)
    sp = -R[2, 0]
    if abs(sp) < 1.0 - 1e-12:
        pitch = np.arcsin(np.clip(sp, -1.0, 1.0))
        roll = np.arctan2(R[2, 1], R[2, 2])
        yaw = np.arctan2(R[1, 0], R[0, 0])
    else:  # gimbal lock: put the whole remaining turn into roll
        pitch = np.pi / 2 if sp > 0 else -np.pi / 2
        yaw = 0.0
        roll = np.arctan2(R[0, 1], R[1, 1]) if sp > 0 else np.arctan2(-R[0, 1], R[1, 1])
    return np.array([roll, pitch, yaw])


def make_transform(xyz=(0.0, 0.0, 0.0), rpy=(0.0, 0.0, 0.0)) -> Matrix:
    T = np.eye(4)
    T[:3, :3] = rpy_to_matrix(rpy)
    T[:3, 3] = np.asarray(xyz, dtype=float)
    return T


def translation(xyz) -> Matrix:
    T = np.eye(4)
    T[:3, 3] = np.asarray(xyz, dtype=float)
    return T


def axis_angle_matrix(axis, angle: float) -> np.ndarray:
    """3x3 rotation by `angle` about the unit vector `axis` (Rodrigues)."""
    a = np.asarray(axis, dtype=float)
    K = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) + np.sin(angle) * K + (1.0 - np.cos(angle)) * (K @ K)


def invert(T: Matrix) -> Matrix:
    Ti = np.eye(4)
    R = T[:3, :3]
    Ti[:3, :3] = R.T
    Ti[:3, 3] = -R.T @ T[:3, 3]
    return Ti


def is_rigid(T: np.ndarray, tol: float = 1e-6) -> bool:
    """True for a finite 4x4 proper rigid transform."""
    T = np.asarray(T, dtype=float)
    if T.shape != (4, 4) or not np.all(np.isfinite(T)):
        return False
    R = T[:3, :3]
    return (
        np.allclose(R.T @ R, np.eye(3), atol=tol)
        and abs(np.linalg.det(R) - 1.0) < tol
        and np.allclose(T[3], [0.0, 0.0, 0.0, 1.0], atol=tol)
    )


def transform_points(T: Matrix, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=float)
    return points @ T[:3, :3].T + T[:3, 3]


def look_at_pose(eye, target, up=(0.0, 0.0, 1.0)) -> Matrix:
    """Blender-convention camera pose (looks along local -Z, local +Y up) at `eye` looking at
    `target`; a view straight along `up` takes world +X as its right."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(up, float))
    if np.linalg.norm(right) < 1e-9:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = right, np.cross(right, forward), -forward
    pose[:3, 3] = eye
    return pose
