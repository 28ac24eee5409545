"""Context overflow over real HTTP, on all three wires: said in one line, never a stuck session.

The fake provider enforces a context window the way real ones do: a request that is too
large gets the wire's own context-length error (HTTP 400), before any scripted reply.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent
from herald.agent.async_core import AsyncAIAgent
from herald.sessions import SessionStore

WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]
HUGE = "lorem ipsum dolor sit amet " * 8000  # about 216 KB: far over the window
WINDOW = 3000


def make_agent(fake: FakeProvider, mode: str, tmp_path: Path, store: SessionStore, **options: Any) -> AIAgent:
    return AIAgent(
        model="test/model", api_mode=mode, api_key="sk-overflow-test-0000000000",
        base_url=fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url,
        skip_context_files=True, skip_memory=True, cwd=tmp_path, max_retries=0, session_store=store,
        stream_delta_callback=lambda text: None, **options,
    )


def sent_text(fake: FakeProvider) -> str:
    return json.dumps(fake.requests[-1].body)


@pytest.mark.parametrize("mode", WIRES)
def test_a_huge_first_message_is_refused_and_leaves_no_session(fake: FakeProvider, tmp_path: Path, mode: str) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="Four.")
    with SessionStore(tmp_path / "sessions.db") as store:
        agent = make_agent(fake, mode, tmp_path, store)
        result = agent.run_conversation(HUGE)
        assert result["failed"] and result["error_type"] == "ContextOverflow"
        assert "too long for the model's context" in result["error"]
        assert agent.max_context_tokens == WINDOW  # learned from the provider's words
        assert fake.requests  # it was sent: the window was not known
        assert agent.session_id is None and store.list_sessions() == []  # not a one-message session
        assert result["messages"] == []
        result = agent.run_conversation("What is 2+2?")  # the next question starts a session of its own
        assert result["completed"] and [m["content"] for m in store.load_messages(agent.session_id)] == ["What is 2+2?", "Four."]


def test_the_async_agent_leaves_no_session_of_a_refused_message_either(fake: FakeProvider, tmp_path: Path) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="Four.")

    async def ask() -> list[dict[str, Any]]:
        async with AsyncAIAgent(
            "test/model", api_key="sk-overflow-test-0000000000", base_url=fake.base_url, skip_context_files=True,
            skip_memory=True, cwd=tmp_path, max_retries=0, session_store=store,
        ) as agent:
            return await asyncio.gather(agent.run_conversation(HUGE), agent.run_conversation("What is 2+2?"))

    with SessionStore(tmp_path / "sessions.db") as store:
        refused, answered = asyncio.run(ask())
        assert refused["error_type"] == "ContextOverflow" and refused["messages"] == []
        assert answered["completed"]
        (only,) = store.list_sessions()
        assert [m["content"] for m in store.load_messages(only.id)] == ["What is 2+2?", "Four."]


@pytest.mark.parametrize("mode", WIRES)
def test_a_huge_message_fails_in_one_line_and_the_next_turn_works(fake: FakeProvider, tmp_path: Path, mode: str) -> None:
    fake.context_window = WINDOW
    fake.default = Reply(text="Four.")
    with SessionStore(tmp_path / "sessions.db") as store:
        first = make_agent(fake, mode, tmp_path, store)
        assert first.run_conversation("Hello")["completed"]
        result = first.run_conversation(HUGE, conversation_history=[])
        assert result["failed"] and result["error_type"] == "ContextOverflow"
        assert "too long for the model's context" in result["error"]
        assert first.max_context_tokens == WINDOW  # learned from the provider's words
        session = first.session_id
        assert session is not None

        # A new process resumes the session (as `herald -c` does): it knows no window yet.
        history = store.load_messages(session)
        assert history[-1]["content"] == HUGE  # a session that existed keeps what the user sent
        notes: list[str] = []
        second = make_agent(fake, mode, tmp_path, store, session_id=session, notice_callback=notes.append)
        fake.requests.clear()
        result = second.run_conversation("What is 2+2?", conversation_history=history)
        assert result["completed"], result["error"]
        assert result["final_response"] == "Four."
        assert "lorem ipsum" not in sent_text(fake) and "What is 2+2?" in sent_text(fake)
        assert notes == ["(context: 2 oldest turns left out to fit the model's 3,000 tokens; the session keeps everything)"]

        # The turn after that goes straight through: the window is known now.
        fake.requests.clear()
        result = second.run_conversation("And 3+3?", conversation_history=result["messages"])
        assert result["completed"] and len(fake.requests) == 1


@pytest.mark.parametrize("mode", WIRES)
def test_with_a_known_window_a_huge_message_is_refused_before_sending(fake: FakeProvider, tmp_path: Path, mode: str) -> None:
    fake.context_window = WINDOW
    with SessionStore(tmp_path / "sessions.db") as store:
        agent = make_agent(fake, mode, tmp_path, store, max_context_tokens=WINDOW)
        result = agent.run_conversation(HUGE)
        assert result["failed"] and result["error_type"] == "ContextOverflow"
        assert "the message is too long for the model's context" in result["error"]
        assert fake.requests == []
        assert result["messages"] == [] and agent.session_id is None  # nothing stored: nothing to poison


def test_old_tool_outputs_are_cut_before_turns_are_dropped(fake: FakeProvider, tmp_path: Path) -> None:
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
    with SessionStore(tmp_path / "sessions.db") as store:
        agent = make_agent(fake, "chat_completions", tmp_path, store, max_context_tokens=WINDOW, notice_callback=notes.append)
        result = agent.run_conversation("Summarise it", conversation_history=history)
    assert result["completed"], result["error"]
    body = fake.requests[-1].body
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert "more characters left out to fit the model's context" in body["messages"][3]["content"]
    assert notes and "1 old tool output cut short" in notes[0]
    assert len(fake.requests) == 1  # it fitted: no refused request first
