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
    bpy.app.handlers.load_post.append(_clear_stale_jobs)


def unregister() -> None:
    import bpy

    if not _registered:
        return
    props, _, _, _, menus = _modules()
    if _clear_stale_jobs in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_clear_stale_jobs)
    menus.detach()
    props.detach()
    for cls in reversed(_registered):
        bpy.utils.unregister_class(cls)
    _registered.clear()


def _clear_stale_jobs(*_args) -> None:
    """A file saved while a job ran must not open with Reconstruct greyed out: no worker
    survives a file load, so no job is running."""
    import bpy

    for scene in bpy.data.scenes:
        props = getattr(scene, "spark", None)
        if props is not None and props.job_running:
            props.job_running = props.job_cancel = False


_clear_stale_jobs._bpy_persistent = True  # keep the handler across file loads
