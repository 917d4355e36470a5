"""GPT-4o, or any OpenAI-compatible server (vLLM, Ollama, LM Studio), as the structure parser.

SPARK's recipe (`recipe.py`: the category, the coarse URDF, the axis re-check, one repair
retry after an unusable answer) through the `openai` SDK: temperature 0.2 and structured
outputs (a strict JSON schema), or JSON mode for servers without it. This module is the
transport: the chat messages, the requests, their retries and errors. Reference images come
from the Images edit API (`image_edits.py`), with per-part crops as the fallback.

Every request has a timeout; 429, 5xx, time-outs and lost connections are retried with
exponential backoff that honours ``Retry-After``, within a deadline for the whole parse.
Everything else ends in one `PerceptionError` naming the model, the server and the problem.
The API key (``OPENAI_API_KEY`` first, then the options) is sent only to the server and never
appears in a result, a log record or an error message.
"""

from __future__ import annotations

import email.utils
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from PIL import Image

from spark_blender.errors import one_line
from spark_blender.perception.errors import CoarseURDFError, PerceptionError, StatusError, redact
from spark_blender.perception.image_edits import reference_images
from spark_blender.perception.images import data_url, load_image
from spark_blender.perception.recipe import Recipe, parse_photo
from spark_blender.perception.result import ParseResult, Usage
from spark_blender.progress import ProgressCallback, ProgressEvent, no_progress

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Statuses after which the same request may well succeed.
_RETRY_STATUSES = {408, 409, 429}


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


class _Session:
    """One parse: the client, the deadline, the usage so far; the recipe's `Transport`."""

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
        self.photo: dict = {}  # the photo's content part, set by `run`

    def close(self) -> None:
        self.client.close()

    # --- the recipe, and this backend's transport for it -------------------------------------
    def run(self, picture: Image.Image, progress: ProgressCallback) -> ParseResult:
        started = time.monotonic()
        self.photo = {
            "type": "image_url",
            "image_url": {"url": data_url(picture), "detail": "high"},
        }
        recipe = Recipe(
            axis_check=self.options.axis_check, repair_retries=self.options.repair_retries
        )
        result = parse_photo(
            self,
            picture.size,
            recipe,
            progress,
            label=self.source,
            parser="openai",
            model=self.options.model,
            server=self.host,
            usage=self.usage,
            prices=self.options.prices,
        )
        progress(ProgressEvent("perception", 0.7, "reference images"))
        reference_images(self, picture, result)
        result.seconds = time.monotonic() - started
        progress(ProgressEvent("perception", 1.0, f"cost ${result.cost_usd or 0:.4f}"))
        return result

    def turn(self, role: str, text: str) -> dict:
        return {"role": role, "content": text}

    def photo_turn(self, schema: dict) -> dict:
        return {"role": "user", "content": [{"type": "text", "text": "The photo:"}, self.photo]}

    def send(self, messages: list, name: str, schema: dict) -> str:
        return self.chat(f"{self.source} ({name})", messages, name, schema)

    def unusable(self, name: str, problem: str, tries: int) -> PerceptionError:
        return PerceptionError(f"{self.source} ({name}): unusable answer: {one_line(problem, 300)}")

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
                    raise StatusError(f"{what}: {reason}{_hint(status)}", status) from None
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
