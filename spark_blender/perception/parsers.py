"""The one place a structure parser is chosen: ``--parser openai|local|embedded``.

The CLI, the pipeline and the Blender preferences all call `get_parser(name, options)` with
the parser's name and a plain dict of its options (what a preferences panel or a JSON file
holds), and get back an object with ``parse(image, progress=None) -> ParseResult``.
`parser_options_from_settings` maps the settings they share (``parser``, ``vlm_model``,
``local_model``, ``base_url``, ``device``, ...) to that name and dict; the CLI's flags go
through it too (`add_parser_arguments`, `parser_options_from_args`).

A backend registers itself with `register_parser(name, factory, options_type)`: ``openai``,
``local`` and ``embedded`` (a model trained by this project, `perception.embedded`) are
registered here; a module listed in `_LAZY_MODULES` may register more when imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from spark_blender.cli_options import float_in
from spark_blender.perception.errors import PerceptionError
from spark_blender.perception.result import ParseResult
from spark_blender.progress import ProgressCallback

PARSER_NAMES: tuple[str, ...] = ("embedded", "openai", "local")  # the CLI's choices, in order
DEFAULT_PARSER = "embedded"  # ARCHITECTURE.md: no network, no key

# Modules that register a parser when imported; imported on first request for that name.
_LAZY_MODULES: dict[str, str] = {}


class Parser(Protocol):
    name: str

    def parse(
        self, image: Image.Image | Path | str, progress: ProgressCallback | None = None
    ) -> ParseResult: ...


@dataclass(frozen=True)
class _Registration:
    factory: Callable[[Any], Parser]
    options_type: type


_REGISTRY: dict[str, _Registration] = {}


def register_parser(name: str, factory: Callable[[Any], Parser], options_type: type) -> None:
    """Make `name` available: ``factory(options_type(**options))`` builds the parser."""
    _REGISTRY[name] = _Registration(factory, options_type)


def available_parsers() -> list[str]:
    """Registered names (the embedded one appears once its module exists)."""
    for name in _LAZY_MODULES:
        _load_lazy(name)
    return [n for n in PARSER_NAMES if n in _REGISTRY] + sorted(set(_REGISTRY) - set(PARSER_NAMES))


def get_parser(name: str, options: dict[str, Any] | Any | None = None) -> Parser:
    """The parser called `name`, built with `options` (a dict, or its options dataclass)."""
    if name not in _REGISTRY:
        _load_lazy(name)
    if name not in _REGISTRY:
        raise PerceptionError(
            f"unknown parser '{name}' (choose from {', '.join(available_parsers())})"
        )
    registration = _REGISTRY[name]
    return registration.factory(_options(name, registration.options_type, options))


def parser_options_type(name: str) -> type:
    """The options dataclass of parser `name` (for a preferences panel's fields)."""
    if name not in _REGISTRY:
        get_parser(name)  # raises the clear error
    return _REGISTRY[name].options_type


def add_parser_arguments(parser: argparse.ArgumentParser) -> None:
    """``--parser`` and the parser options, for every verb that runs a parser.

    ``--device`` is left to the verb (``reconstruct`` has its own); `parser_options_from_args`
    reads it when present. There is deliberately no ``--api-key``: a key on a command line ends
    up in shell histories and process lists; set ``OPENAI_API_KEY`` instead.
    """
    parser.add_argument(
        "--parser",
        choices=PARSER_NAMES,
        default=DEFAULT_PARSER,
        help="structure parser: embedded (no network), openai (GPT-4o or an OpenAI-compatible "
        "server; key in OPENAI_API_KEY), local (a transformers model folder)",
    )
    group = parser.add_argument_group("parser options")
    group.add_argument("--model", help="openai: model name (gpt-4o); local, embedded: model folder")
    group.add_argument("--base-url", help="openai: server URL, e.g. http://localhost:8000/v1")
    group.add_argument("--dtype", choices=("auto", "float32", "bfloat16", "float16"))
    group.add_argument(
        "--request-timeout",
        type=float_in(0.0, 86400.0, low_open=True),
        help="openai: seconds per request",
    )
    group.add_argument(
        "--reference-images", choices=("edit", "crop", "none"), help="openai: edit (default)"
    )
    group.add_argument("--no-axis-check", action="store_true", help="openai: skip pass 3")


def parser_options_from_settings(settings: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The parser name and its options from the shared settings vocabulary.

    The CLI's flags, the pipeline's options and the Blender preferences (via the worker) all
    speak it: ``parser``, ``vlm_model`` (openai's model), ``parser_model`` (the embedded
    model folder), ``local_model`` (the local model
    folder), ``base_url``, ``device``, ``dtype``, ``request_timeout``, ``reference_images``,
    ``axis_check``. Keys a parser does not use are ignored; None means "the default".
    """
    name = settings.get("parser") or DEFAULT_PARSER
    if name == "openai":
        options = {
            "model": settings.get("vlm_model"),
            "base_url": settings.get("base_url"),
            "timeout_s": settings.get("request_timeout"),
            "reference_images": settings.get("reference_images"),
            "axis_check": settings.get("axis_check"),
        }
    elif name == "local":
        options = {
            "model_path": settings.get("local_model"),
            "device": settings.get("device"),
            "dtype": settings.get("dtype"),
            "reference_images": settings.get("reference_images"),
        }
    elif name == "embedded":
        options = {"model_path": settings.get("parser_model"), "device": settings.get("device")}
    else:
        options = {}
    return name, {k: v for k, v in options.items() if v not in (None, "")}


def parser_options_from_args(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The parser name and its options dict from `add_parser_arguments`' flags."""
    return parser_options_from_settings(
        {
            "parser": args.parser,
            "vlm_model": args.model,
            "local_model": args.model,
            "parser_model": args.model,
            "base_url": args.base_url,
            "device": getattr(args, "device", None),
            "dtype": args.dtype,
            "request_timeout": args.request_timeout,
            "reference_images": args.reference_images,
            "axis_check": False if args.no_axis_check else None,
        }
    )


def _options(name: str, options_type: type, options: Any) -> Any:
    if options is None:
        return options_type()
    if isinstance(options, options_type):
        return options
    if not isinstance(options, dict):
        raise PerceptionError(f"options for the {name} parser must be a dict")
    known = {f.name for f in dataclasses.fields(options_type)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise PerceptionError(
            f"unknown option(s) for the {name} parser: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    return options_type(**{k: v for k, v in options.items() if v is not None})


def _load_lazy(name: str) -> None:
    module = _LAZY_MODULES.get(name)
    if module is None or name in _REGISTRY:
        return
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # the module exists but needs something missing: say so
            raise PerceptionError(f"the {name} parser cannot load: {exc}") from None


def _openai_factory(options):
    from spark_blender.perception.openai_parser import OpenAIParser

    return OpenAIParser(options)


def _local_factory(options):
    from spark_blender.perception.local_parser import LocalParser

    return LocalParser(options)


def _embedded_factory(options):
    from spark_blender.perception.embedded.parser import EmbeddedParser

    return EmbeddedParser(options)


def _register_builtins() -> None:
    # Importing the options types loads neither openai nor torch: both are imported on use.
    from spark_blender.perception.embedded.parser import EmbeddedOptions
    from spark_blender.perception.local_parser import LocalOptions
    from spark_blender.perception.openai_parser import OpenAIOptions

    register_parser("embedded", _embedded_factory, EmbeddedOptions)
    register_parser("openai", _openai_factory, OpenAIOptions)
    register_parser("local", _local_factory, LocalOptions)


_register_builtins()
