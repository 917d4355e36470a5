"""Fixtures of the perception tests: the OpenAI-speaking server (perception_server.py) and a
drawn photo. Shared constants are imported from `perception_server`, a uniquely named module,
so this conftest never clashes with another area's."""

from __future__ import annotations

import pytest
from perception_server import OpenAIServer
from PIL import Image, ImageDraw


@pytest.fixture
def openai_server():
    server = OpenAIServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def photo(tmp_path):
    """A small RGBA photo of a two-door cabinet with a drawer (drawn, so no data is needed)."""
    image = Image.new("RGBA", (320, 320), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((64, 32, 256, 288), fill=(150, 110, 70, 255))
    draw.rectangle((70, 40, 250, 90), fill=(170, 130, 90, 255))
    draw.rectangle((70, 150, 158, 282), fill=(165, 125, 85, 255))
    draw.rectangle((162, 150, 250, 282), fill=(165, 125, 85, 255))
    path = tmp_path / "cabinet.png"
    image.save(path)
    return path
