"""The OpenAI parser against a real HTTP server on 127.0.0.1 (conftest.py), with the real
`openai` client: good answers, rate limits, server errors, time-outs, broken and invalid
answers, refusals, a missing image API, and the API key kept out of every output."""

from __future__ import annotations

import json
import logging
import math
import time

import pytest

pytest.importorskip("openai")

from perception_server import GOOD_COARSE, IMAGE_USAGE, USAGE, Reply  # noqa: E402

from spark_blender.perception.errors import CoarseURDFError, PerceptionError  # noqa: E402
from spark_blender.perception.image_edits import edit_size_for  # noqa: E402
from spark_blender.perception.openai_parser import (  # noqa: E402
    OpenAIOptions,
    OpenAIParser,
    _retry_after,
)
from spark_blender.perception.schema import coarse_urdf_json_schema  # noqa: E402

KEY = "sk-test-Q7f3kLmN0pR5sT8uV2wX4yZ6aB9cD1eF"


@pytest.fixture(autouse=True)
def no_environment_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _options(server, **overrides) -> OpenAIOptions:
    base = dict(
        base_url=server.base_url,
        api_key=KEY,
        timeout_s=2.0,
        total_timeout_s=20.0,
        max_retries=3,
        backoff_s=0.05,
        max_backoff_s=1.0,
    )
    base.update(overrides)
    return OpenAIOptions(**base)


def _parse(server, photo, **overrides):
    return OpenAIParser(_options(server, **overrides)).parse(photo)


# --- a good answer -------------------------------------------------------------------------------
def test_good_answer_gives_a_valid_coarse_urdf_in_three_passes(openai_server, photo):
    result = _parse(openai_server, photo)
    chats = openai_server.chat_requests()
    assert [r.schema_name for r in chats] == [
        "spark_category",
        "spark_coarse_urdf",
        "spark_axis_check",
    ]
    first = chats[0].json
    assert first["model"] == "gpt-4o" and first["temperature"] == 0.2
    assert first["response_format"]["json_schema"]["strict"] is True
    assert chats[1].json["response_format"]["json_schema"]["schema"] == coarse_urdf_json_schema()
    assert chats[0].headers["authorization"] == f"Bearer {KEY}"
    # The photo travels as a PNG data URL; pass 2's prompt carries the category's statistics.
    content = first["messages"][1]["content"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    template = chats[1].json["messages"][0]["content"]
    assert "$" not in template and "Typical StorageFurniture" in template
    assert "- drawer:" in template

    coarse = result.coarse
    assert coarse.category == "StorageFurniture"
    assert [p.name for p in coarse.parts] == ["door_left", "door_right", "drawer_top", "handle"]
    assert coarse.part("handle").parent == "drawer_top"
    assert result.repairs == [] and result.warnings == []


def test_json_mode_servers_answers_are_extracted_from_prose(openai_server, photo):
    result = _parse(openai_server, photo, structured_outputs=False, reference_images="none")
    formats = [r.json["response_format"] for r in openai_server.chat_requests()]
    assert formats == [{"type": "json_object"}] * 3
    assert len(result.coarse.parts) == 4 and result.part_images == {}


def test_progress_is_reported_in_order(openai_server, photo):
    events = []
    OpenAIParser(_options(openai_server)).parse(photo, progress=events.append)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {e.stage for e in events} == {"perception"}
    assert events[-1].message.startswith("cost $")


def test_usage_and_cost_are_reported(openai_server, photo):
    result = _parse(openai_server, photo)
    chat = result.usage.models["gpt-4o"]
    image = result.usage.models["gpt-image-1"]
    assert chat.calls == 3 and chat.input_tokens == 3 * USAGE["prompt_tokens"]
    assert chat.output_tokens == 3 * USAGE["completion_tokens"]
    assert image.calls == 5  # four parts and the moved-state image
    expected = (
        3 * (USAGE["prompt_tokens"] * 2.50 + USAGE["completion_tokens"] * 10.00)
        + 5
        * (
            IMAGE_USAGE["input_tokens_details"]["text_tokens"] * 5.00
            + IMAGE_USAGE["input_tokens_details"]["image_tokens"] * 10.00
            + IMAGE_USAGE["output_tokens"] * 40.00
        )
    ) / 1e6
    assert result.cost_usd == pytest.approx(expected)
    assert result.record()["usage"]["cost_usd"] == pytest.approx(expected)


def test_reference_images_come_from_the_image_edit_api(openai_server, photo, tmp_path):
    result = _parse(openai_server, photo)
    edits = openai_server.image_requests()
    assert len(edits) == 5
    assert b'name="model"' in edits[0].body and b"gpt-image-1" in edits[0].body
    assert b"image/png" in edits[0].body
    assert b"door_left" in edits[0].body  # the first edit goes alone, then 4 in parallel
    for name in (b"door_right", b"drawer_top", b"handle"):
        assert sum(name in e.body for e in edits) >= 1
    assert sum(b"opened" in e.body for e in edits) == 1  # the moved-state prompt
    assert result.part_image_source == "edit"
    assert set(result.part_images) == {"door_left", "door_right", "drawer_top", "handle"}
    # The moved-state image comes back at the photo's size (same camera); part images as sent.
    assert result.moved_image is not None and result.moved_image.size == (320, 320)
    assert result.part_images["door_left"].size == (64, 64)
    moved = [e.body for e in edits if b"opened" in e.body][0]
    assert b'name="input_fidelity"' in moved and b'name="input_fidelity"' not in edits[0].body
    assert b"1024x1024" in edits[0].body
    assert edit_size_for((1600, 1000)) == "1536x1024" and edit_size_for((500, 800)) == "1024x1536"

    out = result.save(tmp_path / "parsed")
    assert json.loads((out / "coarse.json").read_text())["parts"][0]["name"] == "door_left"
    assert (out / "moved.png").is_file() and len(list((out / "parts").glob("*.png"))) == 4
    assert json.loads((out / "parse.json").read_text())["server"].startswith("127.0.0.1:")


# --- transient failures --------------------------------------------------------------------------
def test_429_with_retry_after_waits_as_asked_then_succeeds(openai_server, photo):
    openai_server.script("chat", Reply(429, headers={"retry-after": "0.4"}))
    result = _parse(openai_server, photo, backoff_s=0.01)
    chats = openai_server.chat_requests()
    assert chats[0].schema_name == chats[1].schema_name == "spark_category"
    assert chats[1].time - chats[0].time >= 0.4  # backoff alone would have waited 0.01 s
    assert result.coarse.category == "StorageFurniture"


def test_500_twice_then_success(openai_server, photo):
    openai_server.script("chat", Reply(500), Reply(503))
    result = _parse(openai_server, photo, backoff_s=0.1)
    chats = openai_server.chat_requests()
    assert [r.schema_name for r in chats[:3]] == ["spark_category"] * 3
    assert chats[1].time - chats[0].time >= 0.1  # exponential backoff: 0.1 s, then 0.2 s
    assert chats[2].time - chats[1].time >= 0.2
    assert len(result.coarse.parts) == 4


def test_persistent_500_ends_in_one_clear_error(openai_server, photo):
    openai_server.script("chat", *[Reply(500)] * 3)
    with pytest.raises(PerceptionError) as caught:
        _parse(openai_server, photo, max_retries=2)
    message = str(caught.value)
    assert "gpt-4o at 127.0.0.1" in message and "failed after 3 attempts" in message
    assert "HTTP 500" in message


def test_timeout_once_is_retried(openai_server, photo):
    openai_server.script("chat", Reply(delay=1.0))
    result = _parse(openai_server, photo, timeout_s=0.3)
    assert result.coarse.category == "StorageFurniture"


def test_timeouts_end_in_a_clear_error_within_the_configured_time(openai_server, photo):
    openai_server.script("chat", *[Reply(delay=2.0)] * 2)
    started = time.monotonic()
    with pytest.raises(PerceptionError) as caught:
        _parse(openai_server, photo, timeout_s=0.3, max_retries=1)
    elapsed = time.monotonic() - started
    assert "no answer within 0.3 s" in str(caught.value)
    assert "failed after 2 attempts" in str(caught.value)
    assert elapsed < 2 * 0.3 + 0.05 + 1.0  # two time-outs and one backoff, with slack


def test_total_time_limit_stops_a_long_retry_after(openai_server, photo):
    openai_server.script("chat", Reply(429, headers={"retry-after": "30"}))
    started = time.monotonic()
    with pytest.raises(PerceptionError, match="would pass the 1.5 s limit"):
        _parse(openai_server, photo, total_timeout_s=1.5, max_backoff_s=10.0)
    assert time.monotonic() - started < 1.0


def test_client_errors_are_not_retried(openai_server, photo):
    openai_server.script("chat", Reply(400, body={"error": {"message": "bad image"}}))
    with pytest.raises(PerceptionError, match="HTTP 400: bad image"):
        _parse(openai_server, photo)
    assert len(openai_server.chat_requests()) == 1


def test_out_of_quota_429_is_not_retried(openai_server, photo):
    quota = {"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}
    openai_server.script("chat", Reply(429, body=quota))
    with pytest.raises(PerceptionError, match="exceeded your current quota"):
        _parse(openai_server, photo)
    assert len(openai_server.chat_requests()) == 1


# --- unusable answers ----------------------------------------------------------------------------
def test_malformed_json_gets_one_repair_retry(openai_server, photo):
    openai_server.answers["spark_coarse_urdf"] = GOOD_COARSE
    openai_server.script("chat", Reply(), Reply(content='{"category": "StorageFurniture", "size'))
    result = _parse(openai_server, photo)
    chats = openai_server.chat_requests()
    assert [r.schema_name for r in chats[:3]] == ["spark_category"] + ["spark_coarse_urdf"] * 2
    retry = chats[2].json["messages"]
    assert retry[-2]["role"] == "assistant" and retry[-1]["content"].startswith(
        "Your previous answer could not be used"
    )
    assert len(result.coarse.parts) == 4


def test_malformed_json_twice_is_one_clear_error(openai_server, photo):
    broken = Reply(content="Sure! Here is the URDF: {parts: [door]")
    openai_server.script("chat", Reply(), broken, broken)
    with pytest.raises(PerceptionError) as caught:
        _parse(openai_server, photo)
    message = str(caught.value)
    assert message.startswith("gpt-4o at 127.0.0.1")
    assert "(coarse_urdf): unusable answer: no JSON object found" in message


def test_repairable_schema_violations_are_repaired_and_listed(openai_server, photo):
    answer = json.loads(json.dumps(GOOD_COARSE))
    answer["parts"][0]["axis"] = [0.0, 0.0, -3.0]  # not unit
    answer["parts"][1]["limits"] = [-1.57, 0.0]  # opens the negative way
    answer["parts"][2]["parent"] = "cabinet_body"  # not a part
    answer["parts"][3]["parent"] = "handle"  # its own parent
    openai_server.answers["spark_coarse_urdf"] = answer
    result = _parse(openai_server, photo, axis_check=False)
    coarse = result.coarse
    assert coarse.part("door_left").axis == [0.0, 0.0, -1.0]
    assert coarse.part("door_right").axis == [0.0, 0.0, -1.0]
    assert coarse.part("door_right").limits == [0.0, 1.57]
    assert coarse.part("drawer_top").parent == "base"
    assert coarse.part("handle").parent == "base"
    assert len(result.repairs) == 4


def test_unrepairable_schema_violation_is_one_clear_error(openai_server, photo):
    answer = json.loads(json.dumps(GOOD_COARSE))
    answer["parts"][0]["axis"] = [0.0, 0.0, 0.0]
    answer["size_m"] = [0.8, -0.45, 1.0]
    openai_server.answers["spark_coarse_urdf"] = answer
    with pytest.raises(CoarseURDFError) as caught:
        _parse(openai_server, photo)
    message = str(caught.value)
    assert "coarse URDF from gpt-4o at 127.0.0.1" in message
    assert "part 'door_left' has a zero axis" in message and "size_m must be positive" in message
    assert len(openai_server.chat_requests()) == 3  # category, answer, one repair retry


def test_schema_violation_fixed_by_the_repair_retry(openai_server, photo):
    wrong = json.loads(json.dumps(GOOD_COARSE))
    wrong["parts"][1]["joint_type"] = "telescopic"
    openai_server.script("chat", Reply(), Reply(content=json.dumps(wrong)))
    result = _parse(openai_server, photo)
    retry = openai_server.chat_requests()[2].json["messages"][-1]["content"]
    assert "joint type" in retry and "telescopic" in retry
    assert result.coarse.part("door_right").joint_type == "revolute"


@pytest.mark.parametrize(
    "body", ["<html>502 Bad Gateway</html>", '{"id": "x", "choices": "none"}', '{"id": "x"}']
)
def test_replies_that_are_not_chat_completions_are_one_clear_error(openai_server, photo, body):
    openai_server.script("chat", Reply(body=body))
    with pytest.raises(PerceptionError) as caught:
        _parse(openai_server, photo)
    message = str(caught.value)
    assert message.startswith("gpt-4o at 127.0.0.1") and "(category)" in message
    assert "not a chat completion" in message or "unreadable reply" in message


def test_refusal_is_one_clear_error_without_retry(openai_server, photo):
    openai_server.script("chat", Reply(refusal="I'm sorry, I can't help with that request."))
    with pytest.raises(PerceptionError) as caught:
        _parse(openai_server, photo)
    assert "(category): the model refused: I'm sorry" in str(caught.value)
    assert len(openai_server.chat_requests()) == 1


def test_axis_check_corrections_are_applied(openai_server, photo):
    openai_server.answers["spark_axis_check"] = {
        "parts": [
            {"name": "door_left", "axis": [0, 0, 1], "pivot": [-0.47, -0.5, 0.35], "changed": True}
        ]
    }
    result = _parse(openai_server, photo)
    assert result.coarse.part("door_left").axis == [0.0, 0.0, 1.0]
    assert any(r.startswith("axis re-check: part 'door_left': axis") for r in result.repairs)


def test_failed_axis_check_keeps_the_answer_with_a_warning(openai_server, photo):
    openai_server.script("chat", Reply(), Reply(), Reply(refusal="No."))
    result = _parse(openai_server, photo)
    assert result.coarse.part("door_left").axis == [0.0, 0.0, -1.0]
    assert any("axis re-check skipped" in w for w in result.warnings)


# --- image API ------------------------------------------------------------------------------------
def test_image_api_404_falls_back_to_crops_with_a_warning(openai_server, photo):
    openai_server.images_enabled = False
    result = _parse(openai_server, photo)
    assert len(openai_server.image_requests()) == 1  # no point asking again
    assert result.moved_image is None
    assert result.part_image_source == "crop"
    door = result.part_images["door_left"]  # box [0.2, 0.45, 0.5, 0.9] of 320 px, 5% margin
    assert abs(door.width - 0.33 * 320) <= 2 and abs(door.height - 0.495 * 320) <= 2
    assert any("has no image edit API (HTTP 404)" in w for w in result.warnings)
    assert "gpt-image-1" not in result.usage.models


def test_one_failed_image_edit_costs_only_that_image(openai_server, photo):
    openai_server.script("images", Reply(), Reply(400, body={"error": {"message": "unsafe"}}))
    result = _parse(openai_server, photo)
    assert len(openai_server.image_requests()) == 5
    failed = [w for w in result.warnings if w.startswith("image edit failed")]
    assert len(failed) == 1 and "HTTP 400: unsafe" in failed[0]
    if result.moved_image is None:  # the edits run in parallel: either job may have failed
        assert result.part_image_source == "edit" and "no moved-state image" in failed[0]
    else:
        assert result.part_image_source == "mixed" and "its crop is used" in failed[0]
    assert len(result.part_images) == 4


def test_crop_mode_sends_no_image_requests(openai_server, photo):
    result = _parse(openai_server, photo, reference_images="crop")
    assert openai_server.image_requests() == [] and result.part_image_source == "crop"


# --- the key --------------------------------------------------------------------------------------
def test_key_never_reaches_outputs_logs_or_errors(openai_server, photo, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # openai's and httpx's debug logging included
    openai_server.script("chat", Reply(500))
    result = _parse(openai_server, photo)
    out = result.save(tmp_path / "parsed")
    for path in out.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert openai_server.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"
    assert caplog.records, "debug logging was captured"
    assert KEY not in caplog.text and KEY[:12] not in caplog.text

    echo = {"error": {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}}
    openai_server.script("chat", Reply(401, body=echo))
    with pytest.raises(PerceptionError) as caught:
        _parse(openai_server, photo)
    error = caught.value
    assert "HTTP 401" in str(error) and "check the API key" in str(error)
    for text in (str(error), repr(error), repr(error.args)):
        assert KEY not in text and KEY[-8:] not in text
    assert error.__cause__ is None and error.__suppress_context__
    assert KEY not in caplog.text


def test_environment_key_comes_first(openai_server, photo, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment-0123456789")
    _parse(openai_server, photo, reference_images="none")
    auth = openai_server.chat_requests()[0].headers["authorization"]
    assert auth == "Bearer sk-from-environment-0123456789"


def test_server_from_openai_base_url_as_the_blender_worker_sets_it(
    openai_server, photo, monkeypatch
):
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    result = OpenAIParser(OpenAIOptions(reference_images="none")).parse(photo)
    assert result.server == openai_server.base_url.split("/")[2]
    assert openai_server.chat_requests()[0].headers["authorization"] == "Bearer no-key"


def test_no_key_and_no_server_is_a_clear_error(photo):
    with pytest.raises(PerceptionError, match="no OpenAI API key: set OPENAI_API_KEY"):
        OpenAIParser(OpenAIOptions()).parse(photo)


def test_retry_after_reads_seconds_milliseconds_and_dates():
    import email.utils

    class Response:
        def __init__(self, headers):
            self.headers = headers

    assert _retry_after(Response({"retry-after": "2.5"})) == 2.5
    assert _retry_after(Response({"retry-after-ms": "250"})) == 0.25
    date = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 1.0 < _retry_after(Response({"retry-after": date})) <= 3.0
    assert _retry_after(Response({"retry-after": "soon"})) is None
    assert _retry_after(Response({})) is None
    assert math.isclose(_retry_after(Response({"retry-after": "0"})), 0.0)
