"""What a new user found in the extension, each under the real `bpy` module: a joint type change
swaps the bone's constraint, untouched values export bit-exactly, collections carry the file's
name, visual names survive Blender's ".001" suffixes, joints can be keyframed, and the camera's
principal point survives import and export."""

from __future__ import annotations

import copy
import json
import math
import xml.etree.ElementTree as ET

import pytest

bpy = pytest.importorskip("bpy")

from spark_blender.blender import scene as blender_scene  # noqa: E402
from spark_blender.core.urdf import WriteOptions, read_urdf, write_urdf  # noqa: E402
from tests.conftest import SHARED_DATA, needs_shared  # noqa: E402

_DEFAULTS = {"origin": {"xyz": "0 0 0", "rpy": "0 0 0"}, "axis": {"xyz": "1 0 0"}}


def joint_values(urdf) -> dict[str, dict[str, list[float]]]:
    """Every joint's origin, axis, limit and dynamics numbers as written in the file."""
    out = {}
    for joint in ET.parse(urdf).getroot().iter("joint"):
        values = {"type": joint.get("type")}
        for tag in ("origin", "axis", "limit", "dynamics"):
            element = joint.find(tag)
            attributes = dict(_DEFAULTS.get(tag, {}))
            attributes.update(element.attrib if element is not None else {})
            for key, text in attributes.items():
                values[f"{tag}.{key}"] = [float(v) for v in text.split()]
        out[joint.get("name")] = values
    return out


def visual_names(urdf) -> dict[str, list[str]]:
    root = ET.parse(urdf).getroot()
    return {
        link.get("name"): [v.get("name") for v in link.findall("visual")]
        for link in root.iter("link")
    }


def import_urdf(path) -> bpy.types.Object:
    before = set(bpy.data.objects)
    assert bpy.ops.spark.import_urdf(filepath=str(path)) == {"FINISHED"}
    return next(ob for ob in set(bpy.data.objects) - before if ob.type == "ARMATURE")


def export_urdf(armature, path):
    bpy.context.view_layer.objects.active = armature
    assert bpy.ops.spark.export_urdf(filepath=str(path), overwrite=True) == {"FINISHED"}
    return path.with_suffix("") / path.name


def bone_of(armature, joint_name: str) -> bpy.types.PoseBone:
    return next(
        pb for pb in blender_scene.joint_bones(armature) if pb.spark_joint.joint_name == joint_name
    )


def test_changing_a_joint_type_swaps_the_bones_constraint_and_channel(tmp_path, example_cabinet):
    urdf = write_urdf(example_cabinet, tmp_path / "cabinet")
    armature = import_urdf(urdf)
    revolute = next(j for j in example_cabinet.movable_joints if j.type == "revolute")
    pose_bone = bone_of(armature, revolute.name)
    blender_scene.set_joint_value(pose_bone, 0.5 * revolute.upper)
    pose_bone.spark_joint.joint_type = "prismatic"
    kinds = [c.type for c in pose_bone.constraints]
    assert kinds == ["LIMIT_LOCATION"]
    assert tuple(pose_bone.lock_location) == (True, False, True)
    assert tuple(pose_bone.lock_rotation) == (True, True, True)
    assert tuple(pose_bone.rotation_euler) == (0.0, 0.0, 0.0)  # back at rest
    pose_bone.spark_joint.stored_lower, pose_bone.spark_joint.stored_upper = 0.0, 0.3
    assert blender_scene.set_joint_value(pose_bone, 0.2) == pytest.approx(0.2)
    assert pose_bone.location[1] == pytest.approx(0.2 * pose_bone.spark_joint.sign)
    assert blender_scene.set_joint_value(pose_bone, 0.9) == pytest.approx(0.3)  # clamped
    pose_bone.spark_joint.joint_type = "revolute"
    assert [c.type for c in pose_bone.constraints] == ["LIMIT_ROTATION"]
    assert tuple(pose_bone.location) == (0.0, 0.0, 0.0)
    written = export_urdf(armature, tmp_path / "again.urdf")
    assert joint_values(written)[revolute.name]["type"] == "revolute"


def test_untouched_joint_values_export_bit_exactly(tmp_path, example_cabinet):
    obj = copy.deepcopy(example_cabinet)
    revolute = next(j for j in obj.movable_joints if j.type == "revolute")
    revolute.lower, revolute.upper = -0.1234567890123, math.pi / 2  # not float32 numbers
    revolute.damping, revolute.friction = 0.1, 0.3
    revolute.origin[:3, 3] += (1e-9, 0.123456789012345, 0.0)
    source = write_urdf(obj, tmp_path / "cabinet")
    written = export_urdf(import_urdf(source), tmp_path / "out" / "cabinet.urdf")
    assert joint_values(written) == joint_values(source)
    assert joint_values(written)[revolute.name]["limit.upper"] == [1.5707963267948966]


def test_edited_joint_values_are_written(tmp_path, example_cabinet):
    source = write_urdf(example_cabinet, tmp_path / "cabinet")
    armature = import_urdf(source)
    revolute = next(j for j in example_cabinet.movable_joints if j.type == "revolute")
    bone_of(armature, revolute.name).spark_joint.stored_upper = 1.25
    written = export_urdf(armature, tmp_path / "out" / "cabinet.urdf")
    assert joint_values(written)[revolute.name]["limit.upper"][0] == pytest.approx(1.25, abs=1e-6)


def test_the_collection_is_named_after_the_file(tmp_path, example_cabinet):
    obj = copy.deepcopy(example_cabinet)
    obj.name = "partnet_5403ad16abe0aa86dd9b060ffea52391"
    folder = tmp_path / "kitchen_cabinet"
    urdf = write_urdf(obj, folder)
    armature = import_urdf(urdf)
    assert armature.users_collection[0].name == urdf.stem
    assert armature.spark.object_name == obj.name  # the robot name is kept for the export


def test_repeated_visual_names_come_back_without_blender_suffixes(tmp_path, example_cabinet):
    obj = copy.deepcopy(example_cabinet)
    base = obj.link("base")
    for visual in base.visuals[:3]:
        visual.name = "base_body"  # as PartNet names the pieces of one part
    core = write_urdf(obj, tmp_path / "core" / "cabinet")  # the writer's unique names
    armature = blender_scene.build_object(obj, bpy.context, name="cabinet").armature
    names = sorted(ob.name for ob in armature.children_recursive if ob.name.startswith("base_b"))
    assert names[:3] == ["base_body", "base_body.001", "base_body.002"]
    written = export_urdf(armature, tmp_path / "out" / "cabinet.urdf")
    assert visual_names(written) == visual_names(core)
    assert not any("." in name for names in visual_names(written).values() for name in names)


def test_joints_can_be_keyframed_and_play_back(example_urdf):
    armature = import_urdf(example_urdf)
    scene = bpy.context.scene
    bones = blender_scene.joint_bones(armature)
    far = {pb.name: blender_scene.far_limit(pb) for pb in bones}
    scene.frame_set(1)
    blender_scene.set_configuration(armature, {pb.spark_joint.joint_name: 0.0 for pb in bones})
    bpy.context.view_layer.objects.active = armature
    assert bpy.ops.spark.keyframe_joints() == {"FINISHED"}
    scene.frame_set(20)
    for pose_bone in bones:
        blender_scene.set_joint_value(pose_bone, far[pose_bone.name])
    assert bpy.ops.spark.keyframe_joints() == {"FINISHED"}
    scene.frame_set(1)
    for pose_bone in bones:
        assert blender_scene.get_joint_value(pose_bone) == pytest.approx(0.0, abs=1e-6)
    scene.frame_set(20)
    for pose_bone in bones:
        value = blender_scene.get_joint_value(pose_bone)
        assert value == pytest.approx(far[pose_bone.name], abs=1e-5)
        slider = "distance" if pose_bone.spark_joint.joint_type == "prismatic" else "angle"
        assert getattr(pose_bone.spark_joint, slider) == pytest.approx(value, abs=1e-6)
    assert armature.animation_data.action is not None


def test_the_principal_point_survives_import_and_export(tmp_path, example_cabinet):
    camera = {
        "width": 640,
        "height": 480,
        "fx": 700.0,
        "fy": 700.0,
        "cx": 300.0,
        "cy": 260.0,
        "cam_to_world": [[1, 0, 0, 0.1], [0, 0, -1, -2.0], [0, 1, 0, 0.5], [0, 0, 0, 1]],
    }
    extra = {"camera.json": json.dumps(camera).encode()}
    urdf = write_urdf(example_cabinet, tmp_path / "in", WriteOptions(extra_files=extra))
    armature = import_urdf(urdf)
    cam = next(ob for ob in armature.children if ob.spark.role == "CAMERA")
    assert cam.data.shift_x == pytest.approx((320.0 - 300.0) / 640, abs=1e-6)
    assert cam.data.shift_y == pytest.approx((260.0 - 240.0) / 640, abs=1e-6)
    export_urdf(armature, tmp_path / "out.urdf")
    written = json.loads((tmp_path / "out" / "camera.json").read_text())
    for key in ("fx", "fy", "cx", "cy"):
        assert written[key] == camera[key]  # untouched: the file's numbers
    cam.data.shift_x = 0.0  # the artist re-centres the view: the export follows
    export_urdf(armature, tmp_path / "out.urdf")
    written = json.loads((tmp_path / "out" / "camera.json").read_text())
    assert written["cx"] == pytest.approx(320.0, abs=1e-3)
    assert written["cy"] == pytest.approx(260.0, abs=1e-3)
    assert written["fx"] == pytest.approx(700.0, rel=1e-6)


@needs_shared
def test_every_dev_urdf_exports_its_untouched_joint_values_bit_exactly(tmp_path):
    """Blender import -> export writes each joint's numbers as the core writer does from the
    same file: the same doubles, no single-precision noise."""
    urdfs = sorted(SHARED_DATA.glob("*/object/gt.urdf"))
    differences = []
    for urdf in urdfs:
        case = urdf.parent.parent.name
        bpy.ops.wm.read_homefile(app_template="")
        obj = read_urdf(urdf)
        core = write_urdf(obj, tmp_path / "core" / case, WriteOptions(collision="keep"))
        built = blender_scene.build_object(obj, bpy.context, with_textures=False, name=case)
        obj_from_scene = blender_scene.read_object(built.armature)
        obj_from_scene.name = obj.name
        keep = WriteOptions(collision="keep")
        out = write_urdf(obj_from_scene, tmp_path / "blender" / case, keep)
        stated = joint_values(
            urdf
        )  # what the file says (derived values, e.g. sized damping, aside)
        want, got = joint_values(core), joint_values(out)
        for name, values in want.items():
            for key, value in values.items():
                if key not in stated[name]:
                    continue
                if got.get(name, {}).get(key) != value:
                    differences.append(f"{case} {name} {key}: {value} -> {got[name].get(key)}")
    assert not differences, "\n".join(differences[:20])
    assert len(urdfs) >= 30
