"""Controls: knobs, push buttons, levers."""

from __future__ import annotations

from dataclasses import dataclass

import trimesh

from spark_blender.synth.parts.primitives import Params, Piece, box, box_between, cylinder, recorded


# ============================================================================================
# Knobs, buttons, levers
# ============================================================================================
@dataclass
class KnobParams(Params):
    """A round knob (cylinder) sticking out along -Y, with an optional pointer ridge."""

    radius: float = 0.02
    height: float = 0.02
    pointer: float = 1.0


@recorded("knob")
def knob_pieces(p: KnobParams, name: str = "knob") -> list[Piece]:
    pieces = [
        Piece(cylinder(p.radius, p.height, "y", (0, -p.height / 2, 0), 24), f"{name}_cap", "knob")
    ]
    if p.pointer >= 0.5:
        r = p.radius
        pieces.append(
            Piece(
                box_between(
                    (-0.12 * r, -p.height - 0.25 * r, 0.1 * r), (0.12 * r, -p.height, 0.9 * r)
                ),
                f"{name}_pointer",
                "accent",
            )
        )
    return pieces


@dataclass
class ButtonParams(Params):
    """A push button sticking `depth` out of a face along -Y; `round` 1 = cylinder."""

    width: float = 0.02
    height: float = 0.012
    depth: float = 0.008
    round: float = 0.0


@recorded("button")
def button(p: ButtonParams, name: str = "button") -> list[Piece]:
    if p.round >= 0.5:
        mesh = cylinder(p.width / 2, p.depth, "y", (0, -p.depth / 2, 0), 16)
    else:
        mesh = box((p.width, p.depth, p.height), (0, -p.depth / 2, 0))
    return [Piece(mesh, name, "button")]


@dataclass
class LeverParams(Params):
    """A hub on the mounting face and an arm; `angle` tilts the arm from +Z towards -Y."""

    length: float = 0.08
    width: float = 0.014
    thickness: float = 0.008
    hub_radius: float = 0.012
    hub_length: float = 0.012
    angle: float = 0.0


@recorded("lever")
def lever(p: LeverParams, name: str = "lever", hub_axis: str = "y") -> list[Piece]:
    """Hub along `hub_axis` through the origin (x: the lever turns about X) and an arm along +Z."""
    if hub_axis == "x":
        hub = cylinder(p.hub_radius, p.hub_length, "x", (0, 0, 0), 16)
        arm_y = 0.0
    else:
        hub = cylinder(p.hub_radius, p.hub_length, "y", (0, -p.hub_length / 2, 0), 16)
        arm_y = -p.hub_length + p.thickness / 2
    arm = box((p.width, p.thickness, p.length), (0, arm_y, p.length / 2))
    if p.angle:
        arm.apply_transform(trimesh.transformations.rotation_matrix(p.angle, [1, 0, 0]))
    return [Piece(hub, f"{name}_hub", "metal"), Piece(arm, f"{name}_arm", "handle")]
