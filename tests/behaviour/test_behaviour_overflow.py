"""Context overflow, one body for both agents, on every wire: said in one line, never a stuck session.

The fake provider enforces a context window the way real ones do: a request that is too large
gets the wire's own context-length error (HTTP 400), before any scripted reply.

Replaces the per-agent copies that were in tests/agent/test_context_overflow.py (sync, and one
async) and tests/agent/test_async_failover_context.py (async, compared against sync).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents_under_test import WIRES, Harness
from fakeprovider import FakeProvider, Reply

HUGE = "lorem ipsum dolor sit amet " * 8000  # about 216 KB: far over the window
WINDOW = 3000


def sent_text(fake: FakeProvider) -> str:
    return json.dumps(fake.requests[-1].body)


@pytest.mark.parametrize("mode", WIRES)
def test_a_huge_first_message_is_refused_and_leaves_no_session(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="Four.")
    subject = harness.make(fake, mode)
    result = subject.run(HUGE)
    assert result["failed"] and result["error_type"] == "ContextOverflow"
    assert "too long for the model's context" in result["error"] and "\n" not in result["error"]
    assert subject.agent.core.max_context_tokens == WINDOW  # learned from the provider's words
    assert fake.requests  # it was sent: the window was not known
    assert result["messages"] == [] and subject.store.list_sessions() == []  # not a one-message session
    result = subject.run("What is 2+2?")  # the next question starts a session of its own
    assert result["completed"]
    assert len(subject.store.list_sessions()) == 1, "only the answered question has a session"
    assert [m["content"] for m in subject.stored()] == ["What is 2+2?", "Four."]


@pytest.mark.parametrize("mode", WIRES)
def test_an_overflowing_history_is_sent_once_more_under_the_learned_window(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="Four.")
    history = [{"role": "user", "content": HUGE}, {"role": "assistant", "content": "noted"}]
    notes: list[str] = []
    subject = harness.make(fake, mode, notice_callback=notes.append)
    result = subject.run("What is 2+2?", history=history)
    assert result["completed"] and result["final_response"] == "Four." == subject.screen.shown, result["error"]
    assert subject.agent.core.max_context_tokens == WINDOW  # learned from the provider's words
    assert len(fake.requests) == 2, "the refused request, then one under the learned window"
    assert "lorem ipsum" not in sent_text(fake) and "What is 2+2?" in sent_text(fake)
    assert notes == ["(context: 1 oldest turn left out to fit the model's 3,000 tokens; the session keeps everything)"]
    assert result["messages"][:2] == history, "the history returned keeps everything"

    # The turn after that goes straight through: the window is known now.
    fake.requests.clear()
    result = subject.run("And 3+3?", history=result["messages"])
    assert result["completed"] and len(fake.requests) == 1


@pytest.mark.parametrize("mode", WIRES)
def test_a_huge_message_in_a_session_fails_in_one_line_and_the_resumed_session_works(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="Four.")
    first = harness.make(fake, mode)
    hello = first.run("Hello")
    assert hello["completed"]
    session = first.store.list_sessions()[0].id
    within = harness.make(fake, mode, session_id=session, session_store=first.store)  # continues that session
    result = within.run(HUGE, history=hello["messages"])
    assert result["failed"] and result["error_type"] == "ContextOverflow"
    assert "too long for the model's context" in result["error"] and "\n" not in result["error"]
    assert within.agent.core.max_context_tokens == WINDOW  # learned from the provider's words
    history = first.store.load_messages(session)
    assert history[-1]["content"] == HUGE, "a session that existed keeps what the user sent"

    # A new process resumes the session (as `herald -c` does): it knows no window yet.
    notes: list[str] = []
    resumed = harness.make(fake, mode, session_id=session, session_store=first.store, notice_callback=notes.append)
    fake.requests.clear()
    result = resumed.run("What is 2+2?", history=history)
    assert result["completed"] and result["final_response"] == "Four.", result["error"]
    assert "lorem ipsum" not in sent_text(fake) and "What is 2+2?" in sent_text(fake)
    assert notes == ["(context: 2 oldest turns left out to fit the model's 3,000 tokens; the session keeps everything)"]

    # The turn after that goes straight through: the window is known now.
    fake.requests.clear()
    result = resumed.run("And 3+3?", history=result["messages"])
    assert result["completed"] and len(fake.requests) == 1


@pytest.mark.parametrize("mode", WIRES)
def test_with_a_known_window_a_huge_message_is_refused_before_sending(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="never")
    subject = harness.make(fake, mode, max_context_tokens=WINDOW)
    result = subject.run(HUGE)
    assert result["failed"] and result["error_type"] == "ContextOverflow"
    assert "the message is too long for the model's context" in result["error"]
    assert fake.requests == []
    assert result["messages"] == [] and subject.store.list_sessions() == []  # nothing stored: nothing to poison


def test_old_tool_outputs_are_cut_before_turns_are_dropped(harness: Harness, fake: FakeProvider) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="Done.")
    call = {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "big.log"}'}}
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "Read big.log"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "name": "read_file", "content": "log line\n" * 3000},
        {"role": "assistant", "content": "It is a log."},
    ]
    notes: list[str] = []
    subject = harness.make(fake, max_context_tokens=WINDOW, notice_callback=notes.append)
    result = subject.run("Summarise it", history=history)
    assert result["completed"], result["error"]
    body = fake.requests[-1].body
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert "more characters left out to fit the model's context" in body["messages"][3]["content"]
    assert notes and "1 old tool output cut short" in notes[0]
    assert len(fake.requests) == 1  # it fitted: no refused request first
