"""Model <-> scene under the real `bpy` module: the armature layout, the FK mirror, scrubbing,
URDF import -> export -> import identity, and artist edits flowing into the export."""

from __future__ import annotations

import json

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from spark_blender.blender import scene as blender_scene  # noqa: E402
from spark_blender.core.kinematics import joint_frames, link_poses, random_configuration  # noqa: E402
from spark_blender.core.urdf import read_urdf, write_urdf  # noqa: E402
from tests.conftest import SHARED_DATA, needs_shared  # noqa: E402

TOL = 1e-6


def world(ob) -> np.ndarray:
    return blender_scene.to_numpy(ob.matrix_world)


def import_urdf(path) -> bpy.types.Object:
    before = set(bpy.data.objects)
    assert bpy.ops.spark.import_urdf(filepath=str(path)) == {"FINISHED"}
    armatures = [ob for ob in set(bpy.data.objects) - before if ob.type == "ARMATURE"]
    assert len(armatures) == 1
    return armatures[0]


def export_urdf(armature, path) -> None:
    bpy.context.view_layer.objects.active = armature
    assert bpy.ops.spark.export_urdf(filepath=str(path)) == {"FINISHED"}


def assert_fk_mirror(obj, armature, configuration) -> None:
    """Every link frame, visual and bone in Blender sits where the core FK puts it."""
    blender_scene.set_configuration(armature, configuration)
    bpy.context.view_layer.update()
    poses = link_poses(obj, configuration)
    rest = link_poses(obj)
    for ob in armature.children_recursive:
        if ob.spark.role == "LINK":
            np.testing.assert_allclose(world(ob), poses[ob.spark.link_name], atol=TOL)
    for pose_bone in blender_scene.joint_bones(armature):
        child = pose_bone.spark_joint.child_link
        deformation = blender_scene.to_numpy(pose_bone.matrix) @ np.linalg.inv(
            blender_scene.to_numpy(pose_bone.bone.matrix_local)
        )
        np.testing.assert_allclose(deformation @ rest[child], poses[child], atol=TOL)
    visuals = [ob for ob in armature.children_recursive if ob.spark.role == "VISUAL"]
    assert len(visuals) == sum(len(link.visuals) for link in obj.links)
    for ob in visuals[:20]:
        link = obj.link(ob.spark.link_name)
        visual = link.visuals[ob.spark.order - 1]
        np.testing.assert_allclose(world(ob), poses[link.name] @ visual.origin, atol=TOL)


def assert_same_object(a, b, rng, tol=TOL) -> None:
    """Same tree, same joints (1e-6) and the same link poses at random configurations."""
    assert sorted(link.name for link in a.links) == sorted(link.name for link in b.links)
    assert {j.name: (j.type, j.parent, j.child) for j in a.joints} == {
        j.name: (j.type, j.parent, j.child) for j in b.joints
    }
    for joint in a.joints:
        other = b.joint(joint.name)
        assert joint.label == other.label
        np.testing.assert_allclose(joint.origin, other.origin, atol=tol)
        if joint.movable:
            np.testing.assert_allclose(joint.axis, other.axis, atol=tol)
            assert joint.limits == pytest.approx(other.limits, abs=tol)
    for _ in range(3):
        configuration = random_configuration(a, rng)
        pa, pb = link_poses(a, configuration), link_poses(b, configuration)
        for name, pose in pa.items():
            np.testing.assert_allclose(pose, pb[name], atol=tol)
    for link in a.links:
        assert len(link.visuals) == len(b.link(link.name).visuals)


# --- the layout ------------------------------------------------------------------------------
def test_import_builds_one_collection_with_an_armature_of_joint_bones(example_urdf):
    obj = read_urdf(example_urdf)
    armature = import_urdf(example_urdf)
    collection = armature.users_collection[0]
    assert collection.name == obj.name and collection.name in bpy.context.scene.collection.children
    bones = blender_scene.joint_bones(armature)
    assert sorted(pb.spark_joint.joint_name for pb in bones) == sorted(
        j.name for j in obj.movable_joints
    )
    frames = joint_frames(obj)
    for pose_bone in bones:
        joint = obj.joint(pose_bone.spark_joint.joint_name)
        pivot, axis = frames[joint.name]
        rest = blender_scene.to_numpy(pose_bone.bone.matrix_local)
        np.testing.assert_allclose(rest[:3, 3], pivot, atol=TOL)  # head at the pivot
        np.testing.assert_allclose(pose_bone.spark_joint.sign * rest[:3, 1], axis, atol=TOL)
        constraint = blender_scene.limit_constraint(pose_bone)
        expected = "LIMIT_LOCATION" if joint.type == "prismatic" else "LIMIT_ROTATION"
        assert constraint.type == expected and constraint.owner_space == "LOCAL"
        assert pose_bone.spark_joint.joint_type == joint.type
        assert pose_bone.spark_joint.label == joint.label
    # Link frames hang from their joint's bone, the base from the armature.
    empties = {ob.spark.link_name: ob for ob in collection.objects if ob.spark.role == "LINK"}
    assert empties["base"].parent == armature and empties["base"].parent_type == "OBJECT"
    for joint in obj.movable_joints:
        assert empties[joint.child].parent_type == "BONE"
        assert empties[joint.child].parent_bone == joint.name
    for ob in collection.objects:
        if ob.spark.role == "VISUAL" and ob.spark.link_name != "base":
            assert (
                ob.parent == armature
                and ob.parent_bone == obj.parent_joint(ob.spark.link_name).name
            )


def test_fk_mirror_matches_core_kinematics_at_random_configurations(example_urdf):
    obj = read_urdf(example_urdf)
    armature = import_urdf(example_urdf)
    rng = np.random.default_rng(7)
    for _ in range(5):
        assert_fk_mirror(obj, armature, random_configuration(obj, rng))


def test_joint_slider_is_clamped_to_the_limits(example_urdf):
    armature = import_urdf(example_urdf)
    obj = read_urdf(example_urdf)
    for pose_bone in blender_scene.joint_bones(armature):
        joint = obj.joint(pose_bone.spark_joint.joint_name)
        props = pose_bone.spark_joint
        slider = "distance" if joint.type == "prismatic" else "angle"
        setattr(props, slider, joint.upper + 5.0)
        assert getattr(props, slider) == pytest.approx(joint.upper, abs=1e-6)
        setattr(props, slider, joint.lower - 5.0)
        assert getattr(props, slider) == pytest.approx(joint.lower, abs=1e-6)
        middle = 0.5 * (joint.lower + joint.upper)
        setattr(props, slider, middle)
        assert getattr(props, slider) == pytest.approx(middle, abs=1e-6)


def test_rest_pose_move_to_limits_and_preview_motion(example_urdf):
    armature = import_urdf(example_urdf)
    obj = read_urdf(example_urdf)
    far = {j.name: max(j.limits, key=abs) for j in obj.movable_joints}
    assert bpy.ops.spark.move_to_limits() == {"FINISHED"}
    assert blender_scene.configuration_of(armature) == pytest.approx(far, abs=1e-6)
    assert bpy.ops.spark.rest_pose() == {"FINISHED"}
    assert blender_scene.configuration_of(armature) == pytest.approx(
        dict.fromkeys(far, 0.0), abs=1e-9
    )
    assert bpy.ops.spark.preview_motion(frames_per_joint=20) == {"FINISHED"}
    scene = bpy.context.scene
    assert scene.frame_end == scene.frame_start + 20 * len(far)
    for index, joint in enumerate(blender_scene.joint_bones(armature)):
        name = joint.spark_joint.joint_name
        scene.frame_set(scene.frame_start + 20 * index + 10)  # the middle of its sweep
        assert blender_scene.configuration_of(armature)[name] == pytest.approx(far[name], abs=1e-5)
        scene.frame_set(scene.frame_start + 20 * index + 20)
        assert blender_scene.configuration_of(armature)[name] == pytest.approx(0.0, abs=1e-5)


def test_camera_json_becomes_a_blender_camera_and_round_trips(tmp_path, example_cabinet):
    camera = {
        "width": 640,
        "height": 480,
        "fx": 700.0,
        "fy": 700.0,
        "cx": 320.0,
        "cy": 240.0,
        "fov_deg": 49.1,
        "cam_to_world": [[1, 0, 0, 0.1], [0, 0, -1, -2.0], [0, 1, 0, 0.5], [0, 0, 0, 1]],
    }
    folder = tmp_path / "in"
    urdf = write_urdf(
        example_cabinet, folder, _options(extra_files={"camera.json": json.dumps(camera).encode()})
    )
    armature = import_urdf(urdf)
    cams = [ob for ob in armature.children if ob.spark.role == "CAMERA"]
    assert len(cams) == 1 and cams[0].type == "CAMERA"
    assert cams[0].data.lens == pytest.approx(700.0 * cams[0].data.sensor_width / 640)
    np.testing.assert_allclose(world(cams[0]), camera["cam_to_world"], atol=TOL)
    assert bpy.context.scene.camera.name == "Camera"  # the user's active camera stays
    export_urdf(armature, tmp_path / "out.urdf")
    written = json.loads((tmp_path / "out" / "camera.json").read_text())
    assert written["fx"] == pytest.approx(700.0, rel=1e-6)
    np.testing.assert_allclose(written["cam_to_world"], camera["cam_to_world"], atol=TOL)


def _options(**kwargs):
    from spark_blender.core.urdf import WriteOptions

    return WriteOptions(**kwargs)


# --- export ---------------------------------------------------------------------------------
def test_import_export_import_is_identity(tmp_path, example_urdf):
    original = read_urdf(example_urdf)
    armature = import_urdf(example_urdf)
    blender_scene.set_configuration(armature, {j.name: j.upper for j in original.movable_joints})
    export_urdf(armature, tmp_path / "cabinet.urdf")  # the pose must not leak into the URDF
    exported = read_urdf(tmp_path / "cabinet" / "cabinet.urdf")
    assert_same_object(original, exported, np.random.default_rng(1))
    again = read_urdf(example_urdf)
    bpy.ops.wm.read_homefile(app_template="")
    second = import_urdf(tmp_path / "cabinet" / "cabinet.urdf")
    assert_same_object(again, blender_scene.read_object(second), np.random.default_rng(2))


def test_export_refuses_to_replace_a_folder_unless_asked(tmp_path, example_urdf):
    armature = import_urdf(example_urdf)
    (tmp_path / "cabinet").mkdir()
    (tmp_path / "cabinet" / "keep.txt").write_text("user file")
    bpy.context.view_layer.objects.active = armature
    with pytest.raises(RuntimeError, match="exists and is not empty"):
        bpy.ops.spark.export_urdf(filepath=str(tmp_path / "cabinet.urdf"))
    assert (tmp_path / "cabinet" / "keep.txt").read_text() == "user file"
    assert bpy.ops.spark.export_urdf(filepath=str(tmp_path / "cabinet.urdf"), overwrite=True) == {
        "FINISHED"
    }
    assert (tmp_path / "cabinet" / "cabinet.urdf").is_file()


def test_artist_edits_flow_into_the_export(tmp_path, example_urdf):
    from spark_blender.blender.ops import move_pivot
    from spark_blender.core.meshes import compute_inertial
    from spark_blender.core.model import DEFAULT_DENSITY

    original = read_urdf(example_urdf)
    armature = import_urdf(example_urdf)
    bones = {pb.spark_joint.joint_name: pb for pb in blender_scene.joint_bones(armature)}
    # 1. a changed limit
    bones["door_hinge"].spark_joint.stored_upper = 1.0
    # 2. the door's pivot moved 5 cm along X (the door itself stays where it is)
    pivot, _ = joint_frames(original)["door_hinge"]
    panel_object = next(ob for ob in armature.children if ob.name == "door_panel")
    door_rest = blender_scene.rest_matrix(panel_object, armature)
    move_pivot(bpy.context, armature, bones["door_hinge"].name, pivot + [0.05, 0.0, 0.0])
    # 3. a new mesh parented to the drawer's bone
    bpy.ops.mesh.primitive_cube_add(size=0.02, location=(0.0, -0.4, 0.1))
    knob = bpy.context.active_object
    knob.name = "extra_knob"
    drawer_bone = bones["drawer_slide"].name
    knob_world = blender_scene.to_numpy(knob.matrix_world)
    blender_scene.parent_to_bone(knob, armature, drawer_bone, knob_world)
    knob.parent_type = "BONE"

    export_urdf(armature, tmp_path / "edited.urdf")
    edited = read_urdf(tmp_path / "edited" / "edited.urdf")
    door = edited.joint("door_hinge")
    assert door.upper == pytest.approx(1.0, abs=1e-6)
    new_pivot, _ = joint_frames(edited)["door_hinge"]
    np.testing.assert_allclose(new_pivot, pivot + [0.05, 0.0, 0.0], atol=TOL)
    # The door panel did not move at rest.
    panel = [v for v in edited.link("door").visuals if v.name == "door_panel"][0]
    np.testing.assert_allclose(link_poses(edited)["door"] @ panel.origin, door_rest, atol=TOL)
    drawer = edited.link("drawer")
    assert len(drawer.visuals) == len(original.link("drawer").visuals) + 1
    added = [v for v in drawer.visuals if v.name == "extra_knob"][0]
    centre = (link_poses(edited)["drawer"] @ added.origin)[:3, 3] + added.mesh.bounds.mean(axis=0)
    np.testing.assert_allclose(centre, [0.0, -0.4, 0.1], atol=1e-5)
    # The stored inertial is kept unless asked; recomputed, it includes the new knob.
    assert drawer.inertial.mass == pytest.approx(original.link("drawer").inertial.mass)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.spark.export_urdf(filepath=str(tmp_path / "heavier.urdf"), recompute_inertia=True)
    heavier = read_urdf(tmp_path / "heavier" / "heavier.urdf").link("drawer").inertial.mass
    without_knob = compute_inertial(original.link("drawer")).mass
    assert heavier == pytest.approx(without_knob + 0.02**3 * DEFAULT_DENSITY, rel=1e-3)


def test_a_build_that_fails_leaves_nothing_behind(example_cabinet):
    before = (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.collections))
    example_cabinet.link("door").visuals[0].mesh.vertices[0] = [np.nan, 0.0, 0.0]
    with pytest.raises(ValueError):
        blender_scene.build_object(example_cabinet)
    assert (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.collections)) == before


def test_import_of_a_bad_urdf_reports_one_line_and_changes_nothing(tmp_path):
    bad = tmp_path / "bad.urdf"
    bad.write_text(
        '<robot name="r"><link name="a"/><joint name="j" type="fixed">'
        '<parent link="a"/><child link="ghost"/></joint></robot>'
    )
    names = sorted(ob.name for ob in bpy.data.objects)
    with pytest.raises(RuntimeError, match="bad.urdf.*ghost"):
        bpy.ops.spark.import_urdf(filepath=str(bad))
    assert sorted(ob.name for ob in bpy.data.objects) == names


def test_reimport_adds_a_new_collection_and_keeps_the_first(example_urdf):
    first = import_urdf(example_urdf)
    first_name = first.users_collection[0].name
    second = import_urdf(example_urdf)
    assert second.users_collection[0].name != first_name
    assert first_name in bpy.data.collections
    assert len(blender_scene.spark_armatures(bpy.context.scene)) == 2


# --- real URDFs ------------------------------------------------------------------------------
@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize(
    "case", ["StorageFurniture_40147", "Toilet_102703", "TrashCan_102155", "Faucet_1646"]
)
def test_dev_urdf_import_export_import_is_identity(tmp_path, case):
    urdf = SHARED_DATA / case / "object" / "gt.urdf"
    original = read_urdf(urdf)
    armature = import_urdf(urdf)
    export_urdf(armature, tmp_path / f"{case}.urdf")
    exported = read_urdf(tmp_path / case / f"{case}.urdf")
    assert_same_object(original, exported, np.random.default_rng(5))
    assert textured_visuals(exported) == textured_visuals(original)
    bpy.ops.wm.read_homefile(app_template="")
    again = import_urdf(tmp_path / case / f"{case}.urdf")
    assert_same_object(original, blender_scene.read_object(again), np.random.default_rng(6))


def textured_visuals(obj) -> int:
    from spark_blender.core.meshes import texture_image

    return sum(texture_image(v.mesh) is not None for link in obj.links for v in link.visuals)


def test_textures_survive_import_and_export(tmp_path, example_cabinet):
    import trimesh
    from PIL import Image

    from spark_blender.core.meshes import texture_image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, size=(16, 32, 3), dtype=np.uint8)
    panel = example_cabinet.link("door").visuals[0]
    uv = rng.uniform(0.05, 0.95, size=(len(panel.mesh.vertices), 2))
    panel.mesh.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(pixels))
    urdf = write_urdf(example_cabinet, tmp_path / "in")
    before = set(bpy.data.images)
    armature = import_urdf(urdf)
    images = set(bpy.data.images) - before
    assert len(images) == 1 and images.pop().packed_file is not None  # kept in the .blend
    export_urdf(armature, tmp_path / "out.urdf")
    exported = read_urdf(tmp_path / "out" / "out.urdf")
    visual = next(v for v in exported.link("door").visuals if v.name == panel.name)
    image = np.asarray(texture_image(visual.mesh).convert("RGB"))
    np.testing.assert_array_equal(image, pixels)
    # Each exported vertex carries the UV of the original vertex at that position.
    original = {tuple(np.round(p, 6)): t for p, t in zip(panel.mesh.vertices, uv, strict=True)}
    for point, coord in zip(visual.mesh.vertices, visual.mesh.visual.uv, strict=True):
        np.testing.assert_allclose(coord, original[tuple(np.round(point, 6))], atol=1e-6)


@needs_shared
@pytest.mark.shared
@pytest.mark.slow
def test_every_dev_urdf_imports_mirrors_fk_and_exports_a_loadable_urdf(tmp_path):
    """All dev objects: build, FK mirror at a random pose, export, MuJoCo + PyBullet load checks.

    Penetration is a property of the source geometry (some PartNet parts overlap their
    neighbours), so only the load, sweep and FK checks must pass here."""
    from spark_blender.core.simcheck import CheckOptions, check_urdf

    rng = np.random.default_rng(3)
    urdfs = sorted(SHARED_DATA.glob("*/object/gt.urdf"))
    failures = []
    for urdf in urdfs:
        case = urdf.parent.parent.name
        bpy.ops.wm.read_homefile(app_template="")
        obj = read_urdf(urdf)
        # Textures are covered by the identity tests; packing 32 objects' images adds a minute.
        armature = blender_scene.build_object(obj, bpy.context, with_textures=False).armature
        assert_fk_mirror(obj, armature, random_configuration(obj, rng))
        export_urdf(armature, tmp_path / f"{case}.urdf")
        report = check_urdf(
            tmp_path / case / f"{case}.urdf", CheckOptions(steps=3, simulate_steps=20)
        )
        load_errors = [
            f.message for f in report.findings if f.severity == "error" and f.check != "penetration"
        ]
        if load_errors:
            failures.append(f"{case}: {load_errors}")
    assert not failures, "\n".join(failures)
    assert len(urdfs) >= 30


def test_workbench_preview_shows_the_pose_and_restores_the_scene_settings(tmp_path, example_urdf):
    from PIL import Image

    from spark_blender.blender.preview import render_workbench

    armature = import_urdf(example_urdf)
    scene = bpy.context.scene
    before = (scene.render.engine, scene.render.resolution_x, scene.camera.name)
    cameras = len(bpy.data.cameras)
    closed = render_workbench(armature, tmp_path / "closed.png", resolution=(96, 72))
    bpy.ops.spark.move_to_limits()
    opened = render_workbench(armature, tmp_path / "open.png", resolution=(96, 72))
    a = np.asarray(Image.open(closed).convert("L"), dtype=float)
    b = np.asarray(Image.open(opened).convert("L"), dtype=float)
    assert a.shape == (72, 96) and a.std() > 5.0  # an object, not an empty frame
    assert np.abs(a - b).mean() > 2.0  # the open door and drawer show
    assert (scene.render.engine, scene.render.resolution_x, scene.camera.name) == before
    assert len(bpy.data.cameras) == cameras
