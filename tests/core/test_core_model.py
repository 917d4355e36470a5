"""The model's rules: validate() reports every problem at once, by name."""

import numpy as np
import pytest
import trimesh

from spark_blender.core.model import ArticulatedObject, Inertial, Joint, Link, ModelError, Visual
from spark_blender.core.urdf import WriteOptions, prepare_for_export


def _valid(example_cabinet) -> ArticulatedObject:
    return prepare_for_export(example_cabinet, WriteOptions())


def test_example_with_computed_inertials_is_valid(example_cabinet):
    assert _valid(example_cabinet).validate() == []


def test_moving_links_need_an_inertial(example_cabinet):
    problems = example_cabinet.validate()
    assert "moving link 'door' has no inertial" in problems
    assert "moving link 'drawer' has no inertial" in problems


def test_every_problem_is_reported_at_once(example_cabinet):
    obj = _valid(example_cabinet)
    obj.joint("door_hinge").axis = np.array([0.0, 0.0, 2.0])
    obj.joint("drawer_slide").lower, obj.joint("drawer_slide").upper = 0.5, 0.1
    obj.links.append(Link("door"))
    problems = obj.validate()
    assert any("axis of length 2" in p for p in problems)
    assert any("lower limit 0.5 above upper limit 0.1" in p for p in problems)
    assert any("link name 'door' is used twice" in p for p in problems)
    with pytest.raises(ModelError) as error:
        obj.assert_valid()
    assert len(error.value.problems) == len(problems) >= 3


def test_two_roots_and_orphans_are_reported(example_cabinet):
    obj = _valid(example_cabinet)
    obj.links.append(Link("floating_part"))
    assert any("2 root links" in p for p in obj.validate())


def test_cycles_are_reported():
    a, b, c = Link("a"), Link("b"), Link("c")
    joints = [
        Joint("ab", "fixed", "a", "b"),
        Joint("bc", "fixed", "b", "c"),
        Joint("cb", "fixed", "c", "b"),
    ]
    problems = ArticulatedObject("loop", [a, b, c], joints).validate()
    assert any("child of 2 joints" in p for p in problems)
    assert any("cycle" in p for p in problems)


def test_rest_value_must_lie_within_limits(example_cabinet):
    obj = _valid(example_cabinet)
    obj.joint("drawer_slide").lower = 0.1
    assert any("do not contain the rest value 0" in p for p in obj.validate())
    assert obj.validate(require_rest_in_limits=False) == []


def test_zero_mass_and_bad_inertia_are_reported(example_cabinet):
    obj = _valid(example_cabinet)
    obj.link("door").inertial = Inertial(mass=0.0, inertia=np.eye(3))
    obj.link("drawer").inertial = Inertial(mass=1.0, inertia=np.diag([1.0, 1.0, 5.0]))
    problems = obj.validate()
    assert "link 'door' has non-positive mass 0.0" in problems
    assert "link 'drawer' has principal moments breaking the triangle rule" in problems


def test_empty_meshes_are_reported(example_cabinet):
    obj = _valid(example_cabinet)
    empty = trimesh.Trimesh(vertices=np.zeros((0, 3)), faces=np.zeros((0, 3), dtype=int))
    obj.link("door").visuals.append(Visual(mesh=empty, name="ghost"))
    assert "link 'door' visual 'ghost' has an empty mesh" in obj.validate()


def test_joint_to_missing_link_is_reported(example_cabinet):
    obj = _valid(example_cabinet)
    obj.joint("door_hinge").parent = "frame"
    assert "joint 'door_hinge' has parent 'frame' which is not a link" in obj.validate()
