"""Sim-readiness: does a URDF load and move in MuJoCo and PyBullet without hand fixes?

The checks (EVAL.md, "Sim-readiness"): the file reads; every moving link has a positive mass and
a valid inertia; it loads in MuJoCo (URDF import with the compiler options it needs) and in
PyBullet (inertia from file); every movable joint sweeps through its range (11 values, others at
rest) with no NaN, both limits reachable and both engines agreeing with the core FK; no
penetration deeper than 2 mm between a moving link and any link other than its parent (on the
collision geometry, through MuJoCo's contacts); a short MuJoCo simulation stays finite.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from lxml import etree

from spark_blender.core.kinematics import link_poses
from spark_blender.core.model import ArticulatedObject, Joint
from spark_blender.core.transforms import invert
from spark_blender.core.urdf import URDFError, read_urdf, resolve_mesh_paths

FK_TOLERANCE = 1e-6  # metres / rotation-matrix entries


@dataclass
class CheckOptions:
    steps: int = 11  # values per joint sweep
    penetration: float = 0.002  # metres of allowed overlap
    simulate_steps: int = 200  # MuJoCo steps of the stability run
    package_dirs: tuple[Path, ...] = ()
    engines: tuple[str, ...] = ("mujoco", "pybullet")


@dataclass
class Finding:
    check: str  # read, model, mujoco, pybullet, sweep, penetration, stability
    severity: str  # error or warning
    message: str


@dataclass
class CheckReport:
    model: str
    findings: list[Finding] = field(default_factory=list)
    summary: dict[str, str] = field(default_factory=dict)  # check -> one-line result
    penetrations: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def error(self, check: str, message: str) -> None:
        self.findings.append(Finding(check, "error", message))

    def warn(self, check: str, message: str) -> None:
        self.findings.append(Finding(check, "warning", message))

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "passed": self.passed,
            "summary": self.summary,
            "findings": [asdict(f) for f in self.findings],
            "penetrations": self.penetrations,
            "seconds": round(self.seconds, 3),
        }

    def to_text(self) -> str:
        errors = sum(f.severity == "error" for f in self.findings)
        warnings = len(self.findings) - errors
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"check {self.model}: {verdict} ({errors} errors, {warnings} warnings)"]
        lines += [f"  {name:<12} {result}" for name, result in self.summary.items()]
        lines += [f"  {f.severity:<7} {f.check}: {f.message}" for f in self.findings]
        lines.append(f"  time         {self.seconds:.2f} s")
        return "\n".join(lines)


def check_urdf(path: str | os.PathLike, options: CheckOptions | None = None) -> CheckReport:
    """Run every sim-readiness check on a URDF file."""
    options = options or CheckOptions()
    path = Path(path)
    report = CheckReport(model=str(path))
    started = time.perf_counter()
    try:
        obj = read_urdf(path, options.package_dirs)
    except URDFError as exc:
        report.error("read", str(exc))
        report.summary["read"] = "failed"
        report.seconds = time.perf_counter() - started
        return report
    report.summary["read"] = (
        f"{len(obj.links)} links, {len(obj.joints)} joints ({len(obj.movable_joints)} movable)"
    )
    _check_model(obj, report)
    sweeps = sweep_configurations(obj, options.steps)
    if "mujoco" in options.engines:
        _check_mujoco(path, obj, sweeps, options, report)
    if "pybullet" in options.engines:
        _check_pybullet(path, obj, sweeps, options, report)
    report.seconds = time.perf_counter() - started
    return report


def sweep_configurations(obj: ArticulatedObject, steps: int) -> list[tuple[str, float, dict]]:
    """(joint, value, configuration) for `steps` values across each movable joint's range."""
    rest = {j.name: _rest_value(j) for j in obj.movable_joints}
    sweeps = [("rest", 0.0, dict(rest))]
    for joint in obj.movable_joints:
        for value in np.linspace(*joint.limits, steps):
            sweeps.append((joint.name, float(value), {**rest, joint.name: float(value)}))
    return sweeps


def _rest_value(joint: Joint) -> float:
    low, high = joint.limits
    return float(min(max(0.0, low), high))


# --- model rules ---------------------------------------------------------------------------------
def _check_model(obj: ArticulatedObject, report: CheckReport) -> None:
    problems = obj.validate(require_inertia=True, require_rest_in_limits=False)
    for problem in problems:
        report.error("model", problem)
    for joint in obj.movable_joints:
        low, high = joint.limits
        if not low <= 0.0 <= high:
            report.warn("model", f"joint '{joint.name}' limits [{low:g}, {high:g}] leave out 0")
    moving = obj.moving_links()
    bare = [n for n in moving if not obj.link(n).collisions]
    if bare:
        report.warn(
            "model",
            f"moving links without collision geometry ({', '.join(bare)}): their penetration "
            "is not checked; `spark-articulate convert` adds convex hulls",
        )
    masses = [obj.link(n).inertial.mass for n in moving if obj.link(n).inertial is not None]
    report.summary["model"] = "ok" if not problems else f"{len(problems)} problems"
    if masses:
        report.summary["model"] += f"; moving mass {sum(masses):.3g} kg over {len(moving)} links"


# --- MuJoCo --------------------------------------------------------------------------------------
def mujoco_urdf_text(path: Path, obj_dir: Path, resolved: dict[str, str]) -> bytes:
    """The URDF with mesh paths made absolute and MuJoCo's import options set."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(path.read_bytes(), parser)
    for old in root.findall("mujoco"):
        root.remove(old)
    for mesh in root.iter("mesh"):
        filename = mesh.get("filename", "")
        if filename in resolved:
            mesh.set("filename", resolved[filename])
    mujoco = etree.Element("mujoco")
    etree.SubElement(
        mujoco,
        "compiler",
        meshdir=str(obj_dir),
        strippath="false",
        discardvisual="true",
        fusestatic="false",
        balanceinertia="false",
        inertiafromgeom="false",
    )
    root.insert(0, mujoco)
    return etree.tostring(root)


def _check_mujoco(path, obj, sweeps, options, report) -> None:
    try:
        import mujoco
    except ImportError:
        report.error("mujoco", "the 'mujoco' package is not installed (pip install mujoco)")
        return
    started = time.perf_counter()
    text = mujoco_urdf_text(path, path.parent, resolve_mesh_paths(path, options.package_dirs))
    with tempfile.TemporaryDirectory() as tmp, quiet_native_output():
        urdf = Path(tmp) / "model.urdf"
        urdf.write_bytes(text)
        try:
            model = mujoco.MjModel.from_xml_path(str(urdf))
        except Exception as exc:
            report.error("mujoco", f"load failed: {_first_line(exc)}")
            report.summary["mujoco"] = "load failed"
            return
    _check_as_is_mujoco(path, report)
    data = mujoco.MjData(model)
    joint_ids, problems = _mujoco_joint_map(mujoco, model, obj)
    for problem in problems:
        report.error("mujoco", problem)
    if problems:
        report.summary["mujoco"] = "joint mismatch"
        return
    body_of = {
        link.name: mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, link.name)
        for link in obj.links
    }
    fk_error = 0.0
    deepest: dict[tuple[str, str], dict] = {}
    for joint_name, value, configuration in sweeps:
        data.qpos[:] = 0.0
        for name, q in configuration.items():
            data.qpos[model.jnt_qposadr[joint_ids[name]]] = q
        mujoco.mj_forward(model, data)
        if not (np.all(np.isfinite(data.xpos)) and np.all(np.isfinite(data.xmat))):
            report.error("sweep", f"MuJoCo gives NaN at {joint_name}={value:.4g}")
            continue
        fk_error = max(fk_error, _fk_error_mujoco(obj, configuration, data, body_of))
        _collect_penetrations(mujoco, model, data, obj, joint_name, value, options, deepest)
    if fk_error > FK_TOLERANCE:
        report.error("sweep", f"MuJoCo link poses differ from the core FK by {fk_error:.3g}")
    for pair, item in sorted(deepest.items()):
        report.penetrations.append(item)
        report.error(
            "penetration",
            f"links '{pair[0]}' and '{pair[1]}' overlap {item['depth'] * 1000:.1f} mm "
            f"at {item['joint']}={item['value']:.4g}",
        )
    stable = _simulate(mujoco, model, options.simulate_steps)
    if not stable:
        report.error(
            "stability", f"MuJoCo simulation diverged within {options.simulate_steps} steps"
        )
    report.summary["mujoco"] = (
        f"loaded ({time.perf_counter() - started:.2f} s); {len(sweeps)} poses swept; "
        f"FK error {fk_error:.1e}; {len(deepest)} penetrating pairs; "
        f"{'stable' if stable else 'unstable'} over {options.simulate_steps} steps"
    )


def _check_as_is_mujoco(path: Path, report: CheckReport) -> None:
    """Warn when the file only loads in MuJoCo with the options the check added."""
    import mujoco

    try:
        with quiet_native_output():
            mujoco.MjModel.from_xml_path(str(path))
    except Exception as exc:
        report.warn(
            "mujoco",
            f"loads only with added compiler options ({_first_line(exc)}); "
            "`spark-articulate convert` writes a file that loads as is",
        )


def _mujoco_joint_map(mujoco, model, obj) -> tuple[dict[str, int], list[str]]:
    ids, problems = {}, []
    for joint in obj.movable_joints:
        jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, joint.name)
        if jid < 0:
            problems.append(f"joint '{joint.name}' is missing from the MuJoCo model")
            continue
        ids[joint.name] = jid
        if joint.type in ("revolute", "prismatic"):
            low, high = model.jnt_range[jid]
            if (
                not model.jnt_limited[jid]
                or abs(low - joint.lower) > 1e-9
                or abs(high - joint.upper) > 1e-9
            ):
                problems.append(
                    f"joint '{joint.name}' range in MuJoCo [{low:g}, {high:g}] is not the "
                    f"URDF's [{joint.lower:g}, {joint.upper:g}]"
                )
    return ids, problems


def _fk_error_mujoco(obj, configuration, data, body_of) -> float:
    poses = link_poses(obj, configuration)
    root = obj.root.name
    root_world = _mujoco_pose(data, body_of[root])
    worst = 0.0
    for name, pose in poses.items():
        if body_of.get(name, -1) < 0:
            continue
        engine = invert(root_world) @ _mujoco_pose(data, body_of[name])
        worst = max(worst, float(np.abs(engine[:3] - pose[:3]).max()))
    return worst


def _mujoco_pose(data, body_id: int) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = np.asarray(data.xmat[body_id]).reshape(3, 3)
    pose[:3, 3] = data.xpos[body_id]
    return pose


def _collect_penetrations(mujoco, model, data, obj, joint_name, value, options, deepest) -> None:
    parent_of = {j.child: j.parent for j in obj.joints}
    moving = set(obj.moving_links())
    for contact in data.contact[: data.ncon]:
        depth = -float(contact.dist)
        if depth <= options.penetration:
            continue
        a = model.body(model.geom_bodyid[contact.geom1]).name
        b = model.body(model.geom_bodyid[contact.geom2]).name
        if a not in moving and b not in moving:
            continue
        if parent_of.get(a) == b or parent_of.get(b) == a:
            continue
        pair = tuple(sorted((a, b)))
        if pair not in deepest or depth > deepest[pair]["depth"]:
            deepest[pair] = {
                "links": list(pair),
                "depth": depth,
                "joint": joint_name,
                "value": value,
            }


def _simulate(mujoco, model, steps: int) -> bool:
    data = mujoco.MjData(model)
    for _ in range(steps):
        mujoco.mj_step(model, data)
    bad = data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number
    return bool(np.all(np.isfinite(data.qpos)) and bad == 0)


# --- PyBullet ------------------------------------------------------------------------------------
def _check_pybullet(path, obj, sweeps, options, report) -> None:
    try:
        with quiet_native_output():  # it prints its build time on import
            import pybullet
    except ImportError:
        report.error("pybullet", "the 'pybullet' package is not installed (pip install pybullet)")
        return
    started = time.perf_counter()
    with quiet_native_output():
        client = pybullet.connect(pybullet.DIRECT)
    for folder in options.package_dirs[:1]:  # PyBullet keeps one extra search path
        pybullet.setAdditionalSearchPath(str(folder), physicsClientId=client)
    try:
        try:
            with quiet_native_output():
                body = pybullet.loadURDF(
                    str(path),
                    useFixedBase=True,
                    flags=pybullet.URDF_USE_INERTIA_FROM_FILE,
                    physicsClientId=client,
                )
        except Exception as exc:
            report.error("pybullet", f"load failed: {_first_line(exc)}")
            report.summary["pybullet"] = "load failed"
            return
        fk_error = _sweep_pybullet(pybullet, client, body, obj, sweeps, report)
        report.summary["pybullet"] = (
            f"loaded ({time.perf_counter() - started:.2f} s); {len(sweeps)} poses swept; "
            f"FK error {fk_error:.1e}"
        )
    finally:
        pybullet.disconnect(client)


def _sweep_pybullet(pybullet, client, body, obj, sweeps, report) -> float:
    info = [
        pybullet.getJointInfo(body, i, physicsClientId=client)
        for i in range(pybullet.getNumJoints(body, physicsClientId=client))
    ]
    joint_index = {row[1].decode(): row[0] for row in info}
    link_index = {row[12].decode(): row[0] for row in info}
    missing = [j.name for j in obj.movable_joints if j.name not in joint_index]
    if missing:
        report.error("pybullet", f"joints missing from the PyBullet model: {', '.join(missing)}")
        return math.inf
    for name in obj.moving_links():
        if name in link_index:
            mass = pybullet.getDynamicsInfo(body, link_index[name], physicsClientId=client)[0]
            if not mass > 0.0:
                report.error("pybullet", f"moving link '{name}' has mass {mass} in PyBullet")
    root = obj.root.name
    worst = 0.0
    for joint_name, value, configuration in sweeps:
        for name, q in configuration.items():
            pybullet.resetJointState(body, joint_index[name], q, physicsClientId=client)
        base = _pybullet_base_frame(pybullet, client, body)
        poses = link_poses(obj, configuration)
        for name, pose in poses.items():
            if name == root or name not in link_index:
                continue
            state = pybullet.getLinkState(
                body, link_index[name], computeForwardKinematics=True, physicsClientId=client
            )
            engine = invert(base) @ _pose(pybullet, state[4], state[5])
            if not np.all(np.isfinite(engine)):
                report.error("sweep", f"PyBullet gives NaN at {joint_name}={value:.4g}")
                return math.inf
            worst = max(worst, float(np.abs(engine[:3] - pose[:3]).max()))
    if worst > 1e-5:  # PyBullet stores link frames in single-precision-derived quaternions
        report.error("sweep", f"PyBullet link poses differ from the core FK by {worst:.3g}")
    return worst


def _pybullet_base_frame(pybullet, client, body) -> np.ndarray:
    """World pose of the root's URDF frame (PyBullet reports the base's inertial frame)."""
    position, orientation = pybullet.getBasePositionAndOrientation(body, physicsClientId=client)
    info = pybullet.getDynamicsInfo(body, -1, physicsClientId=client)
    return _pose(pybullet, position, orientation) @ invert(_pose(pybullet, info[3], info[4]))


def _pose(pybullet, position, orientation) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = np.asarray(pybullet.getMatrixFromQuaternion(orientation)).reshape(3, 3)
    pose[:3, 3] = position
    return pose


# --- helpers -------------------------------------------------------------------------------------
def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextlib.contextmanager
def quiet_native_output():
    """Silence what C libraries (MuJoCo, Bullet) print straight to the stdout/stderr fds."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as devnull:
        try:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
