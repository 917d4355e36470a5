"""What a parser hands on: the coarse URDF, reference images, usage, cost and what happened.

`ParseResult.save(out)` writes a folder atomically (a temporary sibling renamed into place):
``coarse.json`` (the coarse URDF), ``parse.json`` (parser, model, server host, usage, cost,
warnings, repairs, prompt versions), ``parts/<name>.png`` (per-part reference images) and
``moved.png`` (the moved-state image, when there is one), ``mask.png`` (the object's foreground
mask) and ``part_masks/<name>.png`` (coarse per-part masks) from parsers that make them. No
credential is ever part of it.

The embedded parser also fills ``mask`` and ``part_masks`` (mode "L", the input's size, 255 =
inside), ``features`` (``{"global": (D,), "patches": (h, w, D)}`` float32 image features for the
part DiT) and ``category_probs`` (its top-3 categories with probabilities).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from spark_blender.perception.schema import CoarseURDF

# USD per million tokens (OpenAI's list prices, 2025). Options can replace them.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o": {"input": 2.50, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "output": 0.60},
    "gpt-4.1": {"input": 2.00, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "output": 1.60},
    "gpt-image-1": {"input": 5.00, "image_input": 10.00, "output": 40.00},
    "gpt-image-1-mini": {"input": 2.00, "image_input": 2.50, "output": 8.00},
}


@dataclass
class ModelUsage:
    calls: int = 0
    input_tokens: int = 0
    image_input_tokens: int = 0  # image-edit models price image input apart
    output_tokens: int = 0


@dataclass
class Usage:
    """Tokens per model and the cost they add up to (None when a model's price is unknown)."""

    models: dict[str, ModelUsage] = field(default_factory=dict)

    def add(self, model: str, input_tokens=0, output_tokens=0, image_input_tokens=0) -> None:
        entry = self.models.setdefault(model, ModelUsage())
        entry.calls += 1
        entry.input_tokens += int(input_tokens or 0)
        entry.output_tokens += int(output_tokens or 0)
        entry.image_input_tokens += int(image_input_tokens or 0)

    @property
    def total_tokens(self) -> int:
        return sum(
            u.input_tokens + u.image_input_tokens + u.output_tokens for u in self.models.values()
        )

    def cost_usd(self, prices: dict[str, dict[str, float]] | None = None) -> float | None:
        prices = DEFAULT_PRICES if prices is None else prices
        total = 0.0
        for model, used in self.models.items():
            price = _price_for(model, prices)
            if price is None:
                if used.input_tokens or used.output_tokens or used.image_input_tokens:
                    return None
                continue
            total += used.input_tokens * price["input"] / 1e6
            total += used.image_input_tokens * price.get("image_input", price["input"]) / 1e6
            total += used.output_tokens * price["output"] / 1e6
        return total

    def to_dict(self, prices: dict[str, dict[str, float]] | None = None) -> dict:
        return {
            "models": {m: asdict(u) for m, u in self.models.items()},
            "total_tokens": self.total_tokens,
            "cost_usd": self.cost_usd(prices),
        }


def _price_for(model: str, prices: dict[str, dict[str, float]]) -> dict[str, float] | None:
    """A model's price; dated snapshots ("gpt-4o-2024-08-06") cost what their family costs."""
    if model in prices:
        return prices[model]
    family = max((name for name in prices if model.startswith(name + "-")), key=len, default=None)
    return prices[family] if family else None


@dataclass
class ParseResult:
    coarse: CoarseURDF
    parser: str  # "openai", "local", "embedded"
    model: str
    server: str = ""  # host of the server asked ("" for in-process models)
    part_images: dict[str, Image.Image] = field(default_factory=dict)
    part_image_source: str = "none"  # "edit", "crop" or "none"
    moved_image: Image.Image | None = None
    usage: Usage = field(default_factory=Usage)
    prices: dict[str, dict[str, float]] | None = None
    warnings: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    mask: Image.Image | None = None  # foreground mask, mode "L", input size
    part_masks: dict[str, Image.Image] = field(default_factory=dict)  # mode "L", input size
    features: dict[str, Any] | None = None  # {"global": (D,), "patches": (h, w, D)} ndarrays
    category_probs: list[tuple[str, float]] = field(default_factory=list)  # top-3
    # the metric height (m) the parser would give the object as each of those categories
    category_heights_m: dict[str, float] = field(default_factory=dict)

    @property
    def cost_usd(self) -> float | None:
        return self.usage.cost_usd(self.prices)

    def record(self) -> dict:
        """Everything but the images, as JSON-ready data (what ``parse.json`` holds)."""
        return {
            "parser": self.parser,
            "model": self.model,
            "server": self.server,
            "usage": self.usage.to_dict(self.prices),
            "part_images": sorted(self.part_images),
            "part_image_source": self.part_image_source,
            "moved_image": self.moved_image is not None,
            "warnings": self.warnings,
            "repairs": self.repairs,
            "prompts": self.prompts,
            "seconds": round(self.seconds, 3),
            "category_probs": [[c, round(float(p), 4)] for c, p in self.category_probs],
            "category_heights_m": {
                c: round(float(h), 4) for c, h in self.category_heights_m.items()
            },
            "mask": self.mask is not None,
            "part_masks": sorted(self.part_masks),
        }

    def save(self, out_dir: Path | str, overwrite: bool = False) -> Path:
        """Write the result folder (see the module docstring); returns its path."""
        from spark_blender.core.urdf import safe_file_name, staged_folder

        out_dir = Path(out_dir)
        with staged_folder(out_dir, overwrite) as stage:
            (stage / "coarse.json").write_text(self.coarse.to_json() + "\n", encoding="utf-8")
            (stage / "parse.json").write_text(json.dumps(self.record(), indent=1) + "\n")
            if self.part_images:
                (stage / "parts").mkdir()
            for name, image in self.part_images.items():
                image.save(stage / "parts" / f"{safe_file_name(name)}.png")
            if self.moved_image is not None:
                self.moved_image.save(stage / "moved.png")
            if self.mask is not None:
                self.mask.save(stage / "mask.png")
            if self.part_masks:
                (stage / "part_masks").mkdir()
            for name, image in self.part_masks.items():
                image.save(stage / "part_masks" / f"{safe_file_name(name)}.png")
        return out_dir


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
