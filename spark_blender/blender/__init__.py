"""The Blender layer (bpy only, never torch): UI, operators and the model <-> scene bridge.

`register()` adds exactly what `unregister()` removes, so a register/unregister/register cycle
leaves Blender as it was found.
"""

from __future__ import annotations

import bpy

from spark_blender.blender import menus, ops, panels, prefs, props

MODULES = (props, prefs, ops, panels, menus)
_registered: list[type] = []


def register(addon_id: str = "spark_blender") -> None:
    if _registered:
        return
    prefs.SPARK_AP_preferences.bl_idname = addon_id
    for module in MODULES:
        for cls in module.CLASSES:
            bpy.utils.register_class(cls)
            _registered.append(cls)
    props.attach()
    menus.attach()


def unregister() -> None:
    if not _registered:
        return
    menus.detach()
    props.detach()
    for cls in reversed(_registered):
        bpy.utils.unregister_class(cls)
    _registered.clear()
