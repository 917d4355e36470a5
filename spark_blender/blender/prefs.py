"""Extension preferences: the VLM service, the worker's interpreter and the device.

The API key is taken from the ``OPENAI_API_KEY`` environment variable when it is set (so it
never needs to be stored in Blender's preferences); the field is the fallback. The key reaches
the worker through its environment, never its command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import bpy
from bpy.props import EnumProperty, StringProperty
from bpy.types import AddonPreferences

ADDON_ID = "spark_blender"  # replaced by the extension's module name at register()

DEVICE_ITEMS = [
    ("cpu", "CPU", "Run the pipeline on the CPU"),
    ("cuda", "CUDA", "Run on an NVIDIA GPU (needs a worker interpreter with CUDA torch)"),
]


class SPARK_AP_preferences(AddonPreferences):
    bl_idname = ADDON_ID

    api_key: StringProperty(
        name="API key",
        subtype="PASSWORD",
        description="Key for the OpenAI-compatible service; OPENAI_API_KEY wins when it is set",
    )
    base_url: StringProperty(
        name="Base URL",
        default="",
        description="OpenAI-compatible endpoint (empty: api.openai.com)",
    )
    vlm_model: StringProperty(name="VLM model", default="gpt-4o")
    local_model: StringProperty(
        name="Local VLM", default="", description="transformers model folder or name, for 'local'"
    )
    worker_python: StringProperty(
        name="Worker Python",
        subtype="FILE_PATH",
        default="",
        description="Interpreter for the worker (empty: Blender's own); e.g. one with CUDA torch",
    )
    device: EnumProperty(name="Device", items=DEVICE_ITEMS, default="cpu")

    def draw(self, context):
        layout = self.layout
        key_box = layout.box()
        key_box.label(text="Vision-language model", icon="WORLD")
        if os.environ.get("OPENAI_API_KEY"):
            key_box.label(text="Using OPENAI_API_KEY from the environment", icon="CHECKMARK")
        else:
            key_box.prop(self, "api_key")
        key_box.prop(self, "base_url")
        key_box.prop(self, "vlm_model")
        key_box.prop(self, "local_model")
        worker_box = layout.box()
        worker_box.label(text="Worker process", icon="CONSOLE")
        worker_box.prop(self, "worker_python")
        worker_box.prop(self, "device")


@dataclass
class Settings:
    """The preference values, also when the extension is registered without Blender's add-on
    machinery (scripts, tests)."""

    api_key: str = ""
    base_url: str = ""
    vlm_model: str = "gpt-4o"
    local_model: str = ""
    worker_python: str = ""
    device: str = "cpu"

    @property
    def effective_api_key(self) -> str:
        return os.environ.get("OPENAI_API_KEY") or self.api_key

    def worker_env(self) -> dict[str, str]:
        """Environment the worker gets: the key and endpoint, never on a command line."""
        env = {}
        if self.effective_api_key:
            env["OPENAI_API_KEY"] = self.effective_api_key
        if self.base_url:
            env["OPENAI_BASE_URL"] = self.base_url
        return env


def settings(context: bpy.types.Context | None = None) -> Settings:
    context = context or bpy.context
    addon = context.preferences.addons.get(SPARK_AP_preferences.bl_idname)
    prefs = getattr(addon, "preferences", None)
    if prefs is None:
        return Settings()
    return Settings(
        api_key=prefs.api_key,
        base_url=prefs.base_url,
        vlm_model=prefs.vlm_model,
        local_model=prefs.local_model,
        worker_python=bpy.path.abspath(prefs.worker_python) if prefs.worker_python else "",
        device=prefs.device,
    )


CLASSES = (SPARK_AP_preferences,)
