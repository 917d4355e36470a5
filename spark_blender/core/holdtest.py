"""The hold-still and push tests of `check`, in MuJoCo and in PyBullet.

A real laptop lid, door or drawer stays where it is left and moves under a light push. Each
movable joint is set alone to mid-range (`dynamics.hold_value`, the others at rest), contacts
off (the penetration pass covers them):

- **hold**: under HOLD_SECONDS of gravity the joint drifts less than HOLD_DRIFT and stays inside
  its limits. In MuJoCo, first a static screen on the engine's own numbers: with every velocity
  zero, gravity's generalised force on each dof (``qfrc_bias``) is below SCREEN_MARGIN x that
  dof's Coulomb friction (``dof_frictionloss``), or presses the dof into a limit. Then every
  dof has a balancing friction or limit force, the state is an equilibrium and nothing moves:
  drift 0, no simulation needed. Only files with MuJoCo's no-slip pass are screened (without
  it the soft friction creeps, which only a simulation measures). A joint the screen cannot
  clear, and every joint in PyBullet (whose inverse dynamics of a fixed-base body we found not
  to match its own simulation), is simulated: up to HOLD_SECONDS of gravity, stopped early
  once everything is still.
- **push**: a push of 10% of the part's weight at its far edge (`dynamics.JointLoad.push`) moves
  it at least `push_needed` within PUSH_SECONDS, one way or the other. In MuJoCo the part is
  simulated alone with the rest of the object held still: its subtree as one rigid body on its
  joint, with the mass, centre of mass, joint-space inertia (``mj_fullM``, armature included),
  friction, damping, limits and solver settings MuJoCo compiled from the file; the state and
  the forces on the joint are exactly those of the full model with the other joints locked, and
  a step costs microseconds instead of a dense solve over every dof of a 500-link chain.
  PyBullet (127 joints at most) pushes in the full body with every other joint held by a
  zero-velocity motor of LOCK_FORCE: the same question, "does the part yield when the rest
  stays put", in both engines (a push that turns the parent joint instead is not an answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from lxml import etree

from spark_blender.core.dynamics import JointLoad, hold_value, joint_loads, rest_value
from spark_blender.core.model import ArticulatedObject

HOLD_SECONDS = 5.0  # gravity time of the hold-still test
HOLD_DRIFT = {"revolute": 0.05, "continuous": 0.05, "prismatic": 0.02}  # rad / m over 5 s
PUSH_SECONDS = 1.0  # how long the push is applied
PUSH_MOVE = 0.01  # rad / m the push must move the part beyond its gravity drift
LIMIT_SLACK = {"revolute": 0.01, "continuous": 0.0, "prismatic": 0.002}  # soft-limit overshoot
SCREEN_MARGIN = 0.9  # gravity below this fraction of a dof's friction is held without a doubt
LIMIT_TOUCH = 1e-9  # rad / m: a dof this close to a limit rests on it
REST_SPEED = 1e-6  # rad/s or m/s: below this for every joint, twice running, the part is held
CHUNK_SECONDS = 0.05
LOCK_FORCE = 1e9  # N m or N: a zero-velocity motor this strong holds a joint still


@dataclass
class HoldResult:
    """One joint's hold-still and push runs in one engine (radians or metres)."""

    joint: str
    start: float
    drift: float  # largest |q - start| over HOLD_SECONDS of gravity
    low: float  # lowest and highest value reached
    high: float
    pushed: float  # how far the push moved it, in the push's direction
    screened: bool = False  # held by the static screen (no simulation needed)


def report_hold(engine: str, obj: ArticulatedObject, results: list[HoldResult], report) -> str:
    """Errors and warnings for `results` on `report`; the one-line summary."""
    worst = {"rad": 0.0, "m": 0.0}
    for r in results:
        joint = obj.joint(r.joint)
        unit = "m" if joint.type == "prismatic" else "rad"
        worst[unit] = max(worst[unit], r.drift)
        limit = HOLD_DRIFT[joint.type]
        if r.drift >= limit:
            report.error(
                "hold",
                f"{engine}: joint '{r.joint}' left at {r.start:.3g} drifts {r.drift:.3g} {unit} "
                f"in {HOLD_SECONDS:g} s of gravity (limit {limit:g}); give it friction "
                "(`spark-articulate convert` sizes it)",
            )
        slack = LIMIT_SLACK[joint.type]
        if joint.type != "continuous" and (
            r.low < joint.lower - slack or r.high > joint.upper + slack
        ):
            report.error(
                "hold",
                f"{engine}: joint '{r.joint}' leaves its limits [{joint.lower:.3g}, "
                f"{joint.upper:.3g}] (reaches [{r.low:.3g}, {r.high:.3g}])",
            )
        if r.pushed < push_needed(joint):
            report.error(
                "push",
                f"{engine}: joint '{r.joint}' moves only {r.pushed:.3g} {unit} under a push of "
                f"10% of its part's weight at its far edge for {PUSH_SECONDS:g} s",
            )
    screened = sum(r.screened for r in results)
    return (
        f"hold {HOLD_SECONDS:g} s: worst drift {worst['rad']:.2g} rad, {worst['m']:.2g} m "
        f"({screened}/{len(results)} held by the static screen); "
        f"{sum(r.pushed >= push_needed(obj.joint(r.joint)) for r in results)}/{len(results)} "
        "move under a push"
    )


def push_needed(joint) -> float:
    low, high = joint.limits
    return min(PUSH_MOVE, 0.05 * (high - low))


def _push_signs(load: JointLoad | None) -> tuple[float, float]:
    """Push the way gravity already pulls first (no pull: the positive way), then the other
    way: the part passes when either push moves it."""
    first = 1.0 if load is None or load.load >= -1e-12 else -1.0
    return first, -first


def _held(forces, frictions, positions, lows, highs, limited) -> bool:
    """The static screen: every dof's force is within its friction or presses into a limit."""
    for force, friction, q, low, high, has_limits in zip(
        forces, frictions, positions, lows, highs, limited, strict=True
    ):
        if abs(force) <= SCREEN_MARGIN * friction:
            continue
        if has_limits and (
            (force < 0 and q <= low + LIMIT_TOUCH) or (force > 0 and q >= high - LIMIT_TOUCH)
        ):
            continue
        return False
    return True


def _settle(advance, speed, start: float, steps: int, timestep: float) -> tuple[float, float]:
    """Step up to `steps` under gravity, sampling the joint every CHUNK_SECONDS; the range of
    values reached. A run stops early once every joint has stayed still (two samples in a row
    below REST_SPEED, after the first 0.2 s): friction holds it, and with no force changing,
    a held state stays held."""
    chunk = max(1, round(CHUNK_SECONDS / timestep))
    low = high = start
    done, quiet = 0, 0
    while done < steps:
        n = min(chunk, steps - done)
        q = advance(n)
        done += n
        if not math.isfinite(q):
            return -math.inf, math.inf
        low, high = min(low, q), max(high, q)
        quiet = quiet + 1 if speed() < REST_SPEED else 0
        if quiet >= 2 and done * timestep >= 0.2:
            break
    return low, high


def _pushed(advance, start: float, sign: float, steps: int, timestep: float, joint) -> float:
    """How far the push moves the joint in `steps` (stops once it has moved enough)."""
    chunk = max(1, round(CHUNK_SECONDS / timestep))
    needed = push_needed(joint)
    done, moved = 0, 0.0
    while done < steps:
        n = min(chunk, steps - done)
        moved = sign * (advance(n) - start)
        done += n
        if not math.isfinite(moved) or moved >= needed:
            break
    return moved


# --- MuJoCo --------------------------------------------------------------------------------------
def hold_mujoco(mujoco, model, obj, joint_ids, progress) -> list[HoldResult]:
    """Every movable joint's hold and push results in MuJoCo (`joint_ids`: name -> joint id)."""
    loads = joint_loads(obj)
    saved, saved_jacobian = model.opt.disableflags, model.opt.jacobian
    model.opt.disableflags = saved | mujoco.mjtDisableBit.mjDSBL_CONTACT
    # Without contacts every constraint is a joint's friction or limit, and the dense solver
    # (the same physics) steps a 100-link chain with no-slip about 3x faster than the sparse one
    # MuJoCo's "auto" picks from 60 dofs up.
    model.opt.jacobian = mujoco.mjtJacobian.mjJAC_DENSE
    data = mujoco.MjData(model)
    rest = {j.name: rest_value(j) for j in obj.movable_joints}
    adrs = {name: model.jnt_qposadr[jid] for name, jid in joint_ids.items()}
    dofs = {name: model.jnt_dofadr[jid] for name, jid in joint_ids.items()}
    screenable = model.opt.noslip_iterations > 0
    results = []
    try:
        for done, joint in enumerate(obj.movable_joints):
            if progress is not None:
                progress("hold-still test (MuJoCo)", done, len(obj.movable_joints))
            start = hold_value(joint)

            def reset(joint=joint, start=start) -> None:
                mujoco.mj_resetData(model, data)
                for name, q in rest.items():
                    data.qpos[adrs[name]] = q
                data.qpos[adrs[joint.name]] = start

            reset()
            _statics(mujoco, model, data)
            result = None
            if screenable and _held_mujoco(model, data, joint_ids, adrs, dofs):
                result = HoldResult(joint.name, start, 0.0, start, start, 0.0, screened=True)
            push_model = _part_model(mujoco, model, data, joint_ids[joint.name], dofs[joint.name])
            if result is None:
                low, high = _simulate_hold(mujoco, model, data, adrs[joint.name], start)
                drift = max(start - low, high - start)
                drift = drift if math.isfinite(drift) else math.inf
                result = HoldResult(joint.name, start, float(drift), low, high, 0.0)
            result.pushed = _push_part(mujoco, push_model, joint, loads.get(joint.name))
            results.append(result)
    finally:
        model.opt.disableflags, model.opt.jacobian = saved, saved_jacobian
    return results


def _statics(mujoco, model, data) -> None:
    """What the screen and the part model read, at rest velocity: poses, centres of mass, the
    mass matrix, spring and gravity forces (`mj_forward` less the factorisation and the
    constraint solve, which cost a dense solve over every dof of a long chain)."""
    mujoco.mj_kinematics(model, data)
    mujoco.mj_comPos(model, data)
    mujoco.mj_crb(model, data)
    mujoco.mj_passive(model, data)
    mujoco.mj_rne(model, data, 0, data.qfrc_bias)


def _held_mujoco(model, data, joint_ids, adrs, dofs) -> bool:
    """The static screen on MuJoCo's own numbers, at the state `data` holds (`_statics` run)."""
    names = list(joint_ids)
    force = data.qfrc_passive - data.qfrc_bias  # velocities are zero: gravity (and springs)
    ids = [joint_ids[n] for n in names]
    return _held(
        [force[dofs[n]] for n in names],
        [model.dof_frictionloss[dofs[n]] for n in names],
        [data.qpos[adrs[n]] for n in names],
        [model.jnt_range[i][0] for i in ids],
        [model.jnt_range[i][1] for i in ids],
        [bool(model.jnt_limited[i]) for i in ids],
    )


def _simulate_hold(mujoco, model, data, adr: int, start: float) -> tuple[float, float]:
    """The full model under gravity from the state `data` holds: the range the joint reaches."""

    def advance(steps: int) -> float:
        for _ in range(steps):
            mujoco.mj_step(model, data)
        return float(data.qpos[adr])

    def speed() -> float:
        return float(np.abs(data.qvel).max()) if model.nv else 0.0

    steps = round(HOLD_SECONDS / model.opt.timestep)
    return _settle(advance, speed, start, steps, model.opt.timestep)


def _part_model(mujoco, model, data, jid: int, dof: int):
    """The part moved by joint `jid` alone: its subtree as one rigid body on the joint, at the
    state `data` holds (`_statics` run), with the rest of the object held still."""
    body = model.jnt_bodyid[jid]
    mass = float(model.body_subtreemass[body])
    com = np.asarray(data.subtree_com[body], dtype=float)
    pivot = np.asarray(data.xanchor[jid], dtype=float)
    axis = np.asarray(data.xaxis[jid], dtype=float)
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, full)
    inertia = float(full[dof, dof])  # the joint-space inertia, armature included
    hinge = model.jnt_type[jid] == mujoco.mjtJoint.mjJNT_HINGE
    offset = com - pivot
    perpendicular = offset - (offset @ axis) * axis
    own = 1e-9  # the lumped body's isotropic inertia; the rest of `inertia` is armature
    armature = inertia - (mass * float(perpendicular @ perpendicular) + own if hinge else mass)
    q = float(data.qpos[model.jnt_qposadr[jid]])
    low, high = (float(v) - q for v in model.jnt_range[jid])
    limited = bool(model.jnt_limited[jid])
    opt = model.opt
    root = etree.Element("mujoco")
    etree.SubElement(root, "compiler", angle="radian")  # MJCF reads hinge ranges in degrees
    option = etree.SubElement(
        root,
        "option",
        timestep=_num(opt.timestep),
        gravity=_vec(opt.gravity),
        integrator=_integrator(mujoco, opt),
        noslip_iterations=str(opt.noslip_iterations),
        iterations=str(opt.iterations),
    )
    etree.SubElement(option, "flag", contact="disable")
    part = etree.SubElement(etree.SubElement(root, "worldbody"), "body")
    adr = model.jnt_qposadr[jid]
    etree.SubElement(
        part,
        "joint",
        type="hinge" if hinge else "slide",
        pos=_vec(pivot),
        axis=_vec(axis),
        limited="true" if limited else "false",
        range=f"{_num(low)} {_num(high)}",
        frictionloss=_num(model.dof_frictionloss[dof]),
        damping=_num(model.dof_damping[dof]),
        armature=_num(max(armature, 0.0)),
        stiffness=_num(model.jnt_stiffness[jid]),
        springref=_num(model.qpos_spring[adr] - q),
        solreflimit=_vec(model.jnt_solref[jid]),
        solimplimit=_vec(model.jnt_solimp[jid]),
        solreffriction=_vec(model.dof_solref[dof]),
        solimpfriction=_vec(model.dof_solimp[dof]),
        margin=_num(model.jnt_margin[jid]),
    )
    etree.SubElement(
        part, "inertial", pos=_vec(com), mass=_num(max(mass, 1e-12)), diaginertia=_vec([own] * 3)
    )
    return mujoco.MjModel.from_xml_string(etree.tostring(root).decode())


def _num(value) -> str:
    return f"{float(value):.17g}"


def _vec(values) -> str:
    return " ".join(_num(v) for v in values)


def _integrator(mujoco, opt) -> str:
    names = {
        mujoco.mjtIntegrator.mjINT_EULER: "Euler",
        mujoco.mjtIntegrator.mjINT_RK4: "RK4",
        mujoco.mjtIntegrator.mjINT_IMPLICIT: "implicit",
        mujoco.mjtIntegrator.mjINT_IMPLICITFAST: "implicitfast",
    }
    return names.get(opt.integrator, "Euler")


def _push_part(mujoco, part, joint, load: JointLoad | None) -> float:
    """How far the push moves the part model (0 = where the joint was left), best of both ways."""
    data = mujoco.MjData(part)
    push = load.push if load is not None else 0.0
    steps = round(PUSH_SECONDS / part.opt.timestep)
    pushed = -math.inf
    for sign in _push_signs(load):
        mujoco.mj_resetData(part, data)
        data.qfrc_applied[0] = sign * push

        def advance(n: int) -> float:
            for _ in range(n):
                mujoco.mj_step(part, data)
            return float(data.qpos[0])

        pushed = max(pushed, _pushed(advance, 0.0, sign, steps, part.opt.timestep, joint))
        if pushed >= push_needed(joint):
            break
    return float(pushed)


# --- PyBullet ------------------------------------------------------------------------------------
def hold_pybullet(pybullet, client, body, obj, progress) -> list[HoldResult]:
    """The same tests in PyBullet. PyBullet reads a joint's friction but leaves its default
    velocity motors on instead (they lock every joint); the test does what a PyBullet user does
    for joint friction: a zero-velocity motor whose force limit is the URDF's friction."""
    loads = joint_loads(obj)
    kw = {"physicsClientId": client}
    count = pybullet.getNumJoints(body, **kw)
    info = [pybullet.getJointInfo(body, i, **kw) for i in range(count)]
    index = {row[1].decode(): row[0] for row in info}
    pybullet.setGravity(0.0, 0.0, -9.81, **kw)
    for i in range(count):  # collisions off, as in MuJoCo: the penetration pass covers them
        pybullet.setCollisionFilterGroupMask(body, i, 0, 0, **kw)
    pybullet.setCollisionFilterGroupMask(body, -1, 0, 0, **kw)
    # A body at rest falls asleep, and then a push does not wake it.
    pybullet.changeDynamics(
        body, -1, activationState=pybullet.ACTIVATION_STATE_DISABLE_SLEEPING, **kw
    )
    for joint in obj.movable_joints:
        pybullet.setJointMotorControl2(
            body, index[joint.name], pybullet.VELOCITY_CONTROL, targetVelocity=0.0,
            force=float(joint.friction), **kw
        )  # fmt: skip
    step = 1.0 / 240.0
    pybullet.setTimeStep(step, **kw)
    rest = {j.name: rest_value(j) for j in obj.movable_joints}
    movable = [index[j.name] for j in obj.movable_joints]
    results = []
    for done, joint in enumerate(obj.movable_joints):
        if progress is not None:
            progress("hold-still test (PyBullet)", done, len(obj.movable_joints))
        i = index[joint.name]
        start = hold_value(joint)

        def reset(i=i, start=start) -> None:
            for name, q in rest.items():
                pybullet.resetJointState(body, index[name], q, 0.0, **kw)
            pybullet.resetJointState(body, i, start, 0.0, **kw)

        def advance(steps: int, i=i, torque=None) -> float:
            for _ in range(steps):
                if torque is not None:  # PyBullet clears a joint torque after every step
                    pybullet.setJointMotorControl2(
                        body, i, pybullet.TORQUE_CONTROL, force=torque, **kw
                    )
                pybullet.stepSimulation(**kw)
            return float(pybullet.getJointState(body, i, **kw)[0])

        def speed() -> float:
            states = pybullet.getJointStates(body, movable, **kw)
            return max(abs(state[1]) for state in states)

        reset()
        low, high = _settle(advance, speed, start, round(HOLD_SECONDS / step), step)
        result = HoldResult(joint.name, start, max(start - low, high - start), low, high, 0.0)
        load = loads.get(joint.name)
        push = load.push if load is not None else 0.0
        pushed = -math.inf
        others = [index[j.name] for j in obj.movable_joints if j is not joint]
        for other in others:  # the rest of the object held still, as in MuJoCo's part model
            pybullet.setJointMotorControl2(
                body, other, pybullet.VELOCITY_CONTROL, targetVelocity=0.0, force=LOCK_FORCE, **kw
            )
        for sign in _push_signs(load):
            reset()
            # The push, with the joint's friction opposing it as it slides that way: the zero-
            # velocity motor gives way to a joint torque (PyBullet runs one control mode a
            # joint). Sliding back the other way is not friction's model: it counts as 0.
            pybullet.setJointMotorControl2(body, i, pybullet.VELOCITY_CONTROL, force=0.0, **kw)
            torque = sign * (push - float(joint.friction))

            def pushing(steps: int, torque=torque) -> float:
                return advance(steps, torque=torque)

            moved = _pushed(pushing, start, sign, round(PUSH_SECONDS / step), step, joint)
            pushed = max(pushed, moved, 0.0)
            if pushed >= push_needed(joint):
                break
        for other in obj.movable_joints:  # back to friction alone
            pybullet.setJointMotorControl2(
                body, index[other.name], pybullet.VELOCITY_CONTROL, targetVelocity=0.0,
                force=float(other.friction), **kw
            )  # fmt: skip
        result.pushed = float(pushed)
        results.append(result)
    return results
