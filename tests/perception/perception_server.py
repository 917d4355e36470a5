"""A real HTTP server on 127.0.0.1 that speaks the parts of the OpenAI REST API the parser uses
(``POST /v1/chat/completions`` with ``response_format``, ``POST /v1/images/edits``), driven in
the tests by the real `openai` client. Replies are scripted per route: a queue of `Reply`s is
served first (errors, delays, refusals, broken JSON), then the default good answers.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw

GOOD_CATEGORY = {"category": "StorageFurniture", "reason": "A cabinet with doors and drawers."}
GOOD_COARSE = {
    "category": "StorageFurniture",
    "size_m": [0.8, 0.45, 1.0],
    "camera": {"azimuth_deg": 20.0, "elevation_deg": 15.0, "fov_deg": 40.0},
    "parts": [
        {
            "name": "door_left",
            "label": "door",
            "parent": "base",
            "joint_type": "revolute",
            "axis": [0.0, 0.0, -1.0],
            "pivot": [-0.47, -0.5, 0.35],
            "limits": [0.0, 1.57],
            "box_2d": [0.2, 0.45, 0.5, 0.9],
            "mask": None,
            "observed": 0.0,
        },
        {
            "name": "door_right",
            "label": "door",
            "parent": "base",
            "joint_type": "revolute",
            "axis": [0.0, 0.0, 1.0],
            "pivot": [0.47, -0.5, 0.35],
            "limits": [0.0, 1.57],
            "box_2d": [0.5, 0.45, 0.8, 0.9],
            "mask": None,
            "observed": 0.0,
        },
        {
            "name": "drawer_top",
            "label": "drawer",
            "parent": "base",
            "joint_type": "prismatic",
            "axis": [0.0, -1.0, 0.0],
            "pivot": [0.0, -0.5, 0.85],
            "limits": [0.0, 0.35],
            "box_2d": [0.2, 0.1, 0.8, 0.3],
            "mask": [[0.2, 0.1], [0.8, 0.1], [0.8, 0.3], [0.2, 0.3]],
            "observed": 0.0,
        },
        {
            "name": "handle",
            "label": "handle",
            "parent": "drawer_top",
            "joint_type": "fixed",
            "axis": [1.0, 0.0, 0.0],
            "pivot": [0.0, -0.52, 0.85],
            "limits": [0.0, 0.0],
            "box_2d": [0.45, 0.18, 0.55, 0.22],
            "mask": None,
            "observed": 0.0,
        },
    ],
}
GOOD_AXIS_CHECK = {
    "parts": [
        {"name": p["name"], "axis": p["axis"], "pivot": p["pivot"], "changed": False}
        for p in GOOD_COARSE["parts"]
        if p["joint_type"] != "fixed"
    ]
}
DEFAULT_ANSWERS = {
    "spark_category": GOOD_CATEGORY,
    "spark_coarse_urdf": GOOD_COARSE,
    "spark_axis_check": GOOD_AXIS_CHECK,
}
USAGE = {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
IMAGE_USAGE = {
    "input_tokens": 400,
    "input_tokens_details": {"text_tokens": 60, "image_tokens": 340},
    "output_tokens": 1056,
    "total_tokens": 1456,
}


@dataclass
class Reply:
    """One scripted reply: an HTTP status and body, or `content` for a chat answer's text."""

    status: int = 200
    body: dict | str | None = None  # None: the default answer for the request
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (longer than the timeout: a timeout)
    content: str | None = None  # chat: answer with this text instead of the default JSON
    refusal: str | None = None  # chat: a refusal instead of content


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    time: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def schema_name(self) -> str:
        fmt = self.json.get("response_format", {})
        return fmt.get("json_schema", {}).get("name", fmt.get("type", ""))


def _png(color=(200, 120, 40), size=(64, 64)) -> bytes:
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle((8, 8, 40, 56), fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class OpenAIServer:
    def __init__(self):
        self.requests: list[Seen] = []
        self.scripts: dict[str, list[Reply]] = {"chat": [], "images": []}
        self.answers = json.loads(json.dumps(DEFAULT_ANSWERS))
        self.images_enabled = True
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output quiet
                pass

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                seen = Seen(self.path, headers, body, time.monotonic())
                with server.lock:
                    server.requests.append(seen)
                status, payload, extra = server.respond(seen)
                data = payload if isinstance(payload, bytes) else payload.encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in extra.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, route: str, *replies: Reply) -> None:
        self.scripts[route].extend(replies)

    def chat_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def image_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path.endswith("/images/edits")]

    # --- answering -------------------------------------------------------------------------------
    def respond(self, seen: Seen) -> tuple[int, str | bytes, dict]:
        route = "chat" if seen.path.endswith("/chat/completions") else "images"
        if not seen.path.startswith("/v1/") or (route == "images" and "edits" not in seen.path):
            return 404, _error("Not Found"), {}
        if route == "images" and not self.images_enabled:
            return 404, _error(f"Invalid URL (POST {seen.path})"), {}
        with self.lock:
            reply = self.scripts[route].pop(0) if self.scripts[route] else Reply()
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status != 200:
            body = reply.body if reply.body is not None else _error(f"status {reply.status}")
            return reply.status, body if isinstance(body, str) else json.dumps(body), reply.headers
        if isinstance(reply.body, str):  # a raw body, as a broken proxy might send
            return 200, reply.body, reply.headers
        if route == "images":
            return 200, json.dumps(self.image_answer()), reply.headers
        return 200, json.dumps(self.chat_answer(seen, reply)), reply.headers

    def chat_answer(self, seen: Seen, reply: Reply) -> dict:
        request = seen.json
        if reply.body is not None:
            return reply.body
        message = {"role": "assistant", "content": None, "refusal": None}
        if reply.refusal is not None:
            message["refusal"] = reply.refusal
        elif reply.content is not None:
            message["content"] = reply.content
        elif seen.schema_name == "json_object":  # JSON mode: chatty, fenced, found by prompt
            system = request["messages"][0]["content"]
            name = "spark_category" if "name its category" in system else "spark_coarse_urdf"
            name = "spark_axis_check" if system.startswith("Re-check") else name
            answer = json.dumps(self.answers[name], indent=1)
            message["content"] = f"Here is the JSON you asked for:\n```json\n{answer}\n```"
        else:
            message["content"] = json.dumps(self.answers[seen.schema_name])
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "gpt-4o"),
            "choices": [
                {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
            ],
            "usage": USAGE,
        }

    def image_answer(self) -> dict:
        encoded = base64.b64encode(_png()).decode("ascii")
        return {"created": int(time.time()), "data": [{"b64_json": encoded}], "usage": IMAGE_USAGE}


def _error(message: str, code: str | None = None) -> str:
    return json.dumps(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": code,
            }
        }
    )
