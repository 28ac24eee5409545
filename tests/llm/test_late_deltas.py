"""No delta from an abandoned stream reaches a consumer, even when its worker keeps reading.

Over HTTP the abandoned request's socket is closed, so nothing more can arrive; here the
stream comes from a small fake client (object path) whose events resume after the caller
gave up on them, which is what a worker draining already-buffered bytes looks like.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace as NS
from typing import Any, Iterator

import pytest

from herald.agent import AIAgent
from herald.errors import Interrupted

PAUSE = 0.8


def chunk(text: str | None = None, finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


class PausingCompletions:
    """`chat.completions`: a stream that pauses after its first delta, then goes on; plain answers at once."""

    def __init__(self) -> None:
        self.resumed = threading.Event()

    def create(self, **kwargs: Any) -> Any:
        if kwargs.get("stream"):
            return self._stream()
        message = NS(role="assistant", content="the replacement", tool_calls=None, reasoning_content=None)
        return NS(id="p", model="m", usage=None, choices=[NS(index=0, message=message, finish_reason="stop")])

    def _stream(self) -> Iterator[dict[str, Any]]:
        yield chunk("early ")
        time.sleep(PAUSE)
        self.resumed.set()
        yield chunk("LATE")
        yield chunk(finish="stop")


class Screen:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.shown: list[str] = []

    def on_text(self, text: str) -> None:
        self.seen.append(text)
        self.shown.append(text)

    def on_reset(self) -> None:
        self.shown.clear()


def agent_with(completions: PausingCompletions, screen: Screen, **options: Any) -> AIAgent:
    agent = AIAgent(model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-none", quiet_mode=True,
                    skip_context_files=True, skip_memory=True, stream_delta_callback=screen.on_text,
                    stream_reset_callback=screen.on_reset, **options)
    client = NS(chat=NS(completions=completions), close=lambda: None)
    agent._create_request_openai_client = lambda reason="": client  # type: ignore[method-assign]
    return agent


def ask(agent: AIAgent) -> Any:
    return agent._interruptible_streaming_api_call({"model": "m", "messages": [{"role": "user", "content": "hi"}]})


def test_after_a_stall_and_its_fallback_the_stalled_stream_delivers_nothing() -> None:
    completions, screen = PausingCompletions(), Screen()
    response = ask(agent_with(completions, screen, stream_idle_timeout=0.2))
    assert response.message.content == "the replacement" and "stalled" in response.extras["fallback_reason"]
    assert completions.resumed.wait(PAUSE + 2)
    time.sleep(0.2)
    assert "LATE" not in screen.seen
    assert screen.shown == ["the replacement"]


def test_after_an_interrupt_the_stream_delivers_nothing() -> None:
    completions, screen = PausingCompletions(), Screen()
    agent = agent_with(completions, screen)
    threading.Timer(0.2, agent.interrupt).start()
    with pytest.raises(Interrupted) as caught:
        ask(agent)
    assert caught.value.partial is not None and caught.value.partial.message.content == "early "
    assert completions.resumed.wait(PAUSE + 2)
    time.sleep(0.2)
    assert screen.seen == ["early "]
