"""The streaming core against a real loopback server: progressive text, tool-call shapes, and how
soon an interrupt lets go (the blocking agent's seams).

How both agents meet stream faults, retries, keys and interrupts: tests/behaviour/.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.agent import AIAgent
from herald.errors import Interrupted

KEY = "sk-test-0123456789abcdefghij"
ANSWER = "The quick brown fox jumps over the lazy dog. " * 3


class Screen:
    """A consumer that honours resets, as the CLI does: what it holds is what a user would see."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.resets = 0

    def on_text(self, text: str) -> None:
        self.parts.append(text)

    def on_reset(self) -> None:
        self.resets += 1
        self.parts.clear()

    @property
    def text(self) -> str:
        return "".join(self.parts)


def make_agent(fake, screen: Screen | None = None, **kwargs) -> AIAgent:
    screen = screen or Screen()
    options = dict(
        model="test/model", base_url=fake.base_url, api_key=KEY, quiet_mode=True,
        skip_context_files=True, skip_memory=True,
        stream_delta_callback=screen.on_text, stream_reset_callback=screen.on_reset,
        max_retries=1,
    )
    options.update(kwargs)
    return AIAgent(**options)


def ask(agent: AIAgent, text: str = "hi") -> object:
    return agent._interruptible_streaming_api_call({"model": agent.model, "messages": [{"role": "user", "content": text}]})


def test_text_streams_progressively_with_usage(fake):
    fake.enqueue(Reply(text=ANSWER, chunk_chars=5, usage=(12, 34)))
    screen = Screen()
    response = ask(make_agent(fake, screen))
    assert response.message.content == ANSWER and response.streamed
    assert len(screen.parts) > 10 and screen.text == ANSWER
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (12, 34)
    assert response.finish_reason == "stop"
    assert fake.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("style", ["standard", "llamacpp", "no_index", "one_chunk", "interleaved"])
def test_tool_call_shapes_merge_exactly(fake, style):
    calls = [ToolCallSpec("read_file", '{"path": "a.txt"}'), ToolCallSpec("terminal", '{"command": "ls -la"}')]
    if style in ("llamacpp", "no_index", "one_chunk"):
        calls = calls[:1] if style == "llamacpp" else calls
    fake.enqueue(Reply(text="Let me look.", tool_calls=calls, tool_call_style=style, chunk_chars=3))
    screen = Screen()
    response = ask(make_agent(fake, screen))
    got = [(c.function.name, c.function.arguments) for c in response.message.tool_calls]
    assert got == [(c.name, c.arguments) for c in calls]
    assert response.finish_reason == "tool_calls"
    assert screen.text == "Let me look."


def interrupt_after(agent: AIAgent, seconds: float) -> dict:
    marks: dict = {}

    def fire():
        marks["at"] = time.monotonic()
        agent.interrupt()

    threading.Timer(seconds, fire).start()
    return marks


def test_interrupt_during_a_slow_stream_returns_within_50ms_with_the_partial_text(fake):
    fake.enqueue(Reply(text=ANSWER * 5, chunk_chars=4, delay=0.05))
    screen = Screen()
    agent = make_agent(fake, screen)
    marks = interrupt_after(agent, 0.4)
    with pytest.raises(Interrupted) as caught:
        ask(agent)
    latency = time.monotonic() - marks["at"]
    assert latency < 0.05, f"interrupt took {latency * 1000:.1f} ms"
    partial = caught.value.partial
    assert partial.state == "interrupted" and partial.message.content
    assert (ANSWER * 5).startswith(partial.message.content)
    assert len(fake.requests) == 1, "an interrupt is not a stream failure: no fallback"


def test_interrupt_during_a_plain_call_returns_within_50ms():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        agent = AIAgent(model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
        marks = interrupt_after(agent, 0.2)
        with pytest.raises(Interrupted):
            agent._interruptible_api_call({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        assert time.monotonic() - marks["at"] < 0.05


def test_interrupt_stops_a_retry_wait_at_once(fake):
    fake.default = Reply(fault="http_error", status=429, retry_after=30)
    agent = make_agent(fake, max_retries=3)
    marks = interrupt_after(agent, 0.2)
    with pytest.raises(Interrupted):
        ask(agent)
    assert time.monotonic() - marks["at"] < 0.05
