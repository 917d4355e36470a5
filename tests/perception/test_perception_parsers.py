"""Parser choice in one place: the registry behind ``--parser openai|local|embedded``, and the
``spark-articulate parse`` verb that uses it (against the local OpenAI-speaking server)."""

from __future__ import annotations

import argparse
import json

import pytest
from perception_server import Reply

from spark_blender.cli import main
from spark_blender.perception import parsers
from spark_blender.perception.errors import PerceptionError
from spark_blender.perception.local_parser import LocalOptions, LocalParser
from spark_blender.perception.openai_parser import OpenAIOptions, OpenAIParser
from spark_blender.perception.result import ParseResult
from spark_blender.perception.schema import validate_coarse_urdf


def test_openai_and_local_are_built_from_plain_option_dicts():
    parser = parsers.get_parser("openai", {"model": "gpt-4o-mini", "timeout_s": 5})
    assert isinstance(parser, OpenAIParser) and parser.options.model == "gpt-4o-mini"
    local = parsers.get_parser("local", {"model_path": "/models/qwen", "device": "cuda"})
    assert isinstance(local, LocalParser) and local.options.device == "cuda"
    assert parsers.parser_options_type("local") is LocalOptions
    assert parsers.available_parsers()[:3] == ["embedded", "openai", "local"]


def test_embedded_parser_without_a_model_folder_is_a_clear_error(tmp_path):
    parser = parsers.get_parser("embedded", {"model_path": str(tmp_path / "none")})
    with pytest.raises(PerceptionError, match="has no config.json"):
        parser.load()


def test_unknown_parser_and_unknown_options_are_clear_errors():
    with pytest.raises(PerceptionError, match="unknown parser 'gpt'"):
        parsers.get_parser("gpt")
    with pytest.raises(PerceptionError, match="unknown option\\(s\\) for the openai parser: temp"):
        parsers.get_parser("openai", {"temp": 0.2})
    with pytest.raises(PerceptionError, match="reference_images must be"):
        parsers.get_parser("openai", {"reference_images": "draw"})


def test_a_registered_parser_is_found_by_name(monkeypatch, photo):
    """How the embedded parser's module will plug in: one `register_parser` call."""
    from dataclasses import dataclass

    @dataclass
    class EmbeddedOptions:
        weights: str = "models/parser"

    class Embedded:
        name = "embedded"

        def __init__(self, options):
            self.options = options

        def parse(self, image, progress=None):
            from perception_server import GOOD_COARSE

            coarse = validate_coarse_urdf(GOOD_COARSE).coarse
            return ParseResult(coarse, "embedded", self.options.weights)

    monkeypatch.setattr(parsers, "_REGISTRY", dict(parsers._REGISTRY))
    parsers.register_parser("embedded", Embedded, EmbeddedOptions)
    parser = parsers.get_parser("embedded", {"weights": "w"})
    assert parser.options.weights == "w"
    assert parser.parse(photo).coarse.category == "StorageFurniture"
    assert "embedded" in parsers.available_parsers()


def test_command_line_flags_map_to_parser_options():
    cli = argparse.ArgumentParser()
    parsers.add_parser_arguments(cli)
    cli.add_argument("--device")
    args = cli.parse_args(
        [
            "--parser",
            "openai",
            "--model",
            "gpt-4o-mini",
            "--base-url",
            "http://h/v1",
            "--no-axis-check",
        ]
    )
    assert parsers.parser_options_from_args(args) == (
        "openai",
        {"model": "gpt-4o-mini", "base_url": "http://h/v1", "axis_check": False},
    )
    args = cli.parse_args(["--parser", "local", "--model", "/m", "--device", "cuda"])
    assert parsers.parser_options_from_args(args) == (
        "local",
        {"model_path": "/m", "device": "cuda"},
    )
    assert parsers.parser_options_from_args(cli.parse_args([])) == ("embedded", {})
    assert (
        OpenAIOptions(
            **parsers.parser_options_from_args(
                cli.parse_args(["--parser", "openai", "--request-timeout", "3"])
            )[1]
        ).timeout_s
        == 3.0
    )


def test_blender_and_pipeline_settings_map_to_parser_options():
    blender = {"parser": "local", "device": "cuda", "vlm_model": "gpt-4o", "local_model": "/m"}
    assert parsers.parser_options_from_settings(blender) == (
        "local",
        {"model_path": "/m", "device": "cuda"},
    )
    name, options = parsers.parser_options_from_settings({**blender, "parser": "openai"})
    assert (name, options) == ("openai", {"model": "gpt-4o"})
    assert parsers.get_parser(name, options).options.model == "gpt-4o"
    assert parsers.parser_options_from_settings({}) == ("embedded", {})


# --- spark-articulate parse --------------------------------------------------------------------
def _parse_verb(photo, out, server) -> int:
    return main(
        ["parse", str(photo), "-o", str(out), "--parser", "openai", "--base-url", server.base_url]
        + ["--quiet"]
    )


def test_parse_verb_writes_the_coarse_urdf_folder(
    openai_server, photo, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cli-0123456789abcdef")
    out = tmp_path / "coarse"
    code = _parse_verb(photo, out, openai_server)
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("StorageFurniture, about 0.80 x 0.45 x 1.00 m (gpt-4o)")
    assert "door_left" in printed and "cost $" in printed
    coarse = json.loads((out / "coarse.json").read_text())
    assert coarse["schema_version"] == 1 and len(coarse["parts"]) == 4
    assert (out / "moved.png").is_file()
    for path in out.rglob("*"):
        if path.is_file():
            assert b"sk-test-cli" not in path.read_bytes()


def test_parse_verb_failure_is_one_line_and_leaves_no_folder(
    openai_server, photo, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cli-0123456789abcdef")
    openai_server.script("chat", Reply(refusal="I can't help with that."))
    out = tmp_path / "coarse"
    code = _parse_verb(photo, out, openai_server)
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the model refused" in err
    assert "sk-test-cli" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [photo]


def test_parse_verb_embedded_and_missing_image_are_one_line_errors(photo, tmp_path, capsys):
    missing = str(tmp_path / "no_model")
    assert main(["parse", str(photo), "-o", str(tmp_path / "o"), "--model", missing]) == 2
    assert "has no config.json" in capsys.readouterr().err
    assert main(["parse", str(tmp_path / "nope.png"), "-o", str(tmp_path / "o")]) == 2
    assert "nope.png' does not exist" in capsys.readouterr().err


def test_importing_perception_loads_neither_openai_nor_torch():
    import subprocess
    import sys

    code = (
        "import sys, spark_blender.perception, spark_blender.perception.parsers; "
        "print(sorted(m for m in ('openai', 'torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
