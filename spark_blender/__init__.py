"""SPARK for Blender: one photo of an articulated object to a simulation-ready URDF.

`import spark_blender` needs no Blender. `register()`/`unregister()` are the Blender entry
points; they import the Blender layer (`spark_blender.blender`) only when called.
"""

from __future__ import annotations

__version__ = "0.1.0"


def register(addon_id: str = __name__) -> None:
    """Add SPARK's panels, operators, menus and properties to Blender."""
    from spark_blender import blender

    blender.register(addon_id)


def unregister() -> None:
    """Remove everything `register()` added."""
    from spark_blender import blender

    blender.unregister()


def __getattr__(name: str):
    # `from spark_blender import reconstruct` reaches the pipeline without importing it eagerly.
    if name == "reconstruct":
        from spark_blender.pipeline import reconstruct

        return reconstruct
    raise AttributeError(f"module 'spark_blender' has no attribute '{name}'")
