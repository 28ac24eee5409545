"""Every fault of the fake provider, through the gateway, with raw HTTP as the client.

Before the first content token the client sees nothing of a failure: the stream starts with the
answer, or, when every provider failed, a real status and an error body. After content it sees
the answer continued in place, or an in-band error and no `[DONE]` / `message_stop`: never a
truncated answer that ends like a complete one.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fakeprovider import FakeProvider, Reply
from fakeprovider.script import STREAM_FAULTS

from .harness import GATEWAY_KEY, Running

ANSWER = "The quick brown fox jumps over the lazy dog."
HEADERS = {"Authorization": f"Bearer {GATEWAY_KEY}"}
# Faults the fake plays on one wire only.
ONLY_ON = {"incomplete": "responses", "failed": "responses", "error_finish": "chat"}
# Faults that strike before any content (no_finish streams all of it first: it is an after-content fault).
FAULTS = sorted(STREAM_FAULTS - {"stall", "keepalive_stall", "stall_first_byte", "no_finish"})


def _post(gateway: Running, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{gateway.url}{path}", json=body, headers=HEADERS, timeout=60)


def _chat(gateway: Running, model: str, **extra: Any) -> httpx.Response:
    return _post(gateway, "/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": "q"}], "stream": True, **extra})


def _messages(gateway: Running, model: str) -> httpx.Response:
    return _post(gateway, "/v1/messages", {"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": "q"}], "stream": True})


def _chat_text(body: str) -> str:
    chunks = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {")]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def _messages_text(body: str) -> str:
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {")]
    return "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")


def _wire_models(fault: str) -> list[str]:
    return [ONLY_ON[fault]] if fault in ONLY_ON else ["chat", "claude", "responses"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_before_content_is_invisible(fake: FakeProvider, gateway: Running, fault: str) -> None:
    for model in _wire_models(fault):
        fake.clear()
        fake.api_key = "sk-provider-SECRET-9876"
        fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=0))
        fake.default = Reply(text=ANSWER)  # whatever the planner sends next is answered
        response = _chat(gateway, model)
        assert response.status_code == 200, (model, response.text)
        assert _chat_text(response.text) == ANSWER, (model, response.text)
        assert response.text.endswith("data: [DONE]\n\n"), (model, response.text)
        assert '"error"' not in response.text


@pytest.mark.parametrize("fault", ["cut", "reset", "malformed", "inband_error", "no_finish", "stall", "keepalive_stall"])
@pytest.mark.parametrize("endpoint", ["chat", "messages"])
def test_a_fault_after_content_never_ends_like_a_complete_answer(fake: FakeProvider, gateway: Running, fault: str, endpoint: str) -> None:
    fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=3, stall_seconds=4))
    fake.default = Reply(text=ANSWER)
    response = _chat(gateway, "chat") if endpoint == "chat" else _messages(gateway, "chat")
    assert response.status_code == 200
    text = _chat_text(response.text) if endpoint == "chat" else _messages_text(response.text)
    complete = response.text.endswith("data: [DONE]\n\n") if endpoint == "chat" else "event: message_stop" in response.text
    if complete:  # continued in place: exactly the answer, nothing repeated at the seam
        assert text == ANSWER
    else:  # replaced: what was sent cannot be taken back, so the stream says it failed
        assert ANSWER.startswith(text) and text != ANSWER or fault == "no_finish"
        last = [line for line in response.text.splitlines() if line.startswith("data: ")][-1]
        assert '"error"' in last
        assert "[DONE]" not in response.text and "message_stop" not in response.text


def test_a_stall_before_content_is_replaced_within_the_limit(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER, fault="stall_first_byte", stall_seconds=60), Reply(text=ANSWER))
    response = _chat(gateway, "chat")
    assert response.status_code == 200 and _chat_text(response.text) == ANSWER
    assert response.elapsed.total_seconds() < 30  # the 2 s first-byte limit, not the 60 s stall (a bound, not a speed)


def test_a_primary_that_is_down_fails_over_across_wires(fake: FakeProvider, gateway: Running) -> None:
    fake.default = Reply(text=ANSWER)
    response = _chat(gateway, "failover", stream_options={"include_usage": True})
    assert response.status_code == 200 and _chat_text(response.text) == ANSWER
    usage = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")][-1]
    assert usage["choices"] == [] and usage["model"] == "backup"
    assert fake.requests[-1].path.endswith("/v1/messages")  # an Anthropic provider answered a chat client


@pytest.mark.parametrize(("status", "expected", "kind"), [(429, 429, "rate_limit_error"), (503, 503, "overloaded_error"), (400, 400, "invalid_request_error")])
@pytest.mark.parametrize("stream", [True, False])
def test_when_every_provider_fails_the_status_is_real(fake: FakeProvider, gateway: Running, status: int, expected: int, kind: str, stream: bool) -> None:
    fake.default = Reply(fault="http_error", status=status, error_message="provider says no")
    response = _post(gateway, "/v1/messages", {"model": "claude", "max_tokens": 5, "stream": stream, "messages": [{"role": "user", "content": "q"}]})
    assert response.status_code == expected
    assert response.json()["type"] == "error" and response.json()["error"]["type"] == kind
    assert "provider says no" in response.json()["error"]["message"]
    chat = _post(gateway, "/v1/chat/completions", {"model": "chat", "stream": stream, "messages": [{"role": "user", "content": "q"}]})
    assert chat.status_code == expected and "provider says no" in chat.json()["error"]["message"]


def test_trickle_and_html_are_answered_or_failed_cleanly(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER, fault="html"), Reply(text=ANSWER))
    response = _post(gateway, "/v1/chat/completions", {"model": "chat", "messages": [{"role": "user", "content": "q"}]})
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == ANSWER
