"""SPARK's parse recipe, once for every backend that answers a prompt and the photo with text.

The passes:

1. the category, picked from PartNet-Mobility's names (optional: without it, the model picks
   the category in pass 2);
2. the coarse URDF, the template filled with that category's part statistics, validated and
   repaired (`validate_coarse_urdf`);
3. a re-check of the joint axes (and pivots) against the photo; a failure here only warns.

Each pass is one structured question (`ask`): the backend's `Transport` sends the conversation
and returns the answer's text, which is read as a JSON object (plain, or found in prose and code
fences), then interpreted. An unusable answer (not JSON, or a schema violation that repair
cannot fix) is asked again `repair_retries` times with the problem shown to the model; after
the last, an unrepairable coarse URDF raises its `CoarseURDFError` (every problem listed) and
anything else the transport's own `unusable` error.

The backends (`openai_parser`, `local_parser`) supply only the transport: how a conversation
turn looks in their API and how it is sent; everything else is here.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from spark_blender.errors import one_line
from spark_blender.perception.category_stats import category_statistics, format_statistics
from spark_blender.perception.errors import CoarseURDFError, PerceptionError
from spark_blender.perception.prompts import prompt_tags, render
from spark_blender.perception.result import ParseResult
from spark_blender.perception.schema import (
    CATEGORIES,
    CoarseURDF,
    axis_check_json_schema,
    category_json_schema,
    coarse_urdf_json_schema,
    extract_json_object,
    match_category,
    validate_coarse_urdf,
)
from spark_blender.progress import ProgressCallback, ProgressEvent

log = logging.getLogger(__name__)


class Transport(Protocol):
    """How one backend asks its model: the message format and the sending."""

    source: str  # the model (and server) in errors and repairs: "gpt-4o at api.openai.com"

    def turn(self, role: str, text: str) -> dict:
        """One message ("system", "user" or "assistant") in the backend's format."""
        ...

    def photo_turn(self, schema: dict) -> dict:
        """The user's message that carries the photo (and the schema, where the model is not
        held to it)."""
        ...

    def send(self, messages: list[dict], name: str, schema: dict) -> str:
        """The answer's text to `messages`; a failure to get one raises `PerceptionError`."""
        ...

    def unusable(self, name: str, problem: str, tries: int) -> PerceptionError:
        """The error that ends question `name` after `tries` unusable answers."""
        ...


@dataclass
class Recipe:
    """Which passes run, and how often an unusable answer is asked again."""

    category_pass: bool = True
    axis_check: bool = True
    repair_retries: int = 1


def parse_photo(
    transport: Transport,
    image_size: tuple[int, int],
    recipe: Recipe,
    progress: ProgressCallback,
    label: str,
    **record: Any,
) -> ParseResult:
    """Passes 1-3 through `transport`, as a `ParseResult` of the given `record` fields (parser,
    model, server, usage, prices); reference images are the backend's to add. `label` names
    the model in the progress lines."""
    category = None
    if recipe.category_pass:
        progress(ProgressEvent("perception", 0.0, f"{label}: category"))
        category = ask_category(transport, recipe.repair_retries)

    what = f"parts of a {category}" if category else "parts"
    progress(ProgressEvent("perception", 0.25, f"{label}: {what}"))
    coarse, repairs = ask_coarse_urdf(transport, image_size, category, recipe.repair_retries)

    warnings: list[str] = []
    if recipe.axis_check and any(p.movable for p in coarse.parts):
        progress(ProgressEvent("perception", 0.5, f"{label}: re-checking axes"))
        coarse, more = check_axes(transport, coarse, warnings, recipe.repair_retries)
        repairs += more
    return ParseResult(
        coarse=coarse, warnings=warnings, repairs=repairs, prompts=prompt_tags(), **record
    )


# --- the passes ---------------------------------------------------------------------------------
def ask_category(transport: Transport, repair_retries: int = 1) -> str:
    """Pass 1: the PartNet-Mobility category."""

    def interpret(data: dict) -> str:
        found = match_category(data.get("category"))
        if found is None:
            raise ValueError(
                f"category {data.get('category')!r} is not one of the listed categories"
            )
        return found

    instructions = render("category", categories=", ".join(CATEGORIES))
    return ask(
        transport, "category", instructions, category_json_schema(), interpret, repair_retries
    )


def ask_coarse_urdf(
    transport: Transport,
    image_size: tuple[int, int],
    category: str | None,
    repair_retries: int = 1,
) -> tuple[CoarseURDF, list[str]]:
    """Pass 2: the coarse URDF and its repairs; `category` None: the model picks it."""
    if category:
        statistics = format_statistics(category_statistics(category))
    else:
        statistics = "(pick the category first from: " + ", ".join(CATEGORIES) + ")"
    instructions = render("template", category=category or "object", statistics=statistics)

    def interpret(data: dict) -> tuple[CoarseURDF, list[str]]:
        validated = validate_coarse_urdf(data, transport.source, image_size)
        if category and validated.coarse.category != category:
            validated.repairs.append(
                f"category {validated.coarse.category} from pass 2 kept over {category}"
            )
        return validated.coarse, validated.repairs

    schema = coarse_urdf_json_schema()
    return ask(transport, "coarse_urdf", instructions, schema, interpret, repair_retries)


def check_axes(
    transport: Transport, coarse: CoarseURDF, warnings: list[str], repair_retries: int = 1
) -> tuple[CoarseURDF, list[str]]:
    """Pass 3: the movable parts' axes and pivots re-checked against the photo; a failure to
    get an answer keeps `coarse`, with a warning."""
    listing = "\n".join(
        json.dumps(
            {k: getattr(p, k) for k in ("name", "label", "parent", "joint_type", "axis", "pivot")}
        )
        for p in coarse.parts
        if p.movable
    )
    instructions = render("axis_check", category=coarse.category, parts=listing)

    def interpret(data: dict) -> list[dict]:
        items = data.get("parts")
        if not isinstance(items, list):
            raise ValueError("'parts' must be a list")
        return [item for item in items if isinstance(item, dict)]

    schema = axis_check_json_schema()
    try:
        updates = ask(transport, "axis_check", instructions, schema, interpret, repair_retries)
    except PerceptionError as exc:
        warnings.append(f"axis re-check skipped: {exc}")
        return coarse, []
    return apply_axis_check(coarse, updates, transport.source, warnings)


# --- one structured question, with repair retries ---------------------------------------------
def ask(
    transport: Transport,
    name: str,
    instructions: str,
    schema: dict,
    interpret: Callable[[dict], Any],
    repair_retries: int = 1,
):
    """`interpret` of the answer to `instructions` and the photo, asked again with the problem
    after an unusable answer (a ValueError or `CoarseURDFError` from reading or `interpret`)."""
    messages = [transport.turn("system", instructions), transport.photo_turn(schema)]
    for attempt in range(repair_retries + 1):
        answer = transport.send(messages, name, schema)
        try:
            return interpret(read_answer(answer))
        except (ValueError, CoarseURDFError) as exc:
            if attempt == repair_retries:
                if isinstance(exc, CoarseURDFError):
                    raise
                raise transport.unusable(name, str(exc), attempt + 1) from None
            problem = str(exc)
        what = f"{transport.source} ({name})"
        log.info("%s: unusable answer (%s); asking once more", what, one_line(problem, 120))
        messages = messages + [
            transport.turn("assistant", answer),
            transport.turn("user", render("repair", problem=problem)),
        ]
    raise AssertionError("unreachable")


def read_answer(text: str) -> dict:
    """The JSON object an answer holds: the whole text, or the first object in prose or a code
    fence (JSON mode, local models). Raises ValueError with the reason."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return extract_json_object(text)
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    return data


def apply_axis_check(
    coarse: CoarseURDF, updates: list[dict], source: str, warnings: list[str]
) -> tuple[CoarseURDF, list[str]]:
    """`coarse` with the re-checked axes and pivots of pass 3, validated again."""
    data = coarse.to_dict()
    by_name = {part["name"]: part for part in data["parts"]}
    notes: list[str] = []
    for update in updates:
        part = by_name.get(update.get("name"))
        if part is None or part["joint_type"] == "fixed":
            if part is None:
                warnings.append(f"axis re-check named an unknown part {update.get('name')!r}")
            continue
        for key in ("axis", "pivot"):
            value = update.get(key)
            if not _vector_ok(value) or (key == "axis" and math.hypot(*value) < 1e-6):
                continue
            if key == "axis":
                norm = math.hypot(*value)
                value = [v / norm for v in value]
            if max(abs(a - b) for a, b in zip(value, part[key], strict=True)) > 1e-3:
                notes.append(f"part '{part['name']}': {key} {_fmt(part[key])} -> {_fmt(value)}")
                part[key] = value
    validated = validate_coarse_urdf(data, source)
    return validated.coarse, [f"axis re-check: {n}" for n in notes] + validated.repairs


def _vector_ok(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    )


def _fmt(vector) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in vector) + "]"
