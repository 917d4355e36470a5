"""Torch forward kinematics mirrors the core's numpy FK and Blender's pose bones (1e-6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spark_blender.core.kinematics import joint_frames, link_poses, random_configuration
from spark_blender.core.model import ArticulatedObject, Joint, Link
from spark_blender.core.transforms import make_transform
from spark_blender.examples import example_cabinet
from spark_blender.refinement.kinematics import KinematicTree
from tests.refinement.boxes import LAYOUTS, box_object


def random_chain(rng: np.random.Generator, length: int = 5) -> ArticulatedObject:
    """A branching tree of mixed joints with random origins and random unit axes."""
    links, joints = [Link("base")], []
    for k in range(length):
        parent = links[int(rng.integers(0, len(links)))].name
        axis = rng.normal(size=3)
        joints.append(
            Joint(
                f"j{k}",
                ["revolute", "prismatic", "continuous", "fixed"][k % 4],
                parent,
                f"l{k}",
                origin=make_transform(rng.uniform(-0.5, 0.5, 3), rng.uniform(-np.pi, np.pi, 3)),
                axis=axis / np.linalg.norm(axis),
                lower=-1.5,
                upper=1.5,
            )
        )
        links.append(Link(f"l{k}"))
    return ArticulatedObject("chain", links, joints)


def objects() -> list[ArticulatedObject]:
    rng = np.random.default_rng(7)
    return [
        example_cabinet(),
        *(box_object(layout, rng) for layout in LAYOUTS),
        *(random_chain(rng) for _ in range(4)),
    ]


def torch_poses(obj, configuration) -> dict[str, np.ndarray]:
    tree = KinematicTree.from_object(obj)
    poses = tree.link_poses(tree.values_tensor(configuration))
    return {name: pose.numpy() for name, pose in poses.items()}


def test_torch_fk_equals_numpy_fk_at_random_configurations():
    rng = np.random.default_rng(0)
    for obj in objects():
        for _ in range(10):
            configuration = random_configuration(obj, rng)
            expected = link_poses(obj, configuration)
            got = torch_poses(obj, configuration)
            assert set(got) == set(expected)
            for name, pose in expected.items():
                np.testing.assert_allclose(got[name], pose, atol=1e-12, err_msg=name)


def test_torch_joint_frames_equal_numpy_joint_frames():
    rng = np.random.default_rng(1)
    obj = random_chain(rng, 6)
    configuration = random_configuration(obj, rng)
    tree = KinematicTree.from_object(obj)
    frames = tree.joint_frames(tree.values_tensor(configuration))
    for name, (pivot, axis) in joint_frames(obj, configuration).items():
        np.testing.assert_allclose(frames[name][0].numpy(), pivot, atol=1e-12)
        np.testing.assert_allclose(frames[name][1].numpy(), axis, atol=1e-12)


def test_fk_is_differentiable_in_values_pivots_and_axis_directions():
    obj = random_chain(np.random.default_rng(2), 4)
    tree = KinematicTree.from_object(obj)
    values = torch.tensor([0.3, 0.2, -0.7, 0.0], dtype=torch.float64, requires_grad=True)
    origins = tree.origins.clone().requires_grad_(True)
    axes = (tree.axes * 1.3).requires_grad_(True)  # unnormalised: normalised inside

    def tips(values, origins, axes):
        poses = tree.link_poses(values, origins, axes)
        return torch.stack([poses[name][:3, :] for name in tree.children])

    assert torch.autograd.gradcheck(tips, (values, origins, axes), eps=1e-6, atol=1e-7)


def test_unknown_joint_names_are_refused():
    tree = KinematicTree.from_object(example_cabinet())
    with pytest.raises(KeyError, match="nope"):
        tree.values_tensor({"nope": 1.0})


def test_blender_armature_equals_numpy_and_torch_fk():
    """The mirror through the extension's real armature (spark_blender.blender.scene)."""
    bpy = pytest.importorskip("bpy", reason="the mirror test needs the bpy module")
    import spark_blender
    from spark_blender.blender import scene as blender_scene

    rng = np.random.default_rng(3)
    # tests/blender may hold SPARK registered for its whole session: leave it as found.
    already = hasattr(bpy.types.PoseBone, "spark_joint")
    if not already:
        spark_blender.register()
    try:
        for obj in [example_cabinet(), box_object("double_door", rng), random_chain(rng, 4)]:
            bpy.ops.wm.read_homefile(app_template="")
            built = blender_scene.build_object(obj)
            for _ in range(3):
                configuration = random_configuration(obj, rng)
                blender_scene.set_configuration(built.armature, configuration)
                bpy.context.view_layer.update()
                numpy_poses = link_poses(obj, configuration)
                mirrored = torch_poses(obj, configuration)
                for name, link_object in built.links.items():
                    in_blender = blender_scene.to_numpy(link_object.matrix_world)
                    np.testing.assert_allclose(in_blender, numpy_poses[name], atol=1e-6)
                    np.testing.assert_allclose(mirrored[name], in_blender, atol=1e-6)
    finally:
        bpy.ops.wm.read_homefile(app_template="")
        if not already:
            spark_blender.unregister()
