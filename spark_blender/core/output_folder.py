"""The output-folder contract every writer shares (URDF, MJCF, parse results, synth datasets).

A writer never works in its target: `staged_folder` checks the target before any work (a name,
not a file or a device, not the current folder or one above it, a parent that can be written,
an old folder that can be replaced), hands out a hidden sibling folder to write into, and
renames it onto the target on success. On any exception, Ctrl-C, SIGTERM or SIGHUP the staged
folder is removed and a folder it was about to replace is put back. Problems are one
`OutputFolderError` line naming the folder.

`write_output_folder` is the shared path of the model formats: validate the object, stage,
write the meshes, the document, the extra files, rename. `prepare_for_export` gives the object
the collisions, inertials and joint dynamics (``core.dynamics``) every written file carries.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from lxml import etree

from spark_blender.core.dynamics import DYNAMICS_MODES, with_joint_dynamics
from spark_blender.core.meshes import (
    TextureStore,
    compute_inertial,
    convex_decomposition,
    convex_hull,
    write_obj,
)
from spark_blender.core.model import (
    ArticulatedObject,
    Collision,
    Inertial,
    Link,
    Material,
    ModelError,
)

COLLISION_MODES = ("auto", "hull", "coacd", "keep")
CLEANUP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class OutputFolderError(ValueError):
    """An output folder cannot be written; the message names the folder and the problem."""


@dataclass
class WriteOptions:
    collision: str = "auto"  # auto: keep a link's collisions, hull its visuals when it has none
    recompute_inertia: bool = False  # True: replace every inertial by one from the geometry
    overwrite: bool = False
    extra_files: dict[str, bytes] = field(default_factory=dict)  # e.g. camera.json, preview.png
    dynamics: str = "auto"  # auto: size unset joint damping/friction; keep: write as given


# --- the target ----------------------------------------------------------------------------------
def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a folder"


def check_output_target(target: str | os.PathLike, overwrite: bool = False) -> Path:
    """Raise `OutputFolderError` (or FileExistsError) unless `target` can become the output
    folder; returns it as a Path. Cheap: it runs before any work."""
    text = os.fspath(target)
    if not text.strip():
        raise OutputFolderError("the output folder name is empty")
    target = Path(text)
    absolute = Path(os.path.abspath(target))
    cwd = Path.cwd()
    if absolute == cwd or absolute in cwd.parents:
        raise OutputFolderError(
            f"output folder '{text}' is the current folder or one above it; name a new folder"
        )
    if absolute == Path(absolute.anchor):
        raise OutputFolderError(f"output folder '{text}' is the file-system root")
    try:
        info = target.stat()
    except (FileNotFoundError, NotADirectoryError):  # the parents' walk below says which
        info = None
    except OSError as exc:
        raise OutputFolderError(f"output folder '{text}': {exc.strerror}") from None
    if info is not None:
        if not stat.S_ISDIR(info.st_mode):
            raise OutputFolderError(f"output folder '{text}' is {_kind(info.st_mode)}")
        if any(target.iterdir()):
            if not overwrite:
                raise FileExistsError(f"output folder '{text}' exists and is not empty")
            _check_removable(target, text)
    parent = absolute.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputFolderError(
            f"output folder '{text}' cannot be made: '{parent}' is {_kind(parent.stat().st_mode)}"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputFolderError(f"output folder '{text}' cannot be made: '{parent}' is read-only")
    return target


def _check_removable(target: Path, text: str) -> None:
    """An old folder can be replaced only if every folder in it can be emptied."""
    for folder, _, _ in os.walk(target):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputFolderError(
                f"output folder '{text}' cannot be replaced: '{folder}' is read-only"
            )


# --- staging -------------------------------------------------------------------------------------
class _Interrupted(BaseException):
    """Raised by the signal handler so the `with` block unwinds and cleans up."""

    def __init__(self, signum: int):
        super().__init__(f"signal {signum}")
        self.signum = signum


class staged_folder:
    """Context manager: a hidden sibling folder renamed onto `target` only on success.

    On failure or a signal nothing is left: the staged folder is removed, folders made for the
    target's parents are removed again, and a replaced folder is restored. A SIGTERM/SIGHUP
    received while staging ends the process with the signal's usual status after the cleanup.
    """

    def __init__(self, target: str | os.PathLike, overwrite: bool):
        self.target = Path(target)
        self.overwrite = overwrite
        self.made: list[Path] = []
        self.handlers: dict[int, object] = {}

    def __enter__(self) -> Path:
        check_output_target(self.target, self.overwrite)
        self._install_handlers()
        try:
            self._make_parents()
            try:
                self.stage = Path(
                    tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent)
                )
            except OSError as exc:
                raise OutputFolderError(f"output folder '{self.target}': {exc.strerror}") from None
        except BaseException:
            self._remove_parents()
            self._restore_handlers()
            raise
        return self.stage

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is not None:
                self._abandon()
            else:
                self._commit()
        finally:
            owner = bool(self.handlers)
            self._restore_handlers()
        if isinstance(value, _Interrupted) and owner:
            signal.signal(value.signum, signal.SIG_DFL)
            os.kill(os.getpid(), value.signum)  # end as the signal would have, all clean now

    def _commit(self) -> None:
        blocked = _block_signals()  # the two renames are not interrupted half-way
        old = None
        try:
            if self.target.is_dir() and any(self.target.iterdir()):
                old = self.target.parent / f".{self.target.name}.old.{os.getpid()}.{id(self)}"
                try:
                    os.replace(self.target, old)
                except OSError as exc:
                    self._abandon()
                    raise OutputFolderError(
                        f"output folder '{self.target}' cannot be replaced: {exc.strerror}"
                    ) from None
            try:
                os.replace(self.stage, self.target)
            except OSError as exc:
                if old is not None:
                    os.replace(old, self.target)
                self._abandon()
                raise OutputFolderError(
                    f"output folder '{self.target}' cannot be put in place: {exc.strerror}"
                ) from None
        finally:
            _unblock_signals(blocked)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _abandon(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)
        self._remove_parents()

    def _make_parents(self) -> None:
        missing = []
        parent = self.target.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except OSError as exc:
                raise OutputFolderError(
                    f"output folder '{self.target}' cannot be made: {folder}: {exc.strerror}"
                ) from None
            self.made.append(folder)

    def _remove_parents(self) -> None:
        for folder in reversed(self.made):
            try:
                folder.rmdir()
            except OSError:
                break
        self.made = []

    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only; its own handlers stay
        for signum in CLEANUP_SIGNALS:
            previous = signal.getsignal(signum)
            if previous in (signal.SIG_IGN, _raise_interrupted):
                continue  # ignored, or an outer staged folder already cleans up
            self.handlers[signum] = previous
            signal.signal(signum, _raise_interrupted)

    def _restore_handlers(self) -> None:
        for signum, previous in self.handlers.items():
            signal.signal(signum, previous)
        self.handlers = {}


def _raise_interrupted(signum, frame) -> None:
    raise _Interrupted(signum)


def _block_signals() -> set:
    if not hasattr(signal, "pthread_sigmask"):
        return set()
    wanted = {*CLEANUP_SIGNALS, signal.SIGINT}
    return signal.pthread_sigmask(signal.SIG_BLOCK, wanted)


def _unblock_signals(previous: set) -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# --- the model formats' shared path -----------------------------------------------------------
def write_output_folder(
    obj: ArticulatedObject,
    out_dir: str | os.PathLike,
    options: WriteOptions,
    suffix: str,
    build: Callable[[ArticulatedObject, MeshFiles, Path], etree._Element],
) -> Path:
    """The shared writing path of every format: validate, stage, write meshes, the document
    `build` makes (from the prepared object, its mesh files and the stage folder) and the
    extra files, then rename into place. Returns the document's final path."""
    if options.collision not in COLLISION_MODES:
        raise ValueError(f"collision mode '{options.collision}' is not one of {COLLISION_MODES}")
    if options.dynamics not in DYNAMICS_MODES:
        raise ValueError(f"dynamics mode '{options.dynamics}' is not one of {DYNAMICS_MODES}")
    problems = obj.validate(require_inertia=False, require_rest_in_limits=False)
    if problems:
        raise ModelError(problems)
    out_dir = Path(out_dir)
    check_output_target(out_dir, options.overwrite)
    with staged_folder(out_dir, options.overwrite) as stage:
        prepared = prepare_for_export(obj, options)
        element = build(prepared, export_meshes(prepared, stage), stage)
        document = stage / f"{safe_file_name(obj.name)}{suffix}"
        document.write_bytes(
            etree.tostring(element, pretty_print=True, xml_declaration=True, encoding="utf-8")
        )
        for relative, payload in options.extra_files.items():
            (stage / relative).parent.mkdir(parents=True, exist_ok=True)
            (stage / relative).write_bytes(payload)
    return out_dir / document.name


def safe_file_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".")
    return cleaned or "object"


def prepare_for_export(obj: ArticulatedObject, options: WriteOptions) -> ArticulatedObject:
    """A copy of `obj` with the collisions, inertials and joint dynamics the export carries."""
    moving = set(obj.moving_links())
    links = []
    for link in obj.links:
        collisions = _collisions_for(link, options.collision)
        inertial = link.inertial
        if inertial is None or options.recompute_inertia:
            inertial = compute_inertial(link) or inertial
        if inertial is None and link.name in moving:
            # A moving link with no geometry still needs mass for the simulators.
            inertial = Inertial(mass=1e-3, inertia=np.eye(3) * 1e-7)
        links.append(Link(link.name, link.visuals, collisions, inertial, link.label))
    joints = [replace(j) for j in obj.joints]
    prepared = ArticulatedObject(obj.name, links, joints, obj.category)
    return with_joint_dynamics(prepared, options.dynamics)


def _collisions_for(link: Link, mode: str) -> list[Collision]:
    if mode == "keep" or (mode == "auto" and link.collisions):
        return link.collisions
    collisions = []
    for visual in link.visuals:
        if mode == "coacd":
            hulls = convex_decomposition(visual.mesh)
        else:
            hulls = [convex_hull(visual.mesh)]
        collisions += [Collision(h, visual.origin, visual.name) for h in hulls]
    return collisions


@dataclass
class MeshFiles:
    visuals: dict[tuple[str, int], str] = field(default_factory=dict)
    collisions: dict[tuple[str, int], str] = field(default_factory=dict)


def export_meshes(obj: ArticulatedObject, folder: Path) -> MeshFiles:
    """Write every visual and collision mesh under `folder`/meshes; returns relative paths."""
    meshes = folder / "meshes"
    meshes.mkdir(parents=True, exist_ok=True)
    textures = TextureStore(meshes / "textures")
    files = MeshFiles()
    for link_index, link in enumerate(obj.links):
        stem = f"{link_index:03d}_{safe_file_name(link.name)}"
        for i, visual in enumerate(link.visuals):
            name = f"{stem}_visual_{i}.obj"
            write_obj(meshes / name, visual.mesh, visual.material, textures)
            files.visuals[(link.name, i)] = f"meshes/{name}"
        for i, collision in enumerate(link.collisions):
            name = f"{stem}_collision_{i}.obj"
            write_obj(meshes / name, collision.mesh, Material(name="collision"))
            files.collisions[(link.name, i)] = f"meshes/{name}"
    return files
