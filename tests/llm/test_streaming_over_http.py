"""The streaming core against a real loopback server that fails the ways providers do."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.agent import AIAgent
from herald.errors import (
    AuthenticationError,
    Interrupted,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
)

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


def streamed_requests(fake) -> list[bool]:
    return [r.stream for r in fake.requests]


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


@pytest.mark.parametrize("fault", ["cut", "malformed", "inband_error", "no_finish", "html"])
def test_broken_stream_falls_back_to_the_complete_answer_exactly_once(fake, fault):
    fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=4, repeat=2))  # the stream, then its fallback
    screen = Screen()
    agent = make_agent(fake, screen)
    response = ask(agent)
    assert response.message.content == ANSWER
    assert not response.streamed and "fallback_reason" in response.extras
    assert screen.text == ANSWER, "the screen must end with the whole answer, once"
    assert streamed_requests(fake) == [True, False]
    # A transient failure must not switch streaming off.
    fake.enqueue(Reply(text="again"))
    assert ask(agent).streamed


def test_text_already_shown_is_reset_before_the_replacement(fake):
    fake.enqueue(Reply(text=ANSWER, fault="cut", fault_after=5, chunk_chars=4, repeat=2))
    screen = Screen()
    ask(make_agent(fake, screen))
    assert screen.resets == 1
    assert screen.parts == [ANSWER], "the fallback's text arrives as one delta after the reset"


def test_provider_rejecting_streaming_is_remembered(fake):
    fake.default = Reply(text="plain answer", fault="reject_stream")
    agent = make_agent(fake)
    for _ in range(5):
        assert ask(agent).message.content == "plain answer"
    assert streamed_requests(fake) == [True] + [False] * 5, "one wasted request in total, not one per turn"


@pytest.mark.parametrize("fault", ["reject_stream_options", "crash_stream_options"])
def test_provider_rejecting_stream_options_streams_without_them(fake, fault):
    fake.default = Reply(text="streamed anyway", fault=fault)
    agent = make_agent(fake)
    for _ in range(3):
        response = ask(agent)
        assert response.message.content == "streamed anyway" and response.streamed
    with_options = ["stream_options" in r.body for r in fake.requests]
    assert with_options == [True, False, False, False]


@pytest.mark.parametrize("fault, limit", [
    ("stall_first_byte", "stream_first_byte_timeout"),
    ("stall", "stream_idle_timeout"),
    ("keepalive_stall", "stream_idle_timeout"),
])
def test_stalls_fall_back_after_their_limit(fake, fault, limit):
    fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=2, stall_seconds=5, repeat=2))
    agent = make_agent(fake, **{limit: 0.3})
    started = time.monotonic()
    response = ask(agent)
    assert response.message.content == ANSWER
    assert "stalled" in response.extras["fallback_reason"]
    assert time.monotonic() - started < 3


def test_total_time_limit(fake):
    fake.enqueue(Reply(text=ANSWER, chunk_chars=2, delay=0.05, repeat=2))
    response = ask(make_agent(fake, stream_total_timeout=0.3))
    assert response.message.content == ANSWER and not response.streamed


def test_rate_limit_honours_retry_after_then_succeeds(fake):
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=0.2, repeat=2), Reply(text="finally"))
    started = time.monotonic()
    response = ask(make_agent(fake, max_retries=2))
    assert response.message.content == "finally"
    assert time.monotonic() - started >= 0.4
    # Nothing is sent before Retry-After passed, and a 429 is not a reason to give up streaming.
    assert streamed_requests(fake) == [True, True, True]
    gaps = [b.time - a.time for a, b in zip(fake.requests, fake.requests[1:])]
    assert all(gap >= 0.2 for gap in gaps), gaps


def test_when_both_fail_the_fallback_error_names_status_and_message(fake):
    fake.default = Reply(fault="http_error", status=503, error_message="upstream is down")
    with pytest.raises(ProviderError) as caught:
        ask(make_agent(fake, max_retries=0))
    assert caught.value.status == 503
    assert "503" in str(caught.value) and "upstream is down" in str(caught.value)


def test_an_echoed_key_never_reaches_the_error_or_the_logs(fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.default = Reply(fault="echo_key")
    with pytest.raises(AuthenticationError) as caught:
        ask(make_agent(fake))
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.body)
    assert KEY not in caplog.text


def test_wrong_key_and_unknown_model_are_named(fake):
    fake.default = Reply(text="never")
    fake.api_key = "sk-right-key-000000000000"
    with pytest.raises(AuthenticationError, match="401"):
        ask(make_agent(fake))
    fake.api_key = None
    fake.known_models = {"other/model"}
    with pytest.raises(ModelNotFoundError, match="404"):
        ask(make_agent(fake))


def test_unreachable_host_is_a_clear_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = AIAgent(model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY,
                    stream_delta_callback=lambda t: None, max_retries=0)
    with pytest.raises(ProviderUnreachable, match=f"127.0.0.1:{port}"):
        ask(agent)


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


def test_interrupt_drops_half_streamed_tool_calls(fake):
    fake.enqueue(Reply(tool_calls=[ToolCallSpec("terminal", '{"command": "rm -rf build"}')], chunk_chars=2, delay=0.05))
    agent = make_agent(fake)
    interrupt_after(agent, 0.3)
    with pytest.raises(Interrupted) as caught:
        ask(agent)
    assert caught.value.partial.message.tool_calls is None


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
