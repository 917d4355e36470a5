"""Household categories (synth.household): each category's joints, chains and variety."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spark_blender.core.kinematics import posed_mesh
from spark_blender.synth import CATEGORIES, generate
from spark_blender.synth.household import AXIAL_TILT

HOUSEHOLD = (
    "Cart", "Chair", "Clock", "Dispenser", "Display", "Fan", "FoldingChair", "Globe", "Keyboard",
    "Lamp", "Printer",
)  # fmt: skip
SEEDS = range(12)


def _objects(category, seeds=SEEDS):
    return [generate(category, s) for s in seeds]


def _by_label(obj, label):
    return [j for j in obj.movable_joints if obj.link(j.child).label == label]


def _axis(joint):
    return np.asarray(joint.axis, float)


def _parallel(joint, axis):
    return abs(abs(float(_axis(joint) @ np.asarray(axis, float))) - 1.0) < 1e-9


def test_household_categories_are_registered_after_the_old_ones():
    assert set(HOUSEHOLD) <= set(CATEGORIES)
    assert CATEGORIES[:24][-1] == "Toilet"
    assert list(CATEGORIES[24:]) == sorted(CATEGORIES[24:])


@pytest.mark.parametrize("category", HOUSEHOLD)
def test_sizes_are_real_and_every_part_is_labelled(category):
    limits = {
        "Cart": (0.5, 1.6), "Chair": (0.75, 1.3), "Clock": (0.1, 0.9), "Dispenser": (0.08, 0.45),
        "Display": (0.3, 0.75), "Fan": (0.25, 1.5), "FoldingChair": (0.7, 0.95),
        "Globe": (0.25, 0.65), "Keyboard": (0.2, 0.5), "Lamp": (0.25, 0.9), "Printer": (0.15, 0.5),
    }  # fmt: skip
    for obj in _objects(category, range(6)):
        extent = posed_mesh(obj).extents
        lo, hi = limits[category]
        assert lo <= extent.max() <= hi + (0.6 if category == "Fan" else 0.0), (obj.name, extent)
        assert all(link.label for link in obj.links)
        assert all(j.label for j in obj.movable_joints)


def test_caster_wheels_are_children_of_their_swivels():
    found = 0
    for category in ("Chair", "Cart"):
        for obj in _objects(category):
            for swivel in _by_label(obj, "caster"):
                assert swivel.type == "continuous" and _parallel(swivel, (0, 0, 1))
                wheels = obj.child_joints(swivel.child)
                assert len(wheels) == 1 and obj.link(wheels[0].child).label == "wheel"
                assert wheels[0].type == "continuous" and _parallel(wheels[0], (1, 0, 0))
                found += 1
    assert found > 20


def test_chairs_swivel_on_a_star_and_some_lift_or_tilt():
    lift = tilt = 0
    for obj in _objects("Chair", range(20)):
        seats = [j for j in _by_label(obj, "seat") if j.type == "continuous"]
        assert len(seats) == 1 and _parallel(seats[0], (0, 0, 1))
        assert len(_by_label(obj, "caster")) in (4, 5)
        lifts = [j for j in obj.movable_joints if j.type == "prismatic"]
        lift += bool(lifts)
        for joint in lifts:
            assert _parallel(joint, (0, 0, 1)) and joint.label == "slider"
        backs = [j for j in obj.movable_joints if j.label == "back"]
        tilt += bool(backs)
        for joint in backs:
            assert joint.type == "revolute" and joint.parent == seats[0].child
    assert 0 < lift < 20 and 0 < tilt < 20


def test_folding_chair_seat_folds_up_about_x():
    for obj in _objects("FoldingChair"):
        seat = [j for j in obj.movable_joints if j.label == "seat"]
        assert len(seat) == 1 and seat[0].type == "revolute" and _parallel(seat[0], (1, 0, 0))
        assert seat[0].parent == "base" and 1.2 < seat[0].upper < 1.6
        # folding raises the seat's front edge
        rest = posed_mesh(obj, links=[seat[0].child]).bounds
        up = posed_mesh(obj, {seat[0].name: seat[0].upper}, links=[seat[0].child]).bounds
        assert up[1][2] > rest[1][2] + 0.2


def test_clock_hands_turn_about_the_dial_axis_in_separate_planes():
    pendulum = doors = 0
    for obj in _objects("Clock", range(20)):
        hands = _by_label(obj, "hand")
        assert len(hands) in (2, 3)
        for joint in hands:
            assert joint.type == "continuous" and _parallel(joint, (0, 1, 0))
        ys = sorted(round(float(j.origin[1, 3]), 6) for j in hands)
        assert len(set(ys)) == len(ys)  # stacked, never in one plane
        for joint in _by_label(obj, "pendulum"):
            assert joint.type == "revolute" and _parallel(joint, (0, 1, 0))
            assert joint.lower < 0 < joint.upper
            pendulum += 1
        doors += len(_by_label(obj, "door"))
    assert pendulum and doors


def test_dispensers_press_their_pump_down_or_open_a_lid():
    kinds = set()
    for obj in _objects("Dispenser", range(16)):
        for joint in obj.movable_joints:
            if joint.label == "pump":
                assert joint.type == "prismatic" and _parallel(joint, (0, 0, 1))
                assert float(_axis(joint)[2]) < 0 and 0.005 < joint.upper < 0.02
                kinds.add("pump")
            elif joint.label == "spout":
                assert joint.type == "revolute" and _parallel(joint, (0, 0, 1))
                assert obj.link(joint.parent).label == "lid"  # the nozzle turns on the head
                kinds.add("twist")
            elif joint.label == "lid":
                assert joint.type == "revolute" and _parallel(joint, (1, 0, 0))
                kinds.add("lid")
    assert kinds == {"pump", "twist", "lid"}


def test_displays_tilt_and_vary_swivel_and_height():
    combos = set()
    for obj in _objects("Display", range(20)):
        tilt = [j for j in obj.movable_joints if j.label == "tilt"]
        assert len(tilt) == 1 and tilt[0].type == "revolute" and _parallel(tilt[0], (1, 0, 0))
        assert tilt[0].lower < 0 < tilt[0].upper
        swivel = [j for j in obj.movable_joints if j.label == "swivel"]
        height = [j for j in obj.movable_joints if j.label == "height"]
        for joint in swivel:
            assert _parallel(joint, (0, 0, 1)) and joint.type in ("revolute", "continuous")
        for joint in height:
            assert joint.type == "prismatic" and _parallel(joint, (0, 0, 1))
        combos.add((len(swivel), len(height)))
    assert combos == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_fans_spin_a_rotor_and_some_oscillate_and_tilt():
    osc = tilt = 0
    axes = set()
    for obj in _objects("Fan", range(20)):
        rotors = _by_label(obj, "rotor")
        assert len(rotors) == 1 and rotors[0].type == "continuous"
        axes.add(tuple(np.round(np.abs(_axis(rotors[0])), 6)))
        for joint in obj.movable_joints:
            if joint.label == "oscillation":
                assert joint.type == "revolute" and _parallel(joint, (0, 0, 1))
                osc += 1
            if joint.label == "tilt":
                assert joint.type == "revolute" and _parallel(joint, (1, 0, 0))
                tilt += 1
    assert axes == {(0.0, 1.0, 0.0), (0.0, 0.0, 1.0)}  # desk/box fans and ceiling fans
    assert osc and tilt


def test_globe_turns_about_an_axis_tilted_23_4_degrees():
    swivel = 0
    for obj in _objects("Globe"):
        (sphere,) = _by_label(obj, "sphere")
        assert sphere.type == "continuous"
        tilt = math.acos(abs(float(_axis(sphere)[2])))
        assert tilt == pytest.approx(math.radians(23.44), abs=1e-6) == pytest.approx(AXIAL_TILT)
        rings = _by_label(obj, "ring")
        if rings:
            assert sphere.parent == rings[0].child and _parallel(rings[0], (0, 0, 1))
            swivel += 1
        # turning the sphere keeps it in place (it spins about its own centre)
        a = posed_mesh(obj, links=[sphere.child]).bounds.mean(0)
        b = posed_mesh(obj, {sphere.name: 2.0}, links=[sphere.child]).bounds.mean(0)
        assert np.allclose(a, b, atol=2e-3)
    assert 0 < swivel < len(SEEDS)


def test_keyboards_press_keys_and_keep_joint_counts_sensible():
    counts = set()
    for obj in _objects("Keyboard", range(16)):
        keys = _by_label(obj, "key")
        assert 15 <= len(keys) <= 22 and len(obj.movable_joints) <= 24
        for joint in keys:
            assert joint.type == "prismatic" and float(_axis(joint)[2]) == -1.0
            assert 0.0015 < joint.upper < 0.0045
        for joint in _by_label(obj, "leg"):
            assert joint.type == "revolute" and _parallel(joint, (1, 0, 0))
        counts.add(len(keys))
    assert len(counts) > 1


def test_lamp_arms_form_a_revolute_chain_or_ride_a_telescope():
    chains = set()
    for obj in _objects("Lamp", range(20)):
        arms = _by_label(obj, "arm")
        heads = _by_label(obj, "head")
        assert len(heads) == 1 and heads[0].type == "revolute" and 1 <= len(arms) <= 2
        for joint in arms + heads:
            assert _parallel(joint, (1, 0, 0)) and joint.lower < 0 < joint.upper
        # each arm hangs from the previous one: a chain ending in the head
        for a, b in zip(arms, arms[1:] + heads, strict=True):
            assert b.parent == a.child
        stems = [j for j in obj.movable_joints if j.label == "telescope"]
        assert all(j.type == "prismatic" for j in stems)
        chains.add((len(arms), len(stems)))
        assert any(j.label == "button" for j in obj.movable_joints)
    assert chains == {(1, 1), (2, 0)}


def test_printers_have_a_lid_and_a_paper_tray():
    trays = set()
    for obj in _objects("Printer"):
        (lid,) = [j for j in obj.movable_joints if j.label == "lid"]
        assert lid.type == "revolute" and _parallel(lid, (1, 0, 0))
        kinds = {j.label for j in obj.movable_joints}
        assert kinds & {"drawer", "door"} and "button" in kinds
        trays.add(frozenset(kinds & {"drawer", "door"}))
    assert len(trays) > 1


def test_carts_vary_in_kind():
    kinds = set()
    for obj in _objects("Cart", range(20)):
        labels = [obj.link(j.child).label for j in obj.movable_joints]
        assert labels.count("wheel") >= 2
        kinds.add((labels.count("caster"), "flap" in labels, "handle" in labels))
    assert len(kinds) >= 4
