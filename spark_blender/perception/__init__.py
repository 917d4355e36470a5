"""Stages 1-2: one photo -> a coarse URDF (category, size, camera, parts and joints) and the
reference images, by GPT-4o / any OpenAI-compatible server, a local transformers model, or the
project's embedded parser. See docs/perception.md.

The parsers are chosen in one place, `parsers.get_parser(name, options)`; what they return is a
`result.ParseResult` holding a `schema.CoarseURDF`. Importing this package loads neither openai
nor torch.
"""

from spark_blender.perception.errors import CoarseURDFError, PerceptionError
from spark_blender.perception.parsers import (
    DEFAULT_PARSER,
    PARSER_NAMES,
    get_parser,
    parser_options_from_settings,
    register_parser,
)
from spark_blender.perception.result import ParseResult
from spark_blender.perception.schema import (
    CoarsePart,
    CoarseURDF,
    coarse_urdf_json_schema,
    validate_coarse_urdf,
)

__all__ = [
    "DEFAULT_PARSER",
    "PARSER_NAMES",
    "CoarsePart",
    "CoarseURDF",
    "CoarseURDFError",
    "ParseResult",
    "PerceptionError",
    "coarse_urdf_json_schema",
    "get_parser",
    "parser_options_from_settings",
    "register_parser",
    "validate_coarse_urdf",
]
