"""The Anthropic Messages wire over real HTTP against the scripted fake provider, through `AIAgent`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec
from herald.agent import AIAgent
from herald.agent.messages import assistant_message
from herald.errors import AuthenticationError, Interrupted
from herald.llm.anthropic import AnthropicWire
from text_deltas import Texts

TOOLS = [{"type": "function", "function": {"name": "ls", "description": "List", "parameters": {"type": "object", "properties": {}}}}]
HISTORY = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


class Seen:
    """What the agent's consumers were shown."""

    def __init__(self) -> None:
        self.text = Texts()
        self.reasoning: list[str] = []


def make_agent(fake: FakeProvider, seen: Seen, **options: Any) -> AIAgent:
    return AIAgent(
        model="test/model",
        base_url=fake.anthropic_base_url,
        api_key="sk-test",
        api_mode="anthropic_messages",
        stream_delta_callback=seen.text.append,
        reasoning_callback=seen.reasoning.append,
        skip_context_files=True,
        skip_memory=True,
        quiet_mode=True,
        max_retries=0,
        **options,
    )


def kwargs(messages: list[dict[str, Any]] = HISTORY, tools: list[dict[str, Any]] | None = TOOLS) -> dict[str, Any]:
    return AnthropicWire().build_kwargs("test/model", messages, tools, max_tokens=1024)


class TestStreams:
    def test_text_thinking_and_usage(self, fake: FakeProvider) -> None:
        fake.enqueue(Reply(text="Hello there", reasoning="Let me think", usage=(21, 8)))
        seen = Seen()
        response = make_agent(fake, seen)._interruptible_streaming_api_call(kwargs())
        assert "".join(seen.text) == "Hello there" and len(seen.text) > 1
        assert "".join(seen.reasoning) == "Let me think"
        assert response.message.content == "Hello there"
        assert response.message.reasoning_content == "Let me think"
        assert response.finish_reason == "stop" and response.streamed
        # message_start says output 1, message_delta says 8: cumulative, so 8 (not 9).
        assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (21, 8)
        [request] = fake.requests
        assert request.path.endswith("/v1/messages") and request.stream
        assert request.body["system"] == "Be brief." and request.body["max_tokens"] == 1024
        assert request.body["tools"] == [{"name": "ls", "description": "List", "input_schema": {"type": "object", "properties": {}}}]

    def test_tool_turn_replays_thinking_with_signature(self, fake: FakeProvider) -> None:
        fake.enqueue(
            Reply(text="Checking", reasoning="need a listing", tool_calls=[ToolCallSpec("ls", '{"path": "."}', id="toolu_1")]),
            Reply(text="Two files."),
        )
        seen = Seen()
        agent = make_agent(fake, seen)
        first = agent._interruptible_streaming_api_call(kwargs())
        assert first.finish_reason == "tool_calls"
        [call] = first.message.tool_calls
        assert (call.id, call.function.name, call.function.arguments) == ("toolu_1", "ls", '{"path": "."}')
        assert seen.text == ["Chec", "king"]  # shown up to the tool_use block, not after

        history = [*HISTORY, assistant_message(first), {"role": "tool", "tool_call_id": "toolu_1", "content": "a b"}]
        second = agent._interruptible_streaming_api_call(kwargs(history))
        assert second.message.content == "Two files."
        assistant, results = fake.requests[1].body["messages"][1:]
        thinking = assistant["content"][0]
        assert thinking["type"] == "thinking" and thinking["thinking"] == "need a listing"
        assert thinking["signature"].startswith("fake-signature-")
        assert assistant["content"][2] == {"type": "tool_use", "id": "toolu_1", "name": "ls", "input": {"path": "."}}
        assert results == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a b"}]}

    def test_tool_without_arguments(self, fake: FakeProvider) -> None:
        fake.enqueue(Reply(tool_calls=[ToolCallSpec("ls", "")]))
        response = make_agent(fake, Seen())._interruptible_streaming_api_call(kwargs())
        assert response.message.tool_calls[0].function.arguments == "{}"


STREAM_FAILURES = [
    dict(fault="cut", fault_after=2),
    dict(fault="reset", fault_after=2),
    dict(fault="malformed", fault_after=1),
    dict(fault="html"),
    dict(fault="inband_error", fault_after=1),
    dict(fault="no_finish"),
    dict(fault="reject_stream"),
    dict(fault="stall", fault_after=1, stall_seconds=10),
    dict(fault="stall_first_byte", stall_seconds=10),
]


def stall_limit(failure: dict[str, Any]) -> dict[str, float]:
    """One short limit per stall kind: the idle limit must work with the first-byte one at its default."""
    if failure["fault"] == "stall_first_byte":
        return {"stream_first_byte_timeout": 0.3}
    return {"stream_idle_timeout": 0.3}


class TestFallback:
    @pytest.mark.parametrize("failure", STREAM_FAILURES, ids=lambda f: f["fault"])
    def test_failure_falls_back_to_messages_create(self, fake: FakeProvider, failure: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
        fake.enqueue(
            Reply(text="broken stream answer", **failure),
            Reply(text="recovered", reasoning="why", tool_calls=[ToolCallSpec("ls", '{"a": 1}')], usage=(3, 2)),
        )
        seen = Seen()
        agent = make_agent(fake, seen, **stall_limit(failure))
        with caplog.at_level(logging.INFO, logger="herald.llm"):
            response = agent._interruptible_streaming_api_call(kwargs())
        assert response.message.content == "recovered"
        assert response.message.reasoning_content == "why"
        assert response.message.tool_calls[0].function.arguments == '{"a": 1}'
        assert response.finish_reason == "tool_calls"
        assert response.message.provider_data["anthropic"]["thinking_blocks"][0]["signature"]
        assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (3, 2)
        assert not response.streamed and "fallback_reason" in response.extras
        assert [r.stream for r in fake.requests] == [True, False]
        assert fake.requests[1].body["messages"] == fake.requests[0].body["messages"]
        assert fake.requests[1].body["max_tokens"] == 1024
        assert any("falling back" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)

    def test_fallback_error_propagates(self, fake: FakeProvider) -> None:
        fake.enqueue(Reply(fault="cut", fault_after=1, text="abcdefgh"), Reply(fault="http_error", status=401))
        with pytest.raises(AuthenticationError):
            make_agent(fake, Seen())._interruptible_streaming_api_call(kwargs())
        assert len(fake.requests) == 2


def test_interrupt_during_slow_stream(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="slow " * 200, delay=0.05))
    seen = Seen()
    agent = make_agent(fake, seen)
    interrupted_at: list[float] = []

    def interrupt() -> None:
        interrupted_at.append(time.monotonic())
        agent.interrupt()

    # Interrupt once the answer is under way (not on a clock: under load the stream starts late).
    timer = threading.Thread(target=lambda: seen.text.under_way.wait(30) and interrupt())
    timer.start()
    try:
        with pytest.raises(Interrupted) as caught:
            agent._interruptible_streaming_api_call(kwargs())
        returned_at = time.monotonic()
    finally:
        seen.text.under_way.set()
        timer.join()
    assert returned_at - interrupted_at[0] < 0.05
    assert caught.value.partial is not None and caught.value.partial.state == "interrupted"
    assert (caught.value.partial.message.content or "").startswith("slow")
    assert len(fake.requests) == 1
