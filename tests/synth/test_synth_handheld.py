"""Hand-held categories (synth.handheld): the joints each real object has, parts that stay
where they belong at rest and clear when opened, real sizes, variety across seeds, and the
tube / ring / blade part builders."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spark_blender.core.kinematics import link_poses, posed_mesh
from spark_blender.synth import CATEGORIES, generate
from spark_blender.synth.parts import (
    BUILDERS,
    BladeParams,
    RingParams,
    TubeParams,
    blade,
    build_part,
    ring,
    tube,
)

HANDHELD = (
    "Camera", "Eyeglasses", "Knife", "Lighter", "Mouse", "Pen", "Phone", "Pliers", "Remote",
    "Scissors", "USB",
)  # fmt: skip
SEEDS = range(16)


def _signature(obj) -> set[tuple[str, str]]:
    return {(j.type, j.label) for j in obj.movable_joints}


def _axis(joint) -> tuple[float, ...]:
    return tuple(float(round(v, 6)) for v in joint.axis)


def _bounds(obj, link: str, configuration=None) -> np.ndarray:
    return posed_mesh(obj, configuration or {}, links=[link]).bounds


def test_the_handheld_categories_are_registered_after_the_old_ones():
    assert set(HANDHELD) <= set(CATEGORIES)
    assert CATEGORIES.index("Toilet") < min(CATEGORIES.index(c) for c in HANDHELD)
    new = CATEGORIES[CATEGORIES.index("Toilet") + 1 :]
    assert list(new) == sorted(new)


def test_eyeglasses_temples_fold_inwards_about_z_behind_the_frame():
    for seed in SEEDS:
        obj = generate("Eyeglasses", seed)
        legs = obj.movable_joints
        assert [(j.type, j.label) for j in legs] == [("revolute", "leg")] * 2
        assert sorted(_axis(j) for j in legs) == [(0.0, 0.0, -1.0), (0.0, 0.0, 1.0)]
        frame = _bounds(obj, "base")
        for joint in legs:
            assert 0.8 < joint.upper <= 1.6
            rest = _bounds(obj, joint.child)
            folded = _bounds(obj, joint.child, {joint.name: joint.upper})
            assert rest[1, 1] > frame[1, 1] + 0.08  # worn: the temple runs back
            # Folded, the temple's middle moves towards the centre line (inwards).
            assert abs(folded.mean(0)[0]) < abs(rest.mean(0)[0])
        left, right = (obj.link(j.child) for j in legs)
        assert left.label == right.label == "leg"


def test_pocket_knife_blades_lie_inside_the_handle_closed_and_turn_out_by_about_pi():
    folding = utility = 0
    for seed in range(30):
        obj = generate("Knife", seed)
        handle = _bounds(obj, "base")
        for joint in obj.movable_joints:
            assert joint.label == "blade" and obj.link(joint.child).label == "blade"
            closed = _bounds(obj, joint.child)
            if joint.type == "revolute":
                folding += 1
                assert abs(joint.axis[2]) == pytest.approx(1.0)
                assert joint.upper > 2.9
                # Closed: inside the handle's outline in plan and between its scales.
                assert np.all(closed[0] >= handle[0] - 1e-9) and np.all(closed[1] <= handle[1])
                opened = _bounds(obj, joint.child, {joint.name: joint.upper})
                assert opened[1, 0] > handle[1, 0] + 0.02 or opened[0, 0] < handle[0, 0] - 0.02
            else:
                utility += 1
                assert joint.type == "prismatic" and _axis(joint) == (1.0, 0.0, 0.0)
                assert closed[1, 0] < handle[1, 0]  # the blade tip is inside the front end
                out = _bounds(obj, joint.child, {joint.name: joint.upper})
                assert out[1, 0] > handle[1, 0] + 0.015
    assert folding >= 15 and utility >= 3
    counts = {len(generate("Knife", s).movable_joints) for s in range(30)}
    assert {1, 2, 3} <= counts  # 1-3 blades and tools


def test_lighters_have_flip_lids_spark_wheels_or_buttons():
    kinds = set()
    for seed in range(30):
        obj = generate("Lighter", seed)
        sig = _signature(obj)
        assert sig <= {("revolute", "lid"), ("continuous", "wheel"), ("prismatic", "button")}
        for joint in obj.movable_joints:
            if joint.label == "lid":
                assert _axis(joint) == (0.0, 1.0, 0.0) and 2.3 < joint.upper <= math.pi
                lid = _bounds(obj, joint.child, {joint.name: joint.upper})
                body = _bounds(obj, "base")
                assert lid.mean(0)[0] > body[1, 0]  # opened, it swings past the hinge side
            if joint.label == "wheel":
                assert _axis(joint) == (0.0, 1.0, 0.0)
        kinds.add(frozenset(label for _, label in sig))
    assert {frozenset({"lid", "wheel"}), frozenset({"wheel", "button"})} <= kinds
    assert frozenset({"button"}) in kinds


def test_pen_caps_pull_clear_of_the_nose_and_click_buttons_press_in():
    seen = set()
    for seed in SEEDS:
        obj = generate("Pen", seed)
        (joint,) = obj.movable_joints
        assert joint.type == "prismatic"
        seen.add(joint.label)
        base = _bounds(obj, "base")
        if joint.label == "cap":
            assert _axis(joint) == (1.0, 0.0, 0.0)
            assert _bounds(obj, joint.child)[1, 0] > base[1, 0]  # covers the nose at rest
            off = _bounds(obj, joint.child, {joint.name: joint.upper})
            assert off[0, 0] > base[1, 0]  # pulled off: wholly past the nose tip
        else:
            assert joint.label == "button" and _axis(joint) == (1.0, 0.0, 0.0)
            pressed = _bounds(obj, joint.child, {joint.name: joint.upper})
            assert pressed[1, 0] <= base[0, 0] + 1e-9  # it never sinks into the barrel
        length = posed_mesh(obj).extents[0]
        assert 0.12 <= length <= 0.17
    assert seen == {"cap", "button"}


@pytest.mark.parametrize("category", ["Pliers", "Scissors"])
def test_pliers_and_scissors_open_about_the_pivot_in_separate_layers(category):
    both = 0
    for seed in range(20):
        obj = generate(category, seed)
        joints = obj.movable_joints
        assert all(j.type == "revolute" and abs(j.axis[2]) == 1.0 for j in joints)
        assert all(0.1 < j.upper < 1.2 for j in joints)
        label = "leg" if category == "Pliers" else "blade"
        assert all(j.label == label for j in joints)
        both += len(joints) == 2
        # The halves never share a layer, so no angle can make them meet.
        layers = [_bounds(obj, link.name)[:, 2] for link in obj.links if link.visuals]
        halves = [z for z in layers if z[1] - z[0] > 0.002]
        assert len(halves) == 2
        lo, hi = sorted(halves, key=lambda z: z[0])
        assert lo[1] <= hi[0]
        # Opening spreads the handles: the moving half's far end (-X) moves away.
        joint = joints[-1]
        rest, opened = link_poses(obj), link_poses(obj, {joint.name: joint.upper})
        tail = np.array([-0.05, 0.0, 0.0, 1.0])
        child = joint.child
        assert not np.allclose(rest[child] @ tail, opened[child] @ tail)
    if category == "Pliers":
        assert both > 0  # some with both halves turning about the pin


def test_usb_caps_pull_off_and_swivel_covers_turn_half_a_turn():
    kinds = set()
    for seed in range(20):
        obj = generate("USB", seed)
        (joint,) = obj.movable_joints
        kinds.add(joint.label)
        if joint.label == "cap":
            assert joint.type == "prismatic" and _axis(joint) == (1.0, 0.0, 0.0)
            off = _bounds(obj, joint.child, {joint.name: joint.upper})
            assert off[0, 0] > _bounds(obj, "base")[1, 0]
        else:
            assert joint.label == "lid" and joint.type == "revolute"
            assert _axis(joint) == (0.0, 0.0, 1.0) and joint.upper == pytest.approx(math.pi)
        assert 0.035 < posed_mesh(obj).extents[0] < 0.075
    assert kinds == {"cap", "lid"}


def test_remote_buttons_press_down_a_little_in_varying_layouts():
    counts = set()
    for seed in SEEDS:
        obj = generate("Remote", seed)
        joints = obj.movable_joints
        assert all(j.type == "prismatic" and j.label == "button" for j in joints)
        assert all(_axis(j) == (0.0, 0.0, -1.0) and j.upper <= 0.0015 for j in joints)
        counts.add(len(joints))
        top = _bounds(obj, "base")[1, 2]
        for j in joints:  # pressed, no key sinks into the face
            assert _bounds(obj, j.child, {j.name: j.upper})[0, 2] >= top - 1e-9
    assert min(counts) >= 1 and max(counts) >= 15 and len(counts) >= 5


def test_mouse_buttons_tip_down_about_their_back_edge_and_the_wheel_turns():
    for seed in SEEDS:
        obj = generate("Mouse", seed)
        hinged = [j for j in obj.movable_joints if j.type == "revolute"]
        assert len(hinged) == 2 and all(j.label == "button" for j in hinged)
        assert all(_axis(j) == (1.0, 0.0, 0.0) and 0.02 < j.upper < 0.08 for j in hinged)
        for j in hinged:
            rest = _bounds(obj, j.child)
            assert j.origin[1, 3] >= rest[1, 1] - 1e-6  # hinged at the back edge
            pressed = _bounds(obj, j.child, {j.name: j.upper})
            assert pressed[0, 2] < rest[0, 2]  # the front goes down
        wheels = [j for j in obj.movable_joints if j.label == "wheel"]
        assert len(wheels) == 1 and wheels[0].type == "continuous"
        assert _axis(wheels[0]) == (1.0, 0.0, 0.0)


def test_phones_come_as_slabs_candybars_flips_and_sliders():
    kinds = set()
    for seed in range(40):
        obj = generate("Phone", seed)
        labels = {j.label for j in obj.movable_joints}
        buttons = [j for j in obj.movable_joints if j.label == "button"]
        assert buttons and all(j.type == "prismatic" for j in buttons)
        if "lid" in labels:
            (flip,) = [j for j in obj.movable_joints if j.label == "lid"]
            assert flip.type == "revolute" and _axis(flip) == (-1.0, 0.0, 0.0)
            assert 2.5 < flip.upper <= 3.0
            kinds.add("flip")
        elif "slider" in labels:
            (slide,) = [j for j in obj.movable_joints if j.label == "slider"]
            assert slide.type == "prismatic" and _axis(slide) == (0.0, 1.0, 0.0)
            kinds.add("slider")
        elif any(abs(j.axis[0]) == 1.0 for j in buttons):
            kinds.add("slab")  # side buttons pressed into the sides
        else:
            kinds.add("candybar")
        extents = posed_mesh(obj).extents
        assert 0.08 < extents[1] < 0.17 and extents[2] < 0.03
    assert kinds == {"slab", "candybar", "flip", "slider"}


def test_cameras_have_a_shutter_and_a_zoom_ring_or_an_extending_lens():
    kinds, extras = set(), set()
    for seed in range(30):
        obj = generate("Camera", seed)
        sig = _signature(obj)
        assert ("prismatic", "button") in sig  # the shutter
        if ("prismatic", "lens") in sig:
            kinds.add("compact")
            lens = [j for j in obj.movable_joints if j.label == "lens"]
            assert all(_axis(j) == (0.0, -1.0, 0.0) for j in lens)
            front = _bounds(obj, "base")[0, 1]
            out = {j.name: j.upper for j in lens}
            assert posed_mesh(obj, out).bounds[0, 1] < front - 0.005  # it extends forwards
        else:
            kinds.add("system")
            assert ("continuous", "knob") in sig
        extras |= {label for _, label in sig if label in ("screen", "lid")}
    assert kinds == {"compact", "system"} and extras == {"screen", "lid"}


@pytest.mark.parametrize("category", HANDHELD)
def test_handheld_objects_vary_across_seeds_and_have_hand_sizes(category):
    extents = np.array([posed_mesh(generate(category, s)).extents for s in range(8)])
    assert np.all(extents.max(axis=1) < 0.26)  # fits in a hand (a long remote ~22 cm)
    assert np.all(extents.max(axis=1) > 0.03)
    assert len({tuple(np.round(e, 5)) for e in extents}) == 8


def test_tube_ring_and_blade_builders_make_convex_watertight_pieces():
    for name in ("tube", "ring", "blade"):
        assert name in BUILDERS
        pieces = build_part(name, BUILDERS[name]().vector())
        assert pieces
        for piece in pieces:
            assert piece.mesh.is_watertight and piece.mesh.volume > 0
            assert piece.mesh.convex_hull.volume == pytest.approx(piece.mesh.volume, rel=1e-6)
    # A tube's inner radius is the apothem: a cylinder of that radius fits inside every sector.
    p = TubeParams(0.01, 0.008, 0.02, 8.0, 1.0)
    for piece in tube(p)[:-1]:
        radial = np.linalg.norm(piece.mesh.vertices[:, :2], axis=1)
        centre = piece.mesh.vertices[:, :2].mean(0)
        direction = centre / np.linalg.norm(centre)
        assert (piece.mesh.vertices[:, :2] @ direction).min() >= 0.008 - 1e-9
        assert radial.max() <= 0.01 + 1e-9
    loop = ring(RingParams(0.02, 0.01, 0.003, 0.004, 12.0))
    bounds = np.array([p.mesh.bounds for p in loop])
    assert bounds[:, 1, 0].max() == pytest.approx(0.0215, abs=1e-3)  # radius + half the wire
    edge = blade(BladeParams(0.07, 0.016, 0.002, 0.4))[0].mesh
    assert edge.bounds[1] == pytest.approx([0.07, 0.008, 0.001], abs=1e-6)
