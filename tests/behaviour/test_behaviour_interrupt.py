"""Interrupts, one body for both agents: `agent.interrupt()` from another thread (blocking) or
cancelling the turn's task (awaited), always once some text was shown, never on a timer.

Replaces the per-agent copies that were in tests/agent/test_loop_over_http.py,
test_interrupted_partial.py, test_async_agent.py, test_async_failover_context.py,
tests/llm/test_failover_http.py and test_every_wire.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from agents_under_test import WIRES, Harness, posts, wait_until
from fakeprovider import FakeProvider, Reply, ToolCallSpec
from herald.agent.messages import INTERRUPTED_NOTE

STORY = "Once upon a time " * 100


def sent_texts(body: dict[str, Any]) -> list[str]:
    """Every text of a request body, whatever the wire's shape."""
    texts: list[str] = []
    for message in body.get("messages") or body.get("input") or []:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return texts


@pytest.mark.parametrize("mode", WIRES)
def test_an_interrupt_mid_stream_keeps_the_partial_closes_the_connection_and_asks_nobody_else(
    harness: Harness, own_fake: FakeProvider, second: FakeProvider, mode: str
) -> None:
    fake = own_fake  # its own server: only this request's connection is counted
    fake.enqueue(Reply(text=STORY, chunk_chars=4, delay=0.03))
    second.default = Reply(text="must not be asked")
    subject = harness.make(fake, mode, fallback=[{"model": "second/model", "base_url": second.base_url, "api_key": "k2"}])
    result = subject.run_interrupted("tell me a story", after=5)
    shown = subject.screen.shown
    assert subject.screen.chunks >= 5 and STORY.startswith(shown)

    # What was said is kept, marked: in the session (both agents) and in the result (the sync agent's).
    stored = subject.stored()
    assert [m["role"] for m in stored] == ["user", "assistant"]
    partial = stored[-1]
    assert partial.get("interrupted") is True and partial["content"].startswith("Once upon") and STORY.startswith(partial["content"])
    if result is not None:
        assert result["messages"][-1]["content"] == partial["content"] == result["final_response"]
        assert result["messages"][-1]["interrupted"]

    # The request's own connection is closed; an interrupt is not a failure: no fallback, no failover.
    connection = fake.requests[0].connection
    assert wait_until(lambda: not fake.connection_open(connection)), "the interrupted request's connection is still open"
    assert posts(fake) == 1 and posts(second) == 0
    assert subject.screen.resets == 0
    deliveries = subject.screen.deliveries
    time.sleep(0.3)  # a few more of the stream's chunks would have arrived by now
    assert subject.screen.deliveries == deliveries, "a delta arrived after the interrupt"


@pytest.mark.parametrize("mode", WIRES)
def test_an_interrupted_partial_is_sent_back_marked_on_resume(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text=STORY, chunk_chars=4, delay=0.03))
    subject = harness.make(fake, mode)
    subject.run_interrupted("tell me a story", after=5)
    stored = subject.stored()
    partial = stored[-1]["content"]
    assert partial and stored[-1].get("interrupted")

    fake.enqueue(Reply(text="The end."))
    resumed = subject.run("go on", history=stored)
    assert resumed["completed"] and resumed["final_response"] == "The end."
    texts = sent_texts(fake.requests[-1].body)
    assert partial + INTERRUPTED_NOTE in texts, "the partial answer, marked, goes back to the model"
    assert texts[-1] == "go on"


@pytest.mark.parametrize("mode", WIRES)
def test_an_interrupt_while_a_tool_call_streams_runs_nothing(harness: Harness, fake: FakeProvider, mode: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = json.dumps({"command": f"touch {marker}"})
    # One chunk of text, then the tool call's arguments, paced: the interrupt lands while they stream.
    fake.enqueue(Reply(text="ok", tool_calls=[ToolCallSpec("terminal", command + " " * 200)], chunk_chars=2, delay=0.03))
    subject = harness.make(fake, mode, enabled_toolsets=None, yolo=True)
    result = subject.run_interrupted("touch it", after=1)
    if result is not None:
        wanted = [c["id"] for m in result["messages"] if m["role"] == "assistant" for c in m.get("tool_calls") or []]
        answered = [m["tool_call_id"] for m in result["messages"] if m["role"] == "tool"]
        assert wanted == answered, "every tool call in the history has its result"
    time.sleep(0.5)  # a tool started in the background would have touched the file by now
    assert not marker.exists(), "a half-streamed tool call ran"
    assert posts(fake) == 1
    stored = subject.stored()
    assert not any(m["role"] == "tool" for m in stored)


def test_the_agent_answers_again_after_an_interrupt(harness: Harness, fake: FakeProvider) -> None:
    fake.enqueue(Reply(text=STORY, chunk_chars=4, delay=0.03), Reply(text="fresh answer"))
    subject = harness.make(fake)
    subject.run_interrupted("tell me a story", after=3)
    result = subject.run("something else")
    assert result["completed"] and result["final_response"] == "fresh answer" == subject.screen.shown


@pytest.mark.parametrize("streaming", [True, False])
def test_an_interrupt_during_a_retry_wait_ends_the_turn_without_another_request(harness: Harness, fake: FakeProvider, streaming: bool) -> None:
    fake.default = Reply(fault="http_error", status=429, retry_after=30)
    subject = harness.make(fake, streaming=streaming, max_retries=3)
    # Interrupted as the 30 s wait begins; waited out, a second request would follow it.
    subject.run_interrupted("hi", on_retry=True)
    assert [(a.outcome, a.next) for a in subject.attempts] == [("rate_limited", "retry")]
    time.sleep(0.3)  # a request sent by a wait that went on would have arrived by now
    assert posts(fake) == 1
