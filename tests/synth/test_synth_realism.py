"""Realism of the data engine: the variants that widen each category's real variety, the
observed configuration (the pose a photo shows) and the comparison with the dev cases."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from spark_blender.core.kinematics import posed_mesh
from spark_blender.core.simcheck import check_urdf
from spark_blender.core.urdf import write_urdf
from spark_blender.synth import CATEGORIES, generate
from spark_blender.synth.dataset import (
    OBSERVED_OPENINGS,
    SynthConfig,
    SynthDataset,
    observed_configuration,
    write_dataset,
)
from spark_blender.synth.overlap import parent_overlaps
from spark_blender.synth.report import misses

SEEDS = range(40)


def _aspects(category: str, seeds=SEEDS) -> np.ndarray:
    out = []
    for seed in seeds:
        obj = generate(category, seed)
        w, d, h = posed_mesh(obj, observed_configuration(obj, seed)).extents
        out.append((w / h, d / h))
    return np.array(out)


def _counts(category: str, seeds=SEEDS) -> Counter:
    return Counter(len(generate(category, seed).movable_joints) for seed in seeds)


# --- the variants ------------------------------------------------------------------------------
def test_doors_include_double_doors_wider_than_tall_and_room_doors():
    aspects = _aspects("Door")
    assert (aspects[:, 0] > 1.2).any(), "cabinet-like double doors, wider than tall"
    assert (aspects[:, 0] < 0.6).sum() >= len(SEEDS) // 3, "room doors stay the common case"
    assert (aspects[:, 1] > 0.2).any(), "deep casings"
    assert {1, 2} <= set(_counts("Door"))


def test_suitcases_include_near_cubic_hard_shell_cases():
    aspects = _aspects("Suitcase")
    cubic = (aspects[:, 0] > 0.8) & (aspects[:, 1] > 0.6)
    assert cubic.any() and (aspects[:, 0] < 0.7).any()
    labels = Counter(
        (j.label, j.type) for seed in SEEDS for j in generate("Suitcase", seed).movable_joints
    )
    assert labels[("handle", "revolute")] > 0, "the cubic case's folding carry handle"
    assert labels[("handle", "prismatic")] > 0, "the upright case's telescopic handle"


@pytest.mark.parametrize("category", ["Faucet", "Toilet"])
def test_faucets_and_toilets_have_small_prismatic_parts_among_the_variants(category):
    kinds = [{(j.label, j.type) for j in generate(category, seed).movable_joints} for seed in SEEDS]
    assert any(("button", "prismatic") in k for k in kinds)
    assert any(("button", "prismatic") not in k for k in kinds)


def test_toilets_have_lever_button_or_both():
    assert set(_counts("Toilet")) == {3, 4}


def test_safes_have_full_keypads_dials_and_tall_cabinets():
    buttons = Counter(
        sum(j.label == "button" for j in generate("Safe", seed).joints) for seed in SEEDS
    )
    assert set(buttons) == {0, 12}, "a full 3x4 keypad or none"
    assert 13 in _counts("Safe") and 2 in _counts("Safe")
    assert (_aspects("Safe")[:, 1] < 0.45).any(), "tall shallow cabinet safes"


@pytest.mark.parametrize("category", ["Oven", "Microwave"])
def test_some_ovens_and_microwaves_have_fixed_controls(category):
    counts = _counts(category)
    assert 1 in counts and max(counts) > 1


def test_tables_include_tall_narrow_cabinet_tables():
    aspects = _aspects("Table")
    assert (aspects[:, 0] < 0.9).any() and (aspects[:, 0] > 1.5).any()


# --- the observed configuration -------------------------------------------------------------
@pytest.mark.parametrize("category", CATEGORIES)
def test_observed_configuration_is_a_valid_mostly_closed_pose(category):
    for seed in range(6):
        obj = generate(category, seed)
        observed = observed_configuration(obj, seed)
        assert observed == observed_configuration(generate(category, seed), seed)
        joints = {j.name: j for j in obj.movable_joints}
        assert set(observed) <= set(joints)
        for name, value in observed.items():
            low, high = joints[name].limits
            assert low <= value <= high
        needed = {obj.couplings[n][0] for n, v in observed.items() if v and n in obj.couplings}
        moving = [
            n for n, v in observed.items() if v and joints[n].label != "screen" and n not in needed
        ]
        assert len(moving) <= 1
        assert all(joints[n].label in OBSERVED_OPENINGS for n in moving)


def test_dishwasher_racks_slide_once_the_door_is_open(tmp_path):
    objects = [generate("Dishwasher", seed) for seed in range(20)]
    sliding = [o for o in objects if o.couplings]
    assert 4 <= len(sliding) <= 14, "sliding racks on some machines, fixed ones on the others"
    obj = sliding[0]
    (door,) = [j for j in obj.movable_joints if j.label == "door"]
    racks = [j for j in obj.movable_joints if j.child.startswith("rack")]
    assert len(racks) == 2 and all(j.type == "prismatic" for j in racks)
    assert obj.couplings == {j.name: (door.name, door.upper) for j in racks}
    # every pose the data engine renders opens the door whenever a rack is out
    config = SynthConfig(categories=("Dishwasher",), n=6, size=16, shard_size=8, random_poses=3)
    write_dataset(config, tmp_path / "ds")
    ds = SynthDataset(tmp_path / "ds")
    seen = 0
    for i in range(len(ds)):
        meta = ds[i]["meta"]
        rack_joints = [j["name"] for j in meta["joints"] if j["child"].startswith("rack")]
        door_joint = next(j["name"] for j in meta["joints"] if j.get("label") == "door")
        needs = [door_joint, pytest.approx(math.pi / 2)]
        assert meta["couplings"] == {r: needs for r in rack_joints}
        for pose in meta["poses"].values():
            if any(pose.get(r, 0.0) > 1e-9 for r in rack_joints):
                seen += 1
                assert pose[door_joint] == pytest.approx(math.pi / 2)
    assert seen
    # and the check finds the coupling by itself (the racks run into the closed door)
    report = check_urdf(write_urdf(obj, tmp_path / obj.name))
    assert report.passed, report.to_text()
    found = {(c["joint"], c["needs"]) for c in report.couplings}
    assert found == {(j.name, door.name) for j in racks}
    assert parent_overlaps(obj) == []


def test_laptops_are_observed_open_and_the_rest_pose_stays_closed():
    for seed in range(10):
        obj = generate("Laptop", seed)
        (screen,) = [j for j in obj.movable_joints if j.label == "screen"]
        angle = observed_configuration(obj, seed)[screen.name]
        assert math.radians(60) <= angle <= min(math.radians(130), screen.upper)
        w, d, h = posed_mesh(obj).extents
        assert w / h > 5, "closed at rest (0 = closed)"
        w, d, h = posed_mesh(obj, {screen.name: angle}).extents
        assert 1.0 < w / h < 2.0 and 0.8 < d / h < 2.2, "open like a photographed laptop"


def test_some_objects_are_observed_partly_open():
    opened = sum(
        bool(observed_configuration(generate("StorageFurniture", s), s)) for s in range(40)
    )
    assert 3 <= opened <= 20


def test_dataset_meta_carries_the_observed_configuration_and_can_render_it(tmp_path):
    plain = SynthConfig(categories=("Laptop",), n=2, size=32, shard_size=4)
    write_dataset(plain, tmp_path / "plain")
    ds = SynthDataset(tmp_path / "plain")
    assert ds.poses == ["rest", "moved"] and ds[0]["rgba"].shape[0] == 2
    meta = ds[0]["meta"]
    assert set(meta["observed_configuration"]) == {j["name"] for j in meta["joints"]}
    config = SynthConfig(categories=("Laptop",), n=2, size=32, shard_size=4, observed_pose=True)
    write_dataset(config, tmp_path / "observed")
    ds = SynthDataset(tmp_path / "observed")
    assert ds.poses == ["rest", "moved", "observed"] and ds[0]["rgba"].shape[0] == 3
    meta = ds[0]["meta"]
    assert meta["poses"]["observed"] == meta["observed_configuration"]
    rest, _, observed = ds[0]["mask"]
    assert (observed > 0).sum() != (rest > 0).sum(), "the open laptop shows another silhouette"


# --- the comparison report ------------------------------------------------------------------
def test_misses_names_what_the_generated_range_does_not_cover():
    gen = {"w_h": (1.0, 0.5, 1.5), "d_h": (1.0, 0.5, 1.5), "part_counts": {1, 2}}
    assert misses([{"aspect": (1.0, 1.0), "parts": 2}], gen) == []
    assert misses([{"aspect": (1.7, 0.4), "parts": 3}], gen) == [
        "w/h 1.70",
        "d/h 0.40",
        "3 parts",
    ]


# --- the new variants pass the full sim check --------------------------------------------------
VARIANTS = [
    ("Door", 7), ("Door", 3), ("Suitcase", 0), ("Faucet", 2), ("Toilet", 2), ("Safe", 0),
    ("Safe", 2), ("Oven", 4), ("Microwave", 1), ("Table", 2), ("Refrigerator", 4),
    ("Dishwasher", 2), ("WashingMachine", 4),
]  # fmt: skip


@pytest.mark.parametrize(("category", "seed"), VARIANTS)
def test_variants_pass_the_sim_check_and_the_parent_overlap_test(category, seed, tmp_path):
    obj = generate(category, seed)
    report = check_urdf(write_urdf(obj, tmp_path / obj.name))
    assert not [f.message for f in report.findings if f.severity == "error"]
    assert parent_overlaps(obj) == []
