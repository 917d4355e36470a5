"""Build the Blender extension zips: one per platform, each carrying every wheel it needs.

    python scripts/build_extension.py                    # linux-x64, windows-x64, macos-arm64
    python scripts/build_extension.py --platform linux-x64
    python scripts/build_extension.py --torch-index ""   # the CPU torch from pip's own sources
    python scripts/build_extension.py --no-download      # only this package's own wheel (dev)

Steps: build this package's wheel; `pip download --only-binary=:all: --python-version 3.11
--platform ...` the runtime, ML and VLM dependencies for each platform into `wheels/<platform>/`
(a fresh download each time, so a stale wheel never ends up in a zip; files already there are
reused); stage `build/extension/` with the manifest (its `platforms` and `wheels` filled in), the
extension entry (`spark_blender/blender/extension_entry.py` as `__init__.py`), `wheels/` and
`models/`; validate it and build one zip per platform with the extension builder that ships
inside Blender (or the `bpy` wheel), then validate every zip. `wheels/` and `build/` are not
committed.

What is bundled: the core's dependencies and the `ml` and `vlm` extras. numpy is left out
(Blender ships it; a second copy would shadow Blender's). The `sim` extra is not bundled: the
extension never runs the sim checks, and pybullet has no binary wheels for these platforms.

torch, per platform (`TORCH`): every zip carries torch 2.13.0, the build the project is tested
with, and always a CPU build (the preferences' worker interpreter is the route to CUDA):
- linux-x64: `torch==2.13.0+cpu`. PyPI's Linux torch is the CUDA build (plus gigabytes of
  nvidia-* wheels), so the CPU build is pinned by its local version label and fetched from the
  PyTorch CPU index (`--torch-index`, default below). Where that index is unreachable, pass
  `--torch-index ""` and pip takes the wheel from its own configured sources (a find-links
  folder holding `torch-2.13.0+cpu-cp311-...-manylinux_2_28_x86_64.whl`); the `+cpu` pin makes
  the build fail rather than bundle a CUDA torch.
- windows-x64, macos-arm64: `torch==2.13.0` from PyPI, whose wheels for these platforms are the
  CPU builds (Apple's GPU through MPS on macOS). The pin is inside the `ml` extra's range.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON_VERSION = "3.11"
# Blender platform -> pip platform tags (newest first is not required: pip accepts any listed).
PLATFORMS = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"],
    "windows-x64": ["win_amd64"],
    "macos-arm64": [f"macosx_{v}_0_arm64" for v in (14, 13, 12, 11)],
}
# pip evaluates environment markers (`colorama; platform_system == "Windows"`, torch's
# `cuda-toolkit; platform_system == "Linux"`) against the machine it runs on, even with
# --platform: a build on Linux would put CUDA wheels in the Windows zip and leave colorama out.
# So pip runs with the target's marker values (PIP_FOR_TARGET).
MARKERS = {
    "linux-x64": dict(sys_platform="linux", platform_system="Linux", platform_machine="x86_64"),
    "windows-x64": dict(sys_platform="win32", platform_system="Windows", platform_machine="AMD64"),
    "macos-arm64": dict(sys_platform="darwin", platform_system="Darwin", platform_machine="arm64"),
}
OS_NAME = {"windows-x64": "nt"}  # os.name; "posix" elsewhere
PIP_FOR_TARGET = """
import json, sys
from pip._vendor.packaging import markers
target = json.loads(sys.argv.pop(1))
host = markers.default_environment
markers.default_environment = lambda: {**host(), **target}
from pip._internal.cli.main import main
sys.exit(main())
"""
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
BUNDLED_EXTRAS = ("ml", "vlm")  # the worker runs the pipeline: torch, diffusers, openai...
LEFT_OUT = {"numpy"}  # Blender ships numpy; a second copy would shadow it
TORCH_VERSION = "2.13.0"  # the build the project is tested with (scripts/setup.sh)
TORCH = {  # the CPU build on every platform; see the module docstring
    "linux-x64": f"torch=={TORCH_VERSION}+cpu",
    "windows-x64": f"torch=={TORCH_VERSION}",
    "macos-arm64": f"torch=={TORCH_VERSION}",
}


def requirements(platform: str, pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """Runtime requirements of the extension on `platform`: the core's and the bundled extras',
    torch pinned to that platform's CPU build."""
    project = tomllib.loads(pyproject.read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in BUNDLED_EXTRAS:
        wanted += project.get("optional-dependencies", {}).get(extra, [])
    pinned = {"torch": TORCH[platform]}
    return [pinned.get(_name(r), r) for r in wanted if _name(r) not in LEFT_OUT]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _wheel_name(path: Path) -> str:
    return path.name.split("-")[0].lower().replace("_", "-")


def extension_builder() -> Path:
    """blender_ext.py from the bpy wheel (or a Blender install) on this interpreter."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        sys.exit("build_extension: needs the bpy module (pip install '.[blender]') or --builder")
    root = Path(spec.origin).resolve().parent
    found = sorted(root.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        sys.exit(f"build_extension: no blender_ext.py under {root}")
    return found[-1]


def build_own_wheel(wheels: Path) -> Path:
    wheels.mkdir(parents=True, exist_ok=True)
    for old in wheels.glob("spark_blender-*.whl"):
        old.unlink()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w"]
        + [str(wheels), str(REPO)],
        check=True,
    )
    return next(wheels.glob("spark_blender-*.whl"))


def pip_download(platform: str, wanted: list[str], dest: Path, *options: str) -> None:
    """`pip download` the binary wheels of `wanted` for `platform` (and its environment
    markers) into `dest`; `options` go to pip as they are (indexes, find-links)."""
    environment = {**MARKERS[platform], "os_name": OS_NAME.get(platform, "posix")}
    command = [sys.executable, "-c", PIP_FOR_TARGET, json.dumps(environment), "download"]
    command += ["--only-binary=:all:", "--python-version", PYTHON_VERSION]
    command += ["--implementation", "cp", "-d", str(dest), *options]
    for tag in PLATFORMS[platform]:
        command += ["--platform", tag]
    subprocess.run(command + wanted, check=True)


def download_wheels(platform: str, wheels: Path, torch_index: str = TORCH_CPU_INDEX) -> list[Path]:
    """Every wheel the requirements need on `platform` (numpy removed), in `wheels/<platform>/`.

    pip downloads into a fresh folder that replaces the old one, so the folder holds exactly this
    resolution; wheels already in the old folder are offered to pip (find-links) and reused.
    """
    target = wheels / platform
    fresh = wheels / f"{platform}.partial"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    options = ["--find-links", str(target)] if target.is_dir() else []
    if platform == "linux-x64" and torch_index:  # where torch==X+cpu lives
        options += ["--extra-index-url", torch_index]
    pip_download(platform, requirements(platform), fresh, *options)
    shutil.rmtree(target, ignore_errors=True)
    fresh.rename(target)
    kept = []
    for wheel in sorted(target.glob("*.whl")):
        if _wheel_name(wheel) in LEFT_OUT:
            wheel.unlink()
        else:
            kept.append(wheel)
    return kept


def stage(stage_dir: Path, wheels: list[Path], platforms: list[str]) -> Path:
    """The extension's source folder: manifest, entry, wheels, models."""
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    (stage_dir / "wheels").mkdir(parents=True)
    shutil.copy2(
        REPO / "spark_blender" / "blender" / "extension_entry.py", stage_dir / "__init__.py"
    )
    names = []
    for wheel in wheels:
        if wheel.name not in names:
            shutil.copy2(wheel, stage_dir / "wheels" / wheel.name)
            names.append(wheel.name)
    if (REPO / "models").is_dir():
        shutil.copytree(REPO / "models", stage_dir / "models")
    manifest = (REPO / "blender_manifest.toml").read_text()
    listing = ",\n".join(f'  "./wheels/{name}"' for name in sorted(names))
    generated = f"\nplatforms = {platforms!r}\nwheels = [\n{listing},\n]\n".replace("'", '"')
    # The generated keys must sit before the first [table] of the manifest.
    head, table, rest = manifest.partition("\n[")
    (stage_dir / "blender_manifest.toml").write_text(head + "\n" + generated + table + rest)
    return stage_dir


def run_builder(builder: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(builder), *args], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS))
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="where the zips go")
    parser.add_argument("--wheels", type=Path, default=REPO / "wheels", help="wheel cache")
    parser.add_argument("--stage", type=Path, default=REPO / "build" / "extension")
    parser.add_argument(
        "--no-download", action="store_true", help="bundle only this package's wheel (dev)"
    )
    parser.add_argument("--builder", type=Path, help="blender_ext.py to use")
    parser.add_argument(
        "--torch-index",
        default=TORCH_CPU_INDEX,
        help="extra index holding the Linux CPU torch ('' = only pip's configured sources)",
    )
    args = parser.parse_args(argv)
    platforms = args.platform or list(PLATFORMS)
    builder = args.builder or extension_builder()
    wheels = [build_own_wheel(args.wheels)]
    if not args.no_download:
        for platform in platforms:
            wheels += download_wheels(platform, args.wheels, args.torch_index)
    source = stage(args.stage, wheels, platforms)
    run_builder(builder, "validate", str(source))
    args.out.mkdir(parents=True, exist_ok=True)
    run_builder(
        builder,
        "build",
        "--source-dir",
        str(source),
        "--output-dir",
        str(args.out),
        "--split-platforms",
    )
    for zip_path in sorted(args.out.glob("spark_blender-*.zip")):
        run_builder(builder, "validate", str(zip_path))
        print(f"built {zip_path} ({zip_path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
