"""An interrupted answer is kept: saved to the session, marked, and sent back on resume."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent
from herald.agent.messages import INTERRUPTED_NOTE
from herald.sessions import SessionStore

WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]


def make_agent(fake: FakeProvider, tmp_path: Path, mode: str, **options: object) -> AIAgent:
    return AIAgent(
        model="test/model",
        base_url=fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url,
        api_key="sk-partial-test-000000000000",
        api_mode=mode,
        quiet_mode=True,
        skip_context_files=True,
        skip_memory=True,
        cwd=tmp_path,
        max_retries=0,
        **options,  # type: ignore[arg-type]
    )


def sent_texts(body: dict) -> list[str]:
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
def test_an_interrupted_partial_is_saved_and_sent_back_on_resume(fake: FakeProvider, tmp_path: Path, mode: str) -> None:
    fake.enqueue(Reply(text="Once upon a time " * 100, chunk_chars=4, delay=0.03))
    shown: list[str] = []

    def interrupt_after_some_text(text: str) -> None:
        # Interrupt once the answer is under way (not on a clock: under load the stream starts late).
        shown.append(text)
        if len(shown) == 5:
            threading.Thread(target=first.interrupt).start()

    first = make_agent(fake, tmp_path, mode, stream_delta_callback=interrupt_after_some_text)
    result = first.run_conversation("tell me a story")
    assert result["interrupted"]
    partial = result["messages"][-1]["content"]
    assert partial and partial.startswith("Once upon")

    with SessionStore() as store:
        stored = store.load_messages(first.session_id)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["content"] == partial and stored[1].get("interrupted") is True

    fake.enqueue(Reply(text="The end."))
    resumed = make_agent(fake, tmp_path, mode, session_id=first.session_id, stream_delta_callback=lambda text: None)
    assert resumed.run_conversation("go on", conversation_history=stored)["completed"]
    texts = sent_texts(fake.requests[-1].body)
    assert partial + INTERRUPTED_NOTE in texts, "the partial answer, marked, goes back to the model"
    assert texts[-1] == "go on"
