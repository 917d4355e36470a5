"""GPT-4o, or any OpenAI-compatible server (vLLM, Ollama, LM Studio), as the structure parser.

SPARK's recipe through the `openai` SDK: temperature 0.2, structured outputs (a strict JSON
schema), and passes:

1. the category, picked from PartNet-Mobility's names;
2. the coarse URDF, the template filled with that category's part statistics;
3. a re-check of the joint axes (and pivots) against the photo (a failure here only warns).

Then reference images through the Images edit API (``gpt-image-1`` by default): one image per
part, shown alone, and one moved-state image with every part opened. A server without an image
API (HTTP 404), or any image-edit failure, falls back to per-part crops from the 2D boxes and no
moved-state image, with a warning.

Every request has a timeout; 429, 5xx, time-outs and lost connections are retried with
exponential backoff that honours ``Retry-After``, within a deadline for the whole parse. An
unusable answer (not JSON, or a schema violation that repair cannot fix) gets one repair retry
that shows the model its problem. Everything else ends in one `PerceptionError` naming the
model, the server and the problem. The API key (``OPENAI_API_KEY`` first, then the options) is
sent only to the server and never appears in a result, a log record or an error message.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import io
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from PIL import Image

from spark_blender.perception.category_stats import category_statistics, format_statistics
from spark_blender.perception.errors import CoarseURDFError, PerceptionError, one_line, redact
from spark_blender.perception.images import data_url, load_image, part_crops
from spark_blender.perception.prompts import prompt_tags, render
from spark_blender.perception.result import ParseResult, Usage, png_bytes
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
from spark_blender.progress import ProgressCallback, ProgressEvent, no_progress

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Statuses after which the same request may well succeed.
_RETRY_STATUSES = {408, 409, 429}
# Statuses that mean "this server has no such API" rather than "this request failed".
_NO_API_STATUSES = {404, 405, 501}
_MOVED = "\0moved-state"  # the moved-state image's job key (no part name has a NUL)


@dataclass
class OpenAIOptions:
    model: str = "gpt-4o"
    temperature: float = 0.2
    base_url: str | None = None  # None: OPENAI_BASE_URL, else OpenAI; any compatible server
    api_key: str | None = None  # used when OPENAI_API_KEY is not set
    timeout_s: float = 60.0  # per chat request
    image_timeout_s: float = 180.0  # per image edit (they take tens of seconds)
    total_timeout_s: float = 900.0  # the whole parse, retries and backoff included
    max_retries: int = 4  # per request, for 429 / 5xx / time-outs / lost connections
    backoff_s: float = 1.0  # first wait; doubles each retry unless Retry-After says otherwise
    max_backoff_s: float = 30.0  # no single wait is longer, whatever Retry-After asks
    repair_retries: int = 1  # asks again, showing the problem, after an unusable answer
    axis_check: bool = True  # pass 3
    structured_outputs: bool = True  # False: JSON mode, for servers without json_schema
    max_output_tokens: int = 4096
    reference_images: str = "edit"  # "edit" (fallback: crops), "crop" or "none"
    image_model: str = "gpt-image-1"
    image_size: str = "match"  # "match": the supported size closest to the photo's aspect
    moved_input_fidelity: str | None = "high"  # keeps the camera and shape; None: server default
    image_quality: str = "medium"
    max_part_images: int = 12  # parts beyond this get crops instead of edits (cost)
    image_concurrency: int = 4  # image edits in flight at once
    prices: dict[str, dict[str, float]] | None = None  # USD per 1M tokens; None: defaults
    extra: dict[str, Any] = field(default_factory=dict)  # extra body fields for the server

    def __post_init__(self) -> None:
        if self.reference_images not in ("edit", "crop", "none"):
            raise PerceptionError(
                f"reference_images must be edit, crop or none, not {self.reference_images!r}"
            )
        if min(self.timeout_s, self.image_timeout_s, self.total_timeout_s) <= 0:
            raise PerceptionError("timeouts must be positive")


def resolve_base_url(options: OpenAIOptions) -> str:
    """The options' server, else ``OPENAI_BASE_URL`` (how the Blender worker gets it), else
    OpenAI's."""
    return options.base_url or os.environ.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL


def resolve_api_key(options: OpenAIOptions) -> str:
    """``OPENAI_API_KEY`` first, then the options; a local server may need none."""
    key = os.environ.get("OPENAI_API_KEY", "").strip() or (options.api_key or "").strip()
    if key:
        return key
    if resolve_base_url(options) != DEFAULT_BASE_URL:
        return "no-key"  # OpenAI-compatible local servers accept any key; the SDK wants one
    raise PerceptionError(
        "no OpenAI API key: set OPENAI_API_KEY (or the parser's api_key), "
        "or point base_url at an OpenAI-compatible server"
    )


class OpenAIParser:
    """`parse(image)` -> `ParseResult` through the OpenAI API or a compatible server."""

    name = "openai"

    def __init__(self, options: OpenAIOptions | None = None):
        self.options = options or OpenAIOptions()

    def parse(
        self, image: Image.Image | str | os.PathLike, progress: ProgressCallback | None = None
    ) -> ParseResult:
        progress = progress or no_progress
        picture = load_image(image)
        session = _Session(self.options)
        try:
            return session.run(picture, progress)
        except PerceptionError as exc:
            # One more scrub: nothing that came back from the server may carry the key out.
            raise type(exc)(*_scrubbed_args(exc, session.secret)) from None
        finally:
            session.close()


def _scrubbed_args(exc: PerceptionError, secret: str) -> tuple:
    if isinstance(exc, CoarseURDFError):
        return (exc.source, [redact(p, secret) for p in exc.problems])
    return (redact(str(exc), secret),)


class _AnswerError(ValueError):
    """An answer that cannot be used as it is; the text goes back to the model once."""


class _Session:
    """One parse: the client, the deadline, the usage so far."""

    def __init__(self, options: OpenAIOptions):
        import openai

        self.openai = openai
        self.options = options
        self.secret = resolve_api_key(options)
        base_url = resolve_base_url(options)
        self.host = urlparse(base_url).netloc or base_url
        self.source = f"{options.model} at {self.host}"
        self.client = openai.OpenAI(
            api_key=self.secret,
            base_url=base_url,
            timeout=options.timeout_s,
            max_retries=0,  # retries are ours: Retry-After, backoff and the deadline together
        )
        self.deadline = time.monotonic() + options.total_timeout_s
        self.usage = Usage()
        self.usage_lock = threading.Lock()  # image edits run on worker threads
        self.warnings: list[str] = []

    def close(self) -> None:
        self.client.close()

    # --- the passes ----------------------------------------------------------------------------
    def run(self, picture: Image.Image, progress: ProgressCallback) -> ParseResult:
        started = time.monotonic()
        photo = {"type": "image_url", "image_url": {"url": data_url(picture), "detail": "high"}}

        progress(ProgressEvent("perception", 0.0, f"{self.source}: category"))
        category = self.category(photo)

        progress(ProgressEvent("perception", 0.25, f"{self.source}: parts of a {category}"))
        coarse, repairs = self.coarse_urdf(photo, picture, category)

        if self.options.axis_check and any(p.movable for p in coarse.parts):
            progress(ProgressEvent("perception", 0.5, f"{self.source}: re-checking axes"))
            coarse, more = self.check_axes(photo, coarse)
            repairs += more

        result = ParseResult(
            coarse=coarse,
            parser="openai",
            model=self.options.model,
            server=self.host,
            usage=self.usage,
            prices=self.options.prices,
            warnings=self.warnings,
            repairs=repairs,
            prompts=prompt_tags(),
        )
        progress(ProgressEvent("perception", 0.7, "reference images"))
        self.reference_images(picture, result)
        result.seconds = time.monotonic() - started
        progress(ProgressEvent("perception", 1.0, f"cost ${result.cost_usd or 0:.4f}"))
        return result

    def category(self, photo: dict) -> str:
        messages = [
            {"role": "system", "content": render("category", categories=", ".join(CATEGORIES))},
            {"role": "user", "content": [{"type": "text", "text": "The photo:"}, photo]},
        ]

        def interpret(data: dict) -> str:
            found = match_category(data.get("category"))
            if found is None:
                raise _AnswerError(
                    f"category {data.get('category')!r} is not one of the listed categories"
                )
            return found

        return self.ask("category", messages, category_json_schema(), interpret)

    def coarse_urdf(
        self, photo: dict, picture: Image.Image, category: str
    ) -> tuple[CoarseURDF, list[str]]:
        statistics = format_statistics(category_statistics(category))
        messages = [
            {
                "role": "system",
                "content": render("template", category=category, statistics=statistics),
            },
            {"role": "user", "content": [{"type": "text", "text": "The photo:"}, photo]},
        ]

        def interpret(data: dict):
            validated = validate_coarse_urdf(data, self.source, picture.size)
            if validated.coarse.category != category:
                validated.repairs.append(
                    f"category {validated.coarse.category} from pass 2 kept over {category}"
                )
            return validated.coarse, validated.repairs

        return self.ask("coarse_urdf", messages, coarse_urdf_json_schema(), interpret)

    def check_axes(self, photo: dict, coarse: CoarseURDF) -> tuple[CoarseURDF, list[str]]:
        movable = [p for p in coarse.parts if p.movable]
        listing = "\n".join(
            json.dumps(
                {
                    k: getattr(p, k)
                    for k in ("name", "label", "parent", "joint_type", "axis", "pivot")
                }
            )
            for p in movable
        )
        messages = [
            {
                "role": "system",
                "content": render("axis_check", category=coarse.category, parts=listing),
            },
            {"role": "user", "content": [{"type": "text", "text": "The photo:"}, photo]},
        ]

        def interpret(data: dict) -> list[dict]:
            items = data.get("parts")
            if not isinstance(items, list):
                raise _AnswerError("'parts' must be a list")
            return [item for item in items if isinstance(item, dict)]

        try:
            updates = self.ask("axis_check", messages, axis_check_json_schema(), interpret)
        except PerceptionError as exc:
            self.warnings.append(f"axis re-check skipped: {exc}")
            return coarse, []
        return apply_axis_check(coarse, updates, self.source, self.warnings)

    # --- one structured question, with one repair retry ---------------------------------------
    def ask(self, name: str, messages: list, schema: dict, interpret: Callable[[dict], Any]):
        what = f"{self.source} ({name})"
        for attempt in range(self.options.repair_retries + 1):
            content = self.chat(what, messages, name, schema)
            try:
                try:
                    data = json.loads(content)
                except json.JSONDecodeError:
                    data = extract_json_object(content)  # JSON mode may wrap it in prose
                if not isinstance(data, dict):
                    raise _AnswerError("the answer is not a JSON object")
                return interpret(data)
            except (ValueError, CoarseURDFError) as exc:
                problem = str(exc)
                if attempt == self.options.repair_retries:
                    if isinstance(exc, CoarseURDFError):
                        raise
                    raise PerceptionError(f"{what}: unusable answer: {one_line(problem)}") from None
                log.info("%s: unusable answer (%s); asking once more", what, one_line(problem, 120))
                messages = messages + [
                    {"role": "assistant", "content": content},
                    {"role": "user", "content": render("repair", problem=problem)},
                ]
        raise AssertionError("unreachable")

    def chat(self, what: str, messages: list, name: str, schema: dict) -> str:
        if self.options.structured_outputs:
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": f"spark_{name}", "strict": True, "schema": schema},
            }
        else:
            response_format = {"type": "json_object"}

        def request(timeout: float):
            return self.client.chat.completions.create(
                model=self.options.model,
                messages=messages,
                temperature=self.options.temperature,
                response_format=response_format,
                max_tokens=self.options.max_output_tokens,
                timeout=timeout,
                extra_body=self.options.extra or None,
            )

        response = self.with_retries(what, request)
        usage = getattr(response, "usage", None)
        self.usage.add(
            self.options.model,
            input_tokens=getattr(usage, "prompt_tokens", 0),
            output_tokens=getattr(usage, "completion_tokens", 0),
        )
        choices = getattr(response, "choices", None)
        message = (
            getattr(choices[0], "message", None) if isinstance(choices, list) and choices else None
        )
        if message is None:
            raise PerceptionError(
                f"{what}: the reply is not a chat completion: {one_line(str(response), 120)}"
            )
        choice = choices[0]
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise PerceptionError(f"{what}: the model refused: {one_line(refusal)}")
        if choice.finish_reason == "length":
            raise PerceptionError(
                f"{what}: the answer was cut at {self.options.max_output_tokens} tokens "
                "(raise max_output_tokens)"
            )
        if choice.finish_reason == "content_filter":
            raise PerceptionError(f"{what}: the answer was withheld by the content filter")
        content = getattr(message, "content", None)
        if not content or not isinstance(content, str):
            raise PerceptionError(f"{what}: the answer was empty")
        return content

    # --- retries -------------------------------------------------------------------------------
    def with_retries(self, what: str, request: Callable[[float], Any], timeout_s: float = 0.0):
        """`request(timeout)` retried as the module docstring says; `timeout_s` per attempt
        (default: the chat timeout)."""
        openai = self.openai
        attempt = 0
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise PerceptionError(
                    f"{what}: out of time ({self.options.total_timeout_s:g} s for the parse)"
                )
            timeout = min(timeout_s or self.options.timeout_s, remaining)
            wait = None
            try:
                return request(timeout)
            except openai.APITimeoutError:
                reason = f"no answer within {timeout:.3g} s"
            except openai.APIConnectionError as exc:
                reason = f"connection failed ({one_line(redact(str(exc), self.secret), 120)})"
            except openai.APIStatusError as exc:
                status = exc.status_code
                reason = f"HTTP {status}: {_server_message(exc, self.secret)}"
                if not (status in _RETRY_STATUSES or status >= 500) or _out_of_quota(exc):
                    raise _StatusError(f"{what}: {reason}{_hint(status)}", status) from None
                wait = _retry_after(exc.response)
            except (openai.APIError, ValueError) as exc:  # a reply the SDK cannot read (a proxy's
                # HTML page, a JSON decode error): retrying will not help
                message = one_line(redact(str(exc), self.secret), 160)
                raise PerceptionError(f"{what}: unreadable reply: {message}") from None
            attempt += 1
            if attempt > self.options.max_retries:
                raise PerceptionError(f"{what}: failed after {attempt} attempts: {reason}")
            delay = wait if wait is not None else self.options.backoff_s * 2 ** (attempt - 1)
            delay = min(max(delay, 0.0), self.options.max_backoff_s)
            if time.monotonic() + delay >= self.deadline:
                raise PerceptionError(
                    f"{what}: {reason}; waiting {delay:.3g} s more would pass the "
                    f"{self.options.total_timeout_s:g} s limit"
                )
            log.info("%s: %s; retry %d in %.3g s", what, reason, attempt, delay)
            time.sleep(delay)

    # --- reference images ------------------------------------------------------------------------
    def reference_images(self, picture: Image.Image, result: ParseResult) -> None:
        mode = self.options.reference_images
        if mode == "none":
            return
        crops = part_crops(picture, result.coarse)
        result.part_images, result.part_image_source = dict(crops), "crop"
        if mode == "crop":
            return
        coarse = result.coarse
        jobs = [
            (
                part.name,
                render("part_image", label=part.label, category=coarse.category, name=part.name),
            )
            for part in coarse.parts[: self.options.max_part_images]
        ]
        motions = moved_state_motions(coarse)
        if motions:
            jobs.append((_MOVED, render("moved_image", category=coarse.category, motions=motions)))
        if not jobs:
            return
        photo_png = png_bytes(picture)
        size = self.options.image_size
        if size == "match":
            size = edit_size_for(picture.size)

        def edit(job: tuple[str, str]) -> Image.Image | PerceptionError:
            name, prompt = job
            moved = name == _MOVED
            what = "moved-state image" if moved else f"part image {name}"
            fidelity = self.options.moved_input_fidelity if moved else None
            try:
                image = self.edit_image(photo_png, prompt, what, size, fidelity)
            except PerceptionError as exc:
                return exc
            # Same camera as the photo: the moved-state image is compared pixel for pixel.
            return image.resize(picture.size, Image.Resampling.LANCZOS) if moved else image

        # The first edit alone: a server without an image API says so once, not N times.
        outcomes = {jobs[0][0]: edit(jobs[0])}
        first = outcomes[jobs[0][0]]
        if isinstance(first, _StatusError) and first.status in _NO_API_STATUSES:
            self.warnings.append(
                f"{self.host} has no image edit API (HTTP {first.status}): per-part crops from "
                "the 2D boxes are the reference images and there is no moved-state image"
            )
            return
        with ThreadPoolExecutor(max(1, self.options.image_concurrency)) as pool:
            results = list(pool.map(edit, jobs[1:]))
        outcomes.update(zip([name for name, _ in jobs[1:]], results, strict=True))
        for name, outcome in outcomes.items():
            if isinstance(outcome, PerceptionError):
                instead = "no moved-state image" if name == _MOVED else "its crop is used"
                self.warnings.append(f"image edit failed, {instead}: {outcome}")
        edited = {n: o for n, o in outcomes.items() if isinstance(o, Image.Image)}
        result.moved_image = edited.pop(_MOVED, None)
        if len(coarse.parts) > self.options.max_part_images:
            self.warnings.append(f"parts beyond the first {self.options.max_part_images} got crops")
        result.part_images = {name: edited.get(name, crop) for name, crop in crops.items()}
        if edited:
            result.part_image_source = "edit" if len(edited) == len(crops) else "mixed"

    def edit_image(
        self, photo_png: bytes, prompt: str, what: str, size: str, fidelity: str | None = None
    ) -> Image.Image:
        what = f"{self.options.image_model} at {self.host} ({what})"
        extra = {"input_fidelity": fidelity} if fidelity else {}

        def request(timeout: float):
            return self.client.images.edit(
                model=self.options.image_model,
                image=("photo.png", photo_png, "image/png"),
                prompt=prompt,
                size=size,
                quality=self.options.image_quality,
                n=1,
                timeout=timeout,
                **extra,
            )

        response = self.with_retries(what, request, self.options.image_timeout_s)
        usage = getattr(response, "usage", None)
        details = getattr(usage, "input_tokens_details", None)
        image_tokens = getattr(details, "image_tokens", 0) or 0
        text_tokens = getattr(details, "text_tokens", None)
        if text_tokens is None:
            text_tokens = (getattr(usage, "input_tokens", 0) or 0) - image_tokens
        with self.usage_lock:
            self.usage.add(
                self.options.image_model,
                input_tokens=text_tokens,
                image_input_tokens=image_tokens,
                output_tokens=getattr(usage, "output_tokens", 0) or 0,
            )
        data = getattr(response, "data", None)
        encoded = getattr(data[0], "b64_json", None) if isinstance(data, list) and data else None
        if not encoded:
            raise PerceptionError(f"{what}: the answer held no image data")
        try:
            image = Image.open(io.BytesIO(base64.b64decode(encoded)))
            image.load()
        except (binascii.Error, OSError, ValueError) as exc:
            raise PerceptionError(f"{what}: the image data cannot be read ({exc})") from None
        return image.convert("RGB")


class _StatusError(PerceptionError):
    """An HTTP error that retrying will not fix; `status` says which."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


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


def edit_size_for(photo_size: tuple[int, int]) -> str:
    """The image-edit size (gpt-image-1's three) closest in aspect to the photo."""
    width, height = photo_size
    sizes = {"1024x1024": 1.0, "1536x1024": 1.5, "1024x1536": 1 / 1.5}
    aspect = width / max(height, 1)
    return min(sizes, key=lambda s: abs(math.log(aspect / sizes[s])))


def moved_state_motions(coarse: CoarseURDF) -> str:
    """What the moved-state image must show, in words, for the parts that visibly move."""
    motions = []
    for part in coarse.parts:
        if part.joint_type == "revolute":
            degrees = round(math.degrees(min(part.limits[1], math.radians(150))))
            motions.append(f"the {part.label} '{part.name}' swung open by about {degrees} degrees")
        elif part.joint_type == "prismatic":
            motions.append(f"the {part.label} '{part.name}' pulled out all the way")
    return "; ".join(motions)


def _vector_ok(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    )


def _fmt(vector) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in vector) + "]"


def _server_message(exc, secret: str) -> str:
    """The server's own error text (OpenAI's ``{"error": {"message": ...}}``), scrubbed."""
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    if not message:
        message = getattr(exc, "message", "") or ""
    return one_line(redact(str(message), secret), 200)


def _out_of_quota(exc) -> bool:
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    return isinstance(inner, dict) and inner.get("code") == "insufficient_quota"


def _hint(status: int) -> str:
    return {
        401: " (check the API key)",
        403: " (the key may not have access to this model)",
        404: " (unknown model, or no such API on this server)",
    }.get(status, "")


def _retry_after(response) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, ``retry-after`` (seconds or an
    HTTP date), or None."""
    if response is None:
        return None
    headers = response.headers
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())
