"""Sim-readiness: does a URDF load and move in MuJoCo and PyBullet without hand fixes?

The checks (EVAL.md, "Sim-readiness"): the file reads; every moving link has a positive mass and
a valid inertia; it loads in MuJoCo (URDF import with the compiler options it needs) and in
PyBullet (inertia from file); every movable joint sweeps through its range (11 values, others at
rest) with no NaN, both limits reachable and both engines agreeing with the core FK; no
penetration deeper than 2 mm between a moving link and any link other than its parent (on the
collision geometry, through MuJoCo's contacts), except where a joint's sweep runs into a part
another joint moves and runs clear with that joint at its far limit (a dish rack slides out once
the door is open): a coupling, reported, not an error; absurd values (limits beyond 1e6, masses
beyond 1e6 kg or below 1e-9 kg) are errors; and the hold-still test: each movable joint alone at
mid-range under 5 s of gravity drifts less than 0.05 rad (0.02 m for sliders) and stays in its
limits, in MuJoCo and in PyBullet, while a push of 10% of its part's weight at its far edge still
moves it (``core.dynamics`` sizes the joint friction and damping the writers give for this).
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

from spark_blender.core.dynamics import rest_value
from spark_blender.core.holdtest import hold_mujoco, hold_pybullet, report_hold
from spark_blender.core.kinematics import joint_motion, link_poses, moved_value
from spark_blender.core.model import ArticulatedObject
from spark_blender.core.transforms import invert
from spark_blender.core.urdf_read import URDFError, read_urdf, resolve_mesh_paths

FK_TOLERANCE = 1e-6  # metres / rotation-matrix entries
ABSURD_LIMIT = 1e6  # |limit| above this is an error (rad or m)
MASS_RANGE = (1e-9, 1e6)  # kg
PROGRESS_SECONDS = 5.0  # runs longer than this print progress lines
PYBULLET_MAX_JOINTS = 127  # measured: a fixed-base body of 128 joints gives no state


@dataclass
class CheckOptions:
    steps: int = 11  # values per joint sweep
    penetration: float = 0.002  # metres of allowed overlap
    simulate_steps: int = 200  # MuJoCo steps of the stability run
    package_dirs: tuple[Path, ...] = ()
    engines: tuple[str, ...] = ("mujoco", "pybullet")
    hold: bool = True  # the hold-still and push tests
    progress: object = None  # callable(str) for progress lines on long runs; None: silent

    def problems(self) -> list[str]:
        """Why these options cannot run (one line each, naming the option)."""
        found = []
        if not (isinstance(self.steps, int) and 2 <= self.steps <= 1000):
            found.append(f"--steps {self.steps}: must be a whole number from 2 to 1000")
        if not (math.isfinite(self.penetration) and 0.0 <= self.penetration <= 1.0):
            found.append(f"--penetration {self.penetration}: must be a finite 0 to 1 (metres)")
        if not (isinstance(self.simulate_steps, int) and 0 <= self.simulate_steps <= 100_000):
            found.append(f"simulate_steps {self.simulate_steps}: must be 0 to 100000")
        unknown = set(self.engines) - {"mujoco", "pybullet"}
        if unknown:
            found.append(f"unknown engines {sorted(unknown)}: use mujoco, pybullet")
        return found


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
    couplings: list[dict] = field(default_factory=list)  # joints that move clear only together
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
            "couplings": self.couplings,
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
    problems = options.problems()
    if problems:
        raise ValueError("; ".join(problems))
    path = Path(path)
    shown = os.fsdecode(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if shown == os.fsdecode(path) or not path.parent.is_dir():
        return _check(path, options, CheckReport(model=shown))
    # MuJoCo and PyBullet take UTF-8 paths only: reach a folder named otherwise via a link.
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "model").symlink_to(path.parent.resolve(), target_is_directory=True)
        return _check(Path(tmp) / "model" / path.name, options, CheckReport(model=shown))


def _check(path: Path, options: CheckOptions, report: CheckReport) -> CheckReport:
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
    if any(f.check == "model" and f.severity == "error" for f in report.findings):
        report.seconds = time.perf_counter() - started
        return report  # the simulators would fail (or crash) on what the rules refuse
    sweeps = sweep_configurations(obj, options.steps)
    progress = _Progress(options.progress, started)
    if "mujoco" in options.engines:
        _check_mujoco(path, obj, sweeps, options, report, progress)
    if "pybullet" in options.engines:
        _check_pybullet(path, obj, sweeps, options, report, progress)
    report.seconds = time.perf_counter() - started
    return report


class _Progress:
    """Progress lines, at most one every few seconds, once a run has taken PROGRESS_SECONDS."""

    def __init__(self, sink, started: float):
        self.sink = sink
        self.started = started
        self.last = started

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.sink is None or now - self.started < PROGRESS_SECONDS or now - self.last < 2.0:
            return
        self.last = now
        self.sink(f"check: {stage} {done}/{total} ({now - self.started:.0f} s)")


def sweep_configurations(obj: ArticulatedObject, steps: int) -> list[tuple[str, float]]:
    """(joint, value) for `steps` values across each movable joint's range, the others at rest
    (`dynamics.rest_value`); the first entry, ("rest", 0.0), is every joint at rest."""
    sweeps = [("rest", 0.0)]
    for joint in obj.movable_joints:
        sweeps += [(joint.name, float(value)) for value in np.linspace(*joint.limits, steps)]
    return sweeps


class _SweptPoses:
    """The core FK's link poses for each sweep entry, as one (links, 4, 4) array in `names`
    order. Only the swept joint's subtree moves away from the rest poses (`link_poses`, the
    definition), by the joint's motion about its child frame; so a sweep costs one batched
    product over the subtree, not a walk over the whole tree (a 500-link chain sweeps 5,500
    poses)."""

    def __init__(self, obj: ArticulatedObject):
        self.joints = {j.name: j for j in obj.movable_joints}
        self.rest = {j.name: rest_value(j) for j in obj.movable_joints}
        poses = link_poses(obj, self.rest)
        self.names = [link.name for link in obj.links]
        position = {name: i for i, name in enumerate(self.names)}
        self.rest_poses = np.stack([poses[name] for name in self.names])
        self.child_pose = {j.name: poses[j.child] for j in obj.movable_joints}
        self.subtree = {
            j.name: np.array([position[n] for n in obj.subtree(j.child)])
            for j in obj.movable_joints
        }

    def __call__(self, joint_name: str, value: float) -> np.ndarray:
        if joint_name == "rest":
            return self.rest_poses
        joint = self.joints[joint_name]
        frame = self.child_pose[joint_name]
        delta = frame @ joint_motion(joint, value - self.rest[joint_name]) @ invert(frame)
        poses = self.rest_poses.copy()
        index = self.subtree[joint_name]
        poses[index] = delta @ poses[index]
        return poses


def _relative_error(engine: np.ndarray, expected: np.ndarray, root: int) -> float:
    """Largest entry difference of the engine's poses, taken relative to the root, from the
    core's (rows of the rotation and the translation)."""
    relative = invert(engine[root]) @ engine
    return float(np.abs(relative[:, :3] - expected[:, :3]).max())


# --- model rules ---------------------------------------------------------------------------------
def _check_model(obj: ArticulatedObject, report: CheckReport) -> None:
    problems = obj.validate(require_inertia=True, require_rest_in_limits=False)
    for problem in problems:
        report.error("model", problem)
    for joint in obj.movable_joints:
        low, high = joint.limits
        if max(abs(low), abs(high)) > ABSURD_LIMIT:
            report.error(
                "model",
                f"joint '{joint.name}' limits [{low:g}, {high:g}] go beyond +-{ABSURD_LIMIT:g}",
            )
        elif not low <= 0.0 <= high:
            report.warn("model", f"joint '{joint.name}' limits [{low:g}, {high:g}] leave out 0")
    for link in obj.links:
        if link.inertial is not None and not (MASS_RANGE[0] <= link.inertial.mass <= MASS_RANGE[1]):
            report.error(
                "model",
                f"link '{link.name}' mass {link.inertial.mass:g} kg is outside "
                f"[{MASS_RANGE[0]:g}, {MASS_RANGE[1]:g}] kg",
            )
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
    options = []  # the file's own <option> and <size> (no-slip, memory) are part of its physics
    for old in root.findall("mujoco"):
        options += old.findall("option") + old.findall("size")
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
    mujoco.extend(options)
    root.insert(0, mujoco)
    return etree.tostring(root)


def _check_mujoco(path, obj, sweeps, options, report, progress=None) -> None:
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
    swept = _SweptPoses(obj)
    bodies = np.array([mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, n) for n in swept.names])
    known = bodies >= 0
    found = bodies[known]  # the links MuJoCo has, in `swept.names` order
    root = int(np.flatnonzero(np.array(swept.names)[known] == obj.root.name)[0])
    rest_qpos = np.zeros(model.nq)
    adr = {name: model.jnt_qposadr[jid] for name, jid in joint_ids.items()}
    for name, q in swept.rest.items():
        rest_qpos[adr[name]] = q
    fk_error = 0.0
    by_joint: dict[str, dict[tuple[str, str], dict]] = {}  # swept joint -> its deepest pairs
    tree = ({j.child: j.parent for j in obj.joints}, set(obj.moving_links()))
    engine = np.tile(np.eye(4), (len(found), 1, 1))
    for done, (joint_name, value) in enumerate(sweeps):
        if progress is not None:
            progress("MuJoCo sweep", done, len(sweeps))
        _pose_mujoco(mujoco, model, data, rest_qpos, {adr.get(joint_name): value})
        if not (np.all(np.isfinite(data.xpos)) and np.all(np.isfinite(data.xmat))):
            report.error("sweep", f"MuJoCo gives NaN at {joint_name}={value:.4g}")
            continue
        engine[:, :3, :3] = data.xmat[found].reshape(-1, 3, 3)
        engine[:, :3, 3] = data.xpos[found]
        expected = swept(joint_name, value)[known]
        fk_error = max(fk_error, _relative_error(engine, expected, root))
        found_here = by_joint.setdefault(joint_name, {})
        _collect_penetrations(mujoco, model, data, tree, joint_name, value, options, found_here)
    if fk_error > FK_TOLERANCE:
        report.error("sweep", f"MuJoCo link poses differ from the core FK by {fk_error:.3g}")
    for joint_name in [name for name, pairs in by_joint.items() if pairs and name != "rest"]:
        coupling = _coupling_mujoco(mujoco, model, data, obj, joint_name, by_joint, sweeps,
                                    (rest_qpos, adr, tree, options))  # fmt: skip
        if coupling is not None:
            report.couplings.append(coupling)
    deepest: dict[tuple[str, str], dict] = {}
    for pairs in by_joint.values():
        for pair, item in pairs.items():
            if pair not in deepest or item["depth"] > deepest[pair]["depth"]:
                deepest[pair] = item
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
    summary = (
        f"loaded ({time.perf_counter() - started:.2f} s); {len(sweeps)} poses swept; "
        f"FK error {fk_error:.1e}; {len(deepest)} penetrating pairs"
    )
    for c in report.couplings:
        summary += f"; '{c['joint']}' moves clear only with '{c['needs']}' at {c['value']:.4g}"
    if stable and options.hold and obj.movable_joints:
        try:
            results = hold_mujoco(mujoco, model, obj, joint_ids, progress)
            summary += "; " + report_hold("MuJoCo", obj, results, report)
        except mujoco.FatalError as exc:
            report.error("hold", f"MuJoCo stopped: {_first_line(exc)}")
    elif not stable:
        summary += f"; unstable within {options.simulate_steps} steps"
    report.summary["mujoco"] = summary


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


def _pose_mujoco(mujoco, model, data, rest_qpos, values: dict) -> None:
    """Poses and contacts at the rest pose with `values` (qpos address -> value) changed: all
    a sweep needs (no mass matrix, no constraint solve)."""
    data.qpos[:] = rest_qpos
    for address, value in values.items():
        if address is not None:
            data.qpos[address] = value
    mujoco.mj_kinematics(model, data)
    mujoco.mj_collision(model, data)


def _coupling_mujoco(mujoco, model, data, obj, joint_name, by_joint, sweeps, context):
    """A joint whose sweep runs into a part another joint moves (a dish rack into the closed
    door in front of it): sweep it again with that joint at its far limit. When that sweep is
    clear, the pairs were a coupling (the rack slides out once the door is open), not a
    fault: they leave `by_joint` and the coupling is returned; otherwise None."""
    rest_qpos, adr, tree, options = context
    swept = set(obj.subtree(obj.joint(joint_name).child))
    values = [v for name, v in sweeps if name == joint_name]
    for other in _blocking_joints(obj, joint_name, by_joint[joint_name], swept):
        far = moved_value(other.type, *other.limits, 1.0)
        clear: dict[tuple[str, str], dict] = {}
        for value in values:
            _pose_mujoco(mujoco, model, data, rest_qpos,
                         {adr[joint_name]: value, adr[other.name]: far})  # fmt: skip
            _collect_penetrations(mujoco, model, data, tree, joint_name, value, options, clear)
        if not clear:
            pairs = sorted(by_joint[joint_name])
            by_joint[joint_name] = {}
            return {"joint": joint_name, "needs": other.name, "value": far,
                    "pairs": [list(p) for p in pairs]}  # fmt: skip
    return None


def _blocking_joints(obj, joint_name, pairs, swept) -> list:
    """The movable joints that carry the other link of a penetrating pair and are not above
    `joint_name` (opening them could clear the way), nearest the other link first."""
    above = set()
    link = obj.joint(joint_name).parent
    while (parent := obj.parent_joint(link)) is not None:
        above.add(parent.name)
        link = parent.parent
    found = []
    for pair in sorted(pairs):
        link = pair[0] if pair[1] in swept else pair[1]
        while (parent := obj.parent_joint(link)) is not None:
            if parent.movable and parent.name not in above | {j.name for j in found}:
                found.append(parent)
            link = parent.parent
    return found


def _collect_penetrations(mujoco, model, data, tree, joint_name, value, options, deepest) -> None:
    if data.ncon == 0:  # slicing the contact array costs more than the check
        return
    parent_of, moving = tree
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
    """`steps` steps of the whole model with contacts: does it stay finite?"""
    data = mujoco.MjData(model)
    saved = model.opt.jacobian
    # The same physics; the dense constraint Jacobian steps a 500-link chain 3x faster than the
    # sparse one MuJoCo's "auto" picks from 60 dofs up (19 against 58 ms a step).
    model.opt.jacobian = mujoco.mjtJacobian.mjJAC_DENSE
    try:
        for _ in range(steps):
            mujoco.mj_step(model, data)
    except mujoco.FatalError:  # e.g. its memory arena overflows: not a sim-ready file
        return False
    finally:
        model.opt.jacobian = saved
    bad = data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number
    return bool(np.all(np.isfinite(data.qpos)) and bad == 0)


# --- PyBullet ------------------------------------------------------------------------------------
def _check_pybullet(path, obj, sweeps, options, report, progress=None) -> None:
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
        if not _pybullet_state_readable(pybullet, client, body):
            # PyBullet's state queries hold at most 127 joints (its MAX_DEGREE_OF_FREEDOM)
            joints = pybullet.getNumJoints(body, physicsClientId=client)
            report.warn(
                "pybullet",
                f"loads, but PyBullet cannot report the state of a body with {joints} joints "
                f"(its limit is {PYBULLET_MAX_JOINTS}): sweep and hold-still test skipped there",
            )
            report.summary["pybullet"] = f"loaded; state not readable ({joints} joints)"
            return
        fk_error = _sweep_pybullet(pybullet, client, body, obj, sweeps, report)
        report.summary["pybullet"] = (
            f"loaded ({time.perf_counter() - started:.2f} s); {len(sweeps)} poses swept; "
            f"FK error {fk_error:.1e}"
        )
        if options.hold and obj.movable_joints and math.isfinite(fk_error):
            results = hold_pybullet(pybullet, client, body, obj, progress)
            report.summary["pybullet"] += "; " + report_hold("PyBullet", obj, results, report)
    finally:
        pybullet.disconnect(client)


def _pybullet_state_readable(pybullet, client, body) -> bool:
    try:
        pybullet.getBasePositionAndOrientation(body, physicsClientId=client)
        return True
    except pybullet.error:
        return False


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
    swept = _SweptPoses(obj)
    known = np.array([name in link_index for name in swept.names])
    indices = [link_index[name] for name, k in zip(swept.names, known, strict=True) if k]
    for name, q in swept.rest.items():
        pybullet.resetJointState(body, joint_index[name], q, physicsClientId=client)
    root = swept.names.index(obj.root.name)
    worst, previous = 0.0, None
    for joint_name, value in sweeps:
        if previous is not None:  # only the swept joint leaves its rest value
            pybullet.resetJointState(
                body, joint_index[previous], swept.rest[previous], physicsClientId=client
            )
        previous = None if joint_name == "rest" else joint_name
        if previous is not None:
            pybullet.resetJointState(body, joint_index[previous], value, physicsClientId=client)
        base = _pybullet_base_frame(pybullet, client, body)
        states = []
        if indices:
            states = pybullet.getLinkStates(
                body, indices, computeForwardKinematics=True, physicsClientId=client
            )
        engine = np.stack([base] + [_pose(pybullet, st[4], st[5]) for st in states])
        expected = swept(joint_name, value)
        expected = np.concatenate([expected[[root]], expected[known]])
        if not np.all(np.isfinite(engine)):
            report.error("sweep", f"PyBullet gives NaN at {joint_name}={value:.4g}")
            return math.inf
        worst = max(worst, _relative_error(engine, expected, 0))
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
