"""Part mesh builders with fixed, documented parameter vectors (a package: ``primitives``,
``fronts`` (handles, doors, drawers, lids), ``controls``, ``revolved``, ``small`` (tubes, rings,
blades), ``registry``).

The generation stage decodes predicted parameters into these builders, so each one takes a small
dataclass whose fields, in order, *are* its parameter vector (``Params.from_vector`` /
``Params.vector``; lengths in metres, angles in radians, flags as 0/1 floats). A builder returns
``Piece`` objects: watertight, individually convex (or nearly) meshes in the part's own frame.
Keeping pieces convex matters: simulators collide the convex hull of each visual, so a hollow
carcass is five panels, not one mesh whose hull would fill the cavity a drawer slides into.

Frames (all parts face -Y like the canonical object frame):
- door: origin on the hinge line, at the back face; it extends along +X (``side=+1``, hinge on
  the left) or -X, its front face at y = -thickness.
- lid: origin on the hinge line along its top back edge; it extends along -Y, its panel spans
  z in [-thickness, 0].
- drawer: origin at the back face of the drawer front, bottom centre; the box extends into +Y.
- knob, button, lever, bar handle: origin on the mounting surface, the part sticks out along -Y.
- lathe: origin on the axis at the bottom, axis +Z.
- tube: origin on the axis at the bottom, axis +Z; ring: centred, in the XZ plane; blade: root
  at the origin, along +X, flat in XY.
"""

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
    Cell,
    Params,
    PartCall,
    Piece,
    SlabParams,
    box,
    box_between,
    carcass,
    cylinder,
    recorded,
    segment_cylinder,
    slab,
)
from spark_blender.synth.parts.registry import BUILDERS, build_part
from spark_blender.synth.parts.revolved import (
    ExtrusionParams,
    LatheParams,
    extrusion,
    lathe,
    lathe_profile,
)
from spark_blender.synth.parts.small import (
    BladeParams,
    RingParams,
    TubeParams,
    blade,
    ring,
    tube,
)

__all__ = [
    "ArcHandleParams", "BarHandleParams", "BladeParams", "BUILDERS", "ButtonParams",
    "CarcassParams", "Cell", "DoorParams", "DrawerParams", "ExtrusionParams", "KnobParams",
    "LatheParams", "LeverParams", "LidParams", "Params", "PartCall", "Piece", "RingParams",
    "SlabParams", "TubeParams", "arc_handle", "bar_handle", "blade", "box", "box_between",
    "build_part", "button", "carcass", "cylinder", "drawer", "extrusion", "knob_pieces", "lathe",
    "lathe_profile", "lever", "lid", "panel_door", "recorded", "ring", "segment_cylinder", "slab",
    "tube",
]  # fmt: skip
