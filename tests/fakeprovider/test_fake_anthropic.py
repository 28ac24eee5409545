"""Anthropic Messages wire, driven by the real anthropic SDK."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def stream_events(client: anthropic.Anthropic) -> list[Any]:
    return list(client.messages.create(model="claude-test", max_tokens=100, messages=MESSAGES, stream=True))


def test_text_stream_and_final_message(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(text="Hello Claude", usage=(11, 6)))
    with anth.messages.stream(model="claude-test", max_tokens=100, messages=MESSAGES) as s:
        texts = [e.text for e in s if e.type == "text"]
        final = s.get_final_message()
    assert texts == ["Hell", "o Cl", "aude"]
    assert final.content[0].type == "text" and final.content[0].text == "Hello Claude"
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 6)
    assert final.model == "claude-test"
    request = fake.requests[0]
    assert request.path == "/v1/messages" and request.stream is True
    # This anthropic SDK sends the key as a Bearer token to custom base URLs; older ones use x-api-key.
    presented = request.headers.get("x-api-key") or request.headers["authorization"].removeprefix("Bearer ")
    assert presented == "sk-test-123"


def test_thinking_text_and_tool_use(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(reasoning="deep thought", text="Calling.", tool_calls=[ToolCallSpec("search", '{"q": "fake llm"}')]))
    evs = stream_events(anth)
    types = [e.type for e in evs]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    deltas = [e.delta.type for e in evs if e.type == "content_block_delta"]
    assert deltas.index("signature_delta") > deltas.index("thinking_delta")
    assert deltas.count("input_json_delta") > 1
    fake.enqueue(Reply(reasoning="deep thought", text="Calling.", tool_calls=[ToolCallSpec("search", '{"q": "fake llm"}')]))
    with anth.messages.stream(model="claude-test", max_tokens=100, messages=MESSAGES) as s:
        final = s.get_final_message()
    thinking, text, tool = final.content
    assert thinking.type == "thinking" and thinking.thinking == "deep thought" and thinking.signature
    assert text.type == "text" and text.text == "Calling."
    assert tool.type == "tool_use" and (tool.id, tool.name, tool.input) == ("call_1", "search", {"q": "fake llm"})
    assert final.stop_reason == "tool_use"


def test_max_tokens_stop_reason(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(text="cut sho", finish_reason="length"), Reply(text="cut sho", finish_reason="length"))
    with anth.messages.stream(model="claude-test", max_tokens=100, messages=MESSAGES) as s:
        assert s.get_final_message().stop_reason == "max_tokens"
    assert anth.messages.create(model="claude-test", max_tokens=100, messages=MESSAGES).stop_reason == "max_tokens"


def test_non_stream(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(reasoning="r", tool_calls=[ToolCallSpec("f", '{"x": [1, 2]}', id="toolu_9")]))
    msg = anth.messages.create(model="claude-test", max_tokens=100, messages=MESSAGES)
    assert [b.type for b in msg.content] == ["thinking", "tool_use"]
    assert msg.content[1].input == {"x": [1, 2]} and msg.content[1].id == "toolu_9"
    assert msg.stop_reason == "tool_use"
    assert fake.requests[0].stream is False


def test_inband_error_event(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="inband_error", fault_after=1))
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        with anth.messages.stream(model="claude-test", max_tokens=100, messages=MESSAGES) as s:
            s.get_final_message()


@pytest.mark.parametrize(("fault", "text"), [("cut", "abcd"), ("no_finish", "abcdefgh")])
def test_stream_ends_without_message_stop(fake: FakeProvider, anth: anthropic.Anthropic, fault: str, text: str) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault=fault, fault_after=1))
    evs = stream_events(anth)
    types = [e.type for e in evs]
    assert "message_stop" not in types and "message_delta" not in types
    assert "".join(e.delta.text for e in evs if e.type == "content_block_delta") == text


def test_http_error_and_retry_after(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=2))
    with pytest.raises(anthropic.RateLimitError) as info:
        stream_events(anth)
    assert info.value.response.headers["retry-after"] == "2"
    assert info.value.body == {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limit reached for requests. Please try again later."}}


def test_overloaded_529(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(fault="http_error", status=529))
    with pytest.raises(anthropic.APIStatusError) as info:
        anth.messages.create(model="claude-test", max_tokens=100, messages=MESSAGES)
    assert info.value.status_code == 529
    assert isinstance(info.value.body, dict) and info.value.body["error"]["type"] == "overloaded_error"


def test_malformed_and_html(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="malformed", fault_after=1), Reply(text="x", fault="html"))
    with pytest.raises(ValueError):
        stream_events(anth)
    assert stream_events(anth) == []


def test_keepalive_stall_comments(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="ab", fault="keepalive_stall", stall_seconds=0.3))
    raw = httpx.post(f"{fake.anthropic_base_url}/v1/messages", json={"model": "m", "stream": True}).text
    assert raw.count(": keep-alive") >= 2 and "event: message_stop" in raw
