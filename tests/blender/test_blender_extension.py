"""The extension package: the manifest passes Blender's own validator, the build script makes
zips that validate, and a zip installs and registers in Blender (the `bpy` module).

No wheel is downloaded here: `--no-download` bundles only this package's own wheel (built from
the working tree); the release build adds the platform wheels the same way."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("bpy")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import build_extension  # noqa: E402

BUILDER = build_extension.extension_builder()


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BUILDER), "validate", str(path)], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("extension")
    build_extension.main(
        ["--no-download", "--out", str(root / "dist"), "--stage", str(root / "stage")]
        + ["--wheels", str(root / "wheels")]
    )
    zips = {p.stem.rsplit("-", 1)[1]: p for p in (root / "dist").glob("spark_blender-*.zip")}
    return {"stage": root / "stage", **zips}


def test_manifest_declares_id_version_and_honest_permissions():
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    assert manifest["schema_version"] == "1.0.0" and manifest["id"] == "spark_blender"
    assert manifest["blender_version_min"] == "4.2.0" and manifest["type"] == "add-on"
    assert set(manifest["permissions"]) == {"files", "network"}
    assert "OpenAI" in manifest["permissions"]["network"]


def test_staged_extension_and_every_zip_pass_blenders_validator(built):
    assert set(built) == {"stage", "linux_x64", "windows_x64", "macos_arm64"}
    for path in built.values():
        result = validate(path)
        assert result.returncode == 0 and "Success" in result.stdout, result.stdout + result.stderr


def test_validator_rejects_a_broken_manifest(built, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("")
    text = (built["stage"] / "blender_manifest.toml").read_text()
    (broken / "blender_manifest.toml").write_text(
        text.replace('id = "spark_blender"', 'id = "x y"')
    )
    result = validate(broken)
    assert result.returncode != 0 and "id" in result.stdout + result.stderr


def test_zip_holds_the_entry_manifest_and_wheels_and_no_repository_clutter(built):
    with zipfile.ZipFile(built["linux_x64"]) as archive:
        names = archive.namelist()
        manifest = tomllib.loads(archive.read("blender_manifest.toml").decode())
    assert "__init__.py" in names
    generated = manifest["build"]["generated"]  # what the builder wrote for this platform
    assert generated["platforms"] == ["linux-x64"]
    assert any(w.startswith("./wheels/spark_blender-") for w in generated["wheels"])
    assert all(not n.startswith(("tests/", "docs/", ".venv/")) for n in names)


def test_bundled_requirements_carry_torch_and_leave_numpy_to_blender():
    requirements = build_extension.requirements()
    names = {build_extension._name(r) for r in requirements}
    assert {"torch", "trimesh", "openai"} <= names and "numpy" not in names
    assert "torch==2.13.0" in requirements


def test_zip_installs_and_registers_in_blender(built, tmp_path, example_urdf):
    """Install the zip through Blender's extension system into a private user folder."""
    script = textwrap.dedent(
        f"""
        import bpy, sys
        r = bpy.ops.extensions.package_install_files(
            filepath={str(built["linux_x64"])!r}, repo="user_default", enable_on_install=True)
        assert r == {{"FINISHED"}}, r
        import spark_blender
        from spark_blender.blender.prefs import settings
        assert "/extensions/" in spark_blender.__file__, spark_blender.__file__
        addon = "bl_ext.user_default.spark_blender"
        assert addon in bpy.context.preferences.addons.keys()
        assert bpy.context.preferences.addons[addon].preferences.device == "cpu"
        bpy.context.preferences.addons[addon].preferences.device = "cuda"
        assert settings().device == "cuda"
        assert bpy.ops.spark.import_urdf(filepath={str(example_urdf)!r}) == {{"FINISHED"}}
        import addon_utils
        addon_utils.disable(addon)
        assert not [n for n in dir(bpy.types) if n.startswith("SPARK")]
        print("INSTALLED-OK")
        """
    )
    env = {"BLENDER_USER_RESOURCES": str(tmp_path / "blender_user"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert "INSTALLED-OK" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]


def test_extension_entry_is_importable_without_blender():
    spec = importlib.util.spec_from_file_location(
        "entry", REPO / "spark_blender" / "blender" / "extension_entry.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.register) and callable(module.unregister)
