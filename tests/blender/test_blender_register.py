"""register() / unregister() leave Blender exactly as found, and a second register works."""

from __future__ import annotations

import pytest

bpy = pytest.importorskip("bpy")

import spark_blender  # noqa: E402


def blender_state() -> dict:
    """What SPARK can add to Blender: types, properties, operators, menu entries."""
    menus = (bpy.types.TOPBAR_MT_file_import, bpy.types.TOPBAR_MT_file_export)
    return {
        "types": sorted(name for name in dir(bpy.types) if name.startswith("SPARK")),
        "ops": sorted(dir(bpy.ops.spark)),
        "props": [
            hasattr(owner, name)
            for owner, name in (
                (bpy.types.Scene, "spark"),
                (bpy.types.Object, "spark"),
                (bpy.types.PoseBone, "spark_joint"),
                (bpy.types.Material, "spark_density"),
            )
        ],
        "handlers": sorted(getattr(h, "__module__", "") for h in bpy.app.handlers.load_post),
        "menus": [
            sorted(getattr(f, "__module__", "") for f in getattr(m.draw, "_draw_funcs", []))
            for m in menus
        ],
    }


def test_register_unregister_register_leaves_blender_as_found(example_urdf):
    registered = blender_state()
    spark_blender.unregister()
    found = blender_state()
    assert found["types"] == [] and found["props"] == [False] * 4
    assert found["ops"] == []
    assert all("spark_blender.blender.menus" not in m for m in found["menus"])
    assert "spark_blender.blender" not in found["handlers"]
    spark_blender.register()
    assert blender_state() == registered
    assert "SPARK_PT_joints" in registered["types"] and all(registered["props"])
    assert all("spark_blender.blender.menus" in m for m in registered["menus"])
    spark_blender.unregister()
    assert blender_state() == found
    spark_blender.register()
    assert bpy.ops.spark.import_urdf(filepath=str(example_urdf)) == {"FINISHED"}


def test_import_spark_blender_needs_no_bpy():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['bpy'] = None; import spark_blender, spark_blender.worker; "
        "import spark_blender.blender.worker; print(spark_blender.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == spark_blender.__version__


def test_panels_draw_without_errors(example_urdf):
    """Every panel's draw() runs against the real context and names only real properties."""
    from spark_blender.blender import panels

    bpy.ops.spark.import_urdf(filepath=str(example_urdf))
    bpy.context.scene.spark.job_running = True  # also draw the progress bar and Cancel
    bpy.context.scene.spark.last_error = "a long error message " * 4
    armature = bpy.context.view_layer.objects.active
    with bpy.context.temp_override(active_pose_bone=armature.pose.bones[0]):
        for panel_class in panels.CLASSES:
            assert not hasattr(panel_class, "poll") or panel_class.poll(bpy.context)
            layout = RecordingLayout()
            panel_class.draw(PanelStandIn(layout), bpy.context)
            assert layout.calls, panel_class.__name__


class RecordingLayout:
    """Stands in for UILayout (a real one needs a window region, absent under bpy)."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append(name)
            if name == "prop":
                assert hasattr(args[0], args[1]), f"no property '{args[1]}'"
            if name == "operator":
                assert args[0].split(".")[1] in dir(bpy.ops.spark), args[0]
            return self

        return call


class PanelStandIn:
    def __init__(self, layout):
        self.layout = layout


def test_a_file_saved_during_a_job_opens_with_no_job_running(tmp_path):
    bpy.context.scene.spark.job_running = True
    path = tmp_path / "saved_mid_job.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    assert not bpy.context.scene.spark.job_running
