"""The registry of part builders: name -> parameter dataclass and function (the decoder's entry)."""

from __future__ import annotations

from spark_blender.synth.parts.controls import (
    ButtonParams,
    KnobParams,
    LeverParams,
    button,
    knob_pieces,
    lever,
)
from spark_blender.synth.parts.fronts import (
    ArcHandleParams,
    BarHandleParams,
    DoorParams,
    DrawerParams,
    LidParams,
    arc_handle,
    bar_handle,
    drawer,
    lid,
    panel_door,
)
from spark_blender.synth.parts.primitives import (
    CarcassParams,
    Params,
    Piece,
    SlabParams,
    carcass,
    slab,
)
from spark_blender.synth.parts.revolved import ExtrusionParams, LatheParams, extrusion, lathe
from spark_blender.synth.parts.small import BladeParams, RingParams, TubeParams, blade, ring, tube

BUILDERS: dict[str, type[Params]] = {
    "slab": SlabParams,
    "carcass": CarcassParams,
    "bar_handle": BarHandleParams,
    "arc_handle": ArcHandleParams,
    "panel_door": DoorParams,
    "drawer": DrawerParams,
    "lid": LidParams,
    "knob": KnobParams,
    "button": ButtonParams,
    "lever": LeverParams,
    "lathe": LatheParams,
    "extrusion": ExtrusionParams,
    "tube": TubeParams,
    "ring": RingParams,
    "blade": BladeParams,
}


def _single_cell_carcass(p: CarcassParams) -> list[Piece]:
    return carcass(p, [1.0], [[1.0]])[0]


_FUNCTIONS = {
    "slab": slab,
    "carcass": _single_cell_carcass,
    "bar_handle": bar_handle,
    "arc_handle": arc_handle,
    "panel_door": panel_door,
    "drawer": drawer,
    "lid": lid,
    "knob": knob_pieces,
    "button": button,
    "lever": lever,
    "lathe": lathe,
    "extrusion": extrusion,
    "tube": tube,
    "ring": ring,
    "blade": blade,
}


def build_part(name: str, vector) -> list[Piece]:
    """The pieces of builder `name` from its parameter vector (the decoder's entry point).

    A carcass built this way has one opening; grids go through ``carcass`` directly.
    """
    if name not in BUILDERS:
        raise ValueError(f"unknown part builder '{name}'; known: {', '.join(BUILDERS)}")
    return _FUNCTIONS[name](BUILDERS[name].from_vector(vector))
