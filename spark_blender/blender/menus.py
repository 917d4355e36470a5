"""File > Import > URDF and File > Export > URDF."""

from __future__ import annotations

import bpy


def menu_import(self, context):
    self.layout.operator("spark.import_urdf", text="URDF (.urdf)")


def menu_export(self, context):
    self.layout.operator("spark.export_urdf", text="URDF (.urdf)")


MENUS = (
    (bpy.types.TOPBAR_MT_file_import, menu_import),
    (bpy.types.TOPBAR_MT_file_export, menu_export),
)


def attach() -> None:
    for menu, function in MENUS:
        menu.append(function)


def detach() -> None:
    for menu, function in MENUS:
        menu.remove(function)


CLASSES: tuple = ()
