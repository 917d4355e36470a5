"""The Blender layer (bpy only, never torch): UI, operators and the model <-> scene bridge.

`register()` adds exactly what `unregister()` removes, so a register/unregister/register cycle
leaves Blender as it was found. bpy is imported inside them, so the bpy-free parts of this
package (the worker client) import anywhere.
"""

from __future__ import annotations

_registered: list[type] = []


def _modules():
    from spark_blender.blender import menus, ops, panels, prefs, props

    return props, prefs, ops, panels, menus


def register(addon_id: str = "spark_blender") -> None:
    import bpy

    if _registered:
        return
    props, prefs, _, _, menus = modules = _modules()
    prefs.SPARK_AP_preferences.bl_idname = addon_id
    for module in modules:
        for cls in module.CLASSES:
            bpy.utils.register_class(cls)
            _registered.append(cls)
    props.attach()
    menus.attach()


def unregister() -> None:
    import bpy

    if not _registered:
        return
    props, _, _, _, menus = _modules()
    menus.detach()
    props.detach()
    for cls in reversed(_registered):
        bpy.utils.unregister_class(cls)
    _registered.clear()
