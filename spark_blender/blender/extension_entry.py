"""The extension's ``__init__.py`` (scripts/build_extension.py copies this file to the root of the
extension zip). The package itself and its dependencies install from the zip's ``wheels/``;
this module only hands Blender's add-on name to ``spark_blender.register`` and points the worker
at the bundled model weights."""

import os
from pathlib import Path


def register():
    import spark_blender

    models = Path(__file__).resolve().parent / "models"
    if models.is_dir():
        os.environ.setdefault("SPARK_BLENDER_MODELS", str(models))
    spark_blender.register(__package__)


def unregister():
    import spark_blender

    spark_blender.unregister()
