"""A local vision-language model (e.g. Qwen2.5-VL, LLaVA, Idefics) as the structure parser.

The model folder is loaded with ``AutoProcessor`` + ``AutoModelForImageTextToText`` from local
files only (nothing is downloaded; nothing leaves the machine). SPARK's recipe (`recipe.py`)
runs with greedy decoding: the category, then the coarse URDF with the category's part
statistics (the axis re-check is off unless `axis_check` asks for it). This module is the
transport: since a local model is not constrained to the schema, the schema is spelled out in
the prompt, and the recipe finds the JSON object in the answer (code fences and chatter
allowed). An answer still unusable after the repair retry ends in one `PerceptionError` naming
the model folder and the problem.

Reference images are crops of the 2D boxes (a local model edits no images); there is no
moved-state image.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from spark_blender.errors import one_line
from spark_blender.perception.errors import PerceptionError
from spark_blender.perception.images import load_image, part_crops
from spark_blender.perception.prompts import render
from spark_blender.perception.recipe import Recipe, parse_photo
from spark_blender.perception.result import ParseResult, Usage
from spark_blender.progress import ProgressCallback, ProgressEvent, no_progress

DTYPES = ("auto", "float32", "bfloat16", "float16")
MODEL_PATH_VARIABLE = "SPARK_LOCAL_VLM"  # where the model folder is read when none is given


@dataclass
class LocalOptions:
    model_path: str | None = None  # a folder with config.json, weights and the processor files
    device: str = "cpu"  # "cpu", "cuda", "cuda:1", "mps"
    dtype: str = "auto"  # "auto": bfloat16 on CUDA, float32 elsewhere
    max_new_tokens: int = 2048
    repair_retries: int = 1
    category_pass: bool = True  # False: one pass, the model picks the category in the template
    axis_check: bool = False  # pass 3, a third generation
    reference_images: str = "crop"  # "crop" or "none"
    trust_remote_code: bool = False  # only for model folders you trust

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise PerceptionError(f"dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        if self.reference_images not in ("crop", "none"):
            raise PerceptionError("reference_images must be crop or none for the local parser")


class LocalParser:
    """`parse(image)` -> `ParseResult` with a transformers model from a local folder."""

    name = "local"

    def __init__(self, options: LocalOptions | None = None):
        self.options = options or LocalOptions()
        self._loaded: tuple[Any, Any] | None = None

    @property
    def model_path(self) -> Path:
        given = self.options.model_path or os.environ.get(MODEL_PATH_VARIABLE)
        if not given:
            raise PerceptionError(
                f"the local parser needs a model folder: model_path or {MODEL_PATH_VARIABLE}"
            )
        return Path(given).expanduser()

    # --- loading ---------------------------------------------------------------------------------
    def load(self) -> tuple[Any, Any]:
        """The processor and the model, loaded once."""
        if self._loaded is not None:
            return self._loaded
        path = self.model_path
        if not (path / "config.json").is_file():
            raise PerceptionError(f"local model folder '{path}' has no config.json")
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as exc:
            raise PerceptionError(
                f"the local parser needs torch and transformers ({exc}); "
                "install the 'ml' extra: pip install 'spark-blender[ml]'"
            ) from None
        dtype = self.options.dtype
        if dtype == "auto":
            dtype = "bfloat16" if self.options.device.startswith("cuda") else "float32"
        try:
            processor = AutoProcessor.from_pretrained(
                path, local_files_only=True, trust_remote_code=self.options.trust_remote_code
            )
            model = AutoModelForImageTextToText.from_pretrained(
                path,
                local_files_only=True,
                dtype=getattr(torch, dtype),
                trust_remote_code=self.options.trust_remote_code,
            )
            model.to(self.options.device).eval()
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise PerceptionError(
                f"local model folder '{path}' cannot be loaded: {one_line(str(exc), 200)}"
            ) from None
        self._loaded = (processor, model)
        return self._loaded

    # --- parsing ---------------------------------------------------------------------------------
    def parse(
        self, image: Image.Image | str | os.PathLike, progress: ProgressCallback | None = None
    ) -> ParseResult:
        progress = progress or no_progress
        started = time.monotonic()
        picture = load_image(image)
        progress(ProgressEvent("perception", 0.0, f"loading {self.model_path.name}"))
        self.load()
        model_name = self.model_path.name
        transport = _Transport(self, picture, f"local model '{self.model_path}'")
        options = self.options
        recipe = Recipe(options.category_pass, options.axis_check, options.repair_retries)
        result = parse_photo(
            transport,
            picture.size,
            recipe,
            progress,
            label=model_name,
            parser="local",
            model=model_name,
            usage=transport.usage,
            prices={model_name: {"input": 0.0, "output": 0.0}},  # runs here: no charge
        )
        if options.reference_images == "crop":
            result.part_images = part_crops(picture, result.coarse)
            result.part_image_source = "crop"
        result.warnings.append("a local model makes no moved-state image")
        result.seconds = time.monotonic() - started
        progress(ProgressEvent("perception", 1.0, f"{model_name}: done"))
        return result

    def chat_text(self, processor, messages: list) -> str:
        """The prompt through the model's own chat template."""
        for attempt in (messages, _without_system(messages)):
            try:
                return processor.apply_chat_template(
                    attempt, add_generation_prompt=True, tokenize=False
                )
            except Exception as exc:  # jinja's TemplateError, or no template at all
                problem = one_line(str(exc), 160)
        raise PerceptionError(
            f"local model '{self.model_path}': its chat template cannot be used: {problem}"
        )

    def generate(self, messages: list, picture: Image.Image, usage: Usage) -> str:
        """One greedy answer to `messages` about `picture`, as text."""
        processor, model = self.load()
        text = self.chat_text(processor, messages)
        try:
            new_tokens, prompt_length = self._generate(processor, model, text, picture)
        except (RuntimeError, ValueError, TypeError) as exc:  # out of memory, bad shapes, ...
            raise PerceptionError(
                f"local model '{self.model_path}' failed to generate: {one_line(str(exc), 200)}"
            ) from None
        usage.add(
            self.model_path.name, input_tokens=prompt_length, output_tokens=new_tokens.shape[1]
        )
        return processor.batch_decode(new_tokens, skip_special_tokens=True)[0]

    def _generate(self, processor, model, text: str, picture: Image.Image):
        import torch

        inputs = processor(text=[text], images=[picture], return_tensors="pt")
        inputs = inputs.to(model.device)
        floating = {k: v.to(model.dtype) for k, v in inputs.items() if v.is_floating_point()}
        inputs.update(floating)
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=self.options.max_new_tokens,
                do_sample=False,  # greedy: the same photo gives the same answer
                temperature=None,
                top_p=None,
                top_k=None,
            )
        prompt_length = inputs["input_ids"].shape[1]
        return output[:, prompt_length:], prompt_length


@dataclass
class _Transport:
    """The recipe's `Transport` for one parse: greedy answers about `picture`."""

    parser: LocalParser
    picture: Image.Image
    source: str
    usage: Usage = field(default_factory=Usage)

    def turn(self, role: str, text: str) -> dict:
        return {"role": role, "content": [{"type": "text", "text": text}]}

    def photo_turn(self, schema: dict) -> dict:
        fmt = render("local_format", schema=json.dumps(schema, separators=(",", ":")))
        return {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": fmt}]}

    def send(self, messages: list, name: str, schema: dict) -> str:
        return self.parser.generate(messages, self.picture, self.usage)

    def unusable(self, name: str, problem: str, tries: int) -> PerceptionError:
        return PerceptionError(
            f"{self.source} gave no usable answer in {tries} tries: {one_line(problem, 240)}"
        )


def _without_system(messages: list) -> list:
    """The system turn folded into the first user turn, for templates that refuse system."""
    if not messages or messages[0]["role"] != "system":
        return messages
    system, first, *rest = messages
    return [{"role": "user", "content": system["content"] + first["content"]}, *rest]
