"""Procedural articulated objects: categories, part builders, materials, renderers, datasets.

``generate(category, seed)`` returns a core ``ArticulatedObject`` in the canonical frame
(ARCHITECTURE.md): +Z up, front -Y, origin at the bottom centre, root link ``base``, every joint
closed at 0 and opening positive, links labelled. The same (category, seed) always gives the same
object. Category modules: ``furniture``, ``appliances``, ``containers``, ``devices``, ``fixtures``,
``household``, ``handheld``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from spark_blender.core.model import ArticulatedObject
from spark_blender.synth.assembly import Assembly

Builder = Callable[[int, np.random.Generator], Assembly]


def _registry() -> dict[str, Builder]:
    from spark_blender.synth import (
        appliances,
        containers,
        devices,
        fixtures,
        furniture,
        handheld,
        household,
    )

    return {
        "StorageFurniture": furniture.storage_furniture,
        "Table": furniture.table,
        "Refrigerator": appliances.refrigerator,
        "Microwave": appliances.microwave,
        "Oven": appliances.oven,
        "Dishwasher": appliances.dishwasher,
        "WashingMachine": appliances.washing_machine,
        "Safe": appliances.safe,
        "Box": containers.box,
        "TrashCan": containers.trash_can,
        "Suitcase": containers.suitcase,
        "KitchenPot": containers.kitchen_pot,
        "Bucket": containers.bucket,
        "Bottle": containers.bottle,
        "Kettle": containers.kettle,
        "Laptop": devices.laptop,
        "Toaster": devices.toaster,
        "CoffeeMachine": devices.coffee_machine,
        "Stapler": devices.stapler,
        "Switch": devices.switch,
        "Faucet": devices.faucet,
        "Door": fixtures.door,
        "Window": fixtures.window,
        "Toilet": fixtures.toilet,
        "Camera": handheld.camera,
        "Cart": household.cart,
        "Chair": household.chair,
        "Clock": household.clock,
        "Dispenser": household.dispenser,
        "Display": household.display,
        "Eyeglasses": handheld.eyeglasses,
        "Fan": household.fan,
        "FoldingChair": household.folding_chair,
        "Globe": household.globe,
        "Keyboard": household.keyboard,
        "Knife": handheld.knife,
        "Lamp": household.lamp,
        "Lighter": handheld.lighter,
        "Mouse": handheld.mouse,
        "Pen": handheld.pen,
        "Phone": handheld.phone,
        "Pliers": handheld.pliers,
        "Printer": household.printer,
        "Remote": handheld.remote,
        "Scissors": handheld.scissors,
        "USB": handheld.usb,
    }


CATEGORIES: tuple[str, ...] = (
    "StorageFurniture", "Table", "Refrigerator", "Microwave", "Oven", "Dishwasher",
    "WashingMachine", "Safe", "Box", "TrashCan", "Suitcase", "KitchenPot", "Bucket", "Bottle",
    "Kettle", "Laptop", "Toaster", "CoffeeMachine", "Stapler", "Switch", "Faucet", "Door",
    "Window", "Toilet",
    "Camera", "Cart", "Chair", "Clock", "Dispenser", "Display", "Eyeglasses", "Fan",
    "FoldingChair", "Globe", "Keyboard", "Knife", "Lamp", "Lighter", "Mouse", "Pen", "Phone",
    "Pliers", "Printer", "Remote", "Scissors", "USB",
)  # fmt: skip


def category_rng(category: str, seed: int) -> np.random.Generator:
    """The generator for one (category, seed): independent streams per category."""
    return np.random.default_rng([int(seed), zlib.crc32(category.encode())])


def generate(category: str, seed: int) -> ArticulatedObject:
    """One procedural object of `category` (a name in CATEGORIES) from `seed`."""
    builders = _registry()
    if category not in builders:
        raise ValueError(f"unknown category '{category}'; known: {', '.join(CATEGORIES)}")
    if int(seed) < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    return builders[category](int(seed), category_rng(category, seed)).build()
