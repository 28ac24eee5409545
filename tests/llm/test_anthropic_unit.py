"""The Anthropic wire with small fake events (plain SimpleNamespaces)."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

import pytest

from herald.errors import BadResponse, IncompleteStream
from herald.llm.accumulate import StreamAccumulator
from herald.llm.anthropic import AnthropicWire, finish_reason_for, response_from_message
from herald.llm.endpoint import detect_api_mode
from herald.llm.history import PROVIDER_DATA_KEY, to_anthropic_messages
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import read_objects


class FakeStream:
    def __init__(self, events: list[Any]) -> None:
        self.events = events

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Any:
        return iter(self.events)


def start(input_tokens: int = 20, cache_read: int = 5) -> NS:
    usage = NS(input_tokens=input_tokens, cache_read_input_tokens=cache_read, cache_creation_input_tokens=None, output_tokens=1)
    return NS(type="message_start", message=NS(id="msg_1", model="claude-x", usage=usage))


def block_start(index: int, **block: Any) -> NS:
    return NS(type="content_block_start", index=index, content_block=NS(**block))


def delta(index: int, **d: Any) -> NS:
    return NS(type="content_block_delta", index=index, delta=NS(**d))


def stop(index: int) -> NS:
    return NS(type="content_block_stop", index=index)


def message_delta(stop_reason: str | None, output_tokens: int) -> NS:
    return NS(type="message_delta", delta=NS(stop_reason=stop_reason), usage=NS(output_tokens=output_tokens, input_tokens=None))


def read(events: list[Any], texts: list[str] | None = None, reasoning: list[str] | None = None) -> Any:
    sink = DeltaSink(text_callbacks=[(texts if texts is not None else []).append], reasoning_callback=(reasoning.append if reasoning is not None else None))
    return read_objects(FakeStream(events), AnthropicWire().reader(StreamAccumulator(), sink), None)


class TestStreaming:
    def test_thinking_text_and_cumulative_usage(self) -> None:
        texts: list[str] = []
        reasoning: list[str] = []
        events = [
            start(),
            block_start(0, type="thinking", thinking="", signature=""),
            delta(0, type="thinking_delta", thinking="Hmm"),
            delta(0, type="thinking_delta", thinking=", ok"),
            delta(0, type="signature_delta", signature="sig-abc"),
            stop(0),
            block_start(1, type="text", text=""),
            NS(type="text", text="Hi", snapshot="Hi"),  # SDK-derived duplicate: ignored
            delta(1, type="text_delta", text="Hi"),
            delta(1, type="text_delta", text=" there"),
            stop(1),
            message_delta(None, 4),
            message_delta("end_turn", 9),  # cumulative: replaces, never adds
            NS(type="message_stop"),
        ]
        response = read(events, texts, reasoning)
        assert texts == ["Hi", " there"]
        assert reasoning == ["Hmm", ", ok"]
        assert response.message.content == "Hi there"
        assert response.message.reasoning_content == "Hmm, ok"
        assert response.finish_reason == "stop"
        assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (25, 9, 34)
        assert response.message.provider_data == {
            "anthropic": {"thinking_blocks": [{"type": "thinking", "thinking": "Hmm, ok", "signature": "sig-abc"}]}
        }
        assert response.id == "msg_1" and response.model == "claude-x"

    def test_tool_use_suppresses_text_and_accumulates_json_per_block(self) -> None:
        texts: list[str] = []
        events = [
            start(),
            block_start(0, type="text", text=""),
            delta(0, type="text_delta", text="Checking"),
            block_start(1, type="tool_use", id="toolu_1", name="ls", input={}),
            delta(1, type="input_json_delta", partial_json='{"path":'),
            block_start(2, type="tool_use", id="toolu_2", name="pwd", input={}),
            delta(1, type="input_json_delta", partial_json=' "/"}'),
            stop(1),
            stop(2),
            delta(0, type="text_delta", text=" more"),
            message_delta("tool_use", 30),
            NS(type="message_stop"),
        ]
        response = read(events, texts)
        assert texts == ["Checking"]
        assert response.finish_reason == "tool_calls"
        first, second = response.message.tool_calls
        assert (first.id, first.function.name, first.function.arguments) == ("toolu_1", "ls", '{"path": "/"}')
        assert (second.id, second.function.name, second.function.arguments) == ("toolu_2", "pwd", "{}")

    def test_whole_input_in_block_start(self) -> None:
        events = [start(), block_start(0, type="tool_use", id="t", name="f", input={"x": 1}), stop(0), message_delta("tool_use", 3)]
        assert read(events).message.tool_calls[0].function.arguments == '{"x": 1}'

    def test_redacted_thinking_is_kept(self) -> None:
        events = [start(), block_start(0, type="redacted_thinking", data="opaque"), stop(0), message_delta("end_turn", 3)]
        response = read(events)
        blocks = response.message.provider_data["anthropic"]["thinking_blocks"]
        assert blocks == [{"type": "redacted_thinking", "data": "opaque"}]
        _, turns = to_anthropic_messages([{"role": "assistant", "content": "x", PROVIDER_DATA_KEY: response.message.provider_data}])
        assert turns[0]["content"][0] == {"type": "redacted_thinking", "data": "opaque"}

    def test_max_tokens_is_length(self) -> None:
        response = read([start(), block_start(0, type="text", text=""), delta(0, type="text_delta", text="Hal"), message_delta("max_tokens", 3)])
        assert response.finish_reason == "length" and response.state == "incomplete"

    def test_cut_stream_without_stop_reason_fails(self) -> None:
        # The SDK ends a cut stream quietly; only the missing stop reason tells.
        with pytest.raises(IncompleteStream, match="without a finish reason") as caught:
            read([start(), block_start(0, type="text", text=""), delta(0, type="text_delta", text="Hal")])
        assert caught.value.reason == "no_finish"

    def test_empty_stream_fails(self) -> None:
        with pytest.raises(IncompleteStream, match="no event arrived") as caught:
            read([])
        assert caught.value.reason == "no_data"


class TestPlain:
    def test_message_conversion(self) -> None:
        message = NS(
            id="msg_2",
            model="claude-x",
            stop_reason="tool_use",
            usage=NS(input_tokens=7, output_tokens=3),
            content=[
                NS(type="thinking", thinking="plan", signature="s1"),
                NS(type="text", text="Looking"),
                NS(type="tool_use", id="toolu_9", name="ls", input={"path": "."}),
            ],
        )
        response = response_from_message(message)
        assert response.message.content == "Looking"
        assert response.message.reasoning_content == "plan"
        assert response.message.tool_calls[0].function.arguments == '{"path": "."}'
        assert response.finish_reason == "tool_calls"
        assert response.usage.prompt_tokens == 7 and response.usage.completion_tokens == 3
        assert response.message.provider_data["anthropic"]["thinking_blocks"][0]["signature"] == "s1"
        assert not response.streamed

    def test_not_a_message(self) -> None:
        with pytest.raises(BadResponse):
            response_from_message("<html>")

    def test_request_uses_messages_create_with_max_tokens(self) -> None:
        calls: list[dict[str, Any]] = []

        def create(**kwargs: Any) -> Any:
            calls.append(kwargs)
            return NS(id="m", model="c", stop_reason="end_turn", usage=None, content=[NS(type="text", text="hi")])

        wire = AnthropicWire()
        client = NS(messages=NS(create=create))
        response = wire.request(client, wire.plain_kwargs({"model": "c", "messages": [], "stream": True}))
        assert calls == [{"model": "c", "messages": [], "max_tokens": 8192}]
        assert response.message.content == "hi"


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("tool_use", "tool_calls"), ("max_tokens", "length"), ("refusal", "content_filter"), (None, None)],
)
def test_stop_reasons(stop_reason: str | None, finish: str | None) -> None:
    assert finish_reason_for(stop_reason) == finish


def test_mode_detection() -> None:
    assert detect_api_mode("https://api.anthropic.com") == "anthropic_messages"
    assert detect_api_mode("https://api.anthropic.com/v1") == "anthropic_messages"
