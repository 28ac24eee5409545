"""The README's guarantees on every wire, over real HTTP, through the raw fast path.

Each test runs on chat completions, Responses and Anthropic Messages alike; where a wire
has no such fault (finish_reason "error" is a chat thing) the test says so in its name.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent
from herald.errors import AuthenticationError, Interrupted, ProviderError, ProviderUnreachable
from herald.llm.anthropic import AnthropicWire
from herald.llm.openai_chat import ChatCompletionsWire
from herald.llm.responses import ResponsesWire

# Not shaped like any known key format: only Herald's knowledge of its own key can scrub it.
KEY = "herald-test-secret-7f3a9c1e5b"
ANSWER = "Streams are additive: the whole answer arrives exactly once. " * 2
REASONING = "Let me think about streams for a moment."
WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]


class Screen:
    """A consumer that honours resets, as the CLI does: what it holds is what a user would see."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.resets = 0
        self.calls = 0
        """Every delivery, ever, including any that came after the call returned."""

    def on_text(self, text: str) -> None:
        self.calls += 1
        self.text.append(text)

    def on_reasoning(self, text: str) -> None:
        self.calls += 1
        self.reasoning.append(text)

    def on_reset(self) -> None:
        self.resets += 1
        self.text.clear()
        self.reasoning.clear()


def make_agent(fake: FakeProvider, mode: str, screen: Screen | None = None, **options: Any) -> AIAgent:
    screen = screen or Screen()
    settings: dict[str, Any] = dict(
        model="test/model",
        base_url=fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url,
        api_key=KEY,
        api_mode=mode,
        stream_delta_callback=screen.on_text,
        reasoning_callback=screen.on_reasoning,
        stream_reset_callback=screen.on_reset,
        skip_context_files=True,
        skip_memory=True,
        quiet_mode=True,
        max_retries=0,
    )
    settings.update(options)
    return AIAgent(**settings)


def ask(agent: AIAgent) -> Any:
    history = [{"role": "user", "content": "hi"}]
    wire = {"chat_completions": ChatCompletionsWire, "codex_responses": ResponsesWire, "anthropic_messages": AnthropicWire}[agent.api_mode]()
    return agent._interruptible_streaming_api_call(wire.build_kwargs(agent.model, history))


def streamed(fake: FakeProvider) -> list[bool]:
    return [r.stream for r in fake.requests]


def plain_fallback(mode: str) -> bool:
    """The chat and Anthropic fallbacks are plain requests; the Responses one is a buffered stream."""
    return mode != "codex_responses"


# ── silent failures, on the raw path ────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
@pytest.mark.parametrize("fault", ["cut", "reset", "malformed", "inband_error", "no_finish", "html"])
def test_silent_failures_fall_back_to_the_whole_answer_once(fake: FakeProvider, mode: str, fault: str) -> None:
    fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=3), Reply(text=ANSWER))
    screen = Screen()
    response = ask(make_agent(fake, mode, screen))
    assert response.message.content == ANSWER and not response.streamed
    assert "".join(screen.text) == ANSWER
    assert len(fake.requests) == 2


def test_finish_reason_error_mid_stream_falls_back_on_the_chat_wire(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text=ANSWER, fault="error_finish", fault_after=3), Reply(text=ANSWER))
    screen = Screen()
    response = ask(make_agent(fake, "chat_completions", screen))
    assert response.message.content == ANSWER and not response.streamed
    assert "finish_reason 'error'" in response.extras["fallback_reason"]
    assert "".join(screen.text) == ANSWER and screen.resets == 1
    assert streamed(fake) == [True, False]


@pytest.mark.parametrize("mode", WIRES)
def test_a_json_body_with_status_200_is_a_failed_stream(fake: FakeProvider, mode: str) -> None:
    # A server that ignores `stream: true` and answers JSON: failed at once, not read as SSE.
    fake.enqueue(Reply(text=ANSWER, fault="trickle", delay=0.001), Reply(text=ANSWER))
    response = ask(make_agent(fake, mode))
    assert response.message.content == ANSWER and not response.streamed
    assert "other than an event stream" in response.extras["fallback_reason"]
    assert "application/json" in response.extras["fallback_reason"]


# ── stalls, interrupts and late deltas ─────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_a_stall_falls_back_and_no_late_delta_follows(fake: FakeProvider, mode: str) -> None:
    # The stalled stream resumes after 0.8 s: by then its replacement was delivered.
    fake.enqueue(Reply(text=ANSWER, fault="stall", fault_after=2, stall_seconds=0.8), Reply(text=ANSWER))
    screen = Screen()
    started = time.monotonic()
    response = ask(make_agent(fake, mode, screen, stream_idle_timeout=0.3))
    assert time.monotonic() - started < 3
    assert "stalled" in response.extras["fallback_reason"]
    calls = screen.calls
    time.sleep(1.2)
    assert screen.calls == calls, "a delta from the abandoned stream reached a consumer"
    assert "".join(screen.text) == ANSWER and screen.resets == 1


@pytest.mark.parametrize("mode", WIRES)
def test_interrupt_returns_at_once_closes_the_socket_and_delivers_nothing_late(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text=ANSWER * 5, chunk_chars=3, delay=0.1))
    screen = Screen()
    agent = make_agent(fake, mode, screen)
    fired: list[float] = []

    def interrupt() -> None:
        fired.append(time.monotonic())
        agent.interrupt()

    threading.Timer(0.45, interrupt).start()
    with pytest.raises(Interrupted) as caught:
        ask(agent)
    assert time.monotonic() - fired[0] < 0.5
    partial = caught.value.partial
    assert partial is not None and partial.state == "interrupted"
    assert partial.message.content and (ANSWER * 5).startswith(partial.message.content)
    calls = screen.calls
    # That request's own connection (connections other agents keep alive may stay open).
    connection = fake.requests[0].connection
    deadline = time.monotonic() + 3
    while fake.connection_open(connection) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not fake.connection_open(connection), "the interrupted request's connection is still open"
    time.sleep(0.3)
    assert screen.calls == calls
    assert len(fake.requests) == 1, "an interrupt is not a stream failure: no fallback"


# ── reset + one clean replay ───────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_reasoning_shown_before_a_fallback_is_not_shown_twice(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text=ANSWER, reasoning=REASONING, chunk_chars=5, fault="cut", fault_after=3), Reply(text=ANSWER, reasoning=REASONING))
    screen = Screen()
    response = ask(make_agent(fake, mode, screen))
    assert screen.resets == 1
    assert "".join(screen.reasoning) == REASONING
    assert "".join(screen.text) == ANSWER
    assert response.message.reasoning_content == REASONING


# ── what Herald learns ─────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
@pytest.mark.parametrize("status", [429, 500, 503, 529])
def test_a_5xx_or_429_on_the_stream_is_retried_as_a_stream_never_as_plain(fake: FakeProvider, mode: str, status: int) -> None:
    # Not a stream-specific failure: the planner retries (after Retry-After), it does not switch to a plain request.
    fake.enqueue(Reply(fault="http_error", status=status, retry_after=0), Reply(text="retried"), Reply(text="streamed again"))
    agent = make_agent(fake, mode, max_retries=1)
    response = ask(agent)
    assert response.message.content == "retried" and response.streamed
    response = ask(agent)
    assert response.message.content == "streamed again" and response.streamed
    assert streamed(fake) == [True, True, True]


@pytest.mark.parametrize("mode", ["chat_completions", "anthropic_messages"])
def test_a_400_naming_its_cause_is_sent_once_and_one_naming_streaming_switches_it_off(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(fault="http_error", status=400, error_message="Invalid value for 'temperature': must be at most 2."))
    agent = make_agent(fake, mode)
    with pytest.raises(ProviderError, match="temperature"):
        ask(agent)
    assert streamed(fake) == [True]  # never resent unchanged, not even as a plain request
    fake.enqueue(Reply(fault="reject_stream"), Reply(text="plain"), Reply(text="plain again"))
    assert ask(agent).message.content == "plain"
    assert ask(agent).message.content == "plain again"
    assert streamed(fake) == [True, True, False, False]


@pytest.mark.parametrize("mode", ["chat_completions", "anthropic_messages"])
def test_a_4xx_rejection_of_the_stream_switches_streaming_off_only_when_the_plain_request_works(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(fault="reject_stream"), Reply(fault="http_error", status=400))  # the stream and its plain request both refused
    agent = make_agent(fake, mode)
    with pytest.raises(ProviderError):
        ask(agent)
    fake.enqueue(Reply(fault="reject_stream"), Reply(text="plain"), Reply(text="plain again"))
    assert ask(agent).message.content == "plain"
    assert ask(agent).message.content == "plain again"
    assert streamed(fake) == [True, False, True, False, False]


# ── keys ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_an_echoed_key_is_in_no_error_or_log(fake: FakeProvider, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.default = Reply(fault="echo_key")
    with pytest.raises(AuthenticationError) as caught:
        ask(make_agent(fake, mode))
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.body) and KEY not in caught.value.provider_message
    assert KEY not in caplog.text


@pytest.mark.parametrize("mode", WIRES)
def test_a_key_echoed_in_a_mid_stream_error_that_recovers_is_nowhere(
    fake: FakeProvider, mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.enqueue(Reply(text=ANSWER, fault="inband_error", fault_after=2, error_message=f"upstream rejected key {KEY}"), Reply(text=ANSWER))
    agent = make_agent(fake, mode, cwd=tmp_path, persist_session=True)
    result = agent.run_conversation("hi")
    assert result["completed"] and result["final_response"] == ANSWER
    assert KEY not in caplog.text
    assert agent.session_store is not None and agent.session_id is not None
    stored = agent.session_store.load_messages(agent.session_id)
    assert KEY not in repr(stored)
    agent.session_store.close()
    databases = list(Path(os.environ["HERALD_HOME"]).glob("**/*.db*"))
    assert databases, "no session database found to scan"
    for database in databases:
        assert KEY.encode() not in database.read_bytes(), f"the key is in {database}"
    fake.enqueue(Reply(text=ANSWER, fault="inband_error", fault_after=2, error_message=f"bad key {KEY}"), Reply(text=ANSWER))
    response = ask(make_agent(fake, mode))
    assert "bad key" in response.extras["fallback_reason"] and KEY not in response.extras["fallback_reason"]


# ── bounds on the fallback itself ──────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_a_fallback_that_itself_hangs_is_bounded(fake: FakeProvider, mode: str) -> None:
    # The replacement trickles a byte every 0.1 s: no read times out, the answer never ends.
    fake.enqueue(Reply(text=ANSWER, fault="cut", fault_after=2), Reply(text=ANSWER * 20, fault="trickle", delay=0.1))
    started = time.monotonic()
    with pytest.raises(ProviderUnreachable, match="timed out"):
        ask(make_agent(fake, mode, request_timeout=1.0))
    assert time.monotonic() - started < 5


def test_retry_after_above_the_cap_is_capped(fake: FakeProvider) -> None:
    from herald.llm.planner import CallPolicy

    fake.enqueue(Reply(fault="http_error", status=429, retry_after=3600), Reply(text="finally"))
    agent = make_agent(fake, "chat_completions", max_retries=1)
    agent.client.policy = CallPolicy(max_retries=1, max_delay=0.2)
    started = time.monotonic()
    assert ask(agent).message.content == "finally"
    assert time.monotonic() - started < 3, "a one-hour Retry-After was not capped"
