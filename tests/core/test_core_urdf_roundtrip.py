"""URDF writing: the output-folder layout, and read -> write -> read keeps the object."""

import numpy as np
import pytest

from spark_blender.core.kinematics import link_poses, random_configuration
from spark_blender.core.meshes import texture_image
from spark_blender.core.model import ArticulatedObject
from spark_blender.core.simcheck import check_urdf
from spark_blender.core.urdf import WriteOptions, read_urdf, write_urdf
from tests.conftest import DEV_URDFS, needs_shared


def assert_same_object(a: ArticulatedObject, b: ArticulatedObject, configurations: int = 20):
    assert [link.name for link in a.links] == [link.name for link in b.links]
    assert [(j.name, j.type, j.parent, j.child) for j in a.joints] == [
        (j.name, j.type, j.parent, j.child) for j in b.joints
    ]
    for ja, jb in zip(a.joints, b.joints, strict=True):
        np.testing.assert_allclose(ja.origin, jb.origin, atol=1e-9, err_msg=ja.name)
        np.testing.assert_allclose(ja.axis, jb.axis, atol=1e-9, err_msg=ja.name)
        assert ja.limits == pytest.approx(jb.limits, abs=1e-9)
        assert (ja.effort, ja.velocity) == pytest.approx((jb.effort, jb.velocity), abs=1e-9)
    rng = np.random.default_rng(7)
    for _ in range(configurations):
        q = random_configuration(a, rng)
        pa, pb = link_poses(a, q), link_poses(b, q)
        for name in pa:
            np.testing.assert_allclose(pa[name], pb[name], atol=1e-9, err_msg=name)


def test_output_folder_layout(example_urdf):
    folder = example_urdf.parent
    assert example_urdf.name == "example_cabinet.urdf"
    meshes = sorted(p.name for p in (folder / "meshes").iterdir())
    assert any(name.endswith("_visual_0.obj") for name in meshes)
    assert any(name.endswith("_collision_0.obj") for name in meshes)
    text = example_urdf.read_text()
    assert 'filename="meshes/' in text and "package://" not in text
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_written_inertials_are_computed_in_the_link_frame(example_urdf, example_cabinet):
    drawer = read_urdf(example_urdf).link("drawer")
    com = drawer.inertial.origin[:3, 3]
    bounds = np.array(
        [v.mesh.bounds + v.origin[:3, 3] for v in example_cabinet.link("drawer").visuals]
    )
    assert np.all(com > bounds[:, 0].min(axis=0)) and np.all(com < bounds[:, 1].max(axis=0))
    assert drawer.inertial.mass > 1.0  # an oak drawer box weighs kilograms
    assert drawer.inertial.problems("drawer") == []


def test_round_trip_of_the_example(example_urdf, example_cabinet):
    first = read_urdf(example_urdf)
    assert_same_object(example_cabinet, first)
    assert [link.label for link in first.links] == ["base", "door", "drawer"]
    assert first.category == "StorageFurniture"


def test_round_trip_twice_is_stable(example_urdf, tmp_path):
    first = read_urdf(example_urdf)
    second = read_urdf(write_urdf(first, tmp_path / "again"))
    assert_same_object(first, second)
    names = [[c.name for c in link.collisions] for link in first.links]
    assert names == [[c.name for c in link.collisions] for link in second.links]
    assert [[v.name for v in link.visuals] for link in first.links] == [
        [v.name for v in link.visuals] for link in second.links
    ]
    assert sum(len(link.collisions) for link in first.links) == sum(
        len(link.collisions) for link in second.links
    )


def test_refuses_to_replace_an_existing_folder_unless_asked(example_cabinet, tmp_path):
    target = tmp_path / "out"
    write_urdf(example_cabinet, target)
    with pytest.raises(FileExistsError):
        write_urdf(example_cabinet, target)
    write_urdf(example_cabinet, target, WriteOptions(overwrite=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_write_leaves_nothing_behind(example_cabinet, tmp_path):
    example_cabinet.joint("door_hinge").parent = "nowhere"
    with pytest.raises(ValueError, match="nowhere"):
        write_urdf(example_cabinet, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@needs_shared
@pytest.mark.parametrize("path", DEV_URDFS, ids=lambda p: p.parents[1].name)
def test_dev_object_converts_round_trips_and_loads_in_both_simulators(path, tmp_path):
    original = read_urdf(path)
    written = write_urdf(original, tmp_path / "out")
    again = read_urdf(written)
    assert_same_object(original, again)
    textures = list((tmp_path / "out" / "meshes" / "textures").glob("*.png"))
    textured = any(
        texture_image(v.mesh) is not None for link in original.links for v in link.visuals
    )
    assert bool(textures) == textured
    report = check_urdf(written)
    # PartNet's own meshes may interpenetrate: that is reported, not a failure of the reader.
    blocking = [f for f in report.findings if f.severity == "error" and f.check != "penetration"]
    assert blocking == [], report.to_text()
    assert report.summary["mujoco"].startswith("loaded")
    assert report.summary["pybullet"].startswith("loaded")
