"""The extension package: the manifest passes Blender's own validator, the build script makes
zips that validate, and a zip installs and registers in Blender (the `bpy` module).

No wheel is downloaded here: `--no-download` bundles only this package's own wheel (built from
the working tree); the release build adds the platform wheels the same way. A release zip built
beforehand is checked when SPARK_RELEASE_ZIP names it (about a minute; skipped otherwise)."""

from __future__ import annotations

import importlib.util
import json
import os
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


def test_bundled_requirements_carry_cpu_torch_and_leave_numpy_to_blender():
    expected_torch = {
        "linux-x64": "torch==2.13.0+cpu",  # PyPI's Linux torch is the CUDA build
        "windows-x64": "torch==2.13.0",  # PyPI's wheels here are the CPU builds
        "macos-arm64": "torch==2.13.0",
    }
    for platform, torch in expected_torch.items():
        requirements = build_extension.requirements(platform)
        names = {build_extension._name(r) for r in requirements}
        assert {"torch", "trimesh", "openai", "diffusers"} <= names and "numpy" not in names
        assert torch in requirements, (platform, requirements)


def _wheel(folder: Path, name: str, requires: list[str]) -> None:
    """A minimal pure-Python wheel declaring `requires` (enough for `pip download`)."""
    dist = f"{name}-1.0.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    wheel = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    with zipfile.ZipFile(folder / f"{name}-1.0-py3-none-any.whl", "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(f"{dist}/METADATA", metadata)
        archive.writestr(f"{dist}/WHEEL", wheel)
        archive.writestr(f"{dist}/RECORD", "")


def test_downloads_follow_the_target_platforms_markers_not_the_build_machines(tmp_path):
    """pip alone evaluates `; platform_system == ...` on the machine it runs on; the build must
    resolve each zip's dependencies as that platform would (local wheels, no network)."""
    local = tmp_path / "local"
    local.mkdir()
    _wheel(
        local, "app", ['winonly; platform_system == "Windows"', 'maconly; sys_platform == "darwin"']
    )
    _wheel(local, "winonly", [])
    _wheel(local, "maconly", [])
    got = {}
    for platform in ("linux-x64", "windows-x64", "macos-arm64"):
        dest = tmp_path / platform
        build_extension.pip_download(
            platform, ["app"], dest, "--no-index", "--find-links", str(local), "-q"
        )
        got[platform] = sorted(build_extension._wheel_name(w) for w in dest.glob("*.whl"))
    assert got == {
        "linux-x64": ["app"],
        "windows-x64": ["app", "winonly"],
        "macos-arm64": ["app", "maconly"],
    }


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


# --- a release zip (opt-in: SPARK_RELEASE_ZIP=dist/spark_blender-0.1.0-linux_x64.zip) -------------
RELEASE_ZIP = os.environ.get("SPARK_RELEASE_ZIP", "")
BLENDER_SHIPS = ("bpy", "numpy", "requests", "urllib3", "idna", "certifi", "charset_normalizer")
RELEASE_PROBE = r"""
import importlib, json, os, subprocess, sys
from pathlib import Path
import bpy

zip_path, work = sys.argv[1], Path(sys.argv[2])
report = {}
report["install"] = sorted(bpy.ops.extensions.package_install_files(
    filepath=zip_path, repo="user_default", enable_on_install=True))
bundled = os.path.join(".local", "lib", "python3.11", "site-packages")
site = next(p for p in sys.path if p.endswith(bundled))
report["site"], report["sys_path"] = site, sys.path
report["files"] = {n: importlib.import_module(n).__file__ for n in
                   ("spark_blender", "scipy", "trimesh", "lxml", "yourdfpy", "PIL", "numpy")}

from spark_blender.core.kinematics import link_poses, random_configuration
from spark_blender.core.urdf import WriteOptions, read_urdf, write_urdf
from spark_blender.examples import example_cabinet
import numpy as np
obj = read_urdf(write_urdf(example_cabinet(), work / "cabinet"))
back = read_urdf(write_urdf(obj, work / "again", WriteOptions(collision="keep")))
config = random_configuration(obj, np.random.default_rng(0))
a, b = link_poses(obj, config), link_poses(back, config)
report["fk_error"] = max(float(np.abs(a[k] - b[k]).max()) for k in a)
cabinet = work / "cabinet" / "example_cabinet.urdf"
report["import_urdf"] = sorted(bpy.ops.spark.import_urdf(filepath=str(cabinet)))

from spark_blender.blender.worker import WorkerClient, worker_command
state = WorkerClient("load_urdf", {"urdf": str(work / "again" / "example_cabinet.urdf"),
                                   "out": str(work / "from_worker")}).start().wait(timeout=120)
report["worker"] = [state.status, state.result, state.error]

# The ML stack, loaded the way the worker loads it (Blender's Python + the bundled packages).
probe = (
    "import sys; sys.path.append(sys.argv[1])\n"
    "import json, torch, diffusers, transformers, openai\n"
    "from diffusers import FlowMatchEulerDiscreteScheduler as S\n"
    "s = S(); s.set_timesteps(4); x = torch.ones(8, 8)\n"
    "print(json.dumps({'torch': torch.__version__, 'sum': float((x @ x).sum()),\n"
    "  'steps': len(s.timesteps),\n"
    "  'files': [m.__file__ for m in (torch, diffusers, transformers, openai)]}))"
)
command = worker_command()
done = subprocess.run([command[0], "-c", probe, command[-1]], capture_output=True, text=True)
report["ml"] = json.loads(done.stdout) if done.returncode == 0 else done.stderr[-2000:]
print("REPORT " + json.dumps(report))
"""


@pytest.mark.skipif(not RELEASE_ZIP, reason="set SPARK_RELEASE_ZIP to a built linux-x64 zip")
def test_release_zip_runs_on_its_bundled_wheels_alone(tmp_path):
    """Install a release zip into Blender whose Python has only what Blender ships (no venv
    packages), then run the core, the URDF import and the load_urdf worker job, and load the
    ML stack: everything but numpy must come from the zip's wheels."""
    blender_python = _blender_like_python(tmp_path / "blender_python")
    (tmp_path / "work").mkdir()
    result = subprocess.run(
        [str(blender_python), "-c", RELEASE_PROBE, RELEASE_ZIP, str(tmp_path / "work")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "BLENDER_USER_RESOURCES": str(tmp_path / "user")},
        timeout=600,
    )
    lines = [x for x in result.stdout.splitlines() if x.startswith("REPORT ")]
    assert lines, result.stdout[-2000:] + result.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT ") :])
    site = report["site"]
    assert report["install"] == ["FINISHED"] and report["import_urdf"] == ["FINISHED"]
    assert not [p for p in report["sys_path"] if str(REPO) in p or ".venv" in p]
    numpy_file = report["files"].pop("numpy")
    assert numpy_file.startswith(str(blender_python.parent.parent)), numpy_file
    assert all(f.startswith(site) for f in report["files"].values()), report["files"]
    assert report["fk_error"] < 1e-9
    status, answer, error = report["worker"]
    assert status == "finished" and Path(answer["urdf"]).is_file(), error
    assert isinstance(report["ml"], dict), report["ml"]
    assert report["ml"]["torch"].startswith("2.13.0") and report["ml"]["sum"] == 512.0
    assert report["ml"]["steps"] == 4
    assert all(f.startswith(site) for f in report["ml"]["files"]), report["ml"]["files"]


def _blender_like_python(folder: Path) -> Path:
    """A Python with Blender's bundled modules only: a bare venv, then links to `bpy`, numpy and
    the few other packages Blender ships, taken from this interpreter."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = folder / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    for name in BLENDER_SHIPS:
        spec = importlib.util.find_spec(name)
        source = Path(spec.origin).parent
        (site / name).symlink_to(source)
        for extra in source.parent.glob(f"{name}[.-]*"):  # numpy.libs, *.dist-info
            (site / extra.name).symlink_to(extra)
    return folder / "bin" / "python"
